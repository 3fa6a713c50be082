/**
 * A side of a connection as the evaluator sees it: a security identity (label set) plus what
 * offline evaluation needs besides labels (IP for CIDR rules, DNS names for toFQDNs, named ports
 * for `port: http`), and whether Cilium enforces policy on it.
 */
import { parseIp, type IpAddress } from '../../net/cidr.js';
import { hasReserved, parseLabel, type Label } from './labels.js';

export type NamedPortProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface NamedPort {
  readonly port: number;
  readonly protocol: NamedPortProtocol;
}

export interface Peer {
  /** Identity labels as Hubble prints them: `k8s:app=web`, `reserved:world`, `cidr:1.2.3.4/32`. */
  readonly labels: readonly string[];
  /** Numeric identity; reserved numbers (1 host, 2 world, ...) add their `reserved:` label. */
  readonly identity?: number;
  /** Pod namespace; adds `k8s:io.kubernetes.pod.namespace=<ns>` when the labels lack it. */
  readonly namespace?: string;
  readonly ip?: string;
  /** DNS names of this peer (Hubble `destination_names`, or DNS answers supplied by the caller). */
  readonly names?: readonly string[];
  /** Container ports by name (lowercase), used to resolve named ports when this peer receives. */
  readonly namedPorts?: Readonly<Record<string, NamedPort>>;
  /**
   * Whether this is a Cilium-managed endpoint whose policy is enforced. Default: pods (labels
   * carry a pod namespace), health and init endpoints; the host only with the host firewall.
   */
  readonly managed?: boolean;
}

export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const NAMESPACE_LABELS_PREFIX = 'io.cilium.k8s.namespace.labels.';
export const CLUSTER_LABEL = 'io.cilium.k8s.policy.cluster';
/** First identity of the local (CIDR/FQDN) scope, 2^24. */
export const LOCAL_IDENTITY_MIN = 1 << 24;

/** Reserved identities by number (Cilium pkg/identity/numericidentity.go). */
export const RESERVED_BY_NUMBER: Readonly<Record<number, readonly string[]>> = {
  1: ['host'],
  2: ['world'],
  3: ['unmanaged'],
  4: ['health'],
  5: ['init'],
  6: ['remote-node'],
  // The kube-apiserver identity keeps the remote-node label when the apiserver runs on a node.
  7: ['kube-apiserver', 'remote-node'],
  8: ['ingress'],
  9: ['world-ipv4'],
  10: ['world-ipv6'],
};

export interface ResolvedPeer {
  readonly labels: readonly Label[];
  readonly ip?: IpAddress;
  readonly names: readonly string[];
  readonly namedPorts: Readonly<Record<string, NamedPort>>;
  readonly managed: boolean;
  readonly isHost: boolean;
  /** Peers CIDR and FQDN selectors may match: world, CIDR/FQDN identities, unmanaged. */
  readonly outsideCluster: boolean;
  readonly isNode: boolean;
  /**
   * The cluster its identity names (`io.cilium.k8s.policy.cluster`, not a reserved label), found
   * once: every endpoints selector matched against the peer asks for it.
   */
  readonly cluster: string | undefined;
  /** The keys of its reserved labels (`host`, `init`, `world`), for the checks every side makes. */
  readonly reserved: ReadonlySet<string>;
}

const WORLD = ['world', 'world-ipv4', 'world-ipv6'];

const resolved = new WeakMap<Peer, ResolvedPeer>();

/**
 * The evaluator's view of a peer. A peer object (never mutated) is resolved once: `check` judges
 * tens of thousands of edges between a few thousand workloads and passes each workload's peer again.
 */
export function resolvePeer(p: Peer): ResolvedPeer {
  let r = resolved.get(p);
  if (r === undefined) resolved.set(p, (r = resolveOnce(p)));
  return r;
}

