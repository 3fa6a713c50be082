import { type Endpoint, type Flow, ownCopy } from '../flow/index.js';
import { type EdgeAcc, addEvidence, countFlow, newEdge, normaliseName, toRecord } from './edge-acc.js';
import { edgeKey } from './edge-key.js';
import type { ClusterIpRecord, DnsAnswer, EdgeProtocol, EdgeRecord, NamespaceRecord, WorkloadRecord } from './model.js';
import { mergeNamespaceRecords } from './merge.js';
import { type Resolved, PeerCache } from './peer-cache.js';

/** Why a flow made no edge; counted so `status` can show what was left out. */
export type SkipReason = 'reply' | 'related' | 'translation' | 'no-port' | 'unidentified';

/** Everything one batch of flows adds to the graph; `EdgeStore.write` merges it into the database. */
export interface GraphDelta {
  /** By edge key (`edgeKey(from, to, protocol, port)` over raw peer keys). */
  readonly edges: ReadonlyMap<string, EdgeRecord>;
  /** By raw workload key. */
  readonly workloads: ReadonlyMap<string, WorkloadRecord>;
  readonly dnsAnswers: readonly DnsAnswer[];
  readonly skipped: Readonly<Partial<Record<SkipReason, number>>>;
  /** By namespace: its labels as the newest identity of the batch carried them. */
  readonly namespaces?: ReadonlyMap<string, NamespaceRecord>;
  /** Addresses seen with a cluster identity, by `<ip> <raw peer key>`. */
  readonly clusterIps?: ReadonlyMap<string, ClusterIpRecord>;
}

interface ClusterIpSlot {
  flows: number;
  first: number;
  last: number;
}


/** One namespace label set and the newest flow that carried it (the maximum, so batch cuts never change it). */
interface NamespaceSlot {
  readonly namespace: string;
  readonly labels: readonly string[];
  lastMs: number;
}

interface WorkloadAcc {
  readonly resolved: Resolved;
  readonly hints: Set<string>;
  readonly labelSets: Map<string, readonly string[]>;
  /**
   * Identities whose labels are already in `labelSets` (an identity is one label set), each with
   * its namespace-label slot (undefined when its labels say nothing about the namespace).
   */
  readonly identities: Map<number, NamespaceSlot | undefined>;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** The namespace's own labels, repeated on every pod of it: kept once per namespace, not per label set. */
const NAMESPACE_LABELS = 'k8s:io.cilium.k8s.namespace.labels.';

const PROTOCOL_INDEX: Readonly<Record<EdgeProtocol, number>> = { TCP: 0, UDP: 1, SCTP: 2, ICMPv4: 3, ICMPv6: 4 };

/** One number for a protocol and port (or ICMP type). */
function protocolPort(protocol: EdgeProtocol, port: number): number {
  return PROTOCOL_INDEX[protocol] * 65536 + port;
}

/**
 * Folds flows into per-batch deltas: edges, the workloads and label sets seen, and DNS answers.
 * Pure and in memory; `take()` hands over the batch and starts the next. Replies (and ICMP errors)
 * never create edges, but DNS responses still teach which names resolved to which IPs.
 *
 * Hot path (~1 µs per flow): endpoints resolve to canonical peer objects (PeerCache), and edges
 * sit in maps keyed by those objects and a protocol/port number, so no key string is built per flow.
 */
export class EdgeAggregator {
  readonly #peers: PeerCache;
  /**
   * By source, then destination: the one edge of the pair, or (once a second protocol or port
   * comes) a map of them by protocol and port. Most pairs have one edge, and a map per pair cost
   * ~150 bytes more for each of ~17,000 edges a batch holds at 3,000 workloads.
   */
  #edges = new Map<Resolved, Map<Resolved, EdgeAcc | Map<number, EdgeAcc>>>();
  #edgeCount = 0;
  #clusterIpCount = 0;
  /** Characters of text the open batch keeps (set values, label sets, addresses, DNS names). */
  #keptChars = 0;
  #workloads = new Map<Resolved, WorkloadAcc>();
  #answers = new Map<string, { client: string; query: string; ip: string; first: number; last: number; n: number }>();
  #skipped: Partial<Record<SkipReason, number>> = {};
  #namespaceSlots = new Map<string, NamespaceSlot>();
  /** Cluster peer → address → counts: keyed by the canonical peer object, so no string is built per flow. */
  #clusterIps = new Map<Resolved, Map<string, ClusterIpSlot>>();
  /**
   * Distinct edges since the aggregator was created (for progress lines), counted as bits set by a
   * hash of their keys (linear counting): fixed memory however many edges come (a set of their
   * hashes grew with them, ~25 bytes each), and a progress count can afford a small error.
   */
  readonly #seen = new Uint32Array(SEEN_BITS / 32);
  #seenBits = 0;

