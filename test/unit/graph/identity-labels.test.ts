import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../../src/flow/index.js';
import { type NamespaceRecord, filterEdges, mergeNamespaceRecords, parsePeerPattern } from '../../../src/graph/index.js';
import { HOUR, T0, flow, graphOf, lines, reserved } from './builders.js';

/**
 * Issue 16: the model keeps what Cilium matches on. Endpoints are shaped like the public sample
 * ephico2real2-cilium-poc__26-flow-stranger-to-shop.observer.json (Cilium 1.20, cluster poc1).
 */
function samplePod(namespace: string, podName: string, app: string, nsLabels: Record<string, string>, identity: number): Endpoint {
  return {
    identity,
    clusterName: 'poc1',
    namespace,
    podName,
    labels: [
      `k8s:app.kubernetes.io/name=${app}`,
      `k8s:app=${app}`,
      ...Object.entries(nsLabels).map(([k, v]) => `k8s:io.cilium.k8s.namespace.labels.${k}=${v}`),
      'k8s:io.cilium.k8s.policy.cluster=poc1',
      'k8s:io.cilium.k8s.policy.serviceaccount=default',
      `k8s:io.kubernetes.pod.namespace=${namespace}`,
    ].sort(),
    workloads: [{ kind: 'Deployment', name: app }],
  };
}

const blue = { 'kubernetes.io/metadata.name': 'blue-ns', team: 'blue' };

