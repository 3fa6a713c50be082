/**
 * What-if over the observed baseline: which forwarded edges a set of policies would drop, which
 * allow rules no observed edge uses, and which workloads no policy selects.
 */
import type { Edge, Peer as GraphPeer, WorkloadInfo } from '../graph/index.js';

import type { CompiledEntry } from '../policy/evaluate/compiled.js';
import {
  evaluate,
  policyLabel,
  prepareRequest,
  type Direction,
  type EvaluateOptions,
  type EvaluationRequest,
  type Peer,
  type PolicySet,
  type RuleRef,
  type SideDecision,
} from '../policy/index.js';
import { defaultDenyPolicies } from './explain.js';
import { sidePasses } from './fix.js';

const POD_NAMESPACE = 'io.kubernetes.pod.namespace';
const NAMESPACE_LABELS = 'io.cilium.k8s.namespace.labels.';

/** What judging an edge reads: its ends, port, forwarded count, addresses and the reserved-label sets its ends carried (no other evidence). */
export type JudgedEdge = Pick<Edge, 'from' | 'to' | 'protocol' | 'port' | 'forwarded' | 'ips' | 'srcReserved' | 'dstReserved'>;

export interface WouldDrop<E extends JudgedEdge = Edge> {
  readonly edge: E;
  /** The side that would drop it (egress of the source is judged first). */
  readonly side: Direction;
  /** `POLICY_DENIED` (default deny) or `POLICY_DENY` (a deny rule). */
  readonly reason: string;
  /** The evaluator's one-line reason. */
  readonly detail: string;
  /** The responsible policies: deny rules' policies, or the policies putting that side into default deny. */
  readonly policy: readonly string[];
  /** Both sides when both would drop. */
  readonly sides: readonly Direction[];
}

export interface UnusedRule {
  readonly policy: string;
  readonly direction: Direction;
  /** Index within the section (`spec.ingress[<ruleIndex>]`). */
  readonly ruleIndex: number;
  readonly path: string;
  readonly file?: string;
}

export interface NamespaceCoverage {
  readonly namespace: string;
  readonly workloads: number;
  /** Selected by some policy for the direction (a non-enforcing CCNP, `enableDefaultDeny: false`, counts). */
  readonly ingressSelected: number;
  readonly egressSelected: number;
  /** In default deny for the direction: only what a rule allows gets through. */
  readonly ingressEnforced: number;
  readonly egressEnforced: number;
  /** Selected but not enforced in either direction: the policies only add allows (`Kind/name`). */
  readonly selectedNotEnforced: readonly string[];
  /** Workloads no policy selects in either direction (`Kind/name`). */
  readonly unselected: readonly string[];
  readonly ingressUnselected: readonly string[];
  readonly egressUnselected: readonly string[];
}

export interface CheckResult<E extends JudgedEdge = Edge> {
  readonly wouldDrop: readonly WouldDrop<E>[];
  readonly unusedRules: readonly UnusedRule[];
  /**
   * Rules that allow only DNS (port 53: egress to the DNS server, ingress to it from pods and
   * nodes) and that no observed edge used: not in `unusedRules`, since a pod that restarts or
   * scales out must still resolve names.
   */
  readonly unusedDnsRules: number;
  readonly coverage: readonly NamespaceCoverage[];
  /** Forwarded edges judged (after the namespace filter). */
  readonly edgesChecked: number;
  /** Edges left out: ICMP-less protocols or peers the evaluator cannot model. */
  readonly skipped: number;
  /**
   * Forwarded edges not judged: one end is a cluster endpoint Hubble saw as world that no identity
   * explains (graph `clusterEndpoint`), so what Cilium will match it as is unknown.
   */
  readonly unjudged: readonly { readonly edge: E; readonly reason: string }[];
  /** No forwarded traffic to judge by: nothing can be said about would-drops or unused rules. */
  readonly noTraffic: boolean;
  /** The local cluster the `cluster` entity and cluster-local selectors were judged for. */
  readonly clusterName?: string;
}

