/**
 * The edge graph: who talks to whom on which port, as every recommendation and triage reads it.
 *
 * Two layers:
 * - *Raw* peers and edge records are what ingest aggregates and stores. World peers are kept by IP
 *   and inferred workloads keep an open kind, because both are resolved only at read time (DNS
 *   answers may arrive after the flow, in another batch or file; user workload rules may change).
 * - *Resolved* peers and edges (`Peer`, `Edge`) are what readers get: workloads, entities, FQDNs
 *   and CIDRs, with the double-observation and reply rules already applied.
 */

/** Cilium `toEntities`/`fromEntities` names for reserved identities (plus `encrypted-overlay`). */
export const ENTITIES = [
  'world',
  'host',
  'remote-node',
  'kube-apiserver',
  'health',
  'ingress',
  'init',
  'unmanaged',
  'encrypted-overlay',
] as const;
export type EntityName = (typeof ENTITIES)[number];

/**
 * Every `reserved:<name>` label an identity can carry. One identity may carry several: the
 * kube-apiserver on a control-plane node is `kube-apiserver` + `remote-node` (identity 7), or
 * `kube-apiserver` + `host` on its own node; Cilium's entities select it by each label.
 */
export const RESERVED_LABELS = [
  'host',
  'world',
  'world-ipv4',
  'world-ipv6',
  'unmanaged',
  'health',
  'init',
  'remote-node',
  'kube-apiserver',
  'ingress',
  'encrypted-overlay',
] as const;
export type ReservedLabel = (typeof RESERVED_LABELS)[number];

/**
 * The reserved labels of one identity as edges keep them: names sorted and joined with `+`
 * (`kube-apiserver+remote-node`, `world-ipv4`). See `SET_LIMITS.srcReserved`.
 */
export const reservedSetText = (labels: readonly string[]): string => [...labels].sort().join('+');

/** L4 protocols an edge can have; VRRP and IGMP carry no port and never make edges. */
export type EdgeProtocol = 'TCP' | 'UDP' | 'SCTP' | 'ICMPv4' | 'ICMPv6';

/** Where a flow was observed: the source's node (egress), the destination's node (ingress), or unknown. */
export type Side = 'egress' | 'ingress' | 'unknown';
export const SIDES: readonly Side[] = ['egress', 'ingress', 'unknown'];

/**
 * A peer as ingest keys it.
 * - `workload` with `workloadKind: undefined` is *inferred* (from labels or the pod name, no owner
 *   reference in the flow); read time gives it a kind or maps it onto the owner-known workload
 *   with the same label sets.
 * - `world-ip`: a world (or CIDR-identity) peer, resolved to `fqdn` or `cidr` at read time.
 */
export type RawPeer =
  | { readonly kind: 'workload'; readonly namespace: string; readonly workloadKind: string | undefined; readonly name: string }
  | { readonly kind: 'entity'; readonly entity: EntityName }
  | { readonly kind: 'world-ip'; readonly ip: string };

/** A well-known address range that encloses an unresolved IP (`10.0.0.0/8`, "private (RFC 1918)"). */
export interface KnownRange {
  readonly cidr: string;
  readonly name: string;
}

/**
 * A resolved peer. `workload` is a Kubernetes owner (Deployment, StatefulSet, DaemonSet, CronJob,
 * Job, CNPG Cluster, bare Pod...), never a pod name with hash suffixes.
 */
export type Peer =
  | { readonly kind: 'workload'; readonly namespace: string; readonly workloadKind: string; readonly name: string }
  | { readonly kind: 'entity'; readonly entity: EntityName }
  | { readonly kind: 'fqdn'; readonly fqdn: string }
  | {
      readonly kind: 'cidr';
      readonly cidr: string;
      readonly enclosing?: readonly KnownRange[];
      /**
       * Set when the address is a cluster endpoint Hubble saw as world but no single identity
       * explains (inside a pod block or node range the flows show, or shown with several
       * identities): no CIDR rule may be written for it (Cilium never matches cluster endpoints by
       * CIDR); `recommend` leaves it out with this note and `check` does not judge it.
       */
      readonly clusterEndpoint?: { readonly reason: string; readonly suggest: string };
    };

/** Per-side counters; every field is a plain sum, so merging is addition. */
export interface SideCounters {
  /** Request-direction events (replies are never counted). */
  flows: number;
  /** Connection starts seen in trace/drop events: TCP SYN without ACK, or trace reason NEW. */
  connections: number;
  /** Policy-verdict events (type 5): one per new connection on endpoints some policy selects. */
  verdicts: number;
  /** FORWARDED plus REDIRECTED (let through to the L7 proxy). */
  forwarded: number;
  dropped: number;
  audit: number;
  redirected: number;
  errors: number;
}

