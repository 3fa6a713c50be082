import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeJsonArray, writeParts } from '../../src/report/index.js';

/**
 * `edges -o json` writes its array in pieces; the bytes must be those of stringifying the whole
 * array at once, whatever the items hold and however many there are (piece boundaries included).
 */
const hostile = fc.string({ unit: fc.constantFrom('a', '\n', '\u2028', '\u0085', '"', '\\', '[', ']', ',', ' ', '\u0000', '\ud800', 'é') });
const valueArb = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostile,
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostile, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('writeJsonArray', () => {
  it('writes JSON.stringify(items, null, 2) and a newline, byte for byte, in pieces', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 20 }), fc.constantFrom(0, 1, 63, 64, 65, 128, 129, 200), (values, n) => {
        const items = Array.from({ length: n }, (_, i) => values.length === 0 ? i : values[i % values.length]);
        const out: string[] = [];
        writeJsonArray((s) => out.push(s), items, (x) => ({ x }));
        expect(out.join('')).toBe(`${JSON.stringify(items.map((x) => ({ x })), null, 2)}\n`);
      }),
      { numRuns: 300 },
    );
  });

  it('writeParts writes the parts joined, in chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 40_000 }), { maxLength: 12 }), (parts) => {
        const out: string[] = [];
        writeParts((s) => out.push(s), parts);
        expect(out.join('')).toBe(parts.join(''));
        expect(out.every((s) => s !== '')).toBe(true);
      }),
    );
  });
});
