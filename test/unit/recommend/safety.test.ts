import { describe, expect, it } from 'vitest';
import { MAX_WORLD_ADDRESSES } from '../../../src/recommend/cilium.js';
import { recommend } from '../../../src/recommend/index.js';
import { recommendationEvidenceJson, recommendationJson, renderRecommendationYaml } from '../../../src/report/index.js';
import { cidr, edge, entity, options, wl, workload } from '../../helpers/edges.js';

const web = wl('apps', 'Deployment', 'web');
const bare = wl('apps', 'Pod', 'debug-shell');
const workloads = [workload('apps', 'Deployment', 'web', { app: 'web' }), workload('apps', 'Pod', 'debug-shell', {})];

describe('selectors never wider than the workload', () => {
  const r = recommend([edge(bare, web, 'TCP', 80), edge(web, bare, 'TCP', 22)], workloads, options());

  it('a workload without a stable label gets no policy, and a warning names a label to add', () => {
    expect(r.policies.map((p) => p.document.metadata.name)).toEqual(['web']);
    expect(r.warnings).toContainEqual(expect.stringMatching(/apps\/debug-shell \(Pod\): its pods share no stable label, so no policy was written for it; add a label such as app\.kubernetes\.io\/name=debug-shell/));
  });

  it('no generated policy has an empty endpointSelector', () => {
    for (const p of r.policies) expect(Object.keys((p.document.spec?.['endpointSelector'] as { matchLabels: object }).matchLabels)).not.toEqual([]);
  });

  it('a selector that also matches another workload is noted', () => {
    const overlapping = [{ ...workloads[0], unique: false, overlapsWith: ['apps/Deployment/web-canary'] }] as typeof workloads;
    const r2 = recommend([edge(entity('host'), web, 'TCP', 80)], overlapping, options());
    expect(r2.notes).toContainEqual(expect.objectContaining({ policy: 'web', kind: 'widening', message: expect.stringContaining('also matches pods of apps/Deployment/web-canary') }));
  });
});

describe('label keys no pod can carry', () => {
  // fast-check found it: `1:20` read as a Cilium source prefix `1:` passed, and the NetworkPolicy
  // written with it failed the API server's (and our schema's) label-key check.
  const odd = wl('apps', 'Deployment', 'odd');
  const ws = [...workloads.slice(0, 1), workload('apps', 'Deployment', 'odd', { '1:20': 'web' })];
  for (const kind of ['cilium', 'kubernetes'] as const) {
    it(`a key with a colon gets no policy and is never written (${kind})`, () => {
      const r = recommend([edge(odd, web, 'TCP', 80)], ws, options({ kind }));
      expect(r.policies.map((p) => p.document.metadata.name)).not.toContain('odd');
      expect(renderRecommendationYaml(r)).not.toContain('1:20');
    });
  }
});

describe('many world peers of one workload', () => {
  const clients = Array.from({ length: 3000 }, (_, i) => edge(cidr(`198.18.${i >> 8}.${i & 255}/32`), web, 'TCP', 443));
  const r = recommend(clients, workloads, options());
  const ingress = r.policies[0]?.document.spec?.['ingress'] as Record<string, unknown>[];

  it('become one reviewable world rule, with the widening noted, never thousands of /32s', () => {
    expect(ingress).toEqual([{ fromEntities: ['world'], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] }]);
    expect(r.notes).toContainEqual(expect.objectContaining({ kind: 'widening', message: expect.stringContaining('3000 external addresses were observed as clients on TCP/443') }));
    expect(JSON.stringify(r.policies)).not.toContain('CIDR');
  });

  it(`up to ${MAX_WORLD_ADDRESSES} addresses stay /32s`, () => {
    const few = recommend(clients.slice(0, MAX_WORLD_ADDRESSES), workloads, options());
    const rules = few.policies[0]?.document.spec?.['ingress'] as Record<string, unknown>[];
    expect((rules[0]?.['fromCIDRSet'] as unknown[]).length).toBe(MAX_WORLD_ADDRESSES);
  });
});

