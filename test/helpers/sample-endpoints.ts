import type { Endpoint } from '../../src/flow/index.js';

/**
 * A pod endpoint shaped like the poc1 flows in ../shared/samples
 * (ephico2real2-cilium-poc__26-flow-stranger-to-shop.observer.json, Cilium 1.20): own labels,
 * namespace labels, cluster, service account, pod namespace, owner.
 */
export function samplePod(namespace: string, app: string, nsLabels: Record<string, string>, identity: number, cluster = 'poc1'): Endpoint {
  return {
    identity,
    clusterName: cluster,
    namespace,
    podName: `${app}-6d7d797759-4ddlt`,
    labels: [
      `k8s:app.kubernetes.io/name=${app}`,
      `k8s:app=${app}`,
      ...Object.entries({ 'kubernetes.io/metadata.name': namespace, ...nsLabels }).map(([k, v]) => `k8s:io.cilium.k8s.namespace.labels.${k}=${v}`),
      `k8s:io.cilium.k8s.policy.cluster=${cluster}`,
      'k8s:io.cilium.k8s.policy.serviceaccount=default',
      `k8s:io.kubernetes.pod.namespace=${namespace}`,
    ].sort(),
    workloads: [{ kind: 'Deployment', name: app }],
  };
}