export interface CheckOptions {
  readonly evaluate?: EvaluateOptions;
  /** Limit to edges with an end in, policies of, and coverage for these namespaces. */
  readonly namespaces?: readonly string[];
}

/**
 * Evaluator peer of a graph peer, with everything Cilium matches on:
 * - a workload: every identity label its pods share (cluster, service account, namespace
 *   included), its namespace's labels as `io.cilium.k8s.namespace.labels.*` (plus the
 *   `kubernetes.io/metadata.name` label Kubernetes always sets);
 * - an entity or world peer: `reserved` is one reserved-label set its identity carried
 *   (`kube-apiserver+remote-node`, `world-ipv4`), else the entity's own label.
 */
export function evaluatorPeer(p: GraphPeer, workloads: ReadonlyMap<string, WorkloadInfo>, ips: readonly string[] = [], reserved?: string): Peer {
  switch (p.kind) {
    case 'workload':
      return workloadPeer(p, workloads);
    case 'entity':
    case 'fqdn':
    case 'cidr': {
      // One peer object per distinct entity, name or address (and reserved-label set): the
      // evaluator resolves each peer object once, and a world peer recurs on thousands of edges.
      // The graph shares its peer objects between edges: each is keyed once.
      const ip = p.kind === 'cidr' ? '' : (ips[0] ?? '');
      let byIp = otherPeersOf.get(p);
      if (byIp === undefined) otherPeersOf.set(p, (byIp = new Map()));
      let byReserved = byIp.get(ip);
      if (byReserved === undefined) byIp.set(ip, (byReserved = new Map()));
      let peer = byReserved.get(reserved ?? '');
      if (peer === undefined) {
        const key = JSON.stringify([p.kind, p.kind === 'entity' ? p.entity : p.kind === 'fqdn' ? p.fqdn : p.cidr, ip, reserved ?? '']);
        peer = otherPeers.get(key);
        if (peer === undefined) {
          if (otherPeers.size >= MAX_OTHER_PEERS) otherPeers.clear();
          otherPeers.set(key, (peer = nonWorkloadPeer(p, ips, reserved)));
        }
        byReserved.set(reserved ?? '', peer);
      }
      return peer;
    }
    default: {
      const never: never = p;
      return never;
    }
  }
}

/** One peer object per workload: the evaluator resolves each peer object once. */
function workloadPeer(p: Extract<GraphPeer, { kind: 'workload' }>, workloads: ReadonlyMap<string, WorkloadInfo>): Peer {
  // The graph shares its peer objects between edges: each is looked up once per workload map.
  let byGraphPeer = workloadPeersOf.get(workloads);
  if (byGraphPeer === undefined) workloadPeersOf.set(workloads, (byGraphPeer = new WeakMap()));
  let peer = byGraphPeer.get(p);
  if (peer !== undefined) return peer;
  const info = workloads.get(`${p.namespace}/${p.workloadKind}/${p.name}`);
  if (info === undefined || info.namespace !== p.namespace) peer = { labels: workloadLabels(p.namespace, info), namespace: p.namespace };
  else {
    peer = workloadPeers.get(info);
    if (peer === undefined) workloadPeers.set(info, (peer = { labels: workloadLabels(p.namespace, info), namespace: p.namespace }));
  }
  byGraphPeer.set(p, peer);
  return peer;
}

/**
 * The reserved labels of an entity end: the set its identity carried (`kube-apiserver+remote-node`),
 * else its own. One (never mutated) list per set: thousands of world peers share theirs, and the
 * evaluator then parses it once.
 */
