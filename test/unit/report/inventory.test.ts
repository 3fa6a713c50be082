import { describe, expect, it } from 'vitest';
import type { Edge, Peer, WorkloadInfo } from '../../../src/graph/index.js';
import { buildInventory, formatPorts, mdCell, namespaceMapGraph, observedEdgeStatus, renderInventoryMarkdown, type BaselineHealth } from '../../../src/report/index.js';

const T0 = Date.parse('2026-11-10T00:00:00Z');
const wl = (namespace: string, kind: string, name: string): Peer => ({ kind: 'workload', namespace, workloadKind: kind, name });
const counters = { flows: 1, connections: 1, verdicts: 0, forwarded: 1, dropped: 0, audit: 0, redirected: 0, errors: 0 };

function edge(from: Peer, to: Peer, protocol: Edge['protocol'], port: number, extra: Partial<Edge> = {}): Edge {
  return {
    from, to, protocol, port,
    flows: 10, connections: 4, forwarded: 10, dropped: 0, audit: 0, redirected: 0, errors: 0,
    firstSeenMs: T0, lastSeenMs: T0 + 3_600_000, hoursSeen: 1, dropReasons: {},
    dnsNames: [], httpRequests: [], l7Protocols: [], ips: [], sharedIpWith: [], allowedBy: [], deniedBy: [],
    services: [], srcPods: [], dstPods: [],
    sides: { egress: counters, ingress: counters, unknown: { ...counters, flows: 0, forwarded: 0, connections: 0 } },
    ...extra,
  };
}
const info = (namespace: string, kind: string, name: string): WorkloadInfo => ({
  namespace, kind, name, selector: { app: name }, labels: { app: name }, unique: true, overlapsWith: [], labelSets: 1, firstSeenMs: T0, lastSeenMs: T0,
});
const health: BaselineHealth = { firstFlowMs: T0, lastFlowMs: T0 + 3_600_000, flows: 100, sources: [], lostEvents: [], verdicts: {}, dropReasons: {} };

describe('formatPorts', () => {
  it('merges ports as people write them', () => {
    expect(formatPorts([{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }])).toBe('53 UDP/TCP');
    expect(formatPorts([{ protocol: 'TCP', port: 8000 }, { protocol: 'TCP', port: 5432 }])).toBe('5432, 8000');
    expect(formatPorts([{ protocol: 'UDP', port: 7844 }, { protocol: 'TCP', port: 443 }])).toBe('443, 7844 UDP');
    expect(formatPorts([{ protocol: 'ICMPv4', port: 8 }, { protocol: 'TCP', port: 80 }, { protocol: 'ICMPv4', port: 0 }])).toBe('80, ICMPv4 0/8');
  });
});

