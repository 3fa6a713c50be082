import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../../src/flow/index.js';
import { classifyEndpoint, ownerFromPodName, rawPeerKey } from '../../../src/graph/index.js';
import { pod, reserved } from './builders.js';

const key = (ep: Endpoint, ip?: string): string | undefined => {
  const p = classifyEndpoint(ep, ip);
  return p && rawPeerKey(p);
};

describe('classifyEndpoint: reserved identities are entities', () => {
  it.each([
    ['host by id', reserved(1), 'e:host'],
    ['host by label', { labels: ['reserved:host'], workloads: [] }, 'e:host'],
    ['remote-node', reserved(6, 'reserved:remote-node'), 'e:remote-node'],
    ['health', reserved(4, 'reserved:health'), 'e:health'],
    ['ingress', reserved(8, 'reserved:ingress'), 'e:ingress'],
    ['init', reserved(5, 'reserved:init'), 'e:init'],
    ['unmanaged', reserved(3, 'reserved:unmanaged'), 'e:unmanaged'],
    ['kube-apiserver by id', reserved(7, 'reserved:kube-apiserver'), 'e:kube-apiserver'],
    // hubble-api.md §2.3: the API server as a CIDR identity that also carries reserved:world.
    ['kube-apiserver with world', reserved(16777217, 'reserved:kube-apiserver', 'reserved:world'), 'e:kube-apiserver'],
    ['host-network API server', reserved(1, 'reserved:host', 'reserved:kube-apiserver'), 'e:kube-apiserver'],
  ] as const)('%s', (_name, ep, want) => {
    expect(key(ep as Endpoint, '10.96.0.1')).toBe(want);
  });

  it('kube-apiserver never becomes a CIDR even with an IP', () => {
    expect(classifyEndpoint(reserved(16777217, 'reserved:kube-apiserver', 'reserved:world'), '172.18.0.2')).toEqual({ kind: 'entity', entity: 'kube-apiserver' });
  });

  it.each([
    ['world', reserved(2, 'reserved:world')],
    ['world-ipv4', reserved(9, 'reserved:world-ipv4')],
    ['world-ipv6', reserved(10, 'reserved:world-ipv6')],
    ['CIDR identity', reserved(16777219, 'cidr:104.20.23.154/32', 'reserved:world')],
  ])('%s is a world IP when the address is known, else entity world', (_name, ep) => {
    expect(key(ep, '104.20.23.154')).toBe('ip:104.20.23.154');
    expect(key(ep, undefined)).toBe('e:world');
  });
});

describe('classifyEndpoint: pods are workloads, never pod names', () => {
  it.each([
    ['workloads[] wins', pod('media', 'jellyfin-6b9f7c8d5-abcde', { app: 'something-else' }, { kind: 'Deployment', name: 'jellyfin' }), 'w:media/Deployment/jellyfin'],
    ['CNPG instance → Cluster (no StatefulSet)', pod('dbms', 'postgres-1', { 'cnpg.io/cluster': 'postgres', 'cnpg.io/instanceName': 'postgres-1' }), 'w:dbms/Cluster/postgres'],
    ['CNPG wins over workloads[]', pod('dbms', 'postgres-2', { 'cnpg.io/cluster': 'postgres' }, { kind: 'StatefulSet', name: 'postgres' }), 'w:dbms/Cluster/postgres'],
    ['CNPG pooler is not an instance', pod('dbms', 'pooler-rw-7d9c9b7c4d-x2x9z', { 'cnpg.io/cluster': 'postgres', 'cnpg.io/poolerName': 'pooler-rw' }), 'w:dbms/~/pooler-rw'],
    ['StatefulSet pod-name label', pod('db', 'redis-2', { 'statefulset.kubernetes.io/pod-name': 'redis-2' }), 'w:db/StatefulSet/redis'],
    ['Job', pod('ops', 'migrate-xk2vb', { 'batch.kubernetes.io/job-name': 'migrate' }), 'w:ops/Job/migrate'],
    ['CronJob via its Job name', pod('ops', 'backup-29012345-xk2vb', { 'job-name': 'backup-29012345' }), 'w:ops/CronJob/backup'],
    ['app.kubernetes.io/name', pod('web', 'frontend-xyz', { 'app.kubernetes.io/name': 'frontend' }), 'w:web/~/frontend'],
    ['Helm release-chart confirmed by the pod name', pod('web', 'blog-wordpress-7d9c9b7c4d-x2x9z', { 'app.kubernetes.io/name': 'wordpress', 'app.kubernetes.io/instance': 'blog' }), 'w:web/~/blog-wordpress'],
    ['app label', pod('bookinfo', 'ratings-v1-b6994bb9-jgqxb', { app: 'ratings', version: 'v1' }), 'w:bookinfo/~/ratings'],
    ['k8s-app label', pod('kube-system', 'kube-dns-b4f5c58c7-vnx5s', { 'k8s-app': 'kube-dns' }), 'w:kube-system/~/kube-dns'],
    ['pod name only: Deployment hash stripped', { namespace: 'default', podName: 'deathstar-7848d6c4d5-th9v2', labels: [], workloads: [] }, 'w:default/~/deathstar'],
    ['pod name only: bare pod', { namespace: 'default', podName: 'xwing', labels: [], workloads: [] }, 'w:default/~/xwing'],
  ] as const)('%s', (_name, ep, want) => {
    expect(key(ep as Endpoint)).toBe(want);
  });

  it('an endpoint with nothing to go on is unidentified', () => {
    expect(classifyEndpoint({ labels: [], workloads: [] }, 'fe80::1')).toBeUndefined();
  });
});

describe('ownerFromPodName', () => {
  it.each([
    ['coredns-789c5fbdb4-vb8r9', 'Deployment', 'coredns'],
    ['ratings-v1-b6994bb9-jgqxb', 'Deployment', 'ratings-v1'],
    ['postgres-0', 'StatefulSet', 'postgres'],
    ['node-local-dns-88zrp', 'DaemonSet', 'node-local-dns'],
    ['backup-29012345-xk2vb', 'CronJob', 'backup'],
    ['my-app-debug', 'Pod', 'my-app-debug'],
    ['xwing', 'Pod', 'xwing'],
  ])('%s → %s %s', (podName, kind, name) => {
    expect(ownerFromPodName(podName)).toEqual({ kind, name });
  });
});

describe('classifyEndpoint: a pod behind a world identity', () => {
  // hubble-otel sample: reviews-v1's IP seen with identity 2 (reserved:world) but its pod named.
  it('is the pod\'s workload, never a CIDR peer (CIDR rules never match pods)', () => {
    const ep = { identity: 2, labels: ['reserved:world'], namespace: 'bookinfo', podName: 'reviews-v1-545db77b95-j2n72', workloads: [] } as unknown as Endpoint;
    expect(classifyEndpoint(ep, '10.244.1.109')).toEqual({ kind: 'workload', namespace: 'bookinfo', workloadKind: undefined, name: 'reviews-v1' });
  });

  it('without a pod name it stays a world address', () => {
    expect(classifyEndpoint({ identity: 2, labels: ['reserved:world'], workloads: [] } as unknown as Endpoint, '10.128.0.3')).toEqual({ kind: 'world-ip', ip: '10.128.0.3' });
  });
});