  /** `peerCacheMax`: canonical peers kept between batches (graph/peer-cache.ts MAX_CANONICAL). */
  constructor(options: { readonly peerCacheMax?: number } = {}) {
    this.#peers = new PeerCache(options.peerCacheMax);
  }

  /** Entries of the open batch that grow with the cluster: edges and (address, peer) pairs. */
  get size(): number {
    return this.#edgeCount + this.#clusterIpCount;
  }

  /**
   * Characters of text the open batch keeps: what is not counted here is not kept, so a batch of
   * flows whose lines are long but repeat what is known holds little.
   */
  get keptChars(): number {
    return this.#keptChars;
  }

  /** Distinct raw edges seen since this aggregator started. */
  get edgeCount(): number {
    const clear = SEEN_BITS - this.#seenBits;
    return clear === 0 ? Infinity : Math.round(-SEEN_BITS * Math.log(clear / SEEN_BITS));
  }

  add(flow: Flow): void {
    if (flow.type === 'SOCK' || flow.verdict === 'TRANSLATED' || flow.verdict === 'TRACED') return this.#skip('translation');
    const src = this.#endpoint(flow.source, flow.ip?.source, flow.timeMs);
    const dst = this.#endpoint(flow.destination, flow.ip?.destination, flow.timeMs);
    // Replies too: a pod's or node's address in any flow says it is a cluster endpoint.
    const ip = flow.ip;
    if (ip !== undefined) {
      if (src !== undefined && ip.source) this.#clusterIp(src, ip.source, flow.timeMs);
      if (dst !== undefined && ip.destination) this.#clusterIp(dst, ip.destination, flow.timeMs);
    }
    const l7 = flow.l7;
    if (l7 !== undefined && l7.type === 'RESPONSE' && l7.dns !== undefined && dst !== undefined) this.#dnsAnswer(flow, dst.key);
    const direction = requestDirection(flow);
    if (direction !== 'request') return this.#skip(direction);
    const l4 = flow.l4;
    if (l4 === undefined) return this.#skip('no-port');
    let port: number;
    switch (l4.protocol) {
      case 'TCP':
      case 'UDP':
      case 'SCTP':
        port = l4.destinationPort;
        break;
      case 'ICMPv4':
      case 'ICMPv6':
        port = l4.icmpType;
        break;
      default:
        return this.#skip('no-port');
    }
    if (src === undefined || dst === undefined) return this.#skip('unidentified');
    let bySrc = this.#edges.get(src);
    if (bySrc === undefined) this.#edges.set(src, (bySrc = new Map()));
    const byDst = bySrc.get(dst);
    let e: EdgeAcc | undefined;
    if (byDst instanceof Map) e = byDst.get(protocolPort(l4.protocol, port));
    else if (byDst !== undefined && byDst.port === port && byDst.protocol === l4.protocol) e = byDst;
    if (e === undefined) {
      e = newEdge(src, dst, l4.protocol, port, flow.timeMs);
      if (byDst === undefined) bySrc.set(dst, e);
      else if (byDst instanceof Map) byDst.set(protocolPort(l4.protocol, port), e);
      // Set again, the pair keeps its place: edges are handed over in the order they came.
      else bySrc.set(dst, new Map([[protocolPort(byDst.protocol, byDst.port), byDst], [protocolPort(l4.protocol, port), e]]));
      this.#edgeCount++;
      const bit = hash32(edgeKey(src.key, dst.key, l4.protocol, port)) & (SEEN_BITS - 1);
      const word = this.#seen[bit >>> 5] as number;
      if ((word & (1 << (bit & 31))) === 0) {
        this.#seen[bit >>> 5] = word | (1 << (bit & 31));
        this.#seenBits++;
      }
    }
    countFlow(e, flow);
    this.#keptChars += addEvidence(e, flow);
  }