export const COUNTER_FIELDS = ['flows', 'connections', 'verdicts', 'forwarded', 'dropped', 'audit', 'redirected', 'errors'] as const;

/** Bounded string sets kept per edge; each keeps its K smallest values, so merging stays associative. */
export const SET_LIMITS = {
  dnsNames: 100,
  httpRequests: 100,
  destinationNames: 50,
  l7Protocols: 8,
  allowedBy: 50,
  deniedBy: 50,
  services: 20,
  srcPods: 5,
  dstPods: 5,
  /**
   * Reserved-label sets of the identities seen at each end (`reservedSetText`): an entity's
   * identity may carry several (kube-apiserver + remote-node), a world one `world-ipv4`. Cilium's
   * entities select by each label, so the evaluator judges each set.
   */
  srcReserved: 8,
  dstReserved: 8,
} as const;
export type SetField = keyof typeof SET_LIMITS;
export const SET_FIELDS = Object.keys(SET_LIMITS) as SetField[];

/** A sorted, capped set: the K smallest values of everything seen, and whether there were more. */
export interface CappedSet {
  readonly values: readonly string[];
  readonly truncated: boolean;
}

/**
 * One stored edge before resolution: the unit of aggregation and of the merge. Every field merges
 * associatively and commutatively (sums, min, max, capped set union), so batch boundaries and order
 * never change a record.
 */
export interface EdgeRecord {
  readonly from: RawPeer;
  readonly to: RawPeer;
  readonly protocol: EdgeProtocol;
  /** Destination port; for ICMP the ICMP type. */
  readonly port: number;
  readonly sides: Readonly<Record<Side, Readonly<SideCounters>>>;
  /** L7 (proxy) request events, already included in the side counters. */
  readonly l7Requests: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** Distinct hours (floor(ms / 3.6e6)) with at least one request-direction flow. */
  readonly hours: readonly number[];
  readonly dropReasons: Readonly<Record<string, number>>;
  readonly sets: Readonly<Record<SetField, CappedSet>>;
}

/** A DNS answer seen by a client: `client` asked `query` and got `ip`. */
export interface DnsAnswer {
  /** Raw peer key of the client (`w:ns/Kind/name`). */
  readonly client: string;
  /** Query name, lowercased, without the trailing dot. */
  readonly query: string;
  readonly ip: string;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  readonly responses: number;
}

/**
 * An address a flow showed with a cluster identity (any but world: a pod, host, remote-node,
 * kube-apiserver, health, ingress...), and the raw peer behind it. Read time uses these so that no
 * CIDR rule is ever aimed at a cluster endpoint (Cilium matches those by identity only).
 */
