import { expect } from 'vitest';
import type { Flow } from '../../../src/flow/index.js';
import { parsePolicies, type Policy } from '../../../src/policy/index.js';

/** Policies from YAML; fails the test on any parse error. */
export function load(...docs: string[]): Policy[] {
  const r = parsePolicies(docs.join('\n---\n'), { file: 'test.yaml' });
  expect(r.errors).toEqual([]);
  return r.policies;
}

export const cnp = (name: string, spec: string, namespace = 'ns'): string =>
  `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec: ${spec}`;
export const knp = (name: string, spec: string, namespace = 'ns'): string =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec: ${spec}`;

export const podEp = (namespace: string, app: string, pod = `${app}-7d9c9b7c4d-x2x9z`, identity = 1000) => ({
  identity,
  namespace,
  clusterName: 'default',
  labels: [`k8s:app=${app}`, `k8s:io.kubernetes.pod.namespace=${namespace}`, 'k8s:io.cilium.k8s.policy.cluster=default', `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${namespace}`],
  podName: pod,
  workloads: [{ name: app, kind: 'Deployment' }],
});

let seq = 0;
/** A dropped TCP SYN between two endpoints. */
export function drop(over: Partial<Flow> & { timeMs?: number; sport?: number; dport?: number } = {}): Flow {
  const { sport = 40000, dport = 80, timeMs = 1_700_000_000_000, ...rest } = over;
  seq++;
  return {
    time: new Date(timeMs).toISOString(),
    timeMs,
    uuid: `u-${seq}`,
    verdict: 'DROPPED',
    dropReason: 'POLICY_DENIED',
    dropReasonCode: 133,
    ip: { source: '10.0.1.1', destination: '10.0.2.2', ipVersion: 'IPv4' },
    l4: { protocol: 'TCP', sourcePort: sport, destinationPort: dport, flags: { SYN: true } },
    source: podEp('ns', 'client'),
    destination: podEp('ns', 'web'),
    sourceNames: [],
    destinationNames: [],
    trafficDirection: 'INGRESS',
    eventType: { type: 1, subType: 133 },
    egressAllowedBy: [],
    ingressAllowedBy: [],
    egressDeniedBy: [],
    ingressDeniedBy: [],
    ...rest,
  } as Flow;
}
