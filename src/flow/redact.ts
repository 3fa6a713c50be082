/**
 * Removes secrets that flows may carry before anything is stored or printed. Hubble's own redaction
 * (`hubble.redact.*`) is off by default, so we always run ours.
 *
 * By pattern, not by list: any header whose name suggests a credential; user-info in anything
 * URL-like (with or without a scheme, up to the last `@` of the authority); query, fragment and
 * matrix parameters with a credential-like name, whatever the separator (`&`, `;`) or percent-
 * encoding; and `Bearer …`/`Basic …` tokens and `name: value`/`name=value` pairs in free text
 * (header values, the Summary).
 */
import type { Flow, HttpHeader, HttpRecord } from './model.js';

export const REDACTED = 'HUBBLE_ADVISOR_REDACTED';

/**
 * Name parts that mark a credential (matched on the lowercased name with separators removed):
 * `X-Vault-Token`, `Private-Token`, `apikey`, `X-Goog-Api-Key`, `Authentication`, `client_secret`,
 * `jsessionid`, `X-CSRF-Token`, `sig`, `passwd`, ...; `authority` (the HTTP/2 host) is not one.
 */
const SECRET_NAME = /auth(?!ority)|token|key|secret|session|sessid|sid$|cookie|passw|pwd|pass$|signature|^sig$|sig$|credential|csrf|xsrf|jwt|bearer|private|otp|^code$/;

function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Whether a header, parameter or field name suggests its value is a credential. */
export function isSecretName(name: string): boolean {
  const known = secretNames.get(name);
  if (known !== undefined) return known;
  const secret = SECRET_NAME.test(normaliseName(decodeSafely(name)));
  if (name.length <= MEMO_TEXT_CHARS) {
    if (secretNames.size >= MEMO_ENTRIES) secretNames.clear();
    secretNames.set(name, secret);
  }
  return secret;
}

/** Header and parameter names seen, and whether each is a credential's. */
const secretNames = new Map<string, boolean>();

export function isSecretHeader(key: string): boolean {
  return isSecretName(key);
}

