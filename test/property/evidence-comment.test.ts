import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evidenceComment } from '../../src/recommend/evidence.js';

/**
 * The evidence comment above each recommended rule formats its counts and minutes without a call
 * into Intl or a Date per rule (minutes are remembered). It must read exactly as the plain
 * formatting does: en-US grouping, and the minute of the ISO time, for any count and time,
 * negative, fractional, huge and repeated ones included.
 */
const plain = new Intl.NumberFormat('en-US');
const minute = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16)}Z`;
const expected = (what: string, e: { flows: number; connections: number; firstSeenMs: number; lastSeenMs: number; hoursSeen: number }): string =>
  ` ${what}: ${plain.format(e.flows)} flows, ${plain.format(e.connections)} connections, ${minute(e.firstSeenMs)} .. ${minute(e.lastSeenMs)}, seen in ${e.hoursSeen} distinct hours`;

const count = fc.oneof(
  fc.integer({ min: 0, max: 2_000_000 }),
  fc.constantFrom(0, -0, 1, 999, 1000, 999_999, 1_000_000, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e21, -1, -1234, 0.5, 1234.5678),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.maxSafeInteger(),
);
// Few distinct minutes, so most are asked again; times before 1970 and right at minute edges too.
const time = fc.oneof(
  fc.integer({ min: -3, max: 3 }).chain((m) => fc.integer({ min: -1, max: 60_000 }).map((s) => 1_795_186_500_000 + m * 60_000 + s)),
  fc.integer({ min: -8_640_000_000_000, max: 8_640_000_000_000 }),
  fc.constantFrom(-1, 0, 59_999, 60_000, -60_000, -60_001),
);

describe('an evidence comment', () => {
  it('reads as Intl and Date format it, whatever the counts and times', () => {
    fc.assert(
      fc.property(fc.record({ flows: count, connections: count, firstSeenMs: time, lastSeenMs: time, hoursSeen: fc.nat(200) }), (e) => {
        expect(evidenceComment('from x', e)).toBe(expected('from x', e));
      }),
      { numRuns: 3000 },
    );
  });
});
