/**
 * Dropped flows → drop groups: one per edge (source peer, destination peer, protocol, port) and
 * drop reason. A denied connection shows up as one policy-verdict event plus one drop event per
 * retransmitted SYN (hubble-api.md §2.4), so flows of the same 5-tuple within `attemptWindowMs`
 * of each other count as one attempt; `flows` keeps the raw count.
 *
 * Drops between the same two peers for one protocol and reason on more than `manyPorts`
 * destination ports are one group with port ranges: `nmap` against one pod leaves 131,070 drops of
 * one port each, and 131,070 groups (each with its own fix search and patch) bury the real drops
 * and would each open one more port.
 */
import type { Endpoint, Flow } from '../flow/index.js';
import { MANY_PORTS, PORT_PROTOCOLS, portSpans, type PortSpan } from '../net/ports.js';
import {
  type Peer,
  type WorkloadInfo,
  classifyEndpoint,
  describePeer,
  hostCidr,
  normaliseName,
  podLabelSet,
  podWorkload,
  requestDirection,
} from '../graph/index.js';

/** What kind of drop a group is, from Hubble's own fields (before any policy is consulted). */
export type DropKind =
  /** POLICY_DENIED (133): default deny, no rule allowed it. */
  | 'default-deny'
  /** POLICY_DENY (181): an explicit deny rule matched. */
  | 'explicit-deny'
  /** L7 proxy refused the request (type 129 DROPPED, HTTP 403 / DNS REFUSED). */
  | 'l7'
  /** Any other drop reason: not a policy decision. */
  | 'other';

export interface DropGroup {
  /** `<from>|<to>|<protocol>|<port>|<reason>` (`ports` for a many-port group); stable, for tests and JSON consumers. */
  readonly key: string;
  readonly from: Peer;
  readonly to: Peer;
  /** TCP, UDP, SCTP, ICMPv4, ICMPv6, or `none` when the flow had no L4. */
  readonly protocol: string;
  /** Destination port; ICMP type for ICMP; absent without L4 and in a many-port group. */
  readonly port?: number;
  /**
   * A many-port group (a port scan, or an app on dynamic ports): the distinct destination ports,
   * sorted and merged into ranges, and how many there are. `port` is then absent.
   */
  readonly ports?: { readonly count: number; readonly ranges: readonly PortSpan[] };
  readonly kind: DropKind;
  /** Drop reason name (`POLICY_DENIED`, `CT_MAP_INSERTION_FAILED`), or `L7_DENIED` for proxy refusals. */
  readonly reason: string;
  /** Distinct connection attempts (retransmissions and the verdict event of one attempt count once). */
  readonly attempts: number;
  readonly flows: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** Where Cilium dropped it: EGRESS (at the source) or INGRESS (at the destination), as Hubble says. */
  readonly directions: readonly string[];
  /** Policies Hubble named in `*_denied_by` (`Kind namespace/name`), sorted. */
  readonly deniedBy: readonly string[];
  readonly nodes: readonly string[];
  readonly srcPods: readonly string[];
  readonly dstPods: readonly string[];
  /** The flow explained for the group: the newest policy-verdict event if any, else the newest flow. */
  readonly sample: Flow;
}

export interface GroupOptions {
  /** Same 5-tuple within this many ms of the previous flow = the same attempt. Default 10 s. */
  readonly attemptWindowMs?: number;
  /** Workloads from the edge graph: their kinds name inferred workloads. */
  readonly workloads?: readonly WorkloadInfo[];
  /** Keep groups with either end in one of these namespaces. */
  readonly namespaces?: readonly string[];
  /** More distinct ports than this between the same peers (protocol, reason) make one many-port group. Default `MANY_PORTS`: a fix per port is then not what anyone should apply. */
  readonly manyPorts?: number;
}

export const DEFAULT_ATTEMPT_WINDOW_MS = 10_000;
/** Past this many remembered 5-tuples, those older than the attempt window are forgotten (flows come oldest first). */
const TUPLES_KEPT = 4096;
const PODS_KEPT = 5;

interface Acc {
  key: string;
  from: Peer;
  to: Peer;
  protocol: string;
  port: number | undefined;
  kind: DropKind;
  reason: string;
  attempts: number;
  flows: number;
  first: number;
  last: number;
  directions: Set<string>;
  deniedBy: Set<string>;
  nodes: Set<string>;
  srcPods: Set<string>;
  dstPods: Set<string>;
  sample: Flow;
  /** Arrival index of `sample`: merging groups picks the sample one group would have kept. */
  sampleSeq: number;
  tuples: Map<string, number>;
  /** When `tuples` grows to this size, the old ones are forgotten (then it is twice what is left, so that stays linear). */
  tuplesLimit: number;
  /** The distinct ports of a many-port group. */
  ports: Set<number> | undefined;
}