/** Parameters in a query or fragment: `name=value` after `?`, `#`, `&` or `;`. */
const PARAM = /([?#&;])([^=&;#?]*)=([^&;#]*)/g;
/** The same with the `=` percent-encoded. */
const ENCODED_PARAM = /([?#&;])([^&;#?]*?)%3d([^&;#]*)/gi;
/** Matrix parameters in a path (`/p;jsessionid=…`), which end at `/`, `?` or `#`. */
const PATH_PARAM = /(;)([^=;/?#]*)=([^;/?#]*)/g;

/**
 * Results of redactText and redactUrl for short texts. Flows repeat the same header values,
 * summaries and URLs over and over; the regular expressions cost ~10% of `observe`'s CPU when run
 * on each. Bounded by entries and by characters (texts over MEMO_TEXT_CHARS are not kept).
 */
const MEMO_ENTRIES = 8192;
const MEMO_TEXT_CHARS = 512;
const textMemo = new Map<string, string>();
const urlMemo = new Map<string, string>();

function memoised(memo: Map<string, string>, text: string, compute: (t: string) => string): string {
  if (text.length > MEMO_TEXT_CHARS) return compute(text);
  const known = memo.get(text);
  if (known !== undefined) return known;
  const out = compute(text);
  if (memo.size >= MEMO_ENTRIES) memo.clear();
  memo.set(text, out);
  return out;
}

/** Redacts the user-info and secret-looking parameter values of a URL, keeping its shape. */
export function redactUrl(url: string): string {
  // Most URLs have neither user-info nor parameters.
  if (url.indexOf('@') < 0 && url.indexOf('?') < 0 && url.indexOf('#') < 0 && url.indexOf(';') < 0) return url;
  return memoised(urlMemo, url, redactUrlNow);
}

function redactUrlNow(url: string): string {
  const out = redactUserInfo(url);
  if (out.indexOf('=') < 0 && !/%3d/i.test(out)) return out;
  const cut = out.search(/[?#]/);
  let path = cut < 0 ? out : out.slice(0, cut);
  let rest = cut < 0 ? '' : out.slice(cut);
  if (path.indexOf(';') >= 0) path = path.replace(PATH_PARAM, (all, sep: string, name: string) => (isSecretName(name) ? `${sep}${name}=${REDACTED}` : all));
  rest = rest.replace(PARAM, (all, sep: string, name: string) => (isSecretName(name) ? `${sep}${name}=${REDACTED}` : all));
  rest = rest.replace(ENCODED_PARAM, (all, sep: string, name: string) => (isSecretName(name) ? `${sep}${name}%3D${REDACTED}` : all));
  return path + rest;
}

/** `scheme://user:pa@ss@host/…`, `//user@host`, `user:pass@host:port/…`: all before the authority's last `@`. */
function redactUserInfo(url: string): string {
  if (url.indexOf('@') < 0) return url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  let start: number;
  if (scheme) start = scheme[0].length;
  else if (url.startsWith('//')) start = 2;
  else if (url.startsWith('/')) return url; // a path: an `@` in it is no user-info
  else start = 0;
  let end = url.length;
  for (const c of ['/', '?', '#']) {
    const i = url.indexOf(c, start);
    if (i >= 0 && i < end) end = i;
  }
  const at = url.lastIndexOf('@', end - 1);
  if (at < start) return url;
  return `${url.slice(0, start)}${REDACTED}${url.slice(at)}`;
}

function decodeSafely(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** `Bearer xyz`, `Basic xyz`, `Token xyz`, … (an auth scheme and its credentials). */
const AUTH_SCHEME = /\b(bearer|basic|digest|token|negotiate|ntlm|apikey|api-key|hoba|mutual|aws4-hmac-sha256)(\s+)([^\s,;"']+)/gi;
/** The scheme word of `Authorization: Bearer …`: its credentials follow (and are redacted as such). */
const AUTH_SCHEME_WORD = /^(bearer|basic|digest|token|negotiate|ntlm|apikey|api-key|hoba|mutual|aws4-hmac-sha256)$/i;
/** `name: value` or `name=value` in free text, the value up to a space, `,`, `;`, `&` or quote. */
const TEXT_PAIR = /([A-Za-z0-9_.-]+)(\s*[:=]\s*)([^\s,;&"']+)/g;
/** Things that look like URLs or `user@host` in free text. */
const URL_LIKE = /[^\s"'<>]*(?:@|\?|#|;)[^\s"'<>]*/g;

/** Redacts credentials anywhere in free text (a Summary, a header value). */
export function redactText(text: string): string {
  return memoised(textMemo, text, redactTextNow);
}

function redactTextNow(text: string): string {
  let out = text;
  if (/[@?#;]/.test(out)) out = out.replace(URL_LIKE, (u) => redactUrl(u));
  out = out.replace(AUTH_SCHEME, (_all, scheme: string, space: string) => `${scheme}${space}${REDACTED}`);
  if (/[:=]/.test(out)) {
    out = out.replace(TEXT_PAIR, (all, name: string, sep: string, value: string) =>
      isSecretName(name) && !value.startsWith(REDACTED) && !AUTH_SCHEME_WORD.test(value) ? `${name}${sep}${REDACTED}` : all,
    );
  }
  return out;
}

function redactHeader(h: HttpHeader): HttpHeader {
  if (isSecretName(h.key)) return h.value === REDACTED ? h : { key: h.key, value: REDACTED };
  const value = redactText(h.value);
  return value === h.value ? h : { key: h.key, value };
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
  if (!http && flow.summary === undefined) return flow;
  const redactedHttp = http ? redactHttp(http) : undefined;
  const summary = flow.summary === undefined ? undefined : redactSummary(flow.summary);
  // Most flows carry no secret: keep the object rather than copy every field.
  if (redactedHttp === http && summary === flow.summary) return flow;
  const l7 = flow.l7 && redactedHttp ? { ...flow.l7, http: redactedHttp } : flow.l7;
  return {
    ...flow,
    ...(l7 ? { l7 } : {}),
    ...(summary !== undefined ? { summary } : {}),
  };
}

/** Summaries repeat the URL and may carry headers (`HTTP/1.1 GET http://x/?token=…`, `Bearer …`). */
function redactSummary(summary: string): string {
  return memoised(summaryMemo, summary, redactSummaryNow);
}

const summaryMemo = new Map<string, string>();

function redactSummaryNow(summary: string): string {
  // The common summaries ("TCP Flags: SYN", "ICMPv4 EchoRequest") hold nothing to redact.
  if (!/[@?#;=]|bearer|basic|token|auth|key|secret|pass|session|cookie/i.test(summary)) return summary;
  return redactText(summary);
}