function reservedLabels(own: string, reserved: string | undefined): readonly string[] {
  const key = JSON.stringify([own, reserved ?? '']);
  let labels = reservedLabelLists.get(key);
  if (labels === undefined) {
    const names = new Set(reserved === undefined || reserved === '' ? [] : reserved.split('+'));
    if (names.size === 0) names.add(own);
    if (reservedLabelLists.size >= MAX_OTHER_PEERS) reservedLabelLists.clear();
    reservedLabelLists.set(key, (labels = [...names].sort().map((n) => `reserved:${n}`)));
  }
  return labels;
}
const reservedLabelLists = new Map<string, readonly string[]>();

function nonWorkloadPeer(p: Exclude<GraphPeer, { kind: 'workload' }>, ips: readonly string[], reserved: string | undefined): Peer {
  switch (p.kind) {
    case 'entity':
      if (p.entity === 'world') return { labels: reservedLabels('world', reserved), ...(ips[0] !== undefined && { ip: ips[0] }) };
      if (p.entity === 'encrypted-overlay') return { labels: ['reserved:world'] };
      return { labels: reservedLabels(p.entity, reserved) };
    case 'fqdn':
      return { labels: reservedLabels('world', reserved), names: [p.fqdn], ...(ips[0] !== undefined && { ip: ips[0] }) };
    case 'cidr':
      return { labels: reservedLabels('world', reserved), ip: p.cidr.split('/')[0] ?? p.cidr };
    default: {
      const never: never = p;
      return never;
    }
  }
}

const otherPeers = new Map<string, Peer>();
const MAX_OTHER_PEERS = 100_000;
const workloadPeers = new WeakMap<WorkloadInfo, Peer>();
const otherPeersOf = new WeakMap<GraphPeer, Map<string, Map<string, Peer>>>();
const workloadPeersOf = new WeakMap<ReadonlyMap<string, WorkloadInfo>, WeakMap<GraphPeer, Peer>>();

/** A pod identity's labels as Hubble prints them, from what the graph kept about its workload. */
export function workloadLabels(namespace: string, info: WorkloadInfo | undefined): string[] {
  const own = info?.identityLabels ?? info?.labels ?? {};
  const labels = Object.entries(own).map(([k, v]) => `k8s:${k}=${v}`);
  const nsLabels: Record<string, string> = { 'kubernetes.io/metadata.name': namespace, ...info?.namespaceLabels };
  for (const [k, v] of Object.entries(nsLabels)) labels.push(`k8s:${NAMESPACE_LABELS}${k}=${v}`);
  if (own[POD_NAMESPACE] === undefined) labels.push(`k8s:${POD_NAMESPACE}=${namespace}`);
  return labels.sort();
}

/** The first request of `edgeRequests` (one per edge when its ends carry one identity each). */
export function edgeRequest(e: JudgedEdge, workloads: ReadonlyMap<string, WorkloadInfo>): EvaluationRequest {
  return edgeRequests(e, workloads)[0] as EvaluationRequest;
}

/**
 * The requests an edge stands for: one per pair of identities seen at its ends (an entity end may
 * have carried several reserved-label sets, e.g. kube-apiserver + remote-node and kube-apiserver +
 * host). The edge is allowed only when every one of them is.
 */
export function edgeRequests(e: JudgedEdge, workloads: ReadonlyMap<string, WorkloadInfo>): EvaluationRequest[] {
  const out: EvaluationRequest[] = [];
  for (const sr of e.from.kind === 'workload' ? ONE_SET : setsOf(e.srcReserved)) {
    for (const dr of e.to.kind === 'workload' ? ONE_SET : setsOf(e.dstReserved)) {
      const source = evaluatorPeer(e.from, workloads, e.from.kind === 'workload' ? NO_IPS : e.ips, sr);
      const destination = evaluatorPeer(e.to, workloads, e.to.kind === 'workload' ? NO_IPS : e.ips, dr);
      if (e.protocol === 'ICMPv4' || e.protocol === 'ICMPv6') out.push({ source, destination, protocol: e.protocol, icmpType: e.port });
      else out.push({ source, destination, protocol: e.protocol, port: e.port });
    }
  }
  return out;
}

