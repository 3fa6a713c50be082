import { DecodeError, describe, isObject } from './json-fields.js';

export interface Timestamp {
  /** RFC 3339 UTC with exactly nine fractional digits, so equal instants compare equal as strings. */
  readonly iso: string;
  readonly ms: number;
}

const RFC3339_UTC = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

// Flows arrive in near time order, so consecutive lines usually share the whole-second prefix;
// caching its epoch value keeps Date.parse off the hot path.
let cachedSecondPrefix = '';
let cachedSecondMs = 0;

/** Accepts protojson strings (any offset, 0-9 fraction digits) and proto-loader `{seconds, nanos}`. */
export function parseTimestamp(v: unknown, path: string): Timestamp {
  if (typeof v === 'string') return parseRfc3339(v, path);
  if (isObject(v)) {
    const seconds = Number(v['seconds'] ?? 0);
    const nanos = Number(v['nanos'] ?? 0);
    if (!Number.isFinite(seconds) || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
      throw new DecodeError(path, 'invalid {seconds, nanos} timestamp');
    }
    return fromEpoch(seconds, nanos);
  }
  throw new DecodeError(path, `expected an RFC 3339 timestamp, got ${describe(v)}`);
}

// gRPC timestamps of consecutive flows usually share the second, too.
let cachedEpochSecond = Number.NaN;
let cachedEpochBase = '';

export function fromEpoch(seconds: number, nanos: number): Timestamp {
  const ms = seconds * 1000 + Math.floor(nanos / 1e6);
  let base: string;
  if (seconds === cachedEpochSecond) {
    base = cachedEpochBase;
  } else {
    base = new Date(seconds * 1000).toISOString().slice(0, 19);
    cachedEpochSecond = seconds;
    cachedEpochBase = base;
  }
  return { iso: `${base}.${String(nanos).padStart(9, '0')}Z`, ms };
}

function parseRfc3339(s: string, path: string): Timestamp {
  // Hubble writes `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`, already canonical: with a known second, only
  // the nine digits need checking.
  // slice + === compares natively; startsWith goes character by character.
  if (s.length === 30 && s.charCodeAt(19) === 0x2e && s.charCodeAt(29) === 0x5a && s.slice(0, 19) === cachedSecondPrefix && nineDigits(s)) {
    return { iso: s, ms: cachedSecondMs + (s.charCodeAt(20) - 48) * 100 + (s.charCodeAt(21) - 48) * 10 + (s.charCodeAt(22) - 48) };
  }
  const m = RFC3339_UTC.exec(s);
  if (m) {
    const prefix = m[1] as string;
    let secondMs: number;
    if (prefix === cachedSecondPrefix) {
      secondMs = cachedSecondMs;
    } else {
      secondMs = secondOfKnownDay(prefix) ?? Date.parse(`${prefix}Z`);
      if (Number.isNaN(secondMs)) throw new DecodeError(path, `invalid timestamp "${s}"`);
      cachedSecondPrefix = prefix;
      cachedSecondMs = secondMs;
    }
    const frac = (m[2] ?? '').padEnd(9, '0');
    return { iso: `${prefix}.${frac}Z`, ms: secondMs + Number(frac.slice(0, 3)) };
  }
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new DecodeError(path, `invalid timestamp "${s.slice(0, 40)}"`);
  const fracMatch = /\.(\d{1,9})/.exec(s);
  const nanos = fracMatch ? Number((fracMatch[1] as string).padEnd(9, '0')) : 0;
  return fromEpoch(Math.floor(ms / 1000), nanos);
}

/** Formats epoch milliseconds as the canonical nine-digit RFC 3339 string. */
export function isoFromMs(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000000Z`;
}

function nineDigits(s: string): boolean {
  for (let i = 20; i < 29; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

// A slow stream changes second on every flow but day rarely: from the day's epoch value, a valid
// time of day is plain arithmetic (what Date.parse would return; anything unusual goes to it).
let cachedDay = '';
let cachedDayMs = Number.NaN;

function secondOfKnownDay(prefix: string): number | undefined {
  const day = prefix.slice(0, 10);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayMs = Date.parse(`${day}T00:00:00Z`);
  }
  if (Number.isNaN(cachedDayMs)) return undefined;
  const h = twoDigits(prefix, 11);
  const m = twoDigits(prefix, 14);
  const sec = twoDigits(prefix, 17);
  if (h > 23 || m > 59 || sec > 59) return undefined;
  return cachedDayMs + ((h * 60 + m) * 60 + sec) * 1000;
}

/** The regex already checked these are digits. */
function twoDigits(s: string, at: number): number {
  return (s.charCodeAt(at) - 48) * 10 + (s.charCodeAt(at + 1) - 48);
}
