/**
 * drops: a fix never allows a cluster endpoint by CIDR. A world-labelled address that the database
 * shows as a pod is allowed by its workload's selector; one no identity explains gets no patch and
 * a note that says why (issue 12).
 */
import { describe, expect, it } from 'vitest';
import type { Flow } from '../../../src/flow/index.js';
import { indexClusterIps, resolveEnd, resolveWorkloads, EMPTY_WORKLOAD_CONFIG, type ClusterIpRecord, type WorkloadInfo } from '../../../src/graph/index.js';
import { groupDrops, triageDrops } from '../../../src/triage/index.js';
import { cnp, drop, load, podEp } from './triage-helpers.js';

const T = 1_700_000_000_000;
const web: WorkloadInfo = {
  namespace: 'ns',
  kind: 'Deployment',
  name: 'web',
  selector: { app: 'web' },
  labels: { app: 'web' },
  unique: true,
  overlapsWith: [],
  labelSets: 1,
  firstSeenMs: T,
  lastSeenMs: T,
};
const record = (ip: string, peer: string): ClusterIpRecord => ({ ip, peer, flows: 3, firstSeenMs: T - 1000, lastSeenMs: T + 1000 });
const clusterIps = indexClusterIps([record('10.244.2.9', 'w:ns/Deployment/web'), record('10.244.2.5', 'w:ns/Deployment/web')], [], (p) => resolveEnd(p, resolveWorkloads([], EMPTY_WORKLOAD_CONFIG)));

const toWorld = (ip: string): Flow =>
  drop({ source: podEp('ns', 'client'), destination: { identity: 2, labels: ['reserved:world'], workloads: [] }, ip: { source: '10.244.1.4', destination: ip, ipVersion: 'IPv4' }, trafficDirection: 'EGRESS', timeMs: T } as Partial<Flow>);

describe('drops fixes for cluster endpoints Hubble saw as world', () => {
  const policies = load(cnp('client', '{endpointSelector: {matchLabels: {app: client}}, egress: [{toEntities: [kube-apiserver]}]}'));

  it('a pod address is allowed by its workload selector, not by CIDR', () => {
    const [t] = triageDrops(groupDrops([toWorld('10.244.2.9')]), policies, { workloads: [web], clusterIps, evaluate: { clusterName: 'default' } });
    expect(t?.explanation.patches.map((p) => p.ops)).toEqual([
      [{ op: 'add', path: '/spec/egress/-', value: { toEndpoints: [{ matchLabels: { app: 'web' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] } }],
    ]);
    expect(JSON.stringify(t?.explanation.patches.map((p) => p.ops))).not.toMatch(/CIDR/);
    expect(t?.explanation.patches[0]?.description).toContain('Hubble saw this address as world');
    expect(t?.explanation.allowedAfterPatches).toBe(true);
  });

  it('an address in a pod block that no flow names gets no patch, and a note that says why', () => {
    const [t] = triageDrops(groupDrops([toWorld('10.244.2.77')]), policies, { workloads: [web], clusterIps, evaluate: { clusterName: 'default' } });
    expect(t?.explanation.patches).toEqual([]);
    expect(t?.explanation.notes.join('\n')).toMatch(/cannot name the destination of this flow in a rule: 10\.244\.2\.77 was seen as world but lies in 10\.244\.2\.0\/24/);
  });

  it('without the index (an older database) the world address stays a CIDR, as before', () => {
    const [t] = triageDrops(groupDrops([toWorld('10.244.2.77')]), policies, { workloads: [web], evaluate: { clusterName: 'default' } });
    expect(JSON.stringify(t?.explanation.patches)).toContain('toCIDRSet');
  });
});