  /** Hands over the open batch and starts a new one. */
  take(): GraphDelta {
    const edges = new Map<string, EdgeRecord>();
    for (const bySrc of this.#edges.values()) {
      for (const byDst of bySrc.values()) {
        if (byDst instanceof Map) for (const e of byDst.values()) edges.set(edgeKey(e.from.key, e.to.key, e.protocol, e.port), toRecord(e));
        else edges.set(edgeKey(byDst.from.key, byDst.to.key, byDst.protocol, byDst.port), toRecord(byDst));
      }
    }
    const workloads = new Map<string, WorkloadRecord>();
    for (const w of this.#workloads.values()) {
      const p = w.resolved.peer;
      if (p.kind !== 'workload') continue;
      workloads.set(w.resolved.key, {
        key: w.resolved.key,
        namespace: p.namespace,
        kind: p.workloadKind,
        name: p.name,
        kindHints: [...w.hints].sort(),
        labelSets: [...w.labelSets.keys()].sort().map((s) => w.labelSets.get(s) as readonly string[]),
        firstSeenMs: w.firstSeenMs,
        lastSeenMs: w.lastSeenMs,
      });
    }
    const dnsAnswers = [...this.#answers.values()].map((a) => ({
      client: a.client,
      query: a.query,
      ip: a.ip,
      firstSeenMs: a.first,
      lastSeenMs: a.last,
      responses: a.n,
    }));
    const namespaces = new Map<string, NamespaceRecord>();
    for (const slot of this.#namespaceSlots.values()) {
      const next: NamespaceRecord = { namespace: slot.namespace, labels: slot.labels, seenMs: slot.lastMs };
      const known = namespaces.get(slot.namespace);
      namespaces.set(slot.namespace, known === undefined ? next : mergeNamespaceRecords(known, next));
    }
    const clusterIps = new Map<string, ClusterIpRecord>();
    for (const [peer, byIp] of this.#clusterIps) {
      for (const [ip, c] of byIp) clusterIps.set(`${ip} ${peer.key}`, { ip, peer: peer.key, flows: c.flows, firstSeenMs: c.first, lastSeenMs: c.last });
    }
    const delta: GraphDelta = { edges, workloads, dnsAnswers, skipped: this.#skipped, namespaces, clusterIps };
    this.#clusterIps = new Map();
    this.#namespaceSlots = new Map();
    this.#edges = new Map();
    this.#edgeCount = 0;
    this.#clusterIpCount = 0;
    this.#keptChars = 0;
    this.#workloads = new Map();
    this.#answers = new Map();
    this.#skipped = {};
    this.#peers.trim();
    return delta;
  }

