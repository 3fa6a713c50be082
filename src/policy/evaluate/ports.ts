/** Compiled L4 port/ICMP specs and the L7 rules attached to them. */
import type { DnsRule, HttpRule, KafkaRule } from '../model/index.js';
import type { NamedPort } from './peer.js';

export type FlowProtocol = 'TCP' | 'UDP' | 'SCTP' | 'ICMPv4' | 'ICMPv6';
export type PortProto = 'TCP' | 'UDP' | 'SCTP' | 'ANY';

export type L7Spec =
  | { readonly type: 'http'; readonly rules: readonly HttpRule[] }
  | { readonly type: 'dns'; readonly rules: readonly DnsRule[] }
  | { readonly type: 'kafka'; readonly rules: readonly KafkaRule[] }
  | { readonly type: 'l7proto'; readonly proto: string };

export type L4Spec =
  /** `port` 0 = all ports of the protocol; `endPort` makes an inclusive range. */
  | { readonly kind: 'port'; readonly protocol: PortProto; readonly port: number; readonly endPort?: number; readonly l7?: L7Spec }
  /** Named port, resolved against the receiving endpoint's container ports. */
  | { readonly kind: 'named'; readonly protocol: PortProto; readonly name: string; readonly l7?: L7Spec }
  | { readonly kind: 'icmp'; readonly family: 'IPv4' | 'IPv6'; readonly type: number };

export interface L4Request {
  readonly protocol: FlowProtocol;
  readonly port?: number;
  readonly icmpType?: number;
}

const protoMatches = (p: PortProto, f: FlowProtocol): boolean => (p === 'ANY' ? f === 'TCP' || f === 'UDP' || f === 'SCTP' : p === f);

export function l4Matches(s: L4Spec, req: L4Request, receiverPorts: Readonly<Record<string, NamedPort>>): boolean {
  switch (s.kind) {
    case 'port':
      if (!protoMatches(s.protocol, req.protocol)) return false;
      if (s.port === 0) return true;
      return req.port !== undefined && req.port >= s.port && req.port <= (s.endPort ?? s.port);
    case 'named': {
      if (!protoMatches(s.protocol, req.protocol)) return false;
      const np = receiverPorts[s.name];
      return np !== undefined && np.port === req.port && np.protocol === req.protocol;
    }
    case 'icmp':
      return (
        ((s.family === 'IPv4' && req.protocol === 'ICMPv4') || (s.family === 'IPv6' && req.protocol === 'ICMPv6')) &&
        req.icmpType === s.type
      );
    default: {
      const never: never = s;
      return never;
    }
  }
}

/**
 * True when the spec names exactly one port, so an L4-only allow there voids L7 rules on that
 * port. Wider entries (all ports, ranges) are less specific in Cilium's policy map, where the
 * exact-port proxy redirect wins, so they do not void L7.
 */
export const isSpecificPort = (s: L4Spec): boolean =>
  s.kind === 'port' ? s.port !== 0 && (s.endPort === undefined || s.endPort === s.port) : s.kind === 'named';

export function describeL4(s: L4Spec): string {
  switch (s.kind) {
    case 'port':
      return `${s.port === 0 ? 'all' : s.endPort ? `${s.port}-${s.endPort}` : s.port}/${s.protocol}`;
    case 'named':
      return `${s.name}/${s.protocol}`;
    case 'icmp':
      return `icmp ${s.family} type ${s.type}`;
    default: {
      const never: never = s;
      return never;
    }
  }
}
