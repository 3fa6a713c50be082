/**
 * Which compiled rules could select a subject, without matching every rule's selector: rules are
 * indexed by one `key=value` their subject selector requires (`In` on that key). A subject can be
 * selected only by the rules under one of its own labels, plus the rules that require no such
 * label (an empty selector, only `NotIn`/`Exists`...). Callers still match each candidate in full.
 */
import type { CompiledRule, PolicySet } from './compiled.js';
import { keysOf, labelKeysOf } from './entry-index.js';
import type { ResolvedPeer } from './peer.js';

interface SubjectIndex {
  /** Positions in the set's rules, by pivot label. */
  readonly byLabel: ReadonlyMap<string, readonly number[]>;
  /** Positions of rules without a pivot, and of rules replaced since the index was built. */
  readonly unindexed: readonly number[];
}

const indexes = new WeakMap<PolicySet, SubjectIndex>();

function indexSubjects(rules: readonly CompiledRule[]): SubjectIndex {
  // The pivot of each rule is its rarest required label across all rules (a workload label rather
  // than the namespace every policy of the namespace requires).
  const uses = new Map<string, number>();
  const required = rules.map((r) => r.subject.selector.filter((q) => q.operator === 'In' && q.values.length > 0));
  for (const reqs of required) for (const q of reqs) for (const k of keysOf(q)) uses.set(k, (uses.get(k) ?? 0) + 1);
  const byLabel = new Map<string, number[]>();
  const unindexed: number[] = [];
  required.forEach((reqs, i) => {
    const cost = (q: (typeof reqs)[number]): number => keysOf(q).reduce((n, k) => n + (uses.get(k) ?? 0), 0);
    const pivot = reqs.reduce<(typeof reqs)[number] | undefined>((best, q) => (best === undefined || cost(q) < cost(best) ? q : best), undefined);
    if (pivot === undefined) {
      unindexed.push(i);
      return;
    }
    for (const k of new Set(keysOf(pivot))) {
      const list = byLabel.get(k);
      if (list === undefined) byLabel.set(k, [i]);
      else list.push(i);
    }
  });
  return { byLabel, unindexed };
}

/**
 * Lets `derived` share the index of `base`: both have their rules at the same positions except
 * `changed`, which every subject then matches in full. Triage builds a set per fix candidate (the
 * policies with one patched); indexing thousands of rules for each was most of `drops`.
 */
export function deriveSubjectIndex(base: PolicySet, derived: PolicySet, changed: readonly number[]): void {
  const of = indexes.get(base);
  if (of === undefined || base.rules.length !== derived.rules.length) return;
  indexes.set(derived, { byLabel: of.byLabel, unindexed: [...new Set([...of.unindexed, ...changed])] });
}

/** Every rule of `set` that could select `subject`, in set order. */
export function candidateRules(set: PolicySet, subject: ResolvedPeer): CompiledRule[] {
  let index = indexes.get(set);
  if (index === undefined) indexes.set(set, (index = indexSubjects(set.rules)));
  const hits = new Set<number>(index.unindexed);
  for (const k of labelKeysOf(subject)) for (const i of index.byLabel.get(k) ?? []) hits.add(i);
  return [...hits].sort((a, b) => a - b).map((i) => set.rules[i] as CompiledRule);
}
