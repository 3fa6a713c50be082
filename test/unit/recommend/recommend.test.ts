import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { recommend } from '../../../src/recommend/index.js';
import { renderRecommendationYaml } from '../../../src/report/index.js';
import { T0, T1, cidr, edge, entity, fqdn, options, wl, workload } from '../../helpers/edges.js';

const postgres = wl('dbms', 'Cluster', 'postgres');
const immich = wl('self-hosted', 'Deployment', 'immich');
const operator = wl('cnpg-system', 'Deployment', 'cnpg-controller-manager');
const coredns = wl('kube-system', 'Deployment', 'coredns');
const workloads = [
  workload('dbms', 'Cluster', 'postgres', { 'cnpg.io/cluster': 'postgres' }),
  workload('self-hosted', 'Deployment', 'immich', { 'app.kubernetes.io/name': 'immich', 'app.kubernetes.io/instance': 'immich' }),
  workload('cnpg-system', 'Deployment', 'cnpg-controller-manager', { 'app.kubernetes.io/name': 'cloudnative-pg' }),
  workload('kube-system', 'Deployment', 'coredns', { 'k8s-app': 'kube-dns' }),
];
const edges = [
  edge(immich, postgres, 'TCP', 5432),
  edge(operator, postgres, 'TCP', 8000),
  edge(postgres, postgres, 'TCP', 5432),
  edge(postgres, postgres, 'TCP', 8000),
  edge(entity('host'), postgres, 'TCP', 8000),
  edge(postgres, entity('kube-apiserver'), 'TCP', 443),
  edge(postgres, coredns, 'UDP', 53),
  edge(immich, coredns, 'UDP', 53),
  edge(immich, fqdn('api.github.com'), 'TCP', 443),
  edge(immich, cidr('203.0.113.9/32'), 'TCP', 443),
];

function spec(r: ReturnType<typeof recommend>, name: string): Record<string, unknown> {
  const p = r.policies.find((x) => x.document.metadata.name === name);
  if (!p?.document.spec) throw new Error(`no policy ${name}`);
  return p.document.spec;
}

