/**
 * `check --policies NEW --against OLD`: what a policy change does to the observed baseline. Every
 * observed edge (forwarded or dropped) is judged under both sets; the edges whose verdict changes
 * are the change's effect (np-guard's `diff`, with Cilium's semantics).
 */
import type { Edge, WorkloadInfo } from '../graph/index.js';
import { evaluate, policyLabel, type Decision, type EvaluateOptions, type PolicySet } from '../policy/index.js';
import { edgeRequests, inferClusterName } from './check.js';
import { sidePasses } from './fix.js';

export interface ChangedEdge {
  readonly edge: Edge;
  /** The side that now decides differently. */
  readonly side: 'egress' | 'ingress';
  /** The evaluator's one-line reason under the new policies. */
  readonly detail: string;
  /** Policies responsible under the new set (allowing rules, or the ones that drop it). */
  readonly policy: readonly string[];
}

export interface PolicyDiff {
  readonly newlyDropped: readonly ChangedEdge[];
  readonly newlyAllowed: readonly ChangedEdge[];
  readonly edgesCompared: number;
  readonly noTraffic: boolean;
}

export interface PolicyDiffOptions {
  readonly evaluate?: EvaluateOptions;
  readonly namespaces?: readonly string[];
}

export function diffPolicySets(edges: readonly Edge[], workloads: readonly WorkloadInfo[], before: PolicySet, after: PolicySet, options: PolicyDiffOptions = {}): PolicyDiff {
  const ns = options.namespaces && options.namespaces.length > 0 ? options.namespaces : undefined;
  const inNs = (e: Edge): boolean => ns === undefined || [e.from, e.to].some((p) => p.kind === 'workload' && ns.includes(p.namespace));
  const byKey = new Map(workloads.map((w) => [`${w.namespace}/${w.kind}/${w.name}`, w]));
  const newlyDropped: ChangedEdge[] = [];
  const newlyAllowed: ChangedEdge[] = [];
  let compared = 0;
  // Judged for the same local cluster as `check` (cluster-local selectors, the `cluster` entity).
  const clusterName = options.evaluate?.clusterName ?? inferClusterName(workloads);
  const evalOptions: EvaluateOptions = { ...options.evaluate, ...(clusterName !== undefined && { clusterName }) };
  /** An edge stands for one request per identity pair seen at its ends; it passes only if all do. */
  const judge = (set: PolicySet, e: Edge): Decision => {
    const ds = edgeRequests(e, byKey).map((r) => evaluate(set, r, evalOptions));
    return ds.find((d) => !d.allowed) ?? (ds[0] as Decision);
  };
  for (const e of edges) {
    if (e.forwarded + e.dropped <= 0 || !inNs(e)) continue;
    compared++;
    const was = judge(before, e);
    const now = judge(after, e);
    if (was.allowed === now.allowed) continue;
    const sides = [now.egress, now.ingress];
    if (now.allowed) {
      const opened = sides.find((s, i) => !sidePasses([was.egress, was.ingress][i] ?? s)) ?? now.ingress;
      newlyAllowed.push({ edge: e, side: opened.direction, detail: opened.reason, policy: [...new Set(opened.rules.map(policyLabel))].sort() });
    } else {
      const closed = sides.find((s) => !sidePasses(s)) ?? now.ingress;
      const refs = closed.rules.length > 0 ? closed.rules : closed.selectedBy;
      newlyDropped.push({ edge: e, side: closed.direction, detail: closed.reason, policy: [...new Set(refs.map(policyLabel))].sort() });
    }
  }
  return { newlyDropped, newlyAllowed, edgesCompared: compared, noTraffic: compared === 0 };
}
