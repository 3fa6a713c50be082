/**
 * Minimal local model of cilium.io/v2 CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy rules.
 *
 * Every optional list keeps three states apart, because Cilium gives them different meanings:
 * `undefined` (key missing), `[]` (explicitly empty: selects nothing / contributes nothing) and
 * `[{}]` (one empty entry: e.g. `ingress: [{}]` turns on default deny and allows nothing).
 */
import type { LabelSelector } from './selector.js';

export const ENTITIES = [
  'all',
  'world',
  'world-ipv4',
  'world-ipv6',
  'cluster',
  'host',
  'remote-node',
  'kube-apiserver',
  'health',
  'init',
  'unmanaged',
  'ingress',
  'none',
] as const;
/** `fromEntities` / `toEntities` names (Cilium pkg/policy/api/entity.go). */
export type Entity = (typeof ENTITIES)[number];

/** `protocol` of a port entry; empty or missing means ANY (TCP, UDP and SCTP, never ICMP). */
export type PortProtocolName = 'TCP' | 'UDP' | 'SCTP' | 'ANY';

export interface PortProtocol {
  /** Number as a string ("80", "0" = all ports) or an IANA service name resolved on the receiver. */
  readonly port: string;
  /** Inclusive end of a port range; absent or 0 means a single port. */
  readonly endPort?: number;
  readonly protocol: PortProtocolName;
}

export interface HttpRule {
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  /** `"Name: value"` or `"Name"` (presence only). */
  readonly headers?: readonly string[];
}

export interface DnsRule {
  readonly matchName?: string;
  readonly matchPattern?: string;
}

export interface KafkaRule {
  readonly role?: string;
  readonly apiKey?: string;
  readonly apiVersion?: string;
  readonly clientID?: string;
  readonly topic?: string;
}

/** L7 rules of one port rule; Cilium allows one protocol type per port rule. */
export interface L7Rules {
  readonly http?: readonly HttpRule[];
  readonly dns?: readonly DnsRule[];
  readonly kafka?: readonly KafkaRule[];
  readonly l7proto?: string;
  readonly l7?: readonly Readonly<Record<string, string>>[];
}

export interface PortRule {
  readonly ports?: readonly PortProtocol[];
  readonly rules?: L7Rules;
}

export interface IcmpField {
  /** Numeric type or a name such as `EchoRequest`. */
  readonly type: number | string;
  readonly family: 'IPv4' | 'IPv6';
}

export interface IcmpRule {
  readonly fields: readonly IcmpField[];
}

export interface CidrRule {
  readonly cidr?: string;
  readonly except?: readonly string[];
  /** CiliumCIDRGroup reference; not resolvable offline (matches nothing, with a note). */
  readonly cidrGroupRef?: string;
}

export interface FqdnSelector {
  readonly matchName?: string;
  readonly matchPattern?: string;
}

export interface ServiceSelector {
  readonly k8sService?: { readonly serviceName?: string; readonly namespace?: string };
  readonly k8sServiceSelector?: { readonly selector: LabelSelector; readonly namespace?: string };
}

/** Peer fields shared by allow and deny rules of one direction. */
export interface IngressPeers {
  readonly fromEndpoints?: readonly LabelSelector[];
  readonly fromCIDR?: readonly string[];
  readonly fromCIDRSet?: readonly CidrRule[];
  readonly fromEntities?: readonly Entity[];
  readonly fromNodes?: readonly LabelSelector[];
  readonly fromGroups?: readonly unknown[];
}

export interface EgressPeers {
  readonly toEndpoints?: readonly LabelSelector[];
  readonly toCIDR?: readonly string[];
  readonly toCIDRSet?: readonly CidrRule[];
  readonly toEntities?: readonly Entity[];
  readonly toNodes?: readonly LabelSelector[];
  readonly toServices?: readonly ServiceSelector[];
  readonly toGroups?: readonly unknown[];
}

export interface IngressRule extends IngressPeers {
  readonly toPorts?: readonly PortRule[];
  readonly icmps?: readonly IcmpRule[];
}

/** Deny rules take the same peers, ports without L7 (`PortDenyRule`) and icmps. */
export interface IngressDenyRule extends IngressPeers {
  readonly toPorts?: readonly PortRule[];
  readonly icmps?: readonly IcmpRule[];
}

export interface EgressRule extends EgressPeers {
  readonly toFQDNs?: readonly FqdnSelector[];
  readonly toPorts?: readonly PortRule[];
  readonly icmps?: readonly IcmpRule[];
}

export interface EgressDenyRule extends EgressPeers {
  readonly toPorts?: readonly PortRule[];
  readonly icmps?: readonly IcmpRule[];
}

export interface DefaultDenyConfig {
  readonly ingress?: boolean;
  readonly egress?: boolean;
}

/** One Cilium rule (`spec` or one item of `specs`). */
export interface CiliumRule {
  readonly endpointSelector?: LabelSelector;
  /** Host policy subject (CCNP only); selects nodes, enforced only with the host firewall. */
  readonly nodeSelector?: LabelSelector;
  readonly ingress?: readonly IngressRule[];
  readonly ingressDeny?: readonly IngressDenyRule[];
  readonly egress?: readonly EgressRule[];
  readonly egressDeny?: readonly EgressDenyRule[];
  /** Per direction; when a direction is absent it defaults to "has rules in that direction". */
  readonly enableDefaultDeny?: DefaultDenyConfig;
  readonly description?: string;
}
