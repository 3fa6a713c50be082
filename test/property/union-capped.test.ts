import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CappedSet, capSet, unionCapped } from '../../src/graph/index.js';

/**
 * unionCapped merges two stored sets in one pass when both are sorted and distinct (as every set
 * the writers store is); whatever it is given, the result is capSet's of the union.
 */
const value = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'pod-1', 'pod-10', 'pod-2', 'Z', 'é');
const sortedSet = (limit: number) =>
  fc.tuple(fc.array(value, { maxLength: 10 }), fc.boolean()).map(([vs, t]): CappedSet => {
    const c = capSet(vs, limit);
    return { values: c.values, truncated: c.truncated || t };
  });
const anySet = fc.tuple(fc.array(value, { maxLength: 10 }), fc.boolean()).map(([values, truncated]): CappedSet => ({ values, truncated }));

function expected(a: CappedSet, b: CappedSet, limit: number): CappedSet {
  if (b.values.length === 0 && !b.truncated) return a;
  if (a.values.length === 0 && !a.truncated) return b;
  const c = capSet([...a.values, ...b.values], limit);
  return { values: c.values, truncated: c.truncated || a.truncated || b.truncated };
}

describe('unionCapped', () => {
  it('is the capped union of two sorted sets, within and past the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }).chain((limit) => fc.tuple(fc.constant(limit), sortedSet(limit), sortedSet(limit))), ([limit, a, b]) => {
        expect(unionCapped(a, b, limit)).toEqual(expected(a, b, limit));
      }),
      { numRuns: 500 },
    );
  });

  it('is the capped union of lists that are not sorted or hold a value twice', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), anySet, anySet, (limit, a, b) => {
        expect(unionCapped(a, b, limit)).toEqual(expected(a, b, limit));
      }),
      { numRuns: 500 },
    );
    expect(unionCapped({ values: ['b', 'c', 'd', 'a'], truncated: false }, { values: ['z'], truncated: false }, 2)).toEqual({ values: ['a', 'b'], truncated: true });
  });
});