describe('buildInventory', () => {
  const server = wl('argocd', 'Deployment', 'server');
  const repo = wl('argocd', 'Deployment', 'repo-server');
  const ctrl = wl('argocd', 'StatefulSet', 'application-controller');
  const redis = wl('argocd', 'Deployment', 'redis');
  const cloudflared = wl('network', 'Deployment', 'cloudflared');
  const pg = wl('database', 'Cluster', 'shared-pg');
  const dns = wl('kube-system', 'Deployment', 'coredns');
  const api: Peer = { kind: 'entity', entity: 'kube-apiserver' };
  const host: Peer = { kind: 'entity', entity: 'host' };
  const edges = [
    edge(cloudflared, server, 'TCP', 8080),
    edge(repo, redis, 'TCP', 6379),
    edge(server, repo, 'TCP', 8081),
    edge(ctrl, repo, 'TCP', 8081),
    edge(server, redis, 'TCP', 6379),
    edge(server, api, 'TCP', 6443),
    edge(server, pg, 'TCP', 5432, { services: ['database/shared-pg-rw'] }),
    edge(pg, pg, 'TCP', 5432),
    edge(pg, pg, 'TCP', 8000),
    edge(host, pg, 'TCP', 8000),
    edge(repo, { kind: 'fqdn', fqdn: 'github.com' }, 'TCP', 443),
    edge(repo, { kind: 'fqdn', fqdn: '*.githubusercontent.com' }, 'TCP', 443),
    edge(repo, dns, 'UDP', 53),
    edge(repo, dns, 'TCP', 53),
    edge(repo, { kind: 'cidr', cidr: '192.168.0.240/32' }, 'TCP', 8080),
    edge(server, wl('argocd', 'Deployment', 'never-forwarded'), 'TCP', 1, { forwarded: 0, dropped: 3, dropReasons: { POLICY_DENIED: 3 } }),
  ];
  const workloads = [server, repo, ctrl, redis, cloudflared, pg, dns].map((p) => (p.kind === 'workload' ? info(p.namespace, p.workloadKind, p.name) : info('', '', '')));
  const inv = buildInventory({ edges, workloads, convergence: [], health });
  const row = (ns: string, name: string) => inv.namespaces.find((n) => n.namespace === ns)?.components.find((c) => c.name === name);

  it('lists ingress as "sources → ports" with the namespace only when it is another', () => {
    expect(row('argocd', 'repo-server')?.ingress.map((c) => c.text)).toEqual(['application-controller, server → 8081']);
    expect(row('argocd', 'server')?.ingress.map((c) => c.text)).toEqual(['cloudflared (network) → 8080']);
    expect(row('database', 'shared-pg')?.ingress.map((c) => c.text)).toEqual(['self → 5432, 8000', 'server (argocd) → 5432', 'host → 8000']);
  });

  it('lists egress per peer: workloads with service names, kube-apiserver without its port, FQDNs sharing ports on one line', () => {
    expect(row('argocd', 'server')?.egress.map((c) => c.text)).toEqual(['redis:6379', 'repo-server:8081', 'shared-pg (database, svc shared-pg-rw):5432', 'kube-apiserver']);
    expect(row('argocd', 'repo-server')?.egress.map((c) => c.text)).toEqual([
      'redis:6379',
      'coredns (kube-system):53 UDP/TCP',
      '*.githubusercontent.com + github.com:443',
      '192.168.0.240:8080',
    ]);
  });

  it('edges nothing forwarded are not communication', () => {
    expect(JSON.stringify(row('argocd', 'server'))).not.toContain('never-forwarded');
  });

  it('cross-namespace rows group clients of one namespace with the same target and ports', () => {
    expect(inv.crossNamespace.map((r) => [r.from, r.fromNamespace, r.to, r.ports, r.purpose])).toEqual([
      ['server', 'argocd', 'shared-pg (database, svc shared-pg-rw)', '5432', 'PostgreSQL'],
      ['repo-server', 'argocd', 'coredns (kube-system)', '53 UDP/TCP', 'DNS'],
      ['cloudflared', 'network', 'server (argocd)', '8080', 'HTTP'],
    ]);
  });

  it('external egress per workload, entities per role', () => {
    expect(inv.external).toEqual([{ namespace: 'argocd', component: 'repo-server', fqdns: ['*.githubusercontent.com + github.com:443'], cidrs: ['192.168.0.240:8080'] }]);
    expect(inv.entities.map((e) => [e.entity, e.role, e.members])).toEqual([
      ['kube-apiserver', 'API server clients', ['server (argocd) → 6443']],
      ['host', 'from the local node (kubelet probes, hostNetwork pods)', ['shared-pg (database, svc shared-pg-rw) → 8000']],
    ]);
  });

  it('Markdown: a table per namespace, escaped so no value breaks a row, no generation time', () => {
    const md = renderInventoryMarkdown(inv);
    expect(md).toContain('| **server** | cloudflared (network) → 8080 | redis:6379<br>repo-server:8081<br>shared-pg (database, svc shared-pg-rw):5432<br>kube-apiserver |');
    expect(md).toContain('\\*.githubusercontent.com + github.com:443');
    expect(md).not.toMatch(/Written at/);
    expect(renderInventoryMarkdown(inv)).toBe(md);
    expect(renderInventoryMarkdown(inv, { generatedAtMs: T0 })).toContain('Written at 2026-11-10T00:00:00Z');
  });

  it('hostile names never break a table row or inject HTML', () => {
    const evil = 'a|b\nc\u2028d\u0085e<script>*x*';
    const cell = mdCell(evil);
    expect(cell).not.toMatch(/[\n\u2028\u0085]/);
    expect(cell).not.toContain('<script>');
    expect(cell.replace(/\\\|/g, '')).not.toContain('|');
    // One special alone is escaped too, not only when others come with it.
    for (const one of ['a|b', 'a\nb', 'a\u2028b', 'a<b', 'a&b', 'a`b', 'a*b', '_a_', 'a#b', 'a~b', 'a[b]']) expect(mdCell(one), JSON.stringify(one)).not.toBe(one);
    const inv2 = buildInventory({ edges: [edge(wl('ns', 'Deployment', evil), { kind: 'fqdn', fqdn: evil }, 'TCP', 443)], workloads: [], convergence: [], health });
    const md = renderInventoryMarkdown(inv2);
    expect(tableShapes(md).filter((t) => !t.ok)).toEqual([]);
    expect(md).not.toMatch(/<script>/);
  });
});

/** Each Markdown table: does every row have as many cells (unescaped pipes) as its header? */
function tableShapes(md: string): { header: string; ok: boolean }[] {
  const cells = (l: string): number => l.replace(/\\\|/g, '').split('|').length;
  const out: { header: string; ok: boolean }[] = [];
  let header: string | undefined;
  let ok = true;
  for (const l of [...md.split('\n'), '']) {
    if (l.startsWith('|')) {
      if (header === undefined) header = l;
      else if (cells(l) !== cells(header)) ok = false;
    } else if (header !== undefined) {
      out.push({ header, ok });
      header = undefined;
      ok = true;
    }
  }
  return out;
}

describe('namespaceMapGraph', () => {
  it('lists the busiest edges of a merged line first, ties in the order observed, then how many more', () => {
    const flows = [5, 9, 5, 30, 9, 1, 5, 7, 9, 2, 30, 5];
    const edges = flows.map((n, i) => edge(wl('shop', 'Deployment', `web-${i}`), wl('db', 'Deployment', `pg-${i}`), 'TCP', 5432, { flows: n }));
    const inv = buildInventory({ edges, workloads: [], convergence: [], health });
    const line = namespaceMapGraph(inv, observedEdgeStatus).edges.find((e) => e.from === 'ns:shop' && e.to === 'ns:db');
    const shown = (line?.evidence ?? []).slice(1).map((l) => /shop\/(web-\d+) .*: (\d+) flows/.exec(l)?.slice(1).join(' ') ?? l);
    expect(shown).toEqual(['web-3 30', 'web-10 30', 'web-1 9', 'web-4 9', 'web-8 9', 'web-7 7', 'web-0 5', 'web-2 5', '  … and 4 more (report -o html -n NAMESPACE draws them one by one)']);
  });
});
