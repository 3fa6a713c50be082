import { ENDPOINT_CACHE_CHARS, MAX_CACHED_ENDPOINT_CHARS } from './cache-bounds.js';

/**
 * One frozen label list per security identity, shared by the endpoints that carry it. Pod churn
 * brings a new endpoint (a new pod name) every few flows, and each used to keep its own copy of
 * its labels (~0.7 KB) for as long as the endpoint caches held it, though every pod of a
 * workload has the same labels: that was a third of what ingest promoted to the old generation.
 * A list longer than MAX_CACHED_ENDPOINT_CHARS is not remembered.
 */
const byIdentity = new Map<number, readonly string[]>();
let chars = 0;
/** Identities remembered before starting over: a cluster has thousands. */
export const MAX_LABEL_LISTS = 16_384;

/**
 * `labels` (frozen), or the equal list shared under the same identity. An identity whose labels
 * changed (a re-labelled pod keeps its number only when the label set is the same, but a relay
 * restart may renumber) replaces the list it had.
 */
export function sharedLabels(identity: number | undefined, labels: string[] | readonly string[]): readonly string[] {
  if (identity === undefined || labels.length === 0) return Object.freeze(labels);
  const known = byIdentity.get(identity);
  if (known !== undefined && sameStrings(known, labels)) return known;
  let n = 0;
  for (const l of labels) n += l.length;
  if (n > MAX_CACHED_ENDPOINT_CHARS) return Object.freeze(labels);
  if (byIdentity.size >= MAX_LABEL_LISTS || chars + n > ENDPOINT_CACHE_CHARS) {
    byIdentity.clear();
    chars = 0;
  }
  const frozen = Object.freeze(labels);
  if (known !== undefined) for (const l of known) chars -= l.length;
  byIdentity.set(identity, frozen);
  chars += n;
  return frozen;
}

/** Label lists remembered now (tests check the bound). */
export function sharedLabelListCount(): number {
  return byIdentity.size;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
