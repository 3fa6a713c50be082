import { describe, expect, it } from 'vitest';
import { recommend } from '../../../src/recommend/index.js';
import { edge, entity, options, wl, workload } from '../../helpers/edges.js';

/** DNS rules: only on port 53 towards the DNS server, always UDP and TCP, and the server answers every pod. */
const prometheus = wl('observability', 'StatefulSet', 'prometheus');
const coredns = wl('kube-system', 'Deployment', 'coredns');
const app = wl('apps', 'Deployment', 'web');
const workloads = [
  workload('observability', 'StatefulSet', 'prometheus', { 'app.kubernetes.io/name': 'prometheus' }),
  workload('kube-system', 'Deployment', 'coredns', { 'k8s-app': 'kube-dns' }),
  workload('apps', 'Deployment', 'web', { app: 'web' }),
];
const edges = [
  edge(prometheus, coredns, 'TCP', 9153),
  edge(prometheus, coredns, 'UDP', 53),
  edge(app, coredns, 'UDP', 53),
  edge(coredns, entity('world'), 'UDP', 53),
];

type Rule = Record<string, unknown>;
const rulesOf = (r: ReturnType<typeof recommend>, name: string, dir: 'ingress' | 'egress'): Rule[] =>
  (r.policies.find((p) => p.document.metadata.name === name)?.document.spec?.[dir] ?? []) as Rule[];

function dnsRulePorts(rules: readonly Rule[]): string[] {
  return rules.flatMap((rule) =>
    ((rule['toPorts'] ?? []) as Rule[]).filter((tp) => tp['rules'] !== undefined).flatMap((tp) => (tp['ports'] as Rule[]).map((p) => `${String(p['protocol'])}/${String(p['port'])}`)),
  );
}

describe.each([false, true])('DNS rules (baseline %s)', (baseline) => {
  const r = recommend(edges, workloads, options({ baseline }));

  it('the metrics scrape to coredns is a plain L4 rule, never through the DNS proxy', () => {
    const egress = rulesOf(r, 'prometheus', 'egress');
    expect(egress).toContainEqual({
      toEndpoints: [{ matchLabels: { 'k8s-app': 'kube-dns', 'k8s:io.kubernetes.pod.namespace': 'kube-system' } }],
      toPorts: [{ ports: [{ port: '9153', protocol: 'TCP' }] }],
    });
    for (const p of r.policies) {
      for (const s of p.document.specs ?? [p.document.spec ?? {}]) {
        for (const port of dnsRulePorts([...((s['egress'] ?? []) as Rule[])])) expect(['UDP/53', 'TCP/53']).toContain(port);
      }
    }
  });

  it('every DNS rule allows UDP and TCP 53', () => {
    for (const p of r.policies) {
      for (const s of p.document.specs ?? [p.document.spec ?? {}]) {
        const ports = dnsRulePorts((s['egress'] ?? []) as Rule[]);
        if (ports.length > 0) expect(ports.sort()).toEqual(['TCP/53', 'UDP/53']);
      }
    }
  });

  it('coredns admits every pod and node on UDP and TCP 53, not only the observed clients', () => {
    const ingress = rulesOf(r, 'coredns', 'ingress');
    const both = [{ ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }] }];
    expect(ingress).toContainEqual({ fromEndpoints: [{ matchExpressions: [{ key: 'k8s:io.kubernetes.pod.namespace', operator: 'Exists' }] }], toPorts: both });
    expect(ingress).toContainEqual({ fromEntities: ['host', 'remote-node'], toPorts: both });
    expect(JSON.stringify(ingress)).not.toContain('"app":"web"');
    expect(r.notes.some((n) => n.policy === 'coredns' && n.kind === 'widening' && n.message.includes('every pod'))).toBe(true);
  });

  it("coredns's own upstream lookups (port 53 to world) allow UDP and TCP without an L7 rule", () => {
    const egress = rulesOf(r, 'coredns', 'egress');
    expect(egress).toContainEqual({ toEntities: ['world'], toPorts: [{ ports: [{ port: '53', protocol: 'TCP' }, { port: '53', protocol: 'UDP' }] }] });
  });
});

describe('DNS without --baseline', () => {
  it('a workload with no observed lookup still gets DNS egress, so a restarted pod resolves names', () => {
    const r = recommend([edge(app, prometheus, 'TCP', 9090)], workloads, options());
    expect(dnsRulePorts(rulesOf(r, 'web', 'egress')).sort()).toEqual(['TCP/53', 'UDP/53']);
  });
});
