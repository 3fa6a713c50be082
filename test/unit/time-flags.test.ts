import { describe, expect, it } from 'vitest';
import { parseTimeFlag } from '../../src/cli/options.js';
import { UsageError } from '../../src/errors.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');

describe('--since / --until values, as hubble observe reads them', () => {
  it.each([
    ['90s', NOW - 90_000],
    ['1h30m', NOW - 5_400_000],
    ['2d', NOW - 2 * 86_400_000],
    ['2026-11-22', Date.parse('2026-11-22T00:00:00Z')],
    ['2026-11-22T10Z', Date.parse('2026-11-22T10:00:00Z')],
    ['2026-11-22T10:30+02:00', Date.parse('2026-11-22T08:30:00Z')],
    ['2026-11-22T10:30:00.123456789Z', Date.parse('2026-11-22T10:30:00.123Z')],
    ['Mon, 02 Jan 2006 15:04:05 -0700', Date.parse('2006-01-02T22:04:05Z')],
  ])('%s', (value, want) => expect(parseTimeFlag('--since', value, NOW)).toBe(want));

  // Go's ParseDuration wants a unit and no layout matches a bare number: hubble rejects it too
  // (it was read as the year 1990).
  it.each(['90', '2026', '1.5', 'yesterday', '11/22/2026', '2026-11-22 10:00'])('rejects %s', (value) => {
    expect(() => parseTimeFlag('--since', value, NOW)).toThrow(UsageError);
  });
});
