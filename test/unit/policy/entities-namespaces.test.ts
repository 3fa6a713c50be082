import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../../src/flow/index.js';
import { evaluate, peerFromEndpoint, type Peer } from '../../../src/policy/index.js';
import { ccnp, cnp, knp, policies } from './policy-helpers.js';

/**
 * Issue 16: entities and namespace labels as Cilium's docs define them (policy-semantics.md §2.2,
 * §2.3, §2.10), judged on identities shaped like real Hubble output (../shared/samples: the poc1
 * flows of Cilium 1.20 for pods, hubble-otel for reserved identities).
 */
function podEp(namespace: string, app: string, nsLabels: Record<string, string>, cluster: string | undefined, identity: number): Endpoint {
  return {
    identity,
    ...(cluster !== undefined && { clusterName: cluster }),
    namespace,
    podName: `${app}-6d7d797759-4ddlt`,
    labels: [
      `k8s:app.kubernetes.io/name=${app}`,
      `k8s:app=${app}`,
      ...Object.entries({ 'kubernetes.io/metadata.name': namespace, ...nsLabels }).map(([k, v]) => `k8s:io.cilium.k8s.namespace.labels.${k}=${v}`),
      ...(cluster !== undefined ? [`k8s:io.cilium.k8s.policy.cluster=${cluster}`] : []),
      'k8s:io.cilium.k8s.policy.serviceaccount=default',
      `k8s:io.kubernetes.pod.namespace=${namespace}`,
    ].sort(),
    workloads: [{ kind: 'Deployment', name: app }],
  };
}
const res = (identity: number, ...labels: string[]): Endpoint => ({ identity, labels, workloads: [] });

const IDENTITIES: Record<string, Peer> = {
  localPod: peerFromEndpoint(podEp('other', 'b', {}, 'poc1', 94334)),
  remoteClusterPod: peerFromEndpoint(podEp('other', 'b', {}, 'poc2', 94335)),
  podWithoutClusterLabel: peerFromEndpoint({ ...podEp('other', 'b', {}, undefined, 94336) }),
  // An identity with the local cluster's label and no namespace: the cluster label alone makes it one of the cluster's.
  clusterLabelOnly: peerFromEndpoint(res(94337, 'k8s:app=b', 'k8s:io.cilium.k8s.policy.cluster=poc1')),
  host: peerFromEndpoint(res(1, 'reserved:host'), { ip: '172.18.0.2' }),
  remoteNode: peerFromEndpoint(res(6, 'reserved:remote-node'), { ip: '172.18.0.3' }),
  apiserverOnRemoteNode: peerFromEndpoint(res(7, 'reserved:kube-apiserver', 'reserved:remote-node'), { ip: '172.18.0.4' }),
  apiserverOnHost: peerFromEndpoint(res(1, 'reserved:host', 'reserved:kube-apiserver'), { ip: '172.18.0.2' }),
  apiserverOutside: peerFromEndpoint(res(16777217, 'cidr:203.0.113.10/32', 'reserved:kube-apiserver', 'reserved:world'), { ip: '203.0.113.10' }),
  world: peerFromEndpoint(res(2, 'reserved:world'), { ip: '1.1.1.1' }),
  worldIpv4: peerFromEndpoint(res(9, 'reserved:world-ipv4'), { ip: '1.1.1.1' }),
  worldIpv6: peerFromEndpoint(res(10, 'reserved:world-ipv6'), { ip: '2606:4700::1111' }),
  cidrIdentity: peerFromEndpoint(res(16777218, 'cidr:1.1.1.1/32', 'reserved:world'), { ip: '1.1.1.1' }),
  health: peerFromEndpoint(res(4, 'reserved:health'), { ip: '10.244.0.148' }),
  init: peerFromEndpoint(res(5, 'reserved:init'), { ip: '10.244.0.149' }),
  unmanaged: peerFromEndpoint(res(3, 'reserved:unmanaged'), { ip: '10.244.0.150' }),
  ingress: peerFromEndpoint(res(8, 'reserved:ingress'), { ip: '10.244.0.151' }),
};
const ALL = Object.keys(IDENTITIES);
const LOCAL_PODS = ['localPod', 'podWithoutClusterLabel'];
const NODE_LIKE = ['host', 'remoteNode', 'apiserverOnRemoteNode', 'apiserverOnHost', 'apiserverOutside', 'health', 'init', 'unmanaged', 'ingress'];

/** What each entity selects, from Cilium's entity table (docs "Entities based", pkg/policy/api/entity.go). */
const EXPECTED: Record<string, string[]> = {
  all: ALL,
  world: ['apiserverOutside', 'world', 'worldIpv4', 'worldIpv6', 'cidrIdentity'],
  'world-ipv4': ['worldIpv4'],
  'world-ipv6': ['worldIpv6'],
  cluster: [...LOCAL_PODS, 'clusterLabelOnly', ...NODE_LIKE],
  host: ['host', 'apiserverOnHost'],
  'remote-node': ['remoteNode', 'apiserverOnRemoteNode'],
  'kube-apiserver': ['apiserverOnRemoteNode', 'apiserverOnHost', 'apiserverOutside'],
  health: ['health'],
  init: ['init'],
  unmanaged: ['unmanaged'],
  ingress: ['ingress'],
  none: [],
};

const subject = peerFromEndpoint(podEp('x', 'a', {}, 'poc1', 117659));
const opts = { clusterName: 'poc1' };
const sorted = (xs: readonly string[]): string[] => [...xs].sort();

