/** `check`: what-if of a policy set over the whole observed baseline (edges in the database). */
import { buildPolicySet, type EvaluateOptions, type Policy, type PolicySet } from '../policy/index.js';
import type { Db } from '../store/index.js';
import { checkBaseline, diffPolicySets, explainEdge, type CheckResult, type EdgeExplanation, type ExplainTarget, type PolicyDiff } from '../triage/index.js';
import { queryEdges } from './edges.js';

export interface CheckRequest {
  /** The policies compiled (`loadPolicySet`, `buildPolicySet`). */
  readonly set: PolicySet;
  readonly namespaces?: readonly string[];
  readonly evaluate?: EvaluateOptions;
}

export function checkFromDatabase(db: Db, request: CheckRequest): CheckResult & { readonly policyNotes: readonly string[] } {
  // The whole graph: peers in other namespaces need their labels too.
  const { edges, workloads } = queryEdges(db);
  const set = request.set;
  const result = checkBaseline(edges, workloads, set, {
    ...(request.namespaces && { namespaces: request.namespaces }),
    ...(request.evaluate && { evaluate: request.evaluate }),
  });
  return { ...result, policyNotes: set.notes };
}

export interface DiffRequest {
  readonly policies: readonly Policy[];
  readonly against: readonly Policy[];
  readonly namespaces?: readonly string[];
  readonly evaluate?: EvaluateOptions;
}

/** `check --policies NEW --against OLD`: observed edges the change newly drops and newly allows. */
export function diffFromDatabase(db: Db, request: DiffRequest): PolicyDiff & { readonly policyNotes: readonly string[] } {
  const { edges, workloads } = queryEdges(db);
  const after = buildPolicySet(request.policies);
  const before = buildPolicySet(request.against);
  const diff = diffPolicySets(edges, workloads, before, after, {
    ...(request.namespaces && { namespaces: request.namespaces }),
    ...(request.evaluate && { evaluate: request.evaluate }),
  });
  return { ...diff, policyNotes: after.notes };
}

export interface ExplainRequest {
  readonly policies: readonly Policy[];
  readonly target: ExplainTarget;
  readonly evaluate?: EvaluateOptions;
}

/** `check --explain FROM TO PORT[/PROTO]`: one edge, observed or not, rule by rule. */
export function explainFromDatabase(db: Db, request: ExplainRequest): EdgeExplanation & { readonly policyNotes: readonly string[] } {
  const { edges, workloads } = queryEdges(db);
  const set = buildPolicySet(request.policies);
  return { ...explainEdge(request.target, edges, workloads, set, request.evaluate ?? {}), policyNotes: set.notes };
}
