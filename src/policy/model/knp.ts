/**
 * Minimal local model of networking.k8s.io/v1 NetworkPolicy, as written (no defaulting applied:
 * `policyTypes` stays missing when the author left it out; the evaluator applies the API
 * server's defaulting).
 */
import type { LabelSelector } from './selector.js';

export type KnpPolicyType = 'Ingress' | 'Egress';
export type KnpProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface IpBlock {
  readonly cidr: string;
  readonly except?: readonly string[];
}

export interface KnpPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: IpBlock;
}

export interface KnpPort {
  /** Missing = TCP. */
  readonly protocol?: KnpProtocol;
  /** Number, or a named container port; missing = all ports of the protocol. */
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface KnpIngressRule {
  /** Missing or empty = all peers. */
  readonly from?: readonly KnpPeer[];
  /** Missing or empty = all ports. */
  readonly ports?: readonly KnpPort[];
}

export interface KnpEgressRule {
  readonly to?: readonly KnpPeer[];
  readonly ports?: readonly KnpPort[];
}

export interface KnpSpec {
  readonly podSelector: LabelSelector;
  readonly policyTypes?: readonly KnpPolicyType[];
  readonly ingress?: readonly KnpIngressRule[];
  readonly egress?: readonly KnpEgressRule[];
}
