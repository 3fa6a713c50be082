import { normaliseName } from './aggregate.js';
import { peerKey, rawPeerKey } from './edge-key.js';
import { hostCidr } from '../net/cidr.js';
import { enclosingRanges } from './ip-ranges.js';
import { compareStrings, mergeEdgeRecords } from './merge.js';
import { type DnsAnswer, type Edge, type EdgeProtocol, type EdgeRecord, type Peer, type RawPeer } from './model.js';
import type { ResolvedWorkloads } from './resolve-workloads.js';
import { type ClusterIps, NO_CLUSTER_IPS, type SeenWindow } from './cluster-ips.js';

/** A stored edge row: its record (hours may be left empty) and its own distinct-hour count. */
export interface StoredEdge {
  readonly id: number;
  readonly record: EdgeRecord;
  readonly hoursSeen: number;
}

/** Distinct hours over several stored rows that resolve to one edge (the store answers it). */
export type HoursOf = (ids: readonly number[]) => number;

/** Derived counters from the per-side sums; see `Edge` for the rules. */
export function deriveCounters(sides: EdgeRecord['sides']): Pick<Edge, 'flows' | 'connections' | 'forwarded' | 'dropped' | 'audit' | 'redirected' | 'errors'> {
  // Plain arithmetic, no closures or arrays: this runs once per edge of every read.
  const { egress: e, ingress: i, unknown: u } = sides;
  return {
    flows: Math.max(e.flows, i.flows, u.flows),
    connections: Math.max(e.connections, e.verdicts, i.connections, i.verdicts, u.connections, u.verdicts),
    forwarded: Math.max(i.forwarded, e.forwarded - i.dropped, u.forwarded, 0),
    dropped: e.dropped + i.dropped + u.dropped,
    audit: Math.max(e.audit, i.audit, u.audit),
    redirected: Math.max(e.redirected, i.redirected, u.redirected),
    errors: e.errors + i.errors + u.errors,
  };
}

/** Index of DNS answers: resolved client key → IP → names. */
export type AnswerIndex = ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>;

export function indexAnswers(answers: readonly DnsAnswer[], workloads: ResolvedWorkloads): AnswerIndex {
  const out = new Map<string, Map<string, Set<string>>>();
  for (const a of answers) {
    const client = finalKey(a.client, workloads);
    let byIp = out.get(client);
    if (!byIp) out.set(client, (byIp = new Map()));
    let names = byIp.get(a.ip);
    if (!names) byIp.set(a.ip, (names = new Set()));
    names.add(normaliseName(a.query));
  }
  return out;
}

function finalKey(rawKey: string, workloads: ResolvedWorkloads): string {
  const w = workloads.byRawKey.get(rawKey);
  return w ? peerKey(w) : rawKey;
}

/** A raw peer as readers see it (world addresses as host CIDRs; see `resolveEnds` for cluster ones). */
export function resolveEnd(p: RawPeer, workloads: ResolvedWorkloads): Peer {
  switch (p.kind) {
    case 'workload':
      return workloads.byRawKey.get(rawPeerKey(p)) ?? { kind: 'workload', namespace: p.namespace, workloadKind: p.workloadKind ?? 'Workload', name: p.name };
    case 'entity':
      return p;
    case 'world-ip':
      return cidrPeer(p.ip);
    default: {
      const never: never = p;
      throw new Error(`unknown peer ${String(never)}`);
    }
  }
}

/**
 * The resolved peers of one end. A world address that the flows show as a cluster endpoint is
 * that endpoint (`peers`), or a CIDR peer marked `clusterEndpoint` that no rule may use.
 */
function resolveEnds(p: RawPeer, side: 'from' | 'to', workloads: ResolvedWorkloads, cluster: ClusterIps, when?: SeenWindow): Peer[] {
  if (p.kind === 'world-ip') {
    const v = cluster.classify(p.ip, side, when);
    if (v?.kind === 'peers') return [...v.peers];
    if (v?.kind === 'unidentified') {
      const c = cidrPeer(p.ip);
      return [c.kind === 'cidr' ? { ...c, clusterEndpoint: { reason: v.reason, suggest: v.suggest } } : c];
    }
  }
  return [resolveEnd(p, workloads)];
}

/** Whether a world address end was resolved onto a cluster peer (its world evidence no longer applies). */
const mapped = (raw: RawPeer, p: Peer): boolean => raw.kind === 'world-ip' && (p.kind === 'workload' || p.kind === 'entity');