  #clusterIp(r: Resolved, ip: string, timeMs: number): void {
    const p = r.peer;
    if (p.kind === 'world-ip' || (p.kind === 'entity' && (p.entity === 'world' || p.entity === 'encrypted-overlay'))) return;
    let byIp = this.#clusterIps.get(r);
    if (byIp === undefined) this.#clusterIps.set(r, (byIp = new Map()));
    const c = byIp.get(ip);
    if (c === undefined) {
      byIp.set(ownCopy(ip), { flows: 1, first: timeMs, last: timeMs });
      this.#clusterIpCount++;
      this.#keptChars += ip.length;
    } else {
      c.flows++;
      if (timeMs < c.first) c.first = timeMs;
      if (timeMs > c.last) c.last = timeMs;
    }
  }

  #skip(reason: SkipReason): void {
    this.#skipped[reason] = (this.#skipped[reason] ?? 0) + 1;
  }

  #endpoint(ep: Endpoint, ip: string | undefined, timeMs: number): Resolved | undefined {
    const r = this.#peers.resolve(ep, ip);
    if (r === undefined || r.peer.kind !== 'workload') return r;
    const hint = this.#peers.lastHint;
    let acc = this.#workloads.get(r);
    if (acc === undefined) {
      acc = { resolved: r, hints: new Set(), labelSets: new Map(), identities: new Map(), firstSeenMs: timeMs, lastSeenMs: timeMs };
      this.#workloads.set(r, acc);
    } else {
      if (timeMs < acc.firstSeenMs) acc.firstSeenMs = timeMs;
      if (timeMs > acc.lastSeenMs) acc.lastSeenMs = timeMs;
    }
    if (hint !== undefined) acc.hints.add(hint);
    const id = ep.identity;
    if (ep.labels.length > 0) {
      if (id !== undefined && acc.identities.has(id)) {
        const slot = acc.identities.get(id);
        if (slot !== undefined && timeMs > slot.lastMs) slot.lastMs = timeMs;
      } else {
        const facts = labelFacts(ep.labels);
        if (facts.pod.length > 0 && !acc.labelSets.has(facts.podText)) {
          acc.labelSets.set(facts.podText, facts.pod);
          this.#keptChars += 2 * facts.podText.length;
        }
        const slot = facts.namespace === undefined ? undefined : this.#namespaceSlot(r.peer.namespace, facts.namespace, facts.namespaceText, timeMs);
        if (id !== undefined) acc.identities.set(id, slot);
      }
    }
    return r;
  }

  /** Read once per new identity (an identity's namespace labels never change: new labels, new identity). */
  #namespaceSlot(namespace: string, set: readonly string[], setText: string, timeMs: number): NamespaceSlot {
    const key = `${namespace}\n${setText}`;
    let slot = this.#namespaceSlots.get(key);
    if (slot === undefined) {
      this.#namespaceSlots.set(key, (slot = { namespace, labels: set, lastMs: timeMs }));
      this.#keptChars += 2 * key.length;
    }
    else if (timeMs > slot.lastMs) slot.lastMs = timeMs;
    return slot;
  }

  #dnsAnswer(flow: Flow, client: string): void {
    const dns = flow.l7?.dns;
    if (dns === undefined || dns.ips.length === 0) return;
    const query = normaliseName(dns.query);
    if (query === '') return;
    for (const ip of dns.ips) {
      const k = `${client}|${query}|${ip}`;
      const a = this.#answers.get(k);
      if (a === undefined) {
        this.#answers.set(k, { client, query, ip, first: flow.timeMs, last: flow.timeMs, n: 1 });
        this.#keptChars += 2 * k.length;
      } else {
        a.n++;
        if (flow.timeMs < a.first) a.first = flow.timeMs;
        if (flow.timeMs > a.last) a.last = flow.timeMs;
      }
    }
  }
}

/** Bits counting distinct edges: within 0.1% up to ~300,000 edges, within 1% up to ~2.5 million. */
const SEEN_BITS = 1 << 23;

/** FNV-1a. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** What a label list says of its pod identity and namespace (`labelFacts`). */
interface LabelFacts {
  /** `podLabelSet`, and its values joined by newlines (the key a workload's label sets are told apart by). */
  readonly pod: readonly string[];
  readonly podText: string;
  /** `namespaceLabelSet`, undefined when the labels say nothing about the namespace (masked away). */
  readonly namespace: readonly string[] | undefined;
  readonly namespaceText: string;
}

/**
 * By label list: the decoders hand out one frozen list per identity (flow/label-lists.ts), and each
 * batch used to slice, sort and join it again for every workload it saw (~2,800 a batch at 3,000
 * workloads: a tenth of what observe allocated). Weak: a list lives only as long as its holders.
 */