/** An end's reserved-label sets, or one unknown set. */
const setsOf = (s: readonly string[] | undefined): readonly (string | undefined)[] => (s !== undefined && s.length > 0 ? s : ONE_SET);
const ONE_SET: readonly (string | undefined)[] = [undefined];
const NO_IPS: readonly string[] = [];

/**
 * The local cluster when the user named none: the cluster most workloads' pods carry in
 * `io.cilium.k8s.policy.cluster` (ties: the first by name); undefined when no flow said.
 */
export function inferClusterName(workloads: readonly WorkloadInfo[]): string | undefined {
  const counts = new Map<string, number>();
  for (const w of workloads) if (w.cluster !== undefined) counts.set(w.cluster, (counts.get(w.cluster) ?? 0) + 1);
  return [...counts.entries()].sort(([a, x], [b, y]) => y - x || cmp(a, b))[0]?.[0];
}

const workloadKey = (w: { namespace: string; kind: string; name: string }): string => `${w.namespace}/${w.kind}/${w.name}`;

/**
 * What `check` judges, made before the policies are known: the edges in scope with the requests
 * each stands for (their peers resolved), the edges it cannot judge, and the local cluster. The
 * CLI makes it while the policy files are still being read.
 */
export interface CheckPlan<E extends JudgedEdge> {
  /** The edges judged, their peers already resolved (`prepareRequest`). */
  readonly judged: readonly E[];
  readonly byKey: ReadonlyMap<string, WorkloadInfo>;
  readonly unjudged: readonly { readonly edge: E; readonly reason: string }[];
  readonly workloads: readonly WorkloadInfo[];
  readonly namespaces: readonly string[] | undefined;
  /** The caller's options with the local cluster filled in. */
  readonly evaluate: EvaluateOptions;
  readonly clusterName: string | undefined;
}

export function planCheck<E extends JudgedEdge>(edges: readonly E[], workloads: readonly WorkloadInfo[], options: CheckOptions = {}): CheckPlan<E> {
  const ns = options.namespaces && options.namespaces.length > 0 ? options.namespaces : undefined;
  const inNs = (p: GraphPeer): boolean => ns === undefined || (p.kind === 'workload' && ns.includes(p.namespace));
  const byKey = new Map(workloads.map((w) => [workloadKey(w), w]));
  const clusterName = options.evaluate?.clusterName ?? inferClusterName(workloads);
  const judged: E[] = [];
  const unjudged: { edge: E; reason: string }[] = [];
  for (const e of edges) {
    if (e.forwarded <= 0 || !(inNs(e.from) || inNs(e.to))) continue;
    const unknown = clusterEndpointOf(e.from) ?? clusterEndpointOf(e.to);
    if (unknown !== undefined) {
      unjudged.push({ edge: e, reason: unknown.reason });
      continue;
    }
    for (const r of edgeRequests(e, byKey)) prepareRequest(r);
    judged.push(e);
  }
  return { judged, byKey, unjudged, workloads, namespaces: ns, evaluate: { ...options.evaluate, ...(clusterName !== undefined && { clusterName }) }, clusterName };
}

export function checkBaseline<E extends JudgedEdge>(edges: readonly E[], workloads: readonly WorkloadInfo[], set: PolicySet, options: CheckOptions = {}): CheckResult<E> {
  return judgePlan(planCheck(edges, workloads, options), set);
}