/** The drops between two peers for one protocol and reason: a group per port, until there are too many ports, then one. */
type PortFamily = Map<number, Acc> | Acc;

/** Groups DROPPED request-direction flows; newest group first (by last drop), then by key. */
export function groupDrops(flows: readonly Flow[], options: GroupOptions = {}): DropGroup[] {
  return groupDropsInTimeOrder([...flows].sort((a, b) => a.timeMs - b.timeMs), options);
}

/**
 * `groupDrops` over flows that arrive oldest first (as the store reads them), one at a time: a
 * port scan stores hundreds of thousands of dropped flows, and only the groups need to stay.
 */
export function groupDropsInTimeOrder(flows: Iterable<Flow>, options: GroupOptions = {}): DropGroup[] {
  const window = options.attemptWindowMs ?? DEFAULT_ATTEMPT_WINDOW_MS;
  const workloads = options.workloads ?? [];
  const manyPorts = options.manyPorts ?? MANY_PORTS;
  const groups = new Map<string, Acc>();
  const families = new Map<string, PortFamily>();
  let seq = 0;
  for (const f of flows) {
    if (!isDroppedRequest(f)) continue;
    seq++;
    const from = peerOf(f.source, f.ip?.source, f.sourceNames, workloads);
    const to = peerOf(f.destination, f.ip?.destination, f.destinationNames, workloads);
    const { protocol, port } = l4Of(f);
    const { kind, reason } = dropKind(f);
    const fromText = describePeer(from);
    const toText = describePeer(to);
    const newAcc = (key: string): Acc => ({
      key, from, to, protocol, port, kind, reason, attempts: 0, flows: 0, first: f.timeMs, last: f.timeMs,
      directions: new Set(), deniedBy: new Set(), nodes: new Set(), srcPods: new Set(), dstPods: new Set(), sample: f, sampleSeq: seq, tuples: new Map(), tuplesLimit: TUPLES_KEPT, ports: undefined,
    });
    if (port === undefined || !PORT_PROTOCOLS.has(protocol)) {
      const key = `${fromText}|${toText}|${protocol}|${port ?? ''}|${reason}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = newAcc(key)));
      add(g, f, window, seq);
      continue;
    }
    const familyKey = `${fromText}|${toText}|${protocol}|${reason}`;
    let family = families.get(familyKey);
    if (family === undefined) families.set(familyKey, (family = new Map<number, Acc>()));
    if (!(family instanceof Map)) {
      add(family, f, window, seq);
      family.ports?.add(port);
      continue;
    }
    let g = family.get(port);
    if (g === undefined) {
      g = newAcc(`${fromText}|${toText}|${protocol}|${port}|${reason}`);
      family.set(port, g);
      groups.set(g.key, g);
    }
    add(g, f, window, seq);
    if (family.size > manyPorts) {
      const many = mergeGroups(`${fromText}|${toText}|${protocol}|ports|${reason}`, [...family.values()]);
      for (const k of family.values()) groups.delete(k.key);
      groups.set(many.key, many);
      families.set(familyKey, many);
    }
  }
  const ns = options.namespaces;
  return [...groups.values()]
    .filter((g) => ns === undefined || ns.length === 0 || [g.from, g.to].some((p) => p.kind === 'workload' && ns.includes(p.namespace)))
    .sort((a, b) => b.last - a.last || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(freeze);
}

/** One many-port group of the per-port groups of one family: what one group fed all their flows would hold. */
function mergeGroups(key: string, parts: readonly Acc[]): Acc {
  const [head] = parts;
  if (head === undefined) throw new Error('mergeGroups: no groups');
  const m: Acc = {
    key, from: head.from, to: head.to, protocol: head.protocol, port: undefined, kind: head.kind, reason: head.reason,
    attempts: 0, flows: 0, first: head.first, last: head.last,
    directions: new Set(), deniedBy: new Set(), nodes: new Set(), srcPods: new Set(), dstPods: new Set(), sample: head.sample, sampleSeq: head.sampleSeq, tuples: new Map(), tuplesLimit: TUPLES_KEPT, ports: new Set(),
  };
  for (const g of parts) {
    m.attempts += g.attempts;
    m.flows += g.flows;
    if (g.first < m.first) m.first = g.first;
    if (g.last > m.last) m.last = g.last;
    for (const s of g.directions) m.directions.add(s);
    for (const s of g.deniedBy) m.deniedBy.add(s);
    for (const s of g.nodes) m.nodes.add(s);
    for (const s of g.srcPods) m.srcPods.add(s);
    for (const s of g.dstPods) m.dstPods.add(s);
    // Tuples carry the port, so no two groups share one.
    for (const [t, ms] of g.tuples) m.tuples.set(t, ms);
    if (g.port !== undefined) m.ports?.add(g.port);
    if (betterSample(g.sample, g.sampleSeq, m.sample, m.sampleSeq)) {
      m.sample = g.sample;
      m.sampleSeq = g.sampleSeq;
    }
  }
  m.tuplesLimit = Math.max(TUPLES_KEPT, 2 * m.tuples.size);
  return m;
}

function add(g: Acc, f: Flow, window: number, seq: number): void {
  g.flows++;
  const tuple = fiveTuple(f);
  const prev = g.tuples.get(tuple);
  if (prev === undefined || f.timeMs - prev > window) g.attempts++;
  if (prev === undefined && g.tuples.size >= g.tuplesLimit) {
    forgetOldTuples(g.tuples, f.timeMs - window);
    g.tuplesLimit = Math.max(TUPLES_KEPT, 2 * g.tuples.size);
  }
  g.tuples.set(tuple, f.timeMs);
  g.first = Math.min(g.first, f.timeMs);
  g.last = Math.max(g.last, f.timeMs);
  if (f.trafficDirection !== 'TRAFFIC_DIRECTION_UNKNOWN') g.directions.add(f.trafficDirection);
  for (const p of f.egressDeniedBy) g.deniedBy.add(hubblePolicyLabel(p));
  for (const p of f.ingressDeniedBy) g.deniedBy.add(hubblePolicyLabel(p));
  if (f.nodeName) g.nodes.add(f.nodeName);
  if (f.source.podName) g.srcPods.add(f.source.podName);
  if (f.destination.podName) g.dstPods.add(f.destination.podName);
  if (betterSample(f, seq, g.sample, g.sampleSeq)) {
    g.sample = f;
    g.sampleSeq = seq;
  }
}

/**
 * The flow a group explains: a policy-verdict event (it names the policy and the direction) over
 * any other, then the later one to arrive (flows come oldest first).
 */
function betterSample(f: Flow, seq: number, current: Flow, currentSeq: number): boolean {
  const verdictEvent = (x: Flow): boolean => x.eventType?.type === 5;
  if (verdictEvent(f) !== verdictEvent(current)) return verdictEvent(f);
  return seq >= currentSeq;
}

/**
 * Drops the 5-tuples last seen before `before`: flows come oldest first, so no later flow can
 * find one of them within the attempt window, and a scan's one tuple per port need not all stay.
 */
function forgetOldTuples(tuples: Map<string, number>, before: number): void {
  for (const [t, ms] of tuples) if (ms < before) tuples.delete(t);
}

function freeze(g: Acc): DropGroup {
  const sorted = (s: Set<string>): string[] => [...s].sort();
  return {
    key: g.key,
    from: g.from,
    to: g.to,
    protocol: g.protocol,
    ...(g.port !== undefined && { port: g.port }),
    ...(g.ports !== undefined && { ports: { count: g.ports.size, ranges: portSpans(g.ports) } }),
    kind: g.kind,
    reason: g.reason,
    attempts: g.attempts,
    flows: g.flows,
    firstSeenMs: g.first,
    lastSeenMs: g.last,
    directions: sorted(g.directions),
    deniedBy: sorted(g.deniedBy),
    nodes: sorted(g.nodes),
    srcPods: sorted(g.srcPods).slice(0, PODS_KEPT),
    dstPods: sorted(g.dstPods).slice(0, PODS_KEPT),
    sample: g.sample,
  };
}

/** `CiliumNetworkPolicy dbms/deny-from-downloads`, the same shape as the evaluator's `policyLabel`. */
export function hubblePolicyLabel(p: { readonly kind?: string; readonly namespace?: string; readonly name?: string }): string {
  return `${p.kind ?? 'Policy'} ${p.namespace ? `${p.namespace}/` : ''}${p.name ?? '(unnamed)'}`;
}

const isDroppedRequest = (f: Flow): boolean => f.verdict === 'DROPPED' && requestDirection(f) !== 'reply';

export function dropKind(f: Flow): { kind: DropKind; reason: string } {
  if (f.dropReason === 'POLICY_DENIED') return { kind: 'default-deny', reason: 'POLICY_DENIED' };
  if (f.dropReason === 'POLICY_DENY') return { kind: 'explicit-deny', reason: 'POLICY_DENY' };
  if (f.l7 !== undefined || f.type === 'L7' || f.eventType?.type === 129) return { kind: 'l7', reason: 'L7_DENIED' };
  return { kind: 'other', reason: f.dropReason ?? 'UNKNOWN' };
}

function l4Of(f: Flow): { protocol: string; port: number | undefined } {
  const l4 = f.l4;
  if (l4 === undefined) return { protocol: 'none', port: undefined };
  if ('destinationPort' in l4) return { protocol: l4.protocol, port: l4.destinationPort };
  if ('icmpType' in l4) return { protocol: l4.protocol, port: l4.icmpType };
  return { protocol: l4.protocol, port: undefined };
}

function fiveTuple(f: Flow): string {
  const l4 = f.l4;
  const ports = l4 === undefined ? '' : 'sourcePort' in l4 ? `${l4.sourcePort}>${l4.destinationPort}` : 'icmpType' in l4 ? `icmp${l4.icmpType}` : '';
  return `${f.ip?.source ?? f.source.podName ?? ''}|${f.ip?.destination ?? f.destination.podName ?? ''}|${l4?.protocol ?? ''}|${ports}`;
}

/**
 * The graph workload a pod endpoint belongs to: by namespace, kind and name; else by namespace and
 * name; else (an inferred workload, e.g. a pod without owner references in the flow) the one
 * workload of the namespace whose selector the pod's labels satisfy, as the graph's read side does.
 */
export function findWorkload(ep: Endpoint, workloads: readonly WorkloadInfo[]): WorkloadInfo | undefined {
  const w = podWorkload(ep);
  if (w === undefined) return undefined;
  const inNs = byNamespace(workloads).get(w.namespace) ?? [];
  const exact = inNs.find((x) => x.name === w.name && (w.kind === undefined || x.kind === w.kind));
  if (exact) return exact;
  const labels = new Map(podLabelSet(ep.labels).map((kv) => {
    const i = kv.indexOf('=');
    return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
  }));
  const matching = inNs.filter((x) => {
    const sel = Object.entries(x.selector);
    return x.unique && sel.length > 0 && sel.every(([k, v]) => labels.get(k) === v);
  });
  return matching.length === 1 ? matching[0] : undefined;
}

const namespaceIndexes = new WeakMap<readonly WorkloadInfo[], ReadonlyMap<string, readonly WorkloadInfo[]>>();

/** The workloads by namespace, in list order; once per (never mutated) list: each end of every dropped flow asks. */
function byNamespace(workloads: readonly WorkloadInfo[]): ReadonlyMap<string, readonly WorkloadInfo[]> {
  let index = namespaceIndexes.get(workloads);
  if (index === undefined) {
    const m = new Map<string, WorkloadInfo[]>();
    for (const x of workloads) {
      const list = m.get(x.namespace);
      if (list === undefined) m.set(x.namespace, [x]);
      else list.push(x);
    }
    namespaceIndexes.set(workloads, (index = m));
  }
  return index;
}

/**
 * The resolved graph peer of one end of a dropped flow: a workload (kind from the graph when the
 * flow did not carry the owner), an entity, an FQDN when Hubble named the IP, else a /32 CIDR.
 */
export function peerOf(ep: Endpoint, ip: string | undefined, names: readonly string[], workloads: readonly WorkloadInfo[] = []): Peer {
  const raw = classifyEndpoint(ep, ip);
  if (raw === undefined) {
    const w = podWorkload(ep);
    if (w) return { kind: 'workload', namespace: w.namespace, workloadKind: w.kind ?? 'Pod', name: w.name };
    const cidr = ip === undefined ? undefined : hostCidr(ip);
    return cidr ? { kind: 'cidr', cidr } : { kind: 'entity', entity: 'unmanaged' };
  }
  switch (raw.kind) {
    case 'workload': {
      const info = findWorkload(ep, workloads);
      if (info) return { kind: 'workload', namespace: info.namespace, workloadKind: info.kind, name: info.name };
      return { kind: 'workload', namespace: raw.namespace, workloadKind: raw.workloadKind ?? podWorkload(ep)?.kindHint ?? 'Workload', name: raw.name };
    }
    case 'entity':
      return { kind: 'entity', entity: raw.entity };
    case 'world-ip': {
      const name = [...names].map(normaliseName).sort()[0];
      if (name !== undefined) return { kind: 'fqdn', fqdn: name };
      const cidr = hostCidr(raw.ip);
      return cidr ? { kind: 'cidr', cidr } : { kind: 'entity', entity: 'world' };
    }
    default: {
      const never: never = raw;
      return never;
    }
  }
}