describe('-o json', () => {
  const r = recommend([edge(entity('host'), web, 'TCP', 80)], workloads, options({ baseline: true }));

  it('is a kind: List of plain policy documents, with nothing the API server would prune', () => {
    const list = recommendationJson(r) as { apiVersion: string; kind: string; items: Record<string, unknown>[] };
    expect(list.apiVersion).toBe('v1');
    expect(list.kind).toBe('List');
    for (const item of list.items) {
      expect(Object.keys(item).sort()).toEqual(item['specs'] ? ['apiVersion', 'kind', 'metadata', 'specs'] : ['apiVersion', 'kind', 'metadata', 'spec']);
      expect(Object.keys(item['metadata'] as object).every((k) => ['name', 'namespace', 'labels'].includes(k))).toBe(true);
    }
  });

  it('keeps the evidence for programs in a separate document', () => {
    const ev = recommendationEvidenceJson(r) as { policies: { name: string; evidence: Record<string, string> }[]; cilium: unknown };
    expect(ev.policies.find((p) => p.name === 'web')?.evidence['spec.ingress[0]']).toMatch(/^from entity host on TCP\/80: 120 flows/);
    expect(ev.cilium).toEqual({ target: { major: 1, minor: 18 }, requires: { version: { major: 1, minor: 16 }, because: 'enableDefaultDeny in the cluster-wide baseline' } });
  });
});

describe('--cilium-version', () => {
  it('says which Cilium the output is for and which it needs', () => {
    const yaml = renderRecommendationYaml(recommend([edge(entity('host'), web, 'TCP', 80)], workloads, options({ baseline: true })));
    expect(yaml).toContain('# Written for Cilium 1.18 (--cilium-version); needs Cilium 1.16 or newer for enableDefaultDeny in the cluster-wide baseline.');
    expect(yaml).toMatch(/info: needs Cilium 1\.16 or newer \(enableDefaultDeny\)/);
  });

  it('never uses enableDefaultDeny for a Cilium that lacks it: no baseline, DNS per workload, and a warning', () => {
    const r = recommend([edge(entity('host'), web, 'TCP', 80)], workloads, options({ baseline: true, ciliumVersion: { major: 1, minor: 15 } }));
    expect(JSON.stringify(r.policies)).not.toContain('enableDefaultDeny');
    expect(JSON.stringify(r.policies)).toContain('kube-dns');
    expect(r.warnings.join('\n')).toMatch(/--baseline needs enableDefaultDeny \(Cilium 1\.16\+\), not in Cilium 1\.15/);
  });
});

describe('--kind kubernetes', () => {
  const postgres = wl('dbms', 'Cluster', 'postgres');
  const operator = wl('cnpg-system', 'Deployment', 'cnpg-controller-manager');
  const ws = [workload('dbms', 'Cluster', 'postgres', { 'cnpg.io/cluster': 'postgres' }), workload('cnpg-system', 'Deployment', 'cnpg-controller-manager', { 'app.kubernetes.io/name': 'cloudnative-pg' })];
  const r = recommend(
    [edge(operator, postgres, 'TCP', 8000), edge(postgres, postgres, 'TCP', 8000), edge(postgres, postgres, 'TCP', 5432), edge(postgres, entity('kube-apiserver'), 'TCP', 6443)],
    ws,
    options({ kind: 'kubernetes', namespaces: ['dbms'] }),
  );

  it('never advises an ipBlock for the kube-apiserver (Cilium never matches it by IP)', () => {
    const w = r.warnings.join('\n');
    expect(w).toMatch(/egress left unenforced: NetworkPolicy cannot express entity kube-apiserver/);
    expect(w).toMatch(/on Cilium an ipBlock never matches the kube-apiserver/);
    expect(w).not.toMatch(/add ipBlock/);
  });

  it('lints read the NetworkPolicy it wrote: 8000 from cnpg-system and from the instances is allowed', () => {
    expect(r.lints.filter((l) => l.rule === 'cnpg-instance-manager')).toEqual([]);
    const noOperator = recommend([edge(postgres, postgres, 'TCP', 8000), edge(operator, postgres, 'TCP', 5432)], ws, options({ kind: 'kubernetes', namespaces: ['dbms'] }));
    expect(noOperator.lints).toContainEqual(expect.objectContaining({ rule: 'cnpg-instance-manager', message: expect.stringContaining('the operator (cnpg-system)') }));
  });
});