const factsByList = new WeakMap<readonly string[], LabelFacts>();
let labelFactsMade = 0;

/** The facts of `labels`, worked out once per frozen list (a list that may still change is read each time). */
function labelFacts(labels: readonly string[]): LabelFacts {
  const frozen = Object.isFrozen(labels);
  if (frozen) {
    const known = factsByList.get(labels);
    if (known !== undefined) return known;
  }
  labelFactsMade++;
  const pod = Object.freeze(podLabelSet(labels));
  const ns = namespaceLabelSet(labels);
  // Endpoints whose labels were masked away say nothing about their namespace.
  const saysNothing = ns.length === 0 && !labels.some((l) => l.startsWith('k8s:io.kubernetes.pod.namespace='));
  const facts: LabelFacts = {
    pod,
    podText: pod.join('\n'),
    namespace: saysNothing ? undefined : Object.freeze(ns),
    namespaceText: ns.join('\n'),
  };
  if (frozen) factsByList.set(labels, facts);
  return facts;
}

/** Label lists whose facts were worked out so far (tests count them). */
export function labelFactsCount(): number {
  return labelFactsMade;
}

/** `k8s:` labels without the prefix, namespace labels left out, sorted: one pod identity. */
export function podLabelSet(labels: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of labels) if (l.startsWith('k8s:') && !l.startsWith(NAMESPACE_LABELS)) out.push(l.slice(4));
  return out.sort();
}

/** `k8s:io.cilium.k8s.namespace.labels.<key>=<value>` labels as `key=value`, sorted. */
export function namespaceLabelSet(labels: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of labels) if (l.startsWith(NAMESPACE_LABELS)) out.push(l.slice(NAMESPACE_LABELS.length));
  return out.sort();
}

/**
 * Whether a flow travels in the request direction (hubble-api.md §2.4). `is_reply` true, trace
 * reason REPLY, L7 responses, TCP SYN+ACK and ICMP echo replies are replies; ICMP errors and
 * conntrack RELATED traffic are `related`. An unknown `is_reply` on a drop counts as a request; on
 * other events a flow from a port below 32768 to one at or above it (the ephemeral range) is a reply.
 */
export function requestDirection(flow: Flow): 'request' | 'reply' | 'related' {
  if (flow.isReply === true || flow.traceReason === 'REPLY') return 'reply';
  if (flow.traceReason === 'RELATED') return 'related';
  if (flow.l7 !== undefined && flow.l7.type === 'RESPONSE') return 'reply';
  const l4 = flow.l4;
  if (l4 === undefined) return 'request';
  if (l4.protocol === 'TCP' && l4.flags?.SYN === true) return l4.flags.ACK === true ? 'reply' : 'request';
  if (l4.protocol === 'TCP' || l4.protocol === 'UDP' || l4.protocol === 'SCTP') {
    // Old agents leave is_reply unset on some trace points (to-overlay, to-stack). For a forwarded
    // event, a flow from a port below Linux's ephemeral range to one inside it is a reply.
    return flow.isReply === undefined && flow.verdict !== 'DROPPED' && l4.sourcePort < EPHEMERAL_MIN && l4.destinationPort >= EPHEMERAL_MIN
      ? 'reply'
      : 'request';
  }
  if (l4.protocol === 'ICMPv4') return l4.icmpType === 0 ? 'reply' : ICMP4_ERRORS.has(l4.icmpType) ? 'related' : 'request';
  if (l4.protocol === 'ICMPv6') return l4.icmpType === 129 ? 'reply' : l4.icmpType >= 1 && l4.icmpType <= 4 ? 'related' : 'request';
  return 'request';
}

/** Start of Linux's default ephemeral port range (net.ipv4.ip_local_port_range). */
const EPHEMERAL_MIN = 32768;

/** Destination unreachable, source quench, redirect, time exceeded, parameter problem. */
const ICMP4_ERRORS: ReadonlySet<number> = new Set([3, 4, 5, 11, 12]);


export { normaliseName };