describe('entities select exactly what Cilium says, each label of a multi-label identity counting', () => {
  it.each(Object.keys(EXPECTED))('toEntities/fromEntities/egressDeny %s', (entity) => {
    const allowEgress = policies(cnp('p', `{endpointSelector: {matchLabels: {app: a}}, egress: [{toEntities: [${entity}]}]}`, 'x'));
    const allowIngress = policies(ccnp('p', `{endpointSelector: {matchLabels: {app: a}}, ingress: [{fromEntities: [${entity}]}]}`));
    const deny = policies(cnp('p', `{endpointSelector: {matchLabels: {app: a}}, egress: [{toEntities: [all]}], egressDeny: [{toEntities: [${entity}]}]}`, 'x'));
    const selected = (f: (p: Peer) => boolean): string[] => sorted(ALL.filter((n) => f(IDENTITIES[n] as Peer)));
    const want = sorted(EXPECTED[entity] as string[]);
    expect(selected((p) => evaluate(allowEgress, { source: subject, destination: p, protocol: 'TCP', port: 443 }, opts).egress.verdict === 'allowed')).toEqual(want);
    // Ingress: a matching rule (not the implicit local-host allow).
    expect(selected((p) => evaluate(allowIngress, { source: p, destination: subject, protocol: 'TCP', port: 443 }, opts).ingress.rules.length > 0)).toEqual(want);
    expect(selected((p) => evaluate(deny, { source: subject, destination: p, protocol: 'TCP', port: 443 }, opts).egress.verdict === 'explicit-deny')).toEqual(want);
  });
});

describe('namespace labels from the flow decide namespaceSelector and io.cilium.k8s.namespace.labels.*', () => {
  const blueClient = peerFromEndpoint(podEp('blue-ns', 'client', { team: 'blue' }, 'poc1', 200001));
  const redClient = peerFromEndpoint(podEp('red-ns', 'client', { team: 'red' }, 'poc1', 200002));
  const a = peerFromEndpoint(podEp('x', 'a', {}, 'poc1', 200003));
  const blueServer = peerFromEndpoint(podEp('blue-ns', 'server', { team: 'blue' }, 'poc1', 200004));
  const redServer = peerFromEndpoint(podEp('red-ns', 'server', { team: 'red' }, 'poc1', 200005));
  const judge = (set: ReturnType<typeof policies>, src: Peer, dst: Peer): string => {
    const d = evaluate(set, { source: src, destination: dst, protocol: 'TCP', port: 80 }, opts);
    return d.allowed ? 'allowed' : `${d.blockedAt}:${d.dropReason}`;
  };

  it('NetworkPolicy ingress namespaceSelector (the issue repro) and egress namespaceSelector', () => {
    const ing = policies(knp('a', '{podSelector: {matchLabels: {app: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}]}]}', 'x'));
    expect(judge(ing, blueClient, a)).toBe('allowed');
    expect(judge(ing, redClient, a)).toBe('ingress:POLICY_DENIED');
    const eg = policies(knp('a', '{podSelector: {matchLabels: {app: a}}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [blue]}]}}]}]}', 'x'));
    expect(judge(eg, a, blueServer)).toBe('allowed');
    expect(judge(eg, a, redServer)).toBe('egress:POLICY_DENIED');
  });

  it('NetworkPolicy namespaceSelector AND podSelector in one peer', () => {
    const set = policies(knp('a', '{podSelector: {matchLabels: {app: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}, podSelector: {matchLabels: {app: client}}}]}]}', 'x'));
    expect(judge(set, blueClient, a)).toBe('allowed');
    expect(judge(set, blueServer, a)).toBe('ingress:POLICY_DENIED');
  });

  it('CiliumNetworkPolicy and CCNP selectors on namespace labels, allow and deny, both directions', () => {
    const key = 'k8s:io.cilium.k8s.namespace.labels.team';
    const cnpIn = policies(cnp('a', `{endpointSelector: {matchLabels: {app: a}}, ingress: [{fromEndpoints: [{matchLabels: {${key}: blue}}]}]}`, 'x'));
    expect(judge(cnpIn, blueClient, a)).toBe('allowed');
    expect(judge(cnpIn, redClient, a)).toBe('ingress:POLICY_DENIED');
    const ccnpEg = policies(ccnp('a', `{endpointSelector: {matchLabels: {app: a}}, egress: [{toEndpoints: [{matchLabels: {${key}: blue}}]}]}`));
    expect(judge(ccnpEg, a, blueServer)).toBe('allowed');
    expect(judge(ccnpEg, a, redServer)).toBe('egress:POLICY_DENIED');
    const deny = policies(ccnp('d', `{endpointSelector: {}, ingress: [{fromEntities: [all]}], ingressDeny: [{fromEndpoints: [{matchLabels: {${key}: red}}]}]}`));
    expect(judge(deny, redClient, a)).toBe('ingress:POLICY_DENY');
    expect(judge(deny, blueClient, a)).toBe('allowed');
    const egDeny = policies(cnp('d', `{endpointSelector: {}, egressDeny: [{toEndpoints: [{matchExpressions: [{key: ${key}, operator: NotIn, values: [blue]}]}]}]}`, 'x'));
    expect(judge(egDeny, a, redServer)).toBe('egress:POLICY_DENY');
    // egressDeny alone makes egress default deny (policy-semantics.md §2.1).
    expect(judge(egDeny, a, blueServer)).toBe('egress:POLICY_DENIED');
  });

  it('peer selectors stay in the local cluster: a pod of another cluster is not matched', () => {
    const set = policies(ccnp('a', '{endpointSelector: {matchLabels: {app: a}}, ingress: [{fromEndpoints: [{matchLabels: {app: b}}]}]}'));
    expect(judge(set, IDENTITIES['localPod'] as Peer, a)).toBe('allowed');
    expect(judge(set, IDENTITIES['remoteClusterPod'] as Peer, a)).toBe('ingress:POLICY_DENIED');
  });
});
