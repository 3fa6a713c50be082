/**
 * `METHOD /path` templates for HTTP evidence: the query string and fragment go (they may carry
 * tokens, and they are not policy material), and path segments that look like ids become `{id}`,
 * so `/users/42` and `/users/43` are one rule candidate.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMERIC = /^\d+$/;
const HEX_ID = /^(?=.*\d)[0-9a-f]{12,}$/i;
/** Long opaque tokens (ULIDs, base64 ids): letters and digits mixed, 20+ characters. */
const OPAQUE = /^(?=.*\d)(?=.*[a-z])[A-Za-z0-9_-]{20,}$/i;

// Real traffic repeats a few URLs (probes, scrapes, the same API calls): templates are memoised,
// within a bound, so the regexes run once per distinct URL.
const templates = new Map<string, string>();
const MAX_TEMPLATES = 4096;

export function httpPathTemplate(url: string): string {
  let template = templates.get(url);
  if (template === undefined) {
    template = pathTemplate(url);
    if (templates.size >= MAX_TEMPLATES) templates.clear();
    templates.set(url, template);
  }
  return template;
}

function pathTemplate(url: string): string {
  let path = url;
  const scheme = path.indexOf('://');
  if (scheme >= 0) {
    const slash = path.indexOf('/', scheme + 3);
    path = slash >= 0 ? path.slice(slash) : '/';
  }
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  if (path === '') return '/';
  return path
    .split('/')
    .map((seg) => (NUMERIC.test(seg) || UUID.test(seg) || HEX_ID.test(seg) || OPAQUE.test(seg) ? '{id}' : seg))
    .join('/');
}

/** `GET /api/items/{id}`; an absent method reads `-`. */
export function httpRequestTemplate(method: string | undefined, url: string | undefined): string {
  return `${(method ?? '-').toUpperCase()} ${httpPathTemplate(url ?? '/')}`;
}
