/**
 * The smallest allow rule for one side of a dropped request: exactly the observed peer (the peer
 * workload's stable selector, an entity, an FQDN or a /32) and exactly the observed port and
 * protocol (or ICMP type), in the shape of the policy it goes into (Cilium rule or NetworkPolicy rule).
 */
import type { Endpoint, Flow } from '../flow/index.js';
import { chooseSelector, commonLabels, hostCidr, normaliseName, podLabelSet, podWorkload, reservedPeer, type ClusterIpVerdict, type ClusterIps, type WorkloadInfo } from '../graph/index.js';
import type { Direction, PolicyKind } from '../policy/index.js';
import { findWorkload } from './group.js';

const POD_NAMESPACE = 'k8s:io.kubernetes.pod.namespace';
const NAMESPACE_NAME = 'kubernetes.io/metadata.name';

/** The peer of a side: the destination for egress, the source for ingress. */
export type RulePeer =
  | { readonly kind: 'workload'; readonly namespace: string; readonly selector: Readonly<Record<string, string>>; readonly name: string }
  | { readonly kind: 'entity'; readonly entity: string }
  | { readonly kind: 'fqdn'; readonly name: string }
  | { readonly kind: 'cidr'; readonly cidr: string };

/**
 * What the database says a world-labelled peer address of this flow is (graph cluster-ips.ts):
 * a cluster endpoint is never allowed by CIDR.
 */
export function clusterVerdict(flow: Flow, direction: Direction, clusterIps: ClusterIps | undefined): ClusterIpVerdict | undefined {
  const ep = direction === 'egress' ? flow.destination : flow.source;
  const ip = direction === 'egress' ? flow.ip?.destination : flow.ip?.source;
  const reserved = reservedPeer(ep, ip);
  if (reserved?.kind !== 'world-ip' || clusterIps === undefined) return undefined;
  return clusterIps.classify(reserved.ip, direction === 'egress' ? 'to' : 'from', { firstSeenMs: flow.timeMs, lastSeenMs: flow.timeMs });
}

export function rulePeer(flow: Flow, direction: Direction, workloads: readonly WorkloadInfo[], clusterIps?: ClusterIps): RulePeer | undefined {
  const ep = direction === 'egress' ? flow.destination : flow.source;
  const ip = direction === 'egress' ? flow.ip?.destination : flow.ip?.source;
  const reserved = reservedPeer(ep, ip);
  if (reserved?.kind === 'entity') return { kind: 'entity', entity: reserved.entity === 'encrypted-overlay' ? 'world' : reserved.entity };
  const cluster = clusterVerdict(flow, direction, clusterIps);
  if (cluster !== undefined) {
    // One cluster identity: its workload selector or its entity; anything else cannot be named (the caller notes why).
    const only = cluster.kind === 'peers' && cluster.peers.length === 1 ? cluster.peers[0] : undefined;
    if (only?.kind === 'entity') return { kind: 'entity', entity: only.entity };
    if (only?.kind === 'workload') {
      const info = workloads.find((w) => w.namespace === only.namespace && w.kind === only.workloadKind && w.name === only.name);
      if (info !== undefined && info.unique && Object.keys(info.selector).length > 0) return { kind: 'workload', namespace: info.namespace, name: info.name, selector: { ...info.selector } };
    }
    return undefined;
  }
  if (reserved?.kind === 'world-ip') {
    const names = direction === 'egress' ? flow.destinationNames : [];
    const name = [...names].map(normaliseName).sort()[0];
    if (name !== undefined) return { kind: 'fqdn', name };
    const cidr = hostCidr(reserved.ip);
    return cidr ? { kind: 'cidr', cidr } : { kind: 'entity', entity: 'world' };
  }
  const w = podWorkload(ep);
  if (w === undefined) {
    const cidr = ip === undefined ? undefined : hostCidr(ip);
    return cidr ? { kind: 'cidr', cidr } : undefined;
  }
  const info = findWorkload(ep, workloads);
  return { kind: 'workload', namespace: w.namespace, name: info?.name ?? w.name, selector: workloadSelector(ep, info) };
}

/** The graph's stable selector for the workload when it is unique, else one from the pod's own labels. */
function workloadSelector(ep: Endpoint, info: WorkloadInfo | undefined): Record<string, string> {
  if (info && info.unique && Object.keys(info.selector).length > 0) return { ...info.selector };
  const common = commonLabels([podLabelSet(ep.labels)]);
  return { ...chooseSelector(common, []).selector };
}

/** The L4 part of a rule: the exact port and protocol, or the exact ICMP type. */
export type RulePort =
  | { readonly kind: 'port'; readonly protocol: 'TCP' | 'UDP' | 'SCTP'; readonly port: number }
  | { readonly kind: 'icmp'; readonly family: 'IPv4' | 'IPv6'; readonly type: number };

