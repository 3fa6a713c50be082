import { Option } from 'commander';
import { UsageError } from '../errors.js';

/** Every output format a command may offer; each command lists the ones it supports. */
/** `wide` is `table` with every column and nothing cut (kubectl's `-o wide`). */
export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'diff';

export const DEFAULT_DB = './hubble-advisor.db';

export function dbOption(): Option {
  return new Option('--db <path>', 'SQLite database file').env('HUBBLE_ADVISOR_DB').default(DEFAULT_DB);
}

export function outputOption(formats: readonly OutputFormat[], fallback: OutputFormat): Option {
  return new Option('-o, --output <format>', `output format (${formats.join('|')})`).choices(formats).default(fallback);
}

/**
 * Absolute times in the layouts hubble observe accepts (H:hubble/pkg/time/time.go): `2006-01-02`,
 * `2006-01-02T15Z07:00`, `2006-01-02T15:04Z07:00`, RFC 3339 with or without fraction, RFC 1123Z.
 * Anything else, a bare number included (`--since 90`: Go's ParseDuration wants a unit, and no
 * layout matches), is rejected as hubble rejects it, not read as a year.
 */
const TIME_LAYOUTS: readonly RegExp[] = [
  /^\d{4}-\d{2}-\d{2}$/,
  /^\d{4}-\d{2}-\d{2}T\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:\d{2})$/,
  /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/,
];

/** `--since 1h` (relative to now) or an absolute time, as hubble observe accepts them. */
/** A time flag written relative to "now" (`30m`, `2d`) rather than as a point in time. */
export function isRelativeTime(value: string): boolean {
  return /^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(value) || /^\d+d$/.test(value);
}

export function parseTimeFlag(flag: string, value: string, now: number): number {
  const rel = /^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.exec(value);
  if (rel) return now - parseGoDuration(value);
  const days = /^(\d+)d$/.exec(value);
  if (days) return now - Number(days[1]) * 86_400_000;
  // `2006-01-02T15Z` (hour only) is not something Date.parse reads: give it minutes.
  const normalised = value.replace(/^(\d{4}-\d{2}-\d{2}T\d{2})(Z|[+-]\d{2}:\d{2})$/, '$1:00$2');
  const t = TIME_LAYOUTS.some((re) => re.test(value)) ? Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : normalised) : Number.NaN;
  if (Number.isNaN(t)) {
    throw new UsageError(`invalid ${flag} "${value}": use a duration with a unit like 90s, 30m, 1h30m, 2d or a time like 2026-11-22 or 2026-11-22T10:00:00Z`);
  }
  return t;
}

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration subset: `1h30m`, `90s`, `500ms`. */
export function parseGoDuration(value: string): number {
  let total = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
  }
  return total;
}
