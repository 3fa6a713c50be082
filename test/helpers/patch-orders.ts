/**
 * Applies standalone drops patches in every order with an RFC 6902 implementation that is not
 * ours (fast-json-patch, validating), so a patch that only works on the original document, or
 * that undoes another, fails here.
 */
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import type { JsonPatchOp } from '../../src/triage/index.js';

export function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

/** Every order of up to `exhaustive` items, else `sampled` seeded shuffles plus the identity and the reverse. */
export function orders<T>(xs: readonly T[], { exhaustive = 5, sampled = 120, seed = 1 } = {}): T[][] {
  if (xs.length <= exhaustive) return permutations(xs);
  let s = seed >>> 0;
  const random = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [[...xs], [...xs].reverse()];
  for (let n = 0; n < sampled; n++) {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [a[i], a[j]] = [a[j] as T, a[i] as T];
    }
    out.push(a);
  }
  return out;
}

/** The document with the patches applied one after another, each whole (validate: a failing op throws). */
export function applyInOrder<T>(doc: T, patches: readonly (readonly JsonPatchOp[])[]): T {
  let cur = fastJsonPatch.deepClone(doc) as T;
  for (const ops of patches) cur = fastJsonPatch.applyPatch(cur, fastJsonPatch.deepClone(ops) as Operation[], true, false).newDocument;
  return cur;
}

/** A JSON value with every array sorted by its items' canonical text (appends in another order compare equal). */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, canonical(x)]));
  return v;
}
