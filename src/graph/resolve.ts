import { normaliseName } from './aggregate.js';
import { peerKey, rawPeerKey } from './edge-key.js';
import { hostRoute } from '../net/cidr.js';
import { knownRangesOf } from './ip-ranges.js';
import { compareStrings, mergeEdgeRecords } from './merge.js';
import { type CappedSet, type DnsAnswer, type Edge, type EdgeProtocol, type EdgeRecord, type Peer, type RawPeer } from './model.js';
import type { ResolvedWorkloads } from './resolve-workloads.js';
import { type ClusterIps, type ClusterIpVerdict, NO_CLUSTER_IPS, type SeenWindow } from './cluster-ips.js';

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

export function indexAnswers(answers: readonly DnsAnswer[], workloads: Pick<ResolvedWorkloads, 'byRawKey'>): AnswerIndex {
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

function finalKey(rawKey: string, workloads: Pick<ResolvedWorkloads, 'byRawKey'>): string {
  const w = workloads.byRawKey.get(rawKey);
  return w ? peerKey(w) : rawKey;
}

/** A raw peer as readers see it (world addresses as host CIDRs; see `resolveEnds` for cluster ones). */
export function resolveEnd(p: RawPeer, workloads: Pick<ResolvedWorkloads, 'byRawKey'>): Peer {
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

interface Target {
  readonly to: Peer;
  readonly sharedIpWith: readonly string[];
}

const NO_STRINGS: readonly string[] = [];

/**
 * One read's resolution of ends. Raw peers repeat on thousands of rows (a store hands over one
 * object per key) and world addresses on several, so each is resolved, parsed and keyed once;
 * the peers are shared, read-only, by every edge that names them.
 */
interface Ends {
  readonly workloads: Pick<ResolvedWorkloads, 'byRawKey'>;
  readonly answers: AnswerIndex;
  readonly cluster: ClusterIps;
  /** `[resolveEnd(p)]`, one list per raw peer. */
  plain(p: RawPeer): readonly Peer[];
  /** The peer of an unclassified world address (`cidrPeer`), one per address. */
  cidr(ip: string): Peer;
  /** The FQDN peer of a name, one per name. */
  fqdn(name: string): Peer;
  /** An unidentified cluster endpoint's CIDR peer, one per verdict. */
  unidentified(ip: string, v: Extract<ClusterIpVerdict, { kind: 'unidentified' }>): readonly Peer[];
  key(p: Peer): string;
  /** A number per distinct key (peers with one key, one number), counting from 0 in order of first use. */
  index(p: Peer): number;
  /** The key of each `index`. */
  readonly keys: readonly string[];
  /** Targets without shared names, one list per list of peers. */
  targets(peers: readonly Peer[]): readonly Target[];
}

function endsOf(workloads: Pick<ResolvedWorkloads, 'byRawKey'>, answers: AnswerIndex, cluster: ClusterIps): Ends {
  const plain = new Map<RawPeer, readonly Peer[]>();
  const cidrs = new Map<string, Peer>();
  const fqdns = new Map<string, Peer>();
  const unidentified = new Map<ClusterIpVerdict, readonly Peer[]>();
  const keys = new Map<Peer, string>();
  const indexes = new Map<Peer, number>();
  const indexOfKey = new Map<string, number>();
  const keyOfIndex: string[] = [];
  const targets = new Map<readonly Peer[], readonly Target[]>();
  const cidr = (ip: string): Peer => {
    let c = cidrs.get(ip);
    if (c === undefined) cidrs.set(ip, (c = cidrPeer(ip)));
    return c;
  };
  const key = (p: Peer): string => {
    let k = keys.get(p);
    if (k === undefined) keys.set(p, (k = peerKey(p)));
    return k;
  };
  return {
    workloads,
    answers,
    cluster,
    plain(p) {
      let l = plain.get(p);
      if (l === undefined) plain.set(p, (l = [p.kind === 'world-ip' ? cidr(p.ip) : resolveEnd(p, workloads)]));
      return l;
    },
    cidr,
    fqdn(name) {
      let f = fqdns.get(name);
      if (f === undefined) fqdns.set(name, (f = { kind: 'fqdn', fqdn: name }));
      return f;
    },
    unidentified(ip, v) {
      let l = unidentified.get(v);
      if (l === undefined) {
        const c = cidr(ip);
        unidentified.set(v, (l = [c.kind === 'cidr' ? { ...c, clusterEndpoint: { reason: v.reason, suggest: v.suggest } } : c]));
      }
      return l;
    },
    key,
    index(p) {
      let i = indexes.get(p);
      if (i === undefined) {
        const k = key(p);
        i = indexOfKey.get(k);
        if (i === undefined) {
          indexOfKey.set(k, (i = keyOfIndex.length));
          keyOfIndex.push(k);
        }
        indexes.set(p, i);
      }
      return i;
    },
    keys: keyOfIndex,
    targets(peers) {
      let t = targets.get(peers);
      if (t === undefined) targets.set(peers, (t = peers.map((p) => ({ to: p, sharedIpWith: NO_STRINGS }))));
      return t;
    },
  };
}

/**
 * The resolved peers of one end. A world address that the flows show as a cluster endpoint is
 * that endpoint (`peers`), or a CIDR peer marked `clusterEndpoint` that no rule may use.
 */
function resolveEnds(p: RawPeer, side: 'from' | 'to', ends: Ends, when: SeenWindow): readonly Peer[] {
  if (p.kind === 'world-ip') {
    const v = ends.cluster.classify(p.ip, side, when);
    if (v?.kind === 'peers') return v.peers;
    if (v?.kind === 'unidentified') return ends.unidentified(p.ip, v);
  }
  return ends.plain(p);
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

/** A world address as a host CIDR with the known ranges enclosing it; `world` when it is no address. */
export function cidrPeer(ip: string): Peer {
  const host = hostRoute(ip);
  if (host === undefined) return { kind: 'entity', entity: 'world' };
  const enclosing = knownRangesOf(host.address);
  return enclosing.length > 0 ? { kind: 'cidr', cidr: host.cidr, enclosing } : { kind: 'cidr', cidr: host.cidr };
}

/**
 * Where a world destination resolves: the FQDNs the same client was answered with for that IP in
 * observed DNS responses, plus Hubble's `destination_names`; one edge per name when several. With
 * no name the IP stays a host CIDR (with the known ranges enclosing it).
 */
function targetsOf(to: RawPeer, destinationNames: readonly string[], from: Peer, ends: Ends, when: SeenWindow): readonly Target[] {
  if (to.kind !== 'world-ip') return ends.targets(ends.plain(to));
  // A cluster endpoint before any DNS name: toFQDNs, like toCIDR, never matches a pod or a node.
  if (ends.cluster.classify(to.ip, 'to', when) !== undefined) return ends.targets(resolveEnds(to, 'to', ends, when));
  const fromAnswers = ends.answers.get(ends.key(from))?.get(to.ip);
  if (destinationNames.length === 0 && fromAnswers === undefined) return ends.targets(ends.plain(to));
  const names = new Set(destinationNames);
  if (fromAnswers) for (const n of fromAnswers) names.add(n);
  if (names.size === 0) return ends.targets(ends.plain(to));
  const all = [...names].sort(compareStrings);
  return all.map((fqdn) => ({ to: ends.fqdn(fqdn), sharedIpWith: all.length === 1 ? NO_STRINGS : all.filter((n) => n !== fqdn) }));
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
export function resolveOutlines(rows: Iterable<EdgeOutline>, workloads: Pick<ResolvedWorkloads, 'byRawKey'>, answers: AnswerIndex, cluster: ClusterIps = NO_CLUSTER_IPS): ResolvedOutline[] {
  const groups = new Map<string, { from: Peer; to: Peer; firstSeenMs: number; lastSeenMs: number }>();
  const ends = endsOf(workloads, answers, cluster);
  for (const r of rows) {
    for (const from of resolveEnds(r.from, 'from', ends, r)) {
      const fromKey = ends.key(from);
      for (const t of targetsOf(r.to, r.destinationNames, from, ends, r)) {
        const key = `${fromKey}|${ends.key(t.to)}|${r.protocol}|${r.port}`;
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

interface Group {
  readonly from: Peer;
  readonly to: Peer;
  /** The first row's id and hours; `ids` only once a second row joins. */
  readonly id: number;
  ids: number[] | undefined;
  record: EdgeRecord;
  hoursSeen: number;
  /** World addresses: the first alone, a set once a second joins (most world edges have one). */
  ips: string | Set<string> | undefined;
  shared: Set<string> | undefined;
}

/** What a resolved edge gathered beyond its first row, once a second row resolves to it (rare). */
interface Merged {
  record: EdgeRecord;
  readonly ids: number[];
  readonly ips: Set<string>;
  readonly shared: Set<string>;
}

/**
 * Turns stored rows into resolved edges: workloads through `workloads`, world IPs into FQDNs or
 * CIDRs, then merges rows that resolve to the same (from, to, protocol, port). Sorted by key.
 * Rows are read once, in order, and none is kept: a store may hand them over as it reads them.
 *
 * Each key's edge is made from its first row at once, so that row's record dies young (kept, a
 * read of 60,000 rows held every record, set and group until the end, and collecting them cost
 * more than making them). Few rows share a key (~400 of 68,000 on a 3,000-workload cluster):
 * when one does, the edge so far is turned back into a record (its lists are the record's
 * values; the fields an edge leaves out are never read) and merged as `resolveEdgesPlain` merges.
 */
export function resolveEdges(rows: Iterable<StoredEdge>, workloads: Pick<ResolvedWorkloads, 'byRawKey'>, answers: AnswerIndex, hoursOf: HoursOf, cluster: ClusterIps = NO_CLUSTER_IPS): Edge[] {
  // An edge's key is its ends' and protocol's numbers and its port (`groupKey`), looked up in
  // its source's map: a key string per row cost a string, its hash and, for every edge, a string
  // kept until the sort (`keyOrder` sorts by the numbers instead).
  const bySource: (Map<number | string, number> | undefined)[] = [];
  const protocols = new Map<EdgeProtocol, number>();
  const edges: Edge[] = [];
  // Per edge: its first row's id, and its ends' and protocol's numbers.
  const firstIds: number[] = [];
  const sources: number[] = [];
  const destinations: number[] = [];
  const protocolOf: number[] = [];
  const merged = new Map<number, Merged>();
  const ends = endsOf(workloads, answers, cluster);
  for (const row of rows) {
    const record = row.record;
    let protocol = protocols.get(record.protocol);
    if (protocol === undefined) protocols.set(record.protocol, (protocol = protocols.size));
    for (const from of resolveEnds(record.from, 'from', ends, record)) {
      const source = ends.index(from);
      const byKey = (bySource[source] ??= new Map());
      for (const t of targetsOf(record.to, record.sets.destinationNames.values, from, ends, record)) {
        const r = asClusterRow(record, from, t.to);
        const destination = ends.index(t.to);
        const key = groupKey(destination, protocol, r.port);
        const toIp = r.to.kind === 'world-ip' && !mapped(r.to, t.to) ? r.to.ip : undefined;
        const fromIp = r.from.kind === 'world-ip' && !mapped(r.from, from) ? r.from.ip : undefined;
        const i = byKey.get(key);
        if (i === undefined) {
          byKey.set(key, edges.length);
          firstIds.push(row.id);
          sources.push(source);
          destinations.push(destination);
          protocolOf.push(protocol);
          edges.push(edgeOf(from, t.to, r, row.hoursSeen, ipsOf(toIp, fromIp), t.sharedIpWith));
          continue;
        }
        let m = merged.get(i);
        if (m === undefined) {
          const first = edges[i] as Edge;
          m = { record: recordOf(first, r), ids: [firstIds[i] as number], ips: new Set(first.ips), shared: new Set(first.sharedIpWith) };
          merged.set(i, m);
        }
        m.record = mergeEdgeRecords(m.record, r);
        m.ids.push(row.id);
        if (toIp !== undefined) m.ips.add(toIp);
        if (fromIp !== undefined) m.ips.add(fromIp);
        for (const n of t.sharedIpWith) m.shared.add(n);
      }
    }
  }
  for (const [i, m] of merged) {
    const first = edges[i] as Edge;
    edges[i] = edgeOf(first.from, first.to, m.record, hoursOf(m.ids), sortedOf(m.ips), sortedOf(m.shared));
  }
  const order = keyOrder(edges, ends.keys, [...protocols.keys()], sources, destinations, protocolOf);
  const out: Edge[] = new Array<Edge>(order.length);
  for (let k = 0; k < order.length; k++) out[k] = edges[order[k] as number] as Edge;
  return out;
}

/**
 * An edge's key within its source's map: a number for a port of 16 bits (every TCP and UDP port
 * and ICMP type) and one of 32 protocols, else a string. Numbers and strings never equal.
 */
const groupKey = (destination: number, protocol: number, port: number): number | string =>
  Number.isInteger(port) && port >= 0 && port <= 0xffff && protocol < 32 ? (destination * 32 + protocol) * 0x10000 + port : `${destination}|${protocol}|${port}`;

/**
 * The positions of `edges` in the order of their key strings `from|to|protocol|port`, as
 * `resolveEdgesPlain` sorts them, without making those strings. No part of a key holds `|` (peer
 * keys encode it, protocols are names), so two keys compare as their first differing part does,
 * each part compared with its `|` appended (`a|` sorts after `a-b|`), the port as text (`443`
 * before `80`). Each distinct part is ranked once; the edges are sorted by their parts' ranks.
 */
function keyOrder(edges: readonly Edge[], peerKeys: readonly string[], protocolNames: readonly string[], sources: readonly number[], destinations: readonly number[], protocolOf: readonly number[]): number[] {
  const peerRank = ranksOf(peerKeys.map((k) => `${k}|`));
  const protocolRank = ranksOf(protocolNames.map((p) => `${p}|`));
  const portTexts = [...new Set(edges.map((e) => e.port))];
  const portRankOf = new Map<number, number>();
  const portRanks = ranksOf(portTexts.map(String));
  portTexts.forEach((p, i) => portRankOf.set(p, portRanks[i] as number));
  const peers = peerKeys.length;
  const ports = portTexts.length;
  const ends = new Float64Array(edges.length);
  const rest = new Float64Array(edges.length);
  for (let i = 0; i < edges.length; i++) {
    ends[i] = (peerRank[sources[i] as number] as number) * peers + (peerRank[destinations[i] as number] as number);
    rest[i] = (protocolRank[protocolOf[i] as number] as number) * ports + (portRankOf.get((edges[i] as Edge).port) as number);
  }
  const order = Array.from({ length: edges.length }, (_, i) => i);
  return order.sort((a, b) => (ends[a] as number) - (ends[b] as number) || (rest[a] as number) - (rest[b] as number));
}

/** Each string's rank in code-unit order (the strings are distinct). */
function ranksOf(strings: readonly string[]): number[] {
  const byText = strings.map((_, i) => i).sort((a, b) => compareStrings(strings[a] as string, strings[b] as string));
  const ranks = new Array<number>(strings.length);
  byText.forEach((i, rank) => (ranks[i] = rank));
  return ranks;
}

/** A row's world addresses (`to`, then `from`), as a one-row edge lists them. */
function ipsOf(toIp: string | undefined, fromIp: string | undefined): readonly string[] {
  if (toIp === undefined) return fromIp === undefined ? NO_STRINGS : [fromIp];
  if (fromIp === undefined || fromIp === toIp) return [toIp];
  return toIp < fromIp ? [toIp, fromIp] : [fromIp, toIp];
}

const valuesOf = (values: readonly string[] | undefined): CappedSet => ({ values: values ?? NO_STRINGS, truncated: false });

/**
 * An edge as the record it was made of, for a merge: the edge's lists are the record's values.
 * Raw ends, destination names, hours, L7 request count and the truncated flags are no part of an
 * edge and are never read once a row is resolved: they are `r`'s, or empty.
 */
function recordOf(e: Edge, r: EdgeRecord): EdgeRecord {
  return {
    from: r.from,
    to: r.to,
    protocol: e.protocol,
    port: e.port,
    sides: e.sides,
    l7Requests: 0,
    firstSeenMs: e.firstSeenMs,
    lastSeenMs: e.lastSeenMs,
    hours: NO_HOURS,
    dropReasons: e.dropReasons,
    sets: {
      dnsNames: valuesOf(e.dnsNames),
      httpRequests: valuesOf(e.httpRequests),
      destinationNames: valuesOf(undefined),
      l7Protocols: valuesOf(e.l7Protocols),
      allowedBy: valuesOf(e.allowedBy),
      deniedBy: valuesOf(e.deniedBy),
      services: valuesOf(e.services),
      srcPods: valuesOf(e.srcPods),
      dstPods: valuesOf(e.dstPods),
      srcReserved: valuesOf(e.srcReserved),
      dstReserved: valuesOf(e.dstReserved),
    },
  };
}
const NO_HOURS: readonly number[] = [];

/**
 * `resolveEdges` the plain way: every row's record kept in its group and merged with the next,
 * edges made at the end. The reference the direct path is tested against.
 */
export function resolveEdgesPlain(rows: Iterable<StoredEdge>, workloads: Pick<ResolvedWorkloads, 'byRawKey'>, answers: AnswerIndex, hoursOf: HoursOf, cluster: ClusterIps = NO_CLUSTER_IPS): Edge[] {
  const groups = new Map<string, Group>();
  const ends = endsOf(workloads, answers, cluster);
  for (const row of rows) {
    const record = row.record;
    for (const from of resolveEnds(record.from, 'from', ends, record)) {
      const fromKey = ends.key(from);
      for (const t of targetsOf(record.to, record.sets.destinationNames.values, from, ends, record)) {
        const r = asClusterRow(record, from, t.to);
        const key = `${fromKey}|${ends.key(t.to)}|${r.protocol}|${r.port}`;
        let g = groups.get(key);
        if (g === undefined) {
          groups.set(key, (g = { from, to: t.to, id: row.id, ids: undefined, record: r, hoursSeen: row.hoursSeen, ips: undefined, shared: undefined }));
        } else {
          g.record = mergeEdgeRecords(g.record, r);
          (g.ids ??= [g.id]).push(row.id);
        }
        if (r.to.kind === 'world-ip' && !mapped(r.to, t.to)) g.ips = withIp(g.ips, r.to.ip);
        if (r.from.kind === 'world-ip' && !mapped(r.from, from)) g.ips = withIp(g.ips, r.from.ip);
        if (t.sharedIpWith.length > 0) {
          const shared = (g.shared ??= new Set());
          for (const n of t.sharedIpWith) shared.add(n);
        }
      }
    }
  }
  const keys = [...groups.keys()].sort();
  const out: Edge[] = [];
  for (const key of keys) {
    const g = groups.get(key) as Group;
    out.push(edgeOf(g.from, g.to, g.record, g.ids === undefined ? g.hoursSeen : hoursOf(g.ids), sortedIps(g.ips), sortedOf(g.shared)));
  }
  return out;
}

const sortedOf = (s: Set<string> | undefined): readonly string[] => (s === undefined ? NO_STRINGS : s.size === 1 ? [...s] : [...s].sort(compareStrings));
const withIp = (ips: Group['ips'], ip: string): Group['ips'] => {
  if (ips === undefined || ips === ip) return ip;
  if (typeof ips === 'string') return new Set([ips, ip]);
  return ips.add(ip);
};
const sortedIps = (ips: Group['ips']): readonly string[] => (typeof ips === 'string' ? [ips] : sortedOf(ips));

/** The record's counters and sets are shared with the edge, not copied: both are read-only. */
function edgeOf(from: Peer, to: Peer, r: EdgeRecord, hoursSeen: number, ips: readonly string[], sharedIpWith: readonly string[]): Edge {
  const sets = r.sets;
  // Fields listed, not spread: one object shape for every edge (the counters' object is short-lived).
  const c = deriveCounters(r.sides);
  return {
    from,
    to,
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
    ips,
    sharedIpWith,
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
