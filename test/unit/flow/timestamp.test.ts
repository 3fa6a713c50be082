import { describe, expect, it } from 'vitest';
import { DecodeError, parseTimestamp } from '../../../src/flow/index.js';

describe('parseTimestamp', () => {
  it('canonicalises to nine fraction digits and epoch ms, whether or not the second was seen before', () => {
    expect(parseTimestamp('2026-11-10T00:00:15.946688897Z', 't')).toEqual({ iso: '2026-11-10T00:00:15.946688897Z', ms: Date.parse('2026-11-10T00:00:15.946Z') });
    // Same second again (the cached path), then other spellings of instants in it.
    expect(parseTimestamp('2026-11-10T00:00:15.000000001Z', 't')).toEqual({ iso: '2026-11-10T00:00:15.000000001Z', ms: Date.parse('2026-11-10T00:00:15Z') });
    expect(parseTimestamp('2026-11-10T00:00:15.5Z', 't')).toEqual({ iso: '2026-11-10T00:00:15.500000000Z', ms: Date.parse('2026-11-10T00:00:15.5Z') });
    expect(parseTimestamp('2026-11-10T01:00:15.25+01:00', 't')).toEqual({ iso: '2026-11-10T00:00:15.250000000Z', ms: Date.parse('2026-11-10T00:00:15.25Z') });
    expect(parseTimestamp({ seconds: 1_794_268_815, nanos: 7 }, 't').iso).toBe('2026-11-10T00:00:15.000000007Z');
  });

  it('rejects a malformed fraction even when its second is cached', () => {
    parseTimestamp('2026-11-10T00:00:15.946688897Z', 't');
    expect(() => parseTimestamp('2026-11-10T00:00:15.94668889xZ', 'flow.time')).toThrow(DecodeError);
    expect(() => parseTimestamp('2026-11-10T00:00:15.946688897X', 'flow.time')).toThrow(DecodeError);
  });
});

describe('parseTimestamp across seconds and days', () => {
  it('agrees with Date.parse for every second of a day boundary, and rejects impossible times', () => {
    const start = Date.parse('2024-02-28T23:59:00Z');
    for (let ms = start; ms < start + 2 * 86_400_000 + 120_000; ms += 7_919) {
      const iso = new Date(ms).toISOString();
      expect(parseTimestamp(iso, 't').ms).toBe(ms);
    }
    // Whatever Date.parse makes of odd dates (V8 rolls Feb 30 over), the cached path agrees.
    expect(parseTimestamp('2024-02-30T10:00:00.000000000Z', 't').ms).toBe(Date.parse('2024-02-30T10:00:00Z'));
    expect(() => parseTimestamp('2024-02-29T10:61:00.000000000Z', 't')).toThrow(DecodeError);
    expect(parseTimestamp('2024-02-29T23:59:59.999999999Z', 't').ms).toBe(Date.parse('2024-02-29T23:59:59.999Z'));
  });
});