describe('recommend (cilium)', () => {
  const r = recommend(edges, workloads, options({ namespaces: ['dbms'] }));

  it('makes one CiliumNetworkPolicy per workload of the selected namespace, selected by stable labels', () => {
    expect(r.policies.map((p) => `${p.document.kind} ${p.document.metadata.namespace}/${p.document.metadata.name}`)).toEqual([
      'CiliumNetworkPolicy dbms/postgres',
    ]);
    expect(spec(r, 'postgres')['endpointSelector']).toEqual({ matchLabels: { 'cnpg.io/cluster': 'postgres' } });
  });

  it('allows 8000 from the CNPG operator with its namespace, and replication between instances', () => {
    const ingress = spec(r, 'postgres')['ingress'] as Record<string, unknown>[];
    expect(ingress).toContainEqual({
      fromEndpoints: [{ matchLabels: { 'app.kubernetes.io/name': 'cloudnative-pg', 'k8s:io.kubernetes.pod.namespace': 'cnpg-system' } }],
      toPorts: [{ ports: [{ port: '8000', protocol: 'TCP' }] }],
    });
    expect(ingress).toContainEqual({
      fromEndpoints: [{ matchLabels: { 'cnpg.io/cluster': 'postgres' } }],
      toPorts: [{ ports: [{ port: '5432', protocol: 'TCP' }, { port: '8000', protocol: 'TCP' }] }],
    });
  });

  it('allows kubelet probes as fromEntities host and the API server as an entity, never a CIDR', () => {
    const s = spec(r, 'postgres');
    expect(s['ingress']).toContainEqual({ fromEntities: ['host'], toPorts: [{ ports: [{ port: '8000', protocol: 'TCP' }] }] });
    expect(s['egress']).toContainEqual({ toEntities: ['kube-apiserver'], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] });
    expect(JSON.stringify(s)).not.toMatch(/CIDR/);
  });

  it('lets DNS through the DNS proxy (dns matchPattern) on UDP and TCP 53, although only UDP was observed', () => {
    expect(spec(r, 'postgres')['egress']).toContainEqual({
      toEndpoints: [{ matchLabels: { 'k8s-app': 'kube-dns', 'k8s:io.kubernetes.pod.namespace': 'kube-system' } }],
      toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }], rules: { dns: [{ matchPattern: '*' }] } }],
    });
  });

  it('uses toFQDNs for DNS-learned names and /32 toCIDRSet otherwise', () => {
    const all = recommend(edges, workloads, options());
    const egress = spec(all, 'immich')['egress'] as Record<string, unknown>[];
    expect(egress).toContainEqual({ toFQDNs: [{ matchName: 'api.github.com' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] });
    expect(egress).toContainEqual({ toCIDRSet: [{ cidr: '203.0.113.9/32' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] });
  });

  it('never allows a dropped edge, and lists it in the notes', () => {
    const dropped = edge(wl('dbms', 'Deployment', 'pgadmin'), postgres, 'TCP', 5432, { forwarded: 0, dropped: 7, dropReasons: { POLICY_DENIED: 7 } });
    const r2 = recommend([...edges, dropped], workloads, options({ namespaces: ['dbms'] }));
    expect(JSON.stringify(spec(r2, 'postgres')['ingress'])).not.toContain('pgadmin');
    expect(r2.notes.some((n) => n.kind === 'dropped' && n.message.includes('dbms/pgadmin') && n.message.includes('POLICY_DENIED'))).toBe(true);
  });

  it('turns many contiguous ports into a range and notes the widening', () => {
    const many = Array.from({ length: 10 }, (_, i) => edge(immich, postgres, 'TCP', 30000 + i));
    const r2 = recommend(many, workloads, options({ namespaces: ['dbms'] }));
    expect(JSON.stringify(spec(r2, 'postgres')['ingress'])).toContain('"endPort":30009');
    expect(r2.notes.some((n) => n.kind === 'widening' && n.message.includes('30000-30009'))).toBe(true);
  });

  it('--baseline moves DNS and kube-apiserver into non-default-deny cluster-wide policies', () => {
    const b = recommend(edges, workloads, options({ namespaces: ['dbms'], baseline: true }));
    const kinds = b.policies.map((p) => `${p.document.kind}/${p.document.metadata.name}`);
    expect(kinds).toEqual([
      'CiliumClusterwideNetworkPolicy/hubble-advisor-baseline-dns',
      'CiliumClusterwideNetworkPolicy/hubble-advisor-baseline-kube-apiserver',
      'CiliumNetworkPolicy/postgres',
    ]);
    for (const p of b.policies.slice(0, 2)) {
      const specs = p.document.specs ?? [p.document.spec];
      for (const s of specs) expect(s?.['enableDefaultDeny']).toEqual({ ingress: false, egress: false });
    }
    const egress = JSON.stringify(spec(b, 'postgres')['egress']);
    expect(egress).not.toContain('kube-dns');
    expect(egress).not.toContain('kube-apiserver');
  });

  it('warns when the baseline is young or still growing', () => {
    const young = [edge(immich, postgres, 'TCP', 5432, { firstSeenMs: T1 - 3_600_000, lastSeenMs: T1 })];
    const w = recommend(young, workloads, options()).warnings.join('\n');
    expect(w).toMatch(/covers only 1\.0 h/);
    expect(w).toMatch(/still growing/);
  });

  it('is deterministic: shuffled input, same YAML bytes', () => {
    const shuffled = [...edges].reverse();
    const a = renderRecommendationYaml(recommend(edges, workloads, options()));
    const b = renderRecommendationYaml(recommend(shuffled, [...workloads].reverse(), options()));
    expect(b).toBe(a);
    expect(parseAllDocuments(a).every((d) => d.errors.length === 0)).toBe(true);
  });

  it('puts evidence above every rule', () => {
    const yaml = renderRecommendationYaml(r);
    expect(yaml).toMatch(/# from cnpg-system\/cnpg-controller-manager \(Deployment\) on TCP\/8000: 120 flows, 40 connections, 2026-11-10T00:00Z \.\. 2026-11-20T00:00Z, seen in 200 distinct hours\n\s+- fromEndpoints:/);
    void T0;
  });
});

describe('recommend --kind kubernetes', () => {
  const r = recommend(edges, workloads, options({ kind: 'kubernetes' }));

  it('writes NetworkPolicies with namespaceSelector on kubernetes.io/metadata.name for cross-namespace peers', () => {
    const pg = r.policies.find((p) => p.document.metadata.name === 'postgres')?.document;
    expect(pg?.kind).toBe('NetworkPolicy');
    expect(pg?.spec?.['ingress']).toContainEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'self-hosted' } }, podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'immich', 'app.kubernetes.io/name': 'immich' } } }],
      ports: [{ protocol: 'TCP', port: 5432 }],
    });
  });

  it('leaves egress unenforced, with a warning, where it would need FQDNs or entities', () => {
    const pg = r.policies.find((p) => p.document.metadata.name === 'postgres')?.document;
    expect(pg?.spec?.['policyTypes']).toEqual(['Ingress']);
    expect(r.warnings.some((w) => w.includes('dbms/postgres: egress left unenforced') && w.includes('entity kube-apiserver'))).toBe(true);
    const im = r.policies.find((p) => p.document.metadata.name === 'immich')?.document;
    expect(r.warnings.some((w) => w.includes('self-hosted/immich') && w.includes('api.github.com'))).toBe(true);
    expect(im?.spec?.['policyTypes']).toEqual(['Ingress']);
  });
});

