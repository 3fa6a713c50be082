/** `check`: what-if of a policy set over the whole observed baseline (edges in the database). */
import { buildPolicySet, type EvaluateOptions, type Policy, type PolicySet } from '../policy/index.js';
import { type Db, loadGraph } from '../store/index.js';
import { edgeKey, peerKey, type Edge } from '../graph/index.js';
import { diffPolicySets, explainEdge, judgePlan, planCheck, type CheckPlan, type CheckResult, type EdgeExplanation, type ExplainTarget, type JudgedEdge, type PolicyDiff } from '../triage/index.js';
import { queryEdges } from './edges.js';

export interface CheckRequest extends CheckScope {
  /** The policies compiled (`loadPolicySet`, `buildPolicySet`). */
  readonly set: PolicySet;
}

/** What `check` judges besides the policies: the namespaces in scope and the evaluator's options. */
export interface CheckScope {
  readonly namespaces?: readonly string[];
  readonly evaluate?: EvaluateOptions;
}

/** The evidence judging reads (`JudgedEdge`): the reserved-label sets an entity end carried. */
const JUDGED_EVIDENCE = ['srcReserved', 'dstReserved'] as const;

export function checkFromDatabase(db: Db, request: CheckRequest): CheckResult & { readonly policyNotes: readonly string[] } {
  return checkPlanned(db, readCheckPlan(db, request), request.set);
}

/**
 * What `check` judges, from the whole graph (peers in other namespaces need their labels too)
 * without the evidence lists judging does not read: pods, HTTP requests and DNS names of 60,000
 * edges stay on disk. Made apart from the judging so the policies can be read meanwhile.
 */
export function readCheckPlan(db: Db, scope: CheckScope): CheckPlan<JudgedEdge> {
  const { edges, workloads } = queryEdges(db, { evidence: JUDGED_EVIDENCE });
  return planCheck(edges, workloads, {
    ...(scope.namespaces && { namespaces: scope.namespaces }),
    ...(scope.evaluate && { evaluate: scope.evaluate }),
  });
}

/** `checkFromDatabase` of a plan read with `readCheckPlan` from the same database. */
export function checkPlanned(db: Db, plan: CheckPlan<JudgedEdge>, set: PolicySet): CheckResult & { readonly policyNotes: readonly string[] } {
  return { ...withFullEdges(db, judgePlan(plan, set)), policyNotes: set.notes };
}

/**
 * The result with its listed edges (would-drops, unjudged) read in full, as reports print them:
 * the graph is read again only when there is such an edge, and then only the namespaces of those
 * edges. A whole second read with every evidence list, to print a handful of edges, took a cold
 * `check` with one would-drop at 3,000 workloads from 4.4 to 6.7 s and 273 to 451 MB.
 */
function withFullEdges(db: Db, result: CheckResult<JudgedEdge>): CheckResult {
  const keyOf = (e: JudgedEdge): string => edgeKey(peerKey(e.from), peerKey(e.to), e.protocol, e.port);
  const listed = [...result.wouldDrop, ...result.unjudged].map((w) => w.edge);
  const wanted = new Set(listed.map(keyOf));
  const full = new Map<string, Edge>();
  if (wanted.size > 0) {
    const namespaces = namespacesOfEdges(listed);
    // From the rows of those namespaces (a namespace-filtered read resolves to the same edges as
    // the whole graph filtered: graph-snapshot.test.ts), not from a snapshot of every edge's lists.
    const reread = loadGraph(db, namespaces === undefined ? {} : { filter: { namespaces }, snapshot: false });
    for (const e of reread.edges) if (wanted.has(keyOf(e))) full.set(keyOf(e), e);
  }
  const fullEdge = (e: JudgedEdge): Edge => {
    const f = full.get(keyOf(e));
    // Read from the same database a moment ago: an edge cannot be missing.
    if (f === undefined) throw new Error(`check: edge ${keyOf(e)} not found on the second read`);
    return f;
  };
  return {
    ...result,
    wouldDrop: result.wouldDrop.map((w) => ({ ...w, edge: fullEdge(w.edge) })),
    unjudged: result.unjudged.map((u) => ({ ...u, edge: fullEdge(u.edge) })),
  };
}

/**
 * The namespaces of the edges' workload ends, sorted; undefined when an edge has none (then only
 * a read of the whole graph finds it).
 */
export function namespacesOfEdges(edges: readonly Pick<Edge, 'from' | 'to'>[]): string[] | undefined {
  const namespaces = new Set<string>();
  for (const e of edges) {
    const end = e.from.kind === 'workload' ? e.from : e.to.kind === 'workload' ? e.to : undefined;
    if (end === undefined) return undefined;
    namespaces.add(end.namespace);
  }
  return [...namespaces].sort();
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