function resolveOnce(p: Peer): ResolvedPeer {
  const id = identityOf(p);
  const namedPorts: Record<string, NamedPort> = {};
  for (const [k, v] of Object.entries(p.namedPorts ?? {})) namedPorts[k.toLowerCase()] = v;
  const ip = p.ip === undefined ? undefined : parseIp(p.ip);
  return {
    labels: id.labels,
    ...(ip && { ip }),
    names: (p.names ?? []).map(normaliseName),
    namedPorts,
    managed: p.managed ?? id.managedDefault,
    isHost: id.isHost,
    outsideCluster: id.outsideCluster,
    isNode: id.isNode,
    cluster: id.cluster,
    reserved: id.reserved,
  };
}

/** What a peer's labels, numeric identity and namespace decide: the same for every peer of one identity. */
interface Identity extends Pick<ResolvedPeer, 'labels' | 'isHost' | 'outsideCluster' | 'isNode' | 'cluster' | 'reserved'> {
  readonly managedDefault: boolean;
}

/**
 * Identities by what makes them: `check` resolves a peer per external address (16,000 world
 * peers at 3,000 workloads) but they share a handful of (never mutated) label lists, each parsed
 * once here with the numeric identity and namespace beside it. The resolved labels are shared
 * between those peers and never mutated.
 */
const identities = new WeakMap<Peer['labels'], Map<string, Identity>>();

function identityOf(p: Peer): Identity {
  let byRest = identities.get(p.labels);
  if (byRest === undefined) identities.set(p.labels, (byRest = new Map()));
  const key = `${p.identity ?? ''}|${p.namespace === undefined ? '' : `=${p.namespace}`}`;
  let id = byRest.get(key);
  if (id === undefined) byRest.set(key, (id = identityOnce(p)));
  return id;
}

function identityOnce(p: Peer): Identity {
  const labels = p.labels.map(parseLabel);
  const add = (l: Label): void => {
    if (!labels.some((x) => x.source === l.source && x.key === l.key)) labels.push(l);
  };
  for (const r of RESERVED_BY_NUMBER[p.identity ?? 0] ?? []) add({ source: 'reserved', key: r, value: '' });
  const local = (p.identity ?? 0) >= LOCAL_IDENTITY_MIN || labels.some((l) => l.source === 'cidr' || l.source === 'fqdn');
  if (local && !WORLD.some((w) => hasReserved(labels, w))) add({ source: 'reserved', key: 'world', value: '' });
  if (p.namespace !== undefined) add({ source: 'k8s', key: POD_NAMESPACE_LABEL, value: p.namespace });
  const reserved = reservedSet(labels);
  const isHost = reserved.has('host');
  const isPod = labels.some((l) => l.key === POD_NAMESPACE_LABEL);
  return {
    labels,
    managedDefault: isPod || reserved.has('health') || reserved.has('init'),
    isHost,
    outsideCluster: !isPod && !isHost && (local || WORLD.some((w) => reserved.has(w)) || reserved.has('unmanaged')),
    isNode: isHost || reserved.has('remote-node'),
    cluster: labels.find((l) => l.key === CLUSTER_LABEL && l.source !== 'reserved')?.value,
    reserved,
  };
}

/** One set per combination of reserved labels: tens of thousands of world peers share `{world}`. */
const reservedSets = new Map<string, ReadonlySet<string>>();

function reservedSet(labels: readonly Label[]): ReadonlySet<string> {
  const keys = labels.filter((l) => l.source === 'reserved').map((l) => l.key);
  const id = keys.join('\u0000');
  let set = reservedSets.get(id);
  if (set === undefined) {
    // Combinations come from identities Hubble saw: a handful, but never allowed to grow unbounded.
    if (reservedSets.size >= 1_000) reservedSets.clear();
    reservedSets.set(id, (set = new Set(keys)));
  }
  return set;
}

/** Lowercase, no trailing dot (Cilium's matchpattern normalisation). */
export const normaliseName = (n: string): string => n.toLowerCase().replace(/\.$/, '');