describe('lints', () => {
  it('flags a CNPG cluster whose policy does not open 8000 to the operator', () => {
    const noOperator = edges.filter((e) => !(e.from.kind === 'workload' && e.from.name === 'cnpg-controller-manager'));
    const r = recommend(noOperator, workloads, options({ namespaces: ['dbms'] }));
    expect(r.lints.some((l) => l.rule === 'cnpg-instance-manager' && l.message.includes('the operator (cnpg-system)'))).toBe(true);
  });
});

describe('every generated document passes the CRD / NetworkPolicy schema check', async () => {
  const { validatePolicyDocument, validatePolicyYaml } = await import('../../../src/schema/index.js');
  const variants = {
    cilium: options(),
    baseline: options({ baseline: true }),
    kubernetes: options({ kind: 'kubernetes' }),
  } as const;
  it.each(Object.keys(variants))('%s', (name) => {
    const r = recommend(edges, workloads, variants[name as keyof typeof variants]);
    expect(r.policies.length).toBeGreaterThan(0);
    for (const p of r.policies) expect(validatePolicyDocument(p.document)).toEqual([]);
    expect(validatePolicyYaml(renderRecommendationYaml(r))).toEqual([]);
  });

  it('quotes values kubectl (YAML 1.1) would read as booleans', () => {
    const odd = [workload('y', 'Deployment', 'on', { app: 'yes' }), ...workloads];
    const r = recommend([edge(wl('y', 'Deployment', 'on'), postgres, 'TCP', 5432)], odd, options());
    expect(validatePolicyYaml(renderRecommendationYaml(r))).toEqual([]);
    expect(renderRecommendationYaml(r)).toContain('app: "yes"');
  });
});

