import type { ObservedEdge, RecommendOptions } from './model.js';
import { NAMESPACE_LABEL, sortKeys } from './selectors.js';

/**
 * DNS is special in three ways (policy-semantics §2.6, §2.7): clients fall back from UDP to TCP
 * for large answers, so a DNS rule always allows both; an L7 `dns` rule belongs only on port 53
 * towards the cluster DNS (anything else pushed through the DNS proxy breaks); and the DNS
 * server must answer every pod of the cluster, not only the clients seen so far.
 */
export const DNS_PORT = 53;

export const DNS_PORTS = [
  { port: String(DNS_PORT), protocol: 'UDP' },
  { port: String(DNS_PORT), protocol: 'TCP' },
] as const;

export function isDnsPort(e: Pick<ObservedEdge, 'protocol' | 'port'>): boolean {
  return e.port === DNS_PORT && (e.protocol === 'UDP' || e.protocol === 'TCP');
}

/** The cluster DNS pods as a peer selector (always names its namespace). */
export function dnsServerSelector(o: RecommendOptions): Record<string, string> {
  return sortKeys({ ...o.dns.selector, [NAMESPACE_LABEL]: o.dns.namespace });
}

/** Egress to the cluster DNS on UDP and TCP 53 through the DNS proxy (what toFQDNs learns from). */
export function dnsEgressRule(o: RecommendOptions): Record<string, unknown> {
  return {
    toEndpoints: [{ matchLabels: dnsServerSelector(o) }],
    toPorts: [{ ports: DNS_PORTS.map((p) => ({ ...p })), rules: { dns: [{ matchPattern: '*' }] } }],
  };
}

/** Every pod of every namespace (a CNP peer selector that names the namespace key is not scoped to its own). */
export const ALL_PODS_SELECTOR = { matchExpressions: [{ key: NAMESPACE_LABEL, operator: 'Exists' }] } as const;

/** Ingress to a DNS server: every pod, and hostNetwork pods (host, remote-node), on UDP and TCP 53. */
export function dnsServerIngressRules(): Record<string, unknown>[] {
  const toPorts = [{ ports: DNS_PORTS.map((p) => ({ ...p })) }];
  return [
    { fromEndpoints: [{ matchExpressions: ALL_PODS_SELECTOR.matchExpressions.map((m) => ({ ...m })) }], toPorts },
    { fromEntities: ['host', 'remote-node'], toPorts: toPorts.map((t) => ({ ports: t.ports.map((p) => ({ ...p })) })) },
  ];
}