describe('workloads keep identity labels, namespace labels and the cluster', () => {
  it('from flows shaped like Hubble 1.20 output', () => {
    const stranger = samplePod('blue-ns', 'stranger-6d7d797759-4ddlt', 'stranger', blue, 117659);
    const shop = samplePod('x', 'shop-6d7d797759-4ddlt', 'shop', { 'kubernetes.io/metadata.name': 'x' }, 94334);
    const { workloads, delta } = graphOf([flow({ src: stranger, dst: shop, dport: 80, flags: { SYN: true } })]);
    const s = workloads.find((w) => w.name === 'stranger');
    expect(s?.identityLabels).toEqual({
      app: 'stranger',
      'app.kubernetes.io/name': 'stranger',
      'io.cilium.k8s.policy.cluster': 'poc1',
      'io.cilium.k8s.policy.serviceaccount': 'default',
      'io.kubernetes.pod.namespace': 'blue-ns',
    });
    expect(s?.namespaceLabels).toEqual(blue);
    expect(s?.cluster).toBe('poc1');
    // Selector labels are unchanged: no namespace or Cilium metadata in them.
    expect(s?.labels).toEqual({ app: 'stranger', 'app.kubernetes.io/name': 'stranger' });
    expect(delta.namespaces?.get('x')?.labels).toEqual(['kubernetes.io/metadata.name=x']);
  });

  it('a relabelled namespace: the newest identity wins, whatever the order of flows', () => {
    const shop = samplePod('x', 'shop-6d7d797759-4ddlt', 'shop', { 'kubernetes.io/metadata.name': 'x' }, 94334);
    const before = samplePod('blue-ns', 'stranger-6d7d797759-4ddlt', 'stranger', { 'kubernetes.io/metadata.name': 'blue-ns' }, 117659);
    const after = samplePod('blue-ns', 'stranger-6d7d797759-4ddlt', 'stranger', blue, 117660);
    const f1 = flow({ src: before, dst: shop, dport: 80, t: T0 });
    const f2 = flow({ src: after, dst: shop, dport: 80, t: T0 + HOUR });
    for (const order of [[f1, f2], [f2, f1]]) {
      expect(graphOf(order).workloads.find((w) => w.name === 'stranger')?.namespaceLabels).toEqual(blue);
    }
  });

  it('field-masked endpoints (no labels) say nothing about their namespace', () => {
    const masked: Endpoint = { namespace: 'x', podName: 'shop-6d7d797759-4ddlt', labels: [], workloads: [] };
    const { delta, workloads } = graphOf([flow({ src: masked, dst: masked, dport: 80 })]);
    expect(delta.namespaces?.size ?? 0).toBe(0);
    expect(workloads[0]?.namespaceLabels).toBeUndefined();
  });

  it('namespace records merge associatively and commutatively', () => {
    const rec = fc.record({
      namespace: fc.constant('ns'),
      labels: fc.uniqueArray(fc.constantFrom('a=1', 'b=2', 'team=blue', 'team=red'), { maxLength: 3 }).map((l) => [...l].sort()),
      seenMs: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(rec, rec, rec, (a: NamespaceRecord, b: NamespaceRecord, c: NamespaceRecord) => {
        expect(mergeNamespaceRecords(a, b)).toEqual(mergeNamespaceRecords(b, a));
        expect(mergeNamespaceRecords(mergeNamespaceRecords(a, b), c)).toEqual(mergeNamespaceRecords(a, mergeNamespaceRecords(b, c)));
      }),
    );
  });
});

describe('edges keep every reserved label of the identities at their ends', () => {
  const pod = samplePod('x', 'shop-6d7d797759-4ddlt', 'shop', { 'kubernetes.io/metadata.name': 'x' }, 94334);
  // kubeadm/Talos/k3s: the API server runs on the control-plane nodes.
  const apiRemote = reserved(7, 'reserved:kube-apiserver', 'reserved:remote-node');
  const apiLocal = reserved(1, 'reserved:host', 'reserved:kube-apiserver');

  it('one kube-apiserver edge, both identities kept', () => {
    const { edges } = graphOf([
      flow({ src: apiRemote, dst: pod, dport: 8443, srcIp: '172.18.0.3' }),
      flow({ src: apiLocal, dst: pod, dport: 8443, srcIp: '172.18.0.2' }),
      flow({ src: pod, dst: reserved(7), dport: 6443, dstIp: '172.18.0.3' }),
    ]);
    expect(lines(edges)).toEqual(['entity:kube-apiserver -> x/Deployment/shop TCP/8443', 'x/Deployment/shop -> entity:kube-apiserver TCP/6443']);
    expect(edges[0]?.srcReserved).toEqual(['host+kube-apiserver', 'kube-apiserver+remote-node']);
    expect(edges[0]?.dstReserved).toEqual([]);
    // Identity 7 without labels (field mask) is kube-apiserver + remote-node.
    expect(edges[1]?.dstReserved).toEqual(['kube-apiserver+remote-node']);
  });

  it('edges --from/--to an entity find the ends whose identity carries it (the API server on control-plane nodes is remote-node too)', () => {
    const { edges } = graphOf([
      flow({ src: apiRemote, dst: pod, dport: 8443, srcIp: '172.18.0.3' }),
      flow({ src: pod, dst: reserved(7), dport: 6443, dstIp: '172.18.0.3' }),
      flow({ src: reserved(6, 'reserved:remote-node'), dst: pod, dport: 10250, srcIp: '172.18.0.4' }),
    ]);
    const pick = (f: { from?: string; to?: string }) =>
      lines(filterEdges(edges, { ...(f.from && { from: [parsePeerPattern(f.from)] }), ...(f.to && { to: [parsePeerPattern(f.to)] }) }));
    expect(pick({ from: 'remote-node' })).toEqual(['entity:kube-apiserver -> x/Deployment/shop TCP/8443', 'entity:remote-node -> x/Deployment/shop TCP/10250']);
    expect(pick({ to: 'remote-node' })).toEqual(['x/Deployment/shop -> entity:kube-apiserver TCP/6443']);
    expect(pick({ from: 'kube-apiserver' })).toEqual(['entity:kube-apiserver -> x/Deployment/shop TCP/8443']);
    expect(pick({ from: 'host' })).toEqual([]);
  });

  it('world identities keep their family label', () => {
    const { edges } = graphOf([
      flow({ src: pod, dst: reserved(9, 'reserved:world-ipv4'), dport: 443, dstIp: '1.1.1.1' }),
      flow({ src: pod, dst: reserved(16777217, 'cidr:1.1.1.1/32', 'reserved:world'), dport: 443, dstIp: '1.1.1.1' }),
    ]);
    expect(edges.map((e) => e.dstReserved)).toEqual([['world', 'world-ipv4']]);
  });
});