export interface ClusterIpRecord {
  readonly ip: string;
  /** Raw peer key (`w:ns/Kind/name`, `e:host`). */
  readonly peer: string;
  readonly flows: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

/** What ingest learned about one raw workload key. */
export interface WorkloadRecord {
  readonly key: string;
  readonly namespace: string;
  /** `undefined` for an inferred workload. */
  readonly kind: string | undefined;
  readonly name: string;
  /** Owner kinds suggested by pod-name shapes (`Deployment` for `x-7d9c9b7c4d-x2x9z`). */
  readonly kindHints: readonly string[];
  /** Distinct identity label sets of its pods: `key=value` strings of the `k8s:` labels, sorted. */
  readonly labelSets: readonly (readonly string[])[];
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

/**
 * What ingest learned about one namespace: its labels, which Cilium puts on every identity of the
 * namespace as `k8s:io.cilium.k8s.namespace.labels.<key>=<value>` and matches `namespaceSelector`
 * (NetworkPolicy) and `io.cilium.k8s.namespace.labels.*` selectors against.
 */
export interface NamespaceRecord {
  readonly namespace: string;
  /** `key=value` (prefix removed), sorted, as on the newest identity seen. */
  readonly labels: readonly string[];
  /** Time of the flow they were read from; a merge keeps the newest (ties: the larger list). */
  readonly seenMs: number;
}

/**
 * A resolved edge: request-direction traffic from one peer to another on one destination port.
 *
 * Counting rules (hubble-api.md §2.4: one connection produces many flows, on both nodes):
 * - replies never count; `flows`/`connections`/`forwarded`/`audit` take the busiest observation
 *   side, so a connection seen at the source node (egress) and at the destination node (ingress)
 *   counts once;
 * - `dropped` and `errors` add up the sides (a packet is dropped on one side only);
 * - `forwarded` is what got through: the ingress side's count, or the egress side's minus what the
 *   ingress side then dropped, whichever is larger.
 */
export interface Edge {
  readonly from: Peer;
  readonly to: Peer;
  readonly protocol: EdgeProtocol;
  /** Destination port; for ICMP the ICMP type. */
  readonly port: number;
  readonly flows: number;
  readonly connections: number;
  readonly forwarded: number;
  readonly dropped: number;
  readonly audit: number;
  readonly redirected: number;
  readonly errors: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  readonly hoursSeen: number;
  readonly dropReasons: Readonly<Record<string, number>>;
  /** DNS query names seen on this edge (DNS edges only). */
  readonly dnsNames: readonly string[];
  /** `METHOD /path/{id}` templates seen on this edge (HTTP only). */
  readonly httpRequests: readonly string[];
  /** L7 protocols the proxy reported on this edge (`dns`, `http`, `kafka`). */
  readonly l7Protocols: readonly string[];
  /** World IPs behind an `fqdn`, `cidr` or `entity: world` peer. */
  readonly ips: readonly string[];
  /** For an FQDN peer: other names the same IPs were answered for (the edge is reported under each). */
  readonly sharedIpWith: readonly string[];
  /** Policies Hubble named as allowing / denying (`kind/namespace/name`), policy-verdict events only. */
  readonly allowedBy: readonly string[];
  readonly deniedBy: readonly string[];
  /** Kubernetes Services the destination was reached through (`namespace/name`). */
  readonly services: readonly string[];
  /** A few example pod names on each end (evidence). */
  readonly srcPods: readonly string[];
  readonly dstPods: readonly string[];
  /** Reserved-label sets of the source / destination identities (`kube-apiserver+remote-node`); empty for pods. */
  readonly srcReserved?: readonly string[];
  readonly dstReserved?: readonly string[];
  /** Per-side raw counters, for readers that need the observation detail. */
  readonly sides: Readonly<Record<Side, Readonly<SideCounters>>>;
}

/**
 * The evidence lists of an `Edge` a reader may leave unread (`loadGraph`'s `evidence`): each is a
 * stored set column, and most commands print few of them. Ends, port, counters, times, hours, drop
 * reasons, `ips` and `sharedIpWith` are always read (they come from resolution or are small).
 */
export const EVIDENCE_FIELDS = ['dnsNames', 'httpRequests', 'l7Protocols', 'allowedBy', 'deniedBy', 'services', 'srcPods', 'dstPods', 'srcReserved', 'dstReserved'] as const satisfies readonly (SetField & keyof Edge)[];
export type EvidenceField = (typeof EVIDENCE_FIELDS)[number];

/**
 * An `Edge` of which only the evidence lists `F` were read: the others are not in its type (at run
 * time they are empty), so a reader cannot print evidence it did not ask for.
 */
export type ProjectedEdge<F extends EvidenceField> = Omit<Edge, EvidenceField> & Pick<Edge, F>;

/** A resolved workload with the selector that picks exactly its pods. */
export interface WorkloadInfo {
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  /**
   * Labels (without the `k8s:` source prefix) that every pod of the workload carries and that no
   * other workload's pods seen in the namespace match; `{}` when none could be found.
   */
  readonly selector: Readonly<Record<string, string>>;
  /** Labels common to all its pods, volatile keys removed. */
  readonly labels: Readonly<Record<string, string>>;
  /** False when no subset of its common labels excludes every other workload in the namespace. */
  readonly unique: boolean;
  /** Other workloads of the namespace the selector also matches (when `unique` is false). */
  readonly overlapsWith: readonly string[];
  readonly labelSets: number;
  /**
   * Every identity label its pods share (`k8s:` source, prefix removed), nothing filtered out:
   * `io.cilium.k8s.policy.cluster`, `.serviceaccount` and `io.kubernetes.pod.namespace` included,
   * namespace labels not (see `namespaceLabels`). What policy selectors are matched against.
   */
  readonly identityLabels?: Readonly<Record<string, string>>;
  /** Labels of its namespace, newest seen (prefix `io.cilium.k8s.namespace.labels.` removed). */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  /** The Cilium cluster of its pods (`io.cilium.k8s.policy.cluster`), when they all share one. */
  readonly cluster?: string;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

/** Baseline convergence of one namespace: how recently new edges kept appearing. */
export interface NamespaceConvergence {
  readonly namespace: string;
  readonly edges: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** When the newest edge was first seen. */
  readonly lastNewEdgeMs: number;
  /** New edges per hour (hour start in ms), ascending, hours without new edges left out. */
  readonly newEdgesPerHour: readonly { readonly hourMs: number; readonly edges: number }[];
}