/**
 * A row whose world end now stands for a cluster peer: that end's reserved-label set is the
 * peer's (an entity's own label; none for a workload), not the `world` Hubble showed.
 */
function asClusterRow(r: EdgeRecord, from: Peer, to: Peer): EdgeRecord {
  const src = mapped(r.from, from);
  const dst = mapped(r.to, to);
  if (!src && !dst) return r;
  const own = (p: Peer) => ({ values: p.kind === 'entity' ? [p.entity] : [], truncated: false });
  return { ...r, sets: { ...r.sets, ...(src && { srcReserved: own(from) }), ...(dst && { dstReserved: own(to) }) } };
}

function cidrPeer(ip: string): Peer {
  const cidr = hostCidr(ip);
  if (cidr === undefined) return { kind: 'entity', entity: 'world' };
  const enclosing = enclosingRanges(ip);
  return enclosing.length > 0 ? { kind: 'cidr', cidr, enclosing } : { kind: 'cidr', cidr };
}

interface Target {
  readonly to: Peer;
  readonly sharedIpWith: readonly string[];
}

/**
 * Where a world destination resolves: the FQDNs the same client was answered with for that IP in
 * observed DNS responses, plus Hubble's `destination_names`; one edge per name when several. With
 * no name the IP stays a host CIDR (with the known ranges enclosing it).
 */
function targets(r: EdgeRecord, from: Peer, answers: AnswerIndex, workloads: ResolvedWorkloads, cluster: ClusterIps): Target[] {
  return targetsOf(r.to, r.sets.destinationNames.values, from, answers, workloads, cluster, r);
}

function targetsOf(to: RawPeer, destinationNames: readonly string[], from: Peer, answers: AnswerIndex, workloads: ResolvedWorkloads, cluster: ClusterIps, when: SeenWindow): Target[] {
  if (to.kind !== 'world-ip') return [{ to: resolveEnd(to, workloads), sharedIpWith: [] }];
  // A cluster endpoint before any DNS name: toFQDNs, like toCIDR, never matches a pod or a node.
  if (cluster.classify(to.ip, 'to', when) !== undefined) return resolveEnds(to, 'to', workloads, cluster, when).map((p) => ({ to: p, sharedIpWith: [] }));
  const names = new Set(destinationNames);
  const fromAnswers = answers.get(peerKey(from))?.get(to.ip);
  if (fromAnswers) for (const n of fromAnswers) names.add(n);
  if (names.size === 0) return [{ to: cidrPeer(to.ip), sharedIpWith: [] }];
  const all = [...names].sort(compareStrings);
  return all.map((fqdn) => ({ to: { kind: 'fqdn', fqdn }, sharedIpWith: all.filter((n) => n !== fqdn) }));
}