describe('lints on loaded policies', async () => {
  const { lintPolicies } = await import('../../../src/recommend/index.js');
  const ctx = { edges: [], workloads: [], cnpgOperatorNamespace: 'cnpg-system' };
  const cnp = (spec: Record<string, unknown>) => ({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'p', namespace: 'x' }, spec });

  it.each([
    ['cluster entity in ingressDeny', cnp({ endpointSelector: {}, ingressDeny: [{ fromEntities: ['cluster'] }] }), 'cluster-entity-ingress-deny'],
    ['http rules on 443 without TLS termination', cnp({ endpointSelector: {}, egress: [{ toEntities: ['world'], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }], rules: { http: [{ method: 'GET' }] } }] }] }), 'l7-http-on-tls'],
    ['API server by private CIDR', cnp({ endpointSelector: {}, egress: [{ toCIDR: ['10.0.0.1/32'], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] }] }), 'kube-apiserver-by-cidr'],
    ['API server by ipBlock on 6443', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'x' }, spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '192.0.2.10/32' } }], ports: [{ port: 6443 }] }] } }, 'kube-apiserver-by-cidr'],
  ])('%s', (_name, doc, rule) => {
    expect(lintPolicies([doc], ctx).map((l) => l.rule)).toEqual([rule]);
  });

  describe('CNPG instance manager on 8000, read from every policy that selects the instances', () => {
    const postgres = { namespace: 'dbms', kind: 'Cluster', name: 'postgres', selector: { 'cnpg.io/cluster': 'postgres' } };
    const withPostgres = { ...ctx, workloads: [postgres] };
    const inDbms = (name: string, spec: Record<string, unknown>) => ({ ...cnp(spec), metadata: { name, namespace: 'dbms' } });
    const defaultDeny = inDbms('default-deny', { endpointSelector: {}, ingress: [{}] });
    const peersOnly = inDbms('postgres', { endpointSelector: { matchLabels: { 'cnpg.io/cluster': 'postgres' } }, ingress: [{ fromEndpoints: [{ matchLabels: { 'cnpg.io/cluster': 'postgres' } }], toPorts: [{ ports: [{ port: '8000', protocol: 'TCP' }] }] }] });
    const operator = inDbms('operator', { endpointSelector: { matchLabels: { 'cnpg.io/cluster': 'postgres' } }, ingress: [{ fromEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'cnpg-system' } }], toPorts: [{ ports: [{ port: '8000', protocol: 'TCP' }] }] }] });
    const manager = (docs: Record<string, unknown>[]) => lintPolicies(docs, withPostgres).filter((l) => l.rule === 'cnpg-instance-manager');

    it('a default-deny placeholder `- {}` admits nothing: the missing operator rule is still found, on the specific policy', () => {
      expect(manager([defaultDeny, peersOnly])).toEqual([expect.objectContaining({ policy: 'postgres', message: expect.stringContaining('the operator (cnpg-system)') })]);
    });

    it('allows from two policies add up', () => {
      expect(manager([defaultDeny, peersOnly, operator])).toEqual([]);
    });
  });

  it('does not flag ordinary HTTPS egress to a public address', () => {
    const doc = cnp({ endpointSelector: {}, egress: [{ toCIDRSet: [{ cidr: '35.246.31.234/32' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] }] });
    expect(lintPolicies([doc], ctx)).toEqual([]);
  });
});

describe('peers a policy cannot name', () => {
  // Asked about once per peer and kept: each peer keeps its own verdict, whichever policy asks first.
  const bad = wl('Bad_NS', 'Deployment', 'api');
  const good = wl('shop', 'Deployment', 'api');
  const peers = [
    workload('Bad_NS', 'Deployment', 'api', { app: 'api' }),
    workload('shop', 'Deployment', 'api', { app: 'api' }),
    workload('web', 'Deployment', 'front', { app: 'front' }),
    workload('web', 'Deployment', 'back', { app: 'back' }),
  ];
  const front = wl('web', 'Deployment', 'front');
  const back = wl('web', 'Deployment', 'back');
  const r = recommend(
    [edge(front, bad, 'TCP', 80), edge(front, good, 'TCP', 80), edge(back, good, 'TCP', 81), edge(back, fqdn('bad_name..example'), 'TCP', 443), edge(front, fqdn('ok.example.com'), 'TCP', 443)],
    peers,
    options({ namespaces: ['web'] }),
  );
  const egress = (name: string): string => JSON.stringify(spec(r, name)['egress']);
  const unsupported = r.notes.filter((n) => n.kind === 'unsupported').map((n) => `${n.policy}: ${n.message}`);

  it('leaves out each unwritable peer with its own reason, and writes every other peer of the same policy', () => {
    expect(unsupported).toEqual([
      'back: outbound to bad_name..example is left out: it is not a DNS name toFQDNs accepts',
      'front: outbound to Bad_NS/api (Deployment) is left out: its namespace is not a valid Kubernetes namespace name',
    ]);
    expect(egress('front')).toContain('"k8s:io.kubernetes.pod.namespace":"shop"');
    expect(egress('front')).toContain('"matchName":"ok.example.com"');
    expect(egress('back')).toContain('"k8s:io.kubernetes.pod.namespace":"shop"');
  });
});
