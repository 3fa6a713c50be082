/**
 * The one normalised flow shape every stage reads. It is decoded from protojson lines
 * (`hubble observe -o json|jsonpb`, exporter files) and from gRPC objects alike, so nothing
 * downstream knows where a flow came from.
 *
 * Absent and empty stay distinct where Hubble makes them distinct: `isReply` is `undefined`
 * when the agent did not know (drops), never silently `false`.
 */

export const VERDICTS = [
  'VERDICT_UNKNOWN',
  'FORWARDED',
  'DROPPED',
  'ERROR',
  'AUDIT',
  'REDIRECTED',
  'TRACED',
  'TRANSLATED',
] as const;
export type Verdict = (typeof VERDICTS)[number];

export type TrafficDirection = 'TRAFFIC_DIRECTION_UNKNOWN' | 'INGRESS' | 'EGRESS';

export type FlowType = 'UNKNOWN_TYPE' | 'L3_L4' | 'L7' | 'SOCK';

export interface Workload {
  readonly name: string;
  readonly kind: string;
}

export interface Endpoint {
  /** Local endpoint id; 0 or absent for remote peers. */
  readonly id?: number;
  /** Numeric security identity (1 host, 2 world, 6 remote-node, 7 kube-apiserver, >= 2^24 CIDR/FQDN). */
  readonly identity?: number;
  readonly clusterName?: string;
  readonly namespace?: string;
  /** Identity labels as Hubble prints them: `source:key=value` (`k8s:app=web`, `reserved:world`). */
  readonly labels: readonly string[];
  readonly podName?: string;
  readonly workloads: readonly Workload[];
}

export interface TcpFlags {
  readonly FIN?: boolean;
  readonly SYN?: boolean;
  readonly RST?: boolean;
  readonly PSH?: boolean;
  readonly ACK?: boolean;
  readonly URG?: boolean;
  readonly ECE?: boolean;
  readonly CWR?: boolean;
  readonly NS?: boolean;
}

export type Layer4 =
  | {
      readonly protocol: 'TCP';
      readonly sourcePort: number;
      readonly destinationPort: number;
      readonly flags?: TcpFlags;
    }
  | { readonly protocol: 'UDP' | 'SCTP'; readonly sourcePort: number; readonly destinationPort: number }
  | { readonly protocol: 'ICMPv4' | 'ICMPv6'; readonly icmpType: number; readonly icmpCode: number }
  | { readonly protocol: 'VRRP' | 'IGMP' };

export type L4Protocol = Layer4['protocol'];

export interface IpInfo {
  readonly source?: string;
  readonly destination?: string;
  readonly sourceXlated?: string;
  readonly ipVersion?: 'IP_NOT_USED' | 'IPv4' | 'IPv6';
}

export interface DnsRecord {
  /** Query name, lowercased, trailing dot kept as Hubble reports it. */
  readonly query: string;
  readonly ips: readonly string[];
  readonly ttl?: number;
  readonly cnames: readonly string[];
  readonly rcode?: number;
  readonly qtypes: readonly string[];
  readonly rrtypes: readonly string[];
  readonly observationSource?: string;
}

export interface HttpHeader {
  readonly key: string;
  readonly value: string;
}

export interface HttpRecord {
  readonly code?: number;
  readonly method?: string;
  readonly url?: string;
  readonly protocol?: string;
  readonly headers: readonly HttpHeader[];
}

export interface KafkaRecord {
  readonly errorCode?: number;
  readonly apiVersion?: number;
  readonly apiKey?: string;
  readonly correlationId?: number;
  readonly topic?: string;
}

export interface Layer7 {
  readonly type: 'UNKNOWN_L7_TYPE' | 'REQUEST' | 'RESPONSE' | 'SAMPLE';
  readonly latencyNs?: string;
  readonly dns?: DnsRecord;
  readonly http?: HttpRecord;
  readonly kafka?: KafkaRecord;
}

/** A policy named by Hubble in `*_allowed_by` / `*_denied_by`. */
export interface PolicyRef {
  readonly name?: string;
  readonly namespace?: string;
  readonly kind?: string;
  readonly labels: readonly string[];
  readonly revision?: string;
}

export interface Service {
  readonly name?: string;
  readonly namespace?: string;
}

export interface EventType {
  readonly type: number;
  readonly subType: number;
}

export interface Flow {
  /** RFC 3339 UTC with nanoseconds, as the producer wrote it (normalised to 9 digits). */
  readonly time: string;
  /** Milliseconds since the epoch; `time` keeps the nanoseconds. */
  readonly timeMs: number;
  readonly uuid?: string;
  readonly verdict: Verdict;
  /** Drop reason name (`POLICY_DENIED`) or the bare number as a string for codes newer than us. */
  readonly dropReason?: string;
  readonly dropReasonCode?: number;
  readonly ip?: IpInfo;
  readonly l4?: Layer4;
  readonly source: Endpoint;
  readonly destination: Endpoint;
  readonly type?: FlowType;
  readonly nodeName?: string;
  readonly sourceNames: readonly string[];
  readonly destinationNames: readonly string[];
  readonly l7?: Layer7;
  /** Conntrack reply bit; `undefined` means unknown (always so for drops). */
  readonly isReply?: boolean;
  readonly eventType?: EventType;
  readonly sourceService?: Service;
  readonly destinationService?: Service;
  readonly trafficDirection: TrafficDirection;
  readonly policyMatchType?: number;
  readonly traceObservationPoint?: string;
  readonly traceReason?: string;
  readonly egressAllowedBy: readonly PolicyRef[];
  readonly ingressAllowedBy: readonly PolicyRef[];
  readonly egressDeniedBy: readonly PolicyRef[];
  readonly ingressDeniedBy: readonly PolicyRef[];
  readonly summary?: string;
}

export type LostEventSource =
  | 'UNKNOWN_LOST_EVENT_SOURCE'
  | 'PERF_EVENT_RING_BUFFER'
  | 'OBSERVER_EVENTS_QUEUE'
  | 'HUBBLE_RING_BUFFER';

export interface LostEvent {
  readonly source: LostEventSource;
  readonly numEventsLost: number;
  readonly cpu?: number;
  readonly nodeName?: string;
  readonly time?: string;
  readonly timeMs?: number;
}

export type NodeState =
  | 'UNKNOWN_NODE_STATE'
  | 'NODE_CONNECTED'
  | 'NODE_UNAVAILABLE'
  | 'NODE_GONE'
  | 'NODE_ERROR';

export interface NodeStatusEvent {
  readonly state: NodeState;
  readonly nodeNames: readonly string[];
  readonly message?: string;
  readonly time?: string;
  readonly timeMs?: number;
}

/** One decoded line or gRPC response. Agent and debug events are recognised and skipped. */
export type HubbleEvent =
  | { readonly kind: 'flow'; readonly flow: Flow }
  | { readonly kind: 'lost'; readonly lost: LostEvent }
  | { readonly kind: 'node-status'; readonly status: NodeStatusEvent }
  | { readonly kind: 'other'; readonly what: 'agent_event' | 'debug_event' };
