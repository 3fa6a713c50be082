/** `check`: what-if of a policy set over the whole observed baseline (edges in the database). */
import { buildPolicySet, type EvaluateOptions, type Policy } from '../policy/index.js';
import type { Db } from '../store/index.js';
import { checkBaseline, type CheckResult } from '../triage/index.js';
import { queryEdges } from './edges.js';

export interface CheckRequest {
  readonly policies: readonly Policy[];
  readonly namespaces?: readonly string[];
  readonly evaluate?: EvaluateOptions;
}

export function checkFromDatabase(db: Db, request: CheckRequest): CheckResult & { readonly policyNotes: readonly string[] } {
  // The whole graph: peers in other namespaces need their labels too.
  const { edges, workloads } = queryEdges(db);
  const set = buildPolicySet(request.policies);
  const result = checkBaseline(edges, workloads, set, {
    ...(request.namespaces && { namespaces: request.namespaces }),
    ...(request.evaluate && { evaluate: request.evaluate }),
  });
  return { ...result, policyNotes: set.notes };
}
