import { expect } from 'vitest';
import { buildPolicySet, evaluate, parsePolicies, type Decision, type EvaluateOptions, type EvaluationRequest, type Peer, type PolicySet } from '../../../src/policy/index.js';

/** A policy set from YAML documents; fails the test on any parse error. */
export function policies(...docs: string[]): PolicySet {
  const r = parsePolicies(docs.join('\n---\n'), { file: 'test.yaml', defaultNamespace: 'ns' });
  expect(r.errors).toEqual([]);
  return buildPolicySet(r.policies);
}

export const cnp = (name: string, spec: string, namespace = 'ns'): string =>
  `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec: ${spec}`;
export const ccnp = (name: string, spec: string): string =>
  `apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: ${name}}\nspec: ${spec}`;
export const knp = (name: string, spec: string, namespace = 'ns'): string =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec: ${spec}`;

export const pod = (namespace: string, labels: Record<string, string>, extra: Partial<Peer> = {}): Peer => ({
  labels: [...Object.entries(labels).map(([k, v]) => `k8s:${k}=${v}`), 'k8s:io.cilium.k8s.policy.cluster=default'],
  namespace,
  ...extra,
});
export const WORLD: Peer = { labels: ['reserved:world'], identity: 2, ip: '8.8.8.8' };
export const HOST: Peer = { labels: ['reserved:host'], identity: 1, ip: '10.0.0.1' };
export const REMOTE_NODE: Peer = { labels: ['reserved:remote-node'], identity: 6, ip: '10.0.0.2' };
export const APISERVER: Peer = { labels: ['reserved:kube-apiserver'], identity: 7, ip: '10.96.0.1' };

export function tcp(set: PolicySet, source: Peer, destination: Peer, port: number, opts?: EvaluateOptions, extra: Partial<EvaluationRequest> = {}): Decision {
  return evaluate(set, { source, destination, protocol: 'TCP', port, ...extra }, opts);
}

/** Short outcome: `allowed`, or `<side>:<verdict>` of the blocking side. */
export function outcome(d: Decision): string {
  if (d.allowed) return 'allowed';
  const s = d.blockedAt === 'egress' ? d.egress : d.ingress;
  return `${s.direction}:${s.verdict}`;
}
