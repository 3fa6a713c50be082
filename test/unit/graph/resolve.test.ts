import { describe, expect, it } from 'vitest';
import { type Endpoint } from '../../../src/flow/index.js';
import { parseWorkloadConfig, WorkloadConfigError } from '../../../src/graph/index.js';
import { T0, coredns, dnsResponse, flow, graphOf, immich, lines, pod, postgres1, postgres2, world } from './builders.js';

const toGithub = (client: Endpoint, t = T0 + 1000) => flow({ src: client, dst: world, dstIp: '140.82.121.6', dport: 443, flags: { SYN: true }, t });

describe('world peers: FQDN from DNS answers, else CIDR', () => {
  it('resolves an IP through the same client\'s DNS answer, even when the answer comes later', () => {
    const { edges } = graphOf([toGithub(immich, T0), dnsResponse(immich, coredns, 'GitHub.com', ['140.82.121.6'], T0 + 5000)]);
    expect(lines(edges)).toEqual(['self-hosted/Deployment/immich-server -> fqdn:github.com TCP/443']);
    expect(edges[0]!.ips).toEqual(['140.82.121.6']);
  });

  it('another client\'s answer does not name the IP', () => {
    const other = pod('media', 'jellyfin-7d9c9b7c4d-x2x9z', { app: 'jellyfin' }, { kind: 'Deployment', name: 'jellyfin' });
    const { edges } = graphOf([toGithub(immich), dnsResponse(other, coredns, 'github.com', ['140.82.121.6'])]);
    expect(edges.map((e) => e.to)).toEqual([{ kind: 'cidr', cidr: '140.82.121.6/32' }]);
  });

  it('falls back to Hubble destination_names', () => {
    const { edges } = graphOf([flow({ src: immich, dst: world, dstIp: '104.20.23.154', dport: 443, destinationNames: ['example.com'] })]);
    expect(edges[0]!.to).toEqual({ kind: 'fqdn', fqdn: 'example.com' });
  });

  it('several IPs of one name merge into one FQDN edge', () => {
    const { edges } = graphOf([
      flow({ src: immich, dst: world, dstIp: '140.82.121.6', dport: 443 }),
      flow({ src: immich, dst: world, dstIp: '140.82.121.4', dport: 443, t: T0 + 3_600_000 }),
      dnsResponse(immich, coredns, 'github.com', ['140.82.121.6', '140.82.121.4']),
    ]);
    expect(edges).toHaveLength(1);
    expect(edges[0]).toMatchObject({ to: { kind: 'fqdn', fqdn: 'github.com' }, ips: ['140.82.121.4', '140.82.121.6'], flows: 2, hoursSeen: 2 });
  });

  it('several names on one IP: the edge is reported under each, naming the others', () => {
    const { edges } = graphOf([
      toGithub(immich),
      dnsResponse(immich, coredns, 'github.com', ['140.82.121.6']),
      dnsResponse(immich, coredns, 'api.github.com', ['140.82.121.6']),
    ]);
    expect(edges.map((e) => [e.to, e.sharedIpWith])).toEqual([
      [{ kind: 'fqdn', fqdn: 'api.github.com' }, ['github.com']],
      [{ kind: 'fqdn', fqdn: 'github.com' }, ['api.github.com']],
    ]);
  });

  it('an unresolved private IP is a /32 with its enclosing range', () => {
    const { edges } = graphOf([flow({ src: immich, dst: world, dstIp: '192.168.1.20', dport: 445 })]);
    expect(edges[0]!.to).toEqual({ kind: 'cidr', cidr: '192.168.1.20/32', enclosing: [{ cidr: '192.168.0.0/16', name: 'private (RFC 1918)' }] });
  });
});

