/**
 * Issue 12: no CIDR rule for an address the flows show as a cluster endpoint. Judged over the
 * whole graph: an address seen anywhere with one cluster identity is that peer; one seen with
 * several, or lying in a pod block or (reached like a node) in a node block, is left out with a note.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../../src/flow/index.js';
import { parsePolicies } from '../../../src/policy/index.js';
import { recommend } from '../../../src/recommend/index.js';
import { checkBaseline } from '../../../src/triage/index.js';
import { buildPolicySet } from '../../../src/policy/index.js';
import { renderRecommendationYaml } from '../../../src/report/index.js';
import { options } from '../../helpers/edges.js';
import { T0, flow, graphOf, lines, pod, reserved, world } from './builders.js';

const syn = { SYN: true };
const prom = pod('monitoring', 'prometheus-0', { 'app.kubernetes.io/name': 'prometheus' }, { kind: 'StatefulSet', name: 'prometheus' }, 5001);
const web = pod('shop', 'web-7d9c9b7c4d-x2x9z', { app: 'web' }, { kind: 'Deployment', name: 'web' }, 5002);
const api = pod('shop', 'api-6f7c8d9e0f-abcde', { app: 'api' }, { kind: 'Deployment', name: 'api' }, 5003);
const host = reserved(1, 'reserved:host');
const remote = reserved(6, 'reserved:remote-node');

const to = (src: Endpoint, dst: Endpoint, srcIp: string, dstIp: string, dport: number, t = T0) => flow({ src, dst, srcIp, dstIp, dport, flags: syn, t });

function recommended(flows: Parameters<typeof graphOf>[0]) {
  const { edges, workloads } = graphOf(flows);
  const rec = recommend(edges, workloads, options({ namespaces: 'all' }));
  const yaml = renderRecommendationYaml(rec);
  const parsed = parsePolicies(yaml, { file: 'rec.yaml' });
  expect(parsed.errors).toEqual([]);
  const check = checkBaseline(edges, workloads, buildPolicySet(parsed.policies));
  return { edges, rec, yaml, check };
}

describe('world addresses that the flows show as cluster endpoints', () => {
  it('a pod address Hubble once saw as world is that pod: the edge merges into the workload edge, no /32', () => {
    const flows = [to(prom, web, '10.244.1.5', '10.244.2.9', 8080), to(prom, world, '10.244.1.5', '10.244.2.9', 8080, T0 + 1000)];
    const { edges, yaml, check } = recommended(flows);
    expect(lines(edges)).toEqual(['monitoring/StatefulSet/prometheus -> shop/Deployment/web TCP/8080']);
    expect(edges[0]?.dstReserved ?? []).toEqual([]);
    expect(yaml).not.toMatch(/cidr/i);
    expect(check.wouldDrop).toEqual([]);
  });

  it('a node address seen as world from one pod and as host / remote-node elsewhere becomes those entities', () => {
    const flows = [
      to(prom, host, '10.244.1.5', '192.168.1.21', 9100),
      to(prom, remote, '10.244.1.5', '192.168.1.22', 9100),
      to(web, world, '10.244.2.9', '192.168.1.21', 10250),
      to(web, world, '10.244.2.9', '192.168.1.22', 10250),
    ];
    const { edges, yaml, check } = recommended(flows);
    expect(lines(edges).filter((l) => l.includes('web'))).toEqual([
      'shop/Deployment/web -> entity:host TCP/10250',
      'shop/Deployment/web -> entity:remote-node TCP/10250',
    ]);
    expect(edges.find((e) => e.to.kind === 'entity' && e.to.entity === 'host' && e.port === 10250)?.dstReserved).toEqual(['host']);
    expect(yaml).not.toMatch(/cidr/i);
    const webDoc = yaml.slice(yaml.indexOf('name: web'));
    expect(webDoc).toMatch(/toEntities:[^]*- host\b/);
    expect(webDoc).toMatch(/toEntities:[^]*- remote-node\b/);
    expect(check.wouldDrop).toEqual([]);
  });

  it('an address seen with two workloads (reused), or inside a pod block, is left out with a note that names it; check does not judge it', () => {
    const flows = [
      to(prom, web, '10.244.1.5', '10.244.2.9', 8080),
      to(prom, api, '10.244.1.5', '10.244.2.9', 9090, T0 + HOUR_MS),
      to(web, world, '10.244.2.200', '10.244.2.9', 8443, T0 + HOUR_MS / 2), // reused address, as world, between its holders
      to(api, world, '10.244.2.10', '10.244.1.77', 5432), // never seen, but in the pod block 10.244.1.0/24
      to(api, world, '10.244.2.10', '1.1.1.1', 443), // a real world address
    ];
    const { rec, yaml, check } = recommended(flows);
    const cidrs = [...yaml.matchAll(/cidr: (\S+)/g)].map((m) => m[1]);
    expect(cidrs).toEqual(['1.1.1.1/32']);
    const notes = rec.notes.filter((n) => n.kind === 'left-out').map((n) => n.message);
    expect(notes).toEqual([
      expect.stringMatching(/^to 10\.244\.1\.77 on TCP\/5432 is left out .*lies in 10\.244\.1\.0\/24, where the flows show pods \(monitoring\/StatefulSet\/prometheus\)/),
      expect.stringMatching(/^to 10\.244\.2\.9 on TCP\/8443 is left out .*seen as world, and in other flows as shop\/Deployment\/api, shop\/Deployment\/web, not one of them alone/),
    ]);
    expect(check.wouldDrop).toEqual([]);
    expect(check.unjudged.map((u) => u.reason)).toHaveLength(2);
  });

  it('a reused pod address is the workload that held it while the world-labelled traffic flowed', () => {
    const flows = [
      to(prom, web, '10.244.1.5', '10.244.2.9', 8080),
      to(prom, api, '10.244.1.5', '10.244.2.9', 9090, T0 + HOUR_MS),
      to(web, world, '10.244.2.200', '10.244.2.9', 9090, T0 + HOUR_MS + 1000),
    ];
    const { edges, yaml, check } = recommended(flows);
    expect(lines(edges)).toContain('shop/Deployment/web -> shop/Deployment/api TCP/9090');
    expect(yaml).not.toMatch(/cidr/i);
    expect(check.wouldDrop).toEqual([]);
    expect(check.unjudged).toEqual([]);
  });

  it('a world address in a node block is left out only when it was reached on a port the nodes were (a LAN device stays a CIDR peer)', () => {
    const flows = [
      to(prom, host, '10.244.1.5', '10.128.0.5', 9990),
      to(prom, world, '10.244.1.5', '10.128.0.3', 9990), // another node, seen as world (GKE)
      to(web, world, '10.244.2.9', '10.128.0.50', 80), // a printer on the node subnet
    ];
    const { rec, yaml, check } = recommended(flows);
    expect([...yaml.matchAll(/cidr: (\S+)/g)].map((m) => m[1])).toEqual(['10.128.0.50/32']);
    expect(rec.notes.filter((n) => n.kind === 'left-out').map((n) => n.message)).toEqual([
      expect.stringMatching(/^to 10\.128\.0\.3 on TCP\/9990 is left out .*with the nodes 10\.128\.0\.5 .*toEntities: \[remote-node\]/),
    ]);
    expect(check.wouldDrop).toEqual([]);
    expect(check.unjudged).toHaveLength(1);
  });
});

const HOUR_MS = 3_600_000;
