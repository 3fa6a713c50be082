import { type Policy, buildPolicySet } from '../policy/index.js';
import { type TriageOptions, explainGroup } from './explain.js';
import { type PolicyPatch, mergeByPolicy, samePolicy } from './fix.js';
import type { DropGroup } from './group.js';
import { applyJsonPatch } from './json-patch.js';

export interface CombinedFix {
  /** One patch per policy document, its operations in the order they were found; apply them all. */
  readonly patches: readonly PolicyPatch[];
  /** Policy drops that some patch addresses. */
  readonly fixable: number;
  /** Of those, the ones the policies allow once every patch is applied (checked by re-evaluation). */
  readonly allowedAfter: number;
}

/**
 * The fixes for all drops as one change: each drop's fix is found on the policies already patched
 * for the drops before it, so two fixes to the same rule build on each other (the second NotIn is
 * appended to the matchExpressions the first one created) instead of one overwriting the other, as
 * applying the drops' standalone patches one after another would.
 */
export function combineFixes(groups: readonly DropGroup[], policies: readonly Policy[], options: TriageOptions = {}): CombinedFix {
  let current = policies;
  const found: PolicyPatch[] = [];
  const fixed: DropGroup[] = [];
  for (const group of groups) {
    if (group.kind === 'other') continue;
    const e = explainGroup(group, current, buildPolicySet(current), options);
    if (e.patches.length === 0) continue;
    fixed.push(group);
    for (const patch of e.patches) current = current.map((p) => (samePolicy(p, patch.policy) ? applyJsonPatch(p, patch.ops) : p));
    found.push(...e.patches);
  }
  const finalSet = buildPolicySet(current);
  const allowedAfter = fixed.filter((g) => explainGroup(g, current, finalSet, options).verdict === 'now-allowed').length;
  return { patches: mergeByPolicy(found, { acrossActions: true }), fixable: fixed.length, allowedAfter };
}