/** A stored row's ends and times only: what counts and convergence need, without the evidence. */
export interface EdgeOutline {
  readonly from: RawPeer;
  readonly to: RawPeer;
  readonly protocol: EdgeProtocol;
  readonly port: number;
  readonly destinationNames: readonly string[];
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

/** A resolved edge's ends and times. */
export type ResolvedOutline = Pick<Edge, 'from' | 'to' | 'firstSeenMs' | 'lastSeenMs'>;

/**
 * Resolves rows the way `resolveEdges` does but keeps only ends and times, so `status` can count
 * and chart a graph of tens of thousands of edges without loading their evidence.
 */
export function resolveOutlines(rows: Iterable<EdgeOutline>, workloads: ResolvedWorkloads, answers: AnswerIndex, cluster: ClusterIps = NO_CLUSTER_IPS): ResolvedOutline[] {
  const groups = new Map<string, { from: Peer; to: Peer; firstSeenMs: number; lastSeenMs: number }>();
  const keyOf = peerKeys();
  for (const r of rows) {
    for (const from of resolveEnds(r.from, 'from', workloads, cluster, r)) {
      const fromKey = keyOf(from);
      for (const t of targetsOf(r.to, r.destinationNames, from, answers, workloads, cluster, r)) {
        const key = `${fromKey}|${keyOf(t.to)}|${r.protocol}|${r.port}`;
        const g = groups.get(key);
        if (g === undefined) groups.set(key, { from, to: t.to, firstSeenMs: r.firstSeenMs, lastSeenMs: r.lastSeenMs });
        else {
          g.firstSeenMs = Math.min(g.firstSeenMs, r.firstSeenMs);
          g.lastSeenMs = Math.max(g.lastSeenMs, r.lastSeenMs);
        }
      }
    }
  }
  return [...groups.values()];
}

/**
 * `peerKey` for one read: workload and entity peers are shared objects that repeat on thousands
 * of rows, so their keys are built once (world peers are new objects per row and mostly unique).
 */
function peerKeys(): (p: Peer) => string {
  const keys = new Map<Peer, string>();
  return (p) => {
    if (p.kind !== 'workload' && p.kind !== 'entity') return peerKey(p);
    let k = keys.get(p);
    if (k === undefined) keys.set(p, (k = peerKey(p)));
    return k;
  };
}

interface Group {
  readonly from: Peer;
  readonly to: Peer;
  /** The first row's id and hours; `ids` only once a second row joins. */
  readonly id: number;
  ids: number[] | undefined;
  record: EdgeRecord;
  hoursSeen: number;
  ips: Set<string> | undefined;
  shared: Set<string> | undefined;
}

const NO_STRINGS: readonly string[] = [];

/**
 * Turns stored rows into resolved edges: workloads through `workloads`, world IPs into FQDNs or
 * CIDRs, then merges rows that resolve to the same (from, to, protocol, port). Sorted by key.
 * Rows are read once, in order, so a store may hand them over as it reads them.
 */
export function resolveEdges(rows: Iterable<StoredEdge>, workloads: ResolvedWorkloads, answers: AnswerIndex, hoursOf: HoursOf, cluster: ClusterIps = NO_CLUSTER_IPS): Edge[] {
  const groups = new Map<string, Group>();
  const keyOf = peerKeys();
  for (const row of rows) {
    const record = row.record;
    for (const from of resolveEnds(record.from, 'from', workloads, cluster, record)) {
      const fromKey = keyOf(from);
      for (const t of targets(record, from, answers, workloads, cluster)) {
        const r = asClusterRow(record, from, t.to);
        const key = `${fromKey}|${keyOf(t.to)}|${r.protocol}|${r.port}`;
        let g = groups.get(key);
        if (g === undefined) {
          groups.set(key, (g = { from, to: t.to, id: row.id, ids: undefined, record: r, hoursSeen: row.hoursSeen, ips: undefined, shared: undefined }));
        } else {
          g.record = mergeEdgeRecords(g.record, r);
          (g.ids ??= [g.id]).push(row.id);
        }
        if (r.to.kind === 'world-ip' && !mapped(r.to, t.to)) (g.ips ??= new Set()).add(r.to.ip);
        if (r.from.kind === 'world-ip' && !mapped(r.from, from)) (g.ips ??= new Set()).add(r.from.ip);
        if (t.sharedIpWith.length > 0) {
          const shared = (g.shared ??= new Set());
          for (const n of t.sharedIpWith) shared.add(n);
        }
      }
    }
  }
  const out: Edge[] = [];
  for (const [, g] of [...groups.entries()].sort(([a], [b]) => compareStrings(a, b))) {
    out.push(toEdge(g, g.ids === undefined ? g.hoursSeen : hoursOf(g.ids)));
  }
  return out;
}

const sortedOf = (s: Set<string> | undefined): readonly string[] => (s === undefined ? NO_STRINGS : s.size === 1 ? [...s] : [...s].sort(compareStrings));

/** The record's counters and sets are shared with the edge, not copied: both are read-only and the record is the group's own. */
function toEdge(g: Group, hoursSeen: number): Edge {
  const r = g.record;
  const sets = r.sets;
  const c = deriveCounters(r.sides);
  // Fields listed, not spread: one object shape for every edge.
  return {
    from: g.from,
    to: g.to,
    protocol: r.protocol,
    port: r.port,
    flows: c.flows,
    connections: c.connections,
    forwarded: c.forwarded,
    dropped: c.dropped,
    audit: c.audit,
    redirected: c.redirected,
    errors: c.errors,
    firstSeenMs: r.firstSeenMs,
    lastSeenMs: r.lastSeenMs,
    hoursSeen,
    dropReasons: r.dropReasons,
    dnsNames: sets.dnsNames.values,
    httpRequests: sets.httpRequests.values,
    l7Protocols: sets.l7Protocols.values,
    ips: sortedOf(g.ips),
    sharedIpWith: sortedOf(g.shared),
    allowedBy: sets.allowedBy.values,
    deniedBy: sets.deniedBy.values,
    services: sets.services.values,
    srcPods: sets.srcPods.values,
    dstPods: sets.dstPods.values,
    srcReserved: sets.srcReserved.values,
    dstReserved: sets.dstReserved.values,
    sides: r.sides,
  };
}