export function rulePort(flow: Flow): RulePort | undefined {
  const l4 = flow.l4;
  if (l4 === undefined) return undefined;
  switch (l4.protocol) {
    case 'TCP':
    case 'UDP':
    case 'SCTP':
      return { kind: 'port', protocol: l4.protocol, port: l4.destinationPort };
    case 'ICMPv4':
      return { kind: 'icmp', family: 'IPv4', type: l4.icmpType };
    case 'ICMPv6':
      return { kind: 'icmp', family: 'IPv6', type: l4.icmpType };
    case 'VRRP':
    case 'IGMP':
      return undefined;
    default: {
      const never: never = l4;
      return never;
    }
  }
}

/**
 * L7 rules that admit exactly the refused request: HTTP method and the anchored path (Envoy's
 * `:path` carries the query string, which ingest redacts, so any query is allowed), or the DNS name.
 */
export function l7RuleFor(flow: Flow): Record<string, unknown> | undefined {
  const l7 = flow.l7;
  if (l7?.http) {
    const path = l7.http.url === undefined ? undefined : pathOf(l7.http.url);
    const rule = { ...(l7.http.method && { method: l7.http.method }), ...(path !== undefined && { path: `^${escapeRegex(path)}(\\?.*)?$` }) };
    return { http: [rule] };
  }
  if (l7?.dns) return { dns: [{ matchName: normaliseName(l7.dns.query) }] };
  return undefined;
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split('?')[0] ?? url;
  }
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface RuleContext {
  readonly kind: PolicyKind;
  /** Namespace of the policy the rule goes into; undefined for cluster-wide policies. */
  readonly namespace?: string;
  readonly direction: Direction;
}

/** A Cilium allow rule (`ingress` / `egress` entry) for exactly this peer and port. */
export function ciliumRule(ctx: RuleContext, peer: RulePeer, port: RulePort | undefined, l7?: Record<string, unknown>): Record<string, unknown> {
  const ingress = ctx.direction === 'ingress';
  const rule: Record<string, unknown> = {};
  switch (peer.kind) {
    case 'workload': {
      const sameNs = ctx.namespace !== undefined && ctx.namespace === peer.namespace;
      rule[ingress ? 'fromEndpoints' : 'toEndpoints'] = [{ matchLabels: { ...(sameNs ? {} : { [POD_NAMESPACE]: peer.namespace }), ...peer.selector } }];
      break;
    }
    case 'entity':
      rule[ingress ? 'fromEntities' : 'toEntities'] = [peer.entity];
      break;
    case 'fqdn':
      rule['toFQDNs'] = [{ matchName: peer.name }];
      break;
    case 'cidr':
      rule[ingress ? 'fromCIDRSet' : 'toCIDRSet'] = [{ cidr: peer.cidr }];
      break;
    default: {
      const never: never = peer;
      return never;
    }
  }
  if (port?.kind === 'port') rule['toPorts'] = [{ ports: [{ port: String(port.port), protocol: port.protocol }], ...(l7 && { rules: l7 }) }];
  if (port?.kind === 'icmp') rule['icmps'] = [{ fields: [{ type: port.type, family: port.family }] }];
  return rule;
}

/** A NetworkPolicy rule (`{from|to, ports}`), or a reason why NetworkPolicy cannot express the peer. */
export function knpRule(ctx: RuleContext, peer: RulePeer, port: RulePort | undefined): Record<string, unknown> | string {
  let kp: Record<string, unknown>;
  switch (peer.kind) {
    case 'workload': {
      const sameNs = ctx.namespace === peer.namespace;
      kp = { podSelector: { matchLabels: { ...peer.selector } }, ...(!sameNs && { namespaceSelector: { matchLabels: { [NAMESPACE_NAME]: peer.namespace } } }) };
      break;
    }
    case 'cidr':
      kp = { ipBlock: { cidr: peer.cidr } };
      break;
    case 'entity':
      return `a NetworkPolicy cannot name the ${peer.entity} identity; allow it with a CiliumNetworkPolicy (${ctx.direction === 'ingress' ? 'fromEntities' : 'toEntities'}: [${peer.entity}])`;
    case 'fqdn':
      return `a NetworkPolicy cannot allow by DNS name (${peer.name}); use a CiliumNetworkPolicy with toFQDNs`;
    default: {
      const never: never = peer;
      return never;
    }
  }
  if (port?.kind === 'icmp') return 'a NetworkPolicy cannot allow ICMP; use a CiliumNetworkPolicy with icmps';
  const rule: Record<string, unknown> = { [ctx.direction === 'ingress' ? 'from' : 'to']: [kp] };
  if (port?.kind === 'port') rule['ports'] = [{ protocol: port.protocol, port: port.port }];
  return rule;
}

/** One line: `fromEndpoints cnpg-system/{app.kubernetes.io/name=cloudnative-pg} on TCP/8000`. */
export function describeRulePeer(peer: RulePeer): string {
  switch (peer.kind) {
    case 'workload':
      return `${peer.namespace}/${peer.name} {${Object.entries(peer.selector).map(([k, v]) => `${k}=${v}`).join(',')}}`;
    case 'entity':
      return `entity ${peer.entity}`;
    case 'fqdn':
      return `fqdn ${peer.name}`;
    case 'cidr':
      return `cidr ${peer.cidr}`;
    default: {
      const never: never = peer;
      return never;
    }
  }
}
