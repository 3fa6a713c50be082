/**
 * Removes secrets that L7 flows may carry before anything is stored. Hubble's own redaction
 * (`hubble.redact.*`) is off by default, so we always run ours.
 */
import type { Flow, HttpHeader, HttpRecord } from './model.js';

export const REDACTED = 'HUBBLE_ADVISOR_REDACTED';

const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'x-amz-security-token',
  'x-csrf-token',
  'x-xsrf-token',
]);

/** Query parameters whose value is a credential: names containing one of these words. */
const SECRET_PARAM = /(token|secret|passw|pwd|api[-_]?key|apikey|auth|signature|sig|session|credential|code|key)/i;

export function isSecretHeader(key: string): boolean {
  return SECRET_HEADERS.has(key.toLowerCase());
}

/** Redacts the user-info and secret-looking query parameter values of a URL, keeping its shape. */
export function redactUrl(url: string): string {
  // Only user-info (before an @) and query values are redacted: most URLs have neither.
  const at = url.indexOf('@');
  if (at < 0 && url.indexOf('?') < 0) return url;
  let out = at < 0 ? url : url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, `$1${REDACTED}@`);
  const q = out.indexOf('?');
  if (q < 0) return out;
  const hashAt = out.indexOf('#', q);
  const query = hashAt < 0 ? out.slice(q + 1) : out.slice(q + 1, hashAt);
  const rest = hashAt < 0 ? '' : out.slice(hashAt);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const name = decodeSafely(pair.slice(0, eq));
      return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join('&');
  out = `${out.slice(0, q)}?${redacted}${rest}`;
  return out;
}

function decodeSafely(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function redactHeader(h: HttpHeader): HttpHeader {
  const key = h.key.toLowerCase();
  if (SECRET_HEADERS.has(key)) return { key: h.key, value: REDACTED };
  if (key === 'referer' || key === 'location') {
    return { key: h.key, value: redactUrl(h.value) };
  }
  return h;
}

/** The same object when nothing in it is secret. */
function redactHttp(http: HttpRecord): HttpRecord {
  const url = http.url === undefined ? undefined : redactUrl(http.url);
  let headers = http.headers;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i] as HttpHeader;
    const redacted = redactHeader(h);
    if (redacted === h) continue;
    if (headers === http.headers) headers = headers.slice();
    (headers as HttpHeader[])[i] = redacted;
  }
  if (url === http.url && headers === http.headers) return http;
  return { ...http, ...(url !== undefined ? { url } : {}), headers };
}

/** Returns the flow unchanged (same object) when it carries nothing to redact. */
export function redactFlow(flow: Flow): Flow {
  const http = flow.l7?.http;
  if (!http && !flow.summary?.includes('?')) return flow;
  const redactedHttp = http ? redactHttp(http) : undefined;
  const summary = flow.summary === undefined ? undefined : redactSummary(flow.summary);
  // Most HTTP flows carry no secret: keep the object rather than copy every field.
  if (redactedHttp === http && summary === flow.summary) return flow;
  const l7 = flow.l7 && redactedHttp ? { ...flow.l7, http: redactedHttp } : flow.l7;
  return {
    ...flow,
    ...(l7 ? { l7 } : {}),
    ...(summary !== undefined ? { summary } : {}),
  };
}

/** The deprecated Summary repeats the URL (`HTTP/1.1 GET http://x/?token=…`). */
function redactSummary(summary: string): string {
  // redactUrl changes only user-info and query strings.
  if (summary.indexOf('?') < 0 && summary.indexOf('@') < 0) return summary;
  return summary.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+|\/\S*\?\S+/gi, (u) => redactUrl(u));
}
