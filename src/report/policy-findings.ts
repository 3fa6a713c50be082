/**
 * The report's policy half: per workload whether the loaded policies select it and enforce default
 * deny (each direction), what they would drop of the baseline, which observed drops they explain,
 * which rules nothing used and what the incident lints say. One evaluation per edge.
 */
import type { Edge, WorkloadInfo } from '../graph/index.js';
import { buildPolicySet, evaluate, policyLabel, type EvaluateOptions, type Policy, type PolicySet } from '../policy/index.js';
import { lintPolicies } from '../recommend/index.js';
import { checkBaseline, evaluatorPeer, edgeRequest, sidePasses, type TriagedDrop } from '../triage/index.js';
import { edgeId, type DroppedRow, type EdgeStatus, type PolicyFindings, type WorkloadCoverage } from './inventory.js';

export interface FindingsInput {
  readonly edges: readonly Edge[];
  readonly workloads: readonly WorkloadInfo[];
  readonly policies: readonly Policy[];
  readonly files: readonly string[];
  readonly drops: readonly TriagedDrop[];
  readonly namespaces?: readonly string[];
  readonly evaluate?: EvaluateOptions;
  /** Namespace of the CloudNativePG operator, for the lints. */
  readonly cnpgOperatorNamespace?: string;
}

const key = (w: { namespace: string; kind: string; name: string }): string => `${w.namespace}/${w.kind}/${w.name}`;

/** Probe peer for "who selects this workload": any request shows `selectedBy` for both sides. */
const PROBE = { labels: ['reserved:world'], ip: '192.0.2.1' };

export function policyCoverage(workloads: readonly WorkloadInfo[], set: PolicySet, options?: EvaluateOptions): WorkloadCoverage[] {
  const byKey = new Map(workloads.map((w) => [key(w), w]));
  return workloads.map((w) => {
    const peer = evaluatorPeer({ kind: 'workload', namespace: w.namespace, workloadKind: w.kind, name: w.name }, byKey);
    const ingress = evaluate(set, { source: PROBE, destination: peer, protocol: 'TCP', port: 1 }, options).ingress;
    const egress = evaluate(set, { source: peer, destination: PROBE, protocol: 'TCP', port: 1 }, options).egress;
    return {
      namespace: w.namespace,
      kind: w.kind,
      name: w.name,
      ingress: { selectedBy: [...new Set(ingress.selectedBy.map(policyLabel))].sort(), enforced: ingress.defaultDeny },
      egress: { selectedBy: [...new Set(egress.selectedBy.map(policyLabel))].sort(), enforced: egress.defaultDeny },
    };
  });
}

/** Plain documents for the lints, which read policies the way YAML gives them. */
function asDocument(p: Policy): Record<string, unknown> {
  const metadata = { name: p.name, ...('namespace' in p && { namespace: p.namespace }) };
  if (p.kind === 'NetworkPolicy') return { kind: p.kind, metadata, spec: p.spec };
  return { kind: p.kind, metadata, ...(p.spec && { spec: p.spec }), ...(p.specs && { specs: p.specs }) };
}

export function policyFindings(input: FindingsInput): PolicyFindings {
  const ns = input.namespaces && input.namespaces.length > 0 ? input.namespaces : undefined;
  const set = buildPolicySet(input.policies);
  const check = checkBaseline(input.edges, input.workloads, set, { ...(ns && { namespaces: ns }), ...(input.evaluate && { evaluate: input.evaluate }) });
  const wouldDrop = new Set(check.wouldDrop.map((w) => edgeId(w.edge)));
  const byKey = new Map(input.workloads.map((w) => [key(w), w]));
  const edgeStatus = new Map<string, EdgeStatus>();
  for (const e of input.edges) {
    const id = edgeId(e);
    if (wouldDrop.has(id)) edgeStatus.set(id, 'would-drop');
    else if (e.dropped > 0) edgeStatus.set(id, 'dropped');
    else {
      const d = evaluate(set, edgeRequest(e, byKey), input.evaluate);
      // Allowed means a default-deny side let it through; a policy that only observes (no default deny) restricts nothing.
      const judged = [d.egress, d.ingress].some((s) => s.defaultDeny);
      edgeStatus.set(id, !judged ? 'no-policy' : sidePasses(d.egress) && sidePasses(d.ingress) ? 'allowed' : 'would-drop');
    }
  }
  const inNs = (w: { namespace: string }): boolean => ns === undefined || ns.includes(w.namespace);
  const lints = lintPolicies(input.policies.map(asDocument), {
    edges: input.edges,
    workloads: input.workloads,
    cnpgOperatorNamespace: input.cnpgOperatorNamespace ?? 'cnpg-system',
  }).map((l) => ({ policy: `${l.namespace ? `${l.namespace}/` : ''}${l.policy}`, message: `${l.rule}: ${l.message}` }));
  return {
    policies: input.policies.length,
    files: input.files,
    coverage: policyCoverage(input.workloads.filter(inNs), set, input.evaluate).sort((a, b) => cmp(key(a), key(b))),
    wouldDrop: check.wouldDrop.map((w) => ({ edge: w.edge, side: w.sides.join('+'), reason: w.reason, policies: w.policy })),
    dropped: input.drops.map(droppedRow),
    unusedRules: check.unusedRules.map((u) => ({ policy: u.policy, path: u.path, ...(u.file !== undefined && { file: u.file }) })),
    lints,
    edgeStatus,
  };
}

/** What the policies do to an observed edge: the colour of its line on the map. */
export type EdgeStatusOf = (e: Pick<Edge, 'from' | 'to' | 'protocol' | 'port' | 'dropped'>) => EdgeStatus;

/**
 * Without policies the map can only tell dropped edges from the rest: read off the edge, without
 * a map of every edge's id (tens of MB at tens of thousands of edges).
 */
export const observedEdgeStatus: EdgeStatusOf = (e) => (e.dropped > 0 ? 'dropped' : 'no-policy');

/** The statuses `policyFindings` judged (`edgeStatus`, by `edgeId`). */
export const judgedEdgeStatus =
  (judged: ReadonlyMap<string, EdgeStatus>): EdgeStatusOf =>
  (e) =>
    judged.get(edgeId(e)) ?? 'no-policy';

function droppedRow(d: TriagedDrop): DroppedRow {
  const g = d.group;
  return {
    from: g.from,
    to: g.to,
    protocol: g.protocol,
    ...(g.port !== undefined && { port: g.port }),
    ...(g.ports !== undefined && { ports: g.ports }),
    reason: g.reason,
    attempts: g.attempts,
    flows: g.flows,
    lastSeenMs: g.lastSeenMs,
    policies: d.explanation.policies,
    summary: d.explanation.summary,
  };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