describe('workload resolution', () => {
  it('a field-masked pod (no workloads[]) with the same labels becomes its owner-known workload', () => {
    const masked: Endpoint = { ...coredns, workloads: [], identity: 80806 };
    const { edges } = graphOf([
      flow({ src: immich, dst: coredns, proto: 'UDP', dport: 53 }),
      flow({ src: immich, dst: masked, proto: 'UDP', dport: 53, t: T0 + 10 }),
    ]);
    expect(lines(edges)).toEqual(['self-hosted/Deployment/immich-server -> kube-system/Deployment/coredns UDP/53']);
    expect(edges[0]!.flows).toBe(2);
  });

  it('an inferred workload takes its kind from the pod-name shape', () => {
    const bare = pod('bookinfo', 'ratings-v1-b6994bb9-jgqxb', { app: 'ratings', version: 'v1' });
    const { edges } = graphOf([flow({ src: bare, dst: postgres1 })]);
    expect(edges[0]!.from).toEqual({ kind: 'workload', namespace: 'bookinfo', workloadKind: 'Deployment', name: 'ratings' });
  });

  it('user rules override identity at read time', () => {
    const config = parseWorkloadConfig({ workloadRules: [{ label: 'app.kubernetes.io/name', kind: 'App', namespaces: ['self-hosted'] }] });
    const { edges } = graphOf([flow({ src: immich, dst: postgres1 })], config);
    expect(edges[0]!.from).toEqual({ kind: 'workload', namespace: 'self-hosted', workloadKind: 'App', name: 'immich' });
  });

  it('rejects a malformed config with the field path', () => {
    expect(() => parseWorkloadConfig({ workloadRules: [{ label: 'cnpg.io/cluster' }] })).toThrow(WorkloadConfigError);
    expect(() => parseWorkloadConfig({ workloadRules: [{ label: 'x', kind: 'K', extra: 1 }] })).toThrow(/workloadRules\[0\]\.extra/);
  });
});

describe('selector labels', () => {
  it('CNPG instances: one Cluster workload, volatile per-instance labels dropped', () => {
    const app = pod('dbms', 'pgadmin-7d9c9b7c4d-x2x9z', { 'app.kubernetes.io/name': 'pgadmin' }, { kind: 'Deployment', name: 'pgadmin' });
    const { workloads } = graphOf([flow({ src: immich, dst: postgres1 }), flow({ src: immich, dst: postgres2 }), flow({ src: app, dst: postgres1 })]);
    const pg = workloads.find((w) => w.name === 'postgres')!;
    expect(pg).toMatchObject({ kind: 'Cluster', selector: { 'cnpg.io/cluster': 'postgres' }, unique: true, labelSets: 2 });
    expect(Object.keys(pg.labels)).not.toContain('cnpg.io/instanceName');
    expect(Object.keys(pg.labels)).not.toContain('role');
    const im = workloads.find((w) => w.name === 'immich-server')!;
    expect(im.selector).toEqual({ 'app.kubernetes.io/name': 'immich' });
  });

  it('adds a second key only when needed to exclude another workload', () => {
    const server = pod('media', 'immich-server-7d9c9b7c4d-x2x9z', { 'app.kubernetes.io/name': 'immich', 'app.kubernetes.io/component': 'server', 'pod-template-hash': '7d9c9b7c4d' }, { kind: 'Deployment', name: 'immich-server' });
    const ml = pod('media', 'immich-ml-5c8b7f6d4d-q2w9z', { 'app.kubernetes.io/name': 'immich', 'app.kubernetes.io/component': 'machine-learning' }, { kind: 'Deployment', name: 'immich-ml' });
    const { workloads } = graphOf([flow({ src: server, dst: ml, dport: 3003 })]);
    expect(workloads.map((w) => [w.name, w.selector])).toEqual([
      ['immich-ml', { 'app.kubernetes.io/component': 'machine-learning', 'app.kubernetes.io/name': 'immich' }],
      ['immich-server', { 'app.kubernetes.io/component': 'server', 'app.kubernetes.io/name': 'immich' }],
    ]);
  });

  it('reports when no label subset is unique', () => {
    const a = pod('x', 'a-7d9c9b7c4d-x2x9z', { app: 'shared' }, { kind: 'Deployment', name: 'a' });
    const b = pod('x', 'b-7d9c9b7c4d-x2x9z', { app: 'shared', tier: 'db' }, { kind: 'Deployment', name: 'b' });
    const { workloads } = graphOf([flow({ src: a, dst: b })]);
    expect(workloads.find((w) => w.name === 'a')).toMatchObject({ unique: false, overlapsWith: ['Deployment/b'] });
    expect(workloads.find((w) => w.name === 'b')).toMatchObject({ unique: true, selector: { app: 'shared', tier: 'db' } });
  });
});