/** `checkBaseline` of the edges and options `plan` was made from. */
export function judgePlan<E extends JudgedEdge>(plan: CheckPlan<E>, set: PolicySet): CheckResult<E> {
  const { namespaces: ns, evaluate: evalOptions, clusterName } = plan;
  // Rule references as objects while judging (each compiled entry has one); keyed once at the end.
  const usedRefs = new Set<RuleRef>();
  const wouldDrop: WouldDrop<E>[] = [];
  for (const e of plan.judged) {
    let dropped: { d: ReturnType<typeof evaluate>; request: EvaluationRequest } | undefined;
    for (const request of edgeRequests(e, plan.byKey)) {
      const d = evaluate(set, request, evalOptions);
      if (sidePasses(d.egress)) for (const r of d.egress.rules) usedRefs.add(r);
      if (sidePasses(d.ingress)) for (const r of d.ingress.rules) usedRefs.add(r);
      if (!d.allowed && dropped === undefined) dropped = { d, request };
    }
    if (dropped === undefined) continue;
    const { d, request } = dropped;
    const blocking = [d.egress, d.ingress].filter((s) => !sidePasses(s) && s.verdict !== 'l7-denied');
    const first = blocking[0];
    if (first === undefined) continue;
    wouldDrop.push({
      edge: e,
      side: first.direction,
      reason: first.verdict === 'explicit-deny' ? 'POLICY_DENY' : 'POLICY_DENIED',
      detail: first.reason,
      policy: responsible(first, set, request, evalOptions),
      sides: blocking.map((s) => s.direction),
    });
  }
  const checked = plan.judged.length;
  return {
    wouldDrop,
    // With no traffic every rule is "unused": that says nothing, so none is listed.
    ...(checked === 0 ? { unusedRules: [], unusedDnsRules: 0 } : unusedRules(set, usedRefs, ns)),
    coverage: coverage(plan.workloads, set, evalOptions, ns),
    edgesChecked: checked,
    skipped: plan.unjudged.length,
    unjudged: [...plan.unjudged],
    noTraffic: checked === 0,
    ...(clusterName !== undefined && { clusterName }),
  };
}

/** A cluster endpoint Hubble saw as world that no identity explains (graph `clusterEndpoint`). */
const clusterEndpointOf = (p: GraphPeer): { readonly reason: string } | undefined => (p.kind === 'cidr' ? p.clusterEndpoint : undefined);

const ruleKey = (r: { kind: string; namespace?: string; name: string; path: string; origin?: { file: string; doc: number } }): string =>
  `${r.kind}|${r.namespace ?? ''}|${r.name}|${r.path}|${r.origin?.file ?? ''}|${r.origin?.doc ?? ''}`;

function responsible(s: SideDecision, set: PolicySet, request: EvaluationRequest, options: EvaluateOptions): string[] {
  const refs = s.verdict === 'default-deny' ? defaultDenyPolicies(s, set, request, options) : s.rules;
  return [...new Set(refs.map(policyLabel))].sort();
}

function unusedRules(set: PolicySet, usedRefs: ReadonlySet<RuleRef>, ns: readonly string[] | undefined): { unusedRules: UnusedRule[]; unusedDnsRules: number } {
  // Entries no edge used by reference object; most entries are used and need no key built.
  const unused: { readonly entry: CompiledEntry; readonly direction: Direction }[] = [];
  for (const rule of set.rules) {
    if (ns !== undefined && rule.policy.namespace !== undefined && !ns.includes(rule.policy.namespace)) continue;
    for (const direction of ['ingress', 'egress'] as const) {
      for (const e of rule[direction].entries) {
        // A rule that selects nothing (`- {}`, the placeholder that turns default deny on) cannot be used.
        if (!e.deny && !usedRefs.has(e.ref) && !isPlaceholder(e)) unused.push({ entry: e, direction });
      }
    }
  }
  if (unused.length === 0) return { unusedRules: [], unusedDnsRules: 0 };
  // An entry is used too when a copy of it was (the same document read twice): keys of the used
  // references of the same policies only, so 100,000 used ones need no key each.
  const policies = new Map<string, Set<string | undefined>>();
  for (const { entry } of unused) {
    const namespaces = policies.get(entry.ref.name);
    if (namespaces === undefined) policies.set(entry.ref.name, new Set([entry.ref.namespace]));
    else namespaces.add(entry.ref.namespace);
  }
  const used = new Set<string>();
  for (const r of usedRefs) if (policies.get(r.name)?.has(r.namespace) === true) used.add(ruleKey(r));
  const out = new Map<string, UnusedRule>();
  const dns = new Set<string>();
  for (const { entry: e, direction } of unused) {
    const k = ruleKey(e.ref);
    if (used.has(k)) continue;
    if (allowsOnlyDns(e)) {
      dns.add(k);
      continue;
    }
    if (!out.has(k)) {
      out.set(k, {
        policy: policyLabel(e.ref),
        direction,
        ruleIndex: e.ref.ruleIndex,
        path: e.ref.path,
        ...(e.ref.origin && { file: e.ref.origin.file }),
      });
    }
  }
  return { unusedRules: [...out.values()].sort((a, b) => cmp(a.policy, b.policy) || cmp(a.path, b.path)), unusedDnsRules: dns.size };
}

/** Port 53 only (UDP, TCP or any protocol), with or without DNS rules: what a pod needs to resolve names. */
const allowsOnlyDns = (e: CompiledEntry): boolean =>
  e.l4 !== undefined && e.l4.length > 0 && e.l4.every((p) => p.kind === 'port' && p.protocol !== 'SCTP' && p.port === 53 && (p.endPort === undefined || p.endPort === 53));

const isPlaceholder = (e: CompiledEntry): boolean => e.peers.length === 0 || (e.l4 !== undefined && e.l4.length === 0);

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Probe peers for "who selects this workload": any request shows `selectedBy` for both sides. */
const PROBE: Peer = { labels: ['reserved:world'], ip: '192.0.2.1' };

function coverage(workloads: readonly WorkloadInfo[], set: PolicySet, options: EvaluateOptions | undefined, ns: readonly string[] | undefined): NamespaceCoverage[] {
  const byNs = new Map<string, WorkloadInfo[]>();
  for (const w of workloads) {
    if (ns !== undefined && !ns.includes(w.namespace)) continue;
    byNs.set(w.namespace, [...(byNs.get(w.namespace) ?? []), w]);
  }
  return [...byNs.entries()]
    .sort(([a], [b]) => cmp(a, b))
    .map(([namespace, ws]) => {
      const rows = ws
        .map((w) => {
          const peer = evaluatorPeer({ kind: 'workload', namespace: w.namespace, workloadKind: w.kind, name: w.name }, new Map([[workloadKey(w), w]]));
          const ingress = evaluate(set, { source: PROBE, destination: peer, protocol: 'TCP', port: 1 }, options).ingress;
          const egress = evaluate(set, { source: peer, destination: PROBE, protocol: 'TCP', port: 1 }, options).egress;
          return {
            name: `${w.kind}/${w.name}`,
            ingress: ingress.selectedBy.length > 0,
            egress: egress.selectedBy.length > 0,
            ingressEnforced: ingress.defaultDeny,
            egressEnforced: egress.defaultDeny,
          };
        })
        .sort((a, b) => cmp(a.name, b.name));
      return {
        namespace,
        workloads: rows.length,
        ingressSelected: rows.filter((r) => r.ingress).length,
        egressSelected: rows.filter((r) => r.egress).length,
        ingressEnforced: rows.filter((r) => r.ingressEnforced).length,
        egressEnforced: rows.filter((r) => r.egressEnforced).length,
        selectedNotEnforced: rows.filter((r) => (r.ingress || r.egress) && !r.ingressEnforced && !r.egressEnforced).map((r) => r.name),
        unselected: rows.filter((r) => !r.ingress && !r.egress).map((r) => r.name),
        ingressUnselected: rows.filter((r) => !r.ingress).map((r) => r.name),
        egressUnselected: rows.filter((r) => !r.egress).map((r) => r.name),
      };
    });
}
