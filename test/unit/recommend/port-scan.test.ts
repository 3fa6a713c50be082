import { describe, expect, it } from 'vitest';
import type { Edge } from '../../../src/graph/index.js';
import { recommend } from '../../../src/recommend/index.js';
import { buildInventory, renderEdgesTable, renderInventoryMarkdown, type BaselineHealth } from '../../../src/report/index.js';
import { T0, T1, cidr, options, wl, workload } from '../../helpers/edges.js';

/**
 * A port scan (nmap over TCP and UDP against a NodePort, a misbehaving client) leaves one edge per
 * port between one pair of peers: 131,070 of them. Spreading that many values into one call
 * (`Math.max(...xs)`, `push(...xs)`) throws "Maximum call stack size exceeded" from about 120,000.
 */
const PORTS = 65_535;
const scanner = cidr('203.0.113.9/32');
const scanningPod = wl('tools', 'Deployment', 'scanner');
const target = wl('web', 'Deployment', 'frontend');
const workloads = [workload('web', 'Deployment', 'frontend', { app: 'frontend' }), workload('tools', 'Deployment', 'scanner', { app: 'scanner' })];

/**
 * One literal per edge (spread-then-extended objects each get their own hidden class, which made this test 10x slower).
 * `dropped`: every probe was dropped by default deny instead of forwarded.
 */
function scan(from: typeof scanner | typeof scanningPod, { dropped = false, ports = PORTS } = {}): Edge[] {
  const out: Edge[] = [];
  const forwarded = dropped ? 0 : 1;
  const counters = { flows: 1, connections: 1, verdicts: 0, forwarded, dropped: 1 - forwarded, audit: 0, redirected: 0, errors: 0 };
  const sides = { egress: counters, ingress: counters, unknown: counters };
  const dropReasons: Record<string, number> = dropped ? { POLICY_DENIED: 1 } : {};
  for (const protocol of ['TCP', 'UDP'] as const) {
    for (let port = 1; port <= ports; port++) {
      out.push({
        from, to: target, protocol, port,
        flows: 1, connections: 1, forwarded, dropped: 1 - forwarded, audit: 0, redirected: 0, errors: 0,
        firstSeenMs: T0 + port, lastSeenMs: T1 - port, hoursSeen: 1, dropReasons,
        dnsNames: [], httpRequests: [], l7Protocols: [], ips: [], sharedIpWith: [], allowedBy: [], deniedBy: [],
        services: [], srcPods: [], dstPods: [], sides,
      });
    }
  }
  return out;
}

describe('a port scan: 131,070 edges between one pair of peers', () => {
  it('recommend writes one policy with the scanned ports as ranges, and notes the widening', () => {
    const r = recommend(scan(scanner), workloads, options());
    const policy = r.policies.find((p) => p.document.metadata.name === 'frontend');
    expect(policy).toBeDefined();
    const text = JSON.stringify(policy?.document);
    expect(text).toContain('203.0.113.9/32');
    expect(r.notes.some((n) => n.kind === 'widening' && n.policy === 'frontend')).toBe(true);
  });

  it('recommend takes the same scan from a workload peer', () => {
    const r = recommend(scan(scanningPod), workloads, options());
    expect(r.policies.map((p) => p.document.metadata.name)).toEqual(expect.arrayContaining(['frontend', 'scanner']));
  });

  it('a dropped scan is one note per protocol in the policy of its target, and nothing of it is allowed', () => {
    const r = recommend(scan(scanner, { dropped: true }), workloads, options());
    const dropped = r.notes.filter((n) => n.kind === 'dropped' && n.policy === 'frontend').map((n) => n.message);
    expect(dropped).toEqual([
      '203.0.113.9/32 -> web/frontend (Deployment) TCP on 65535 ports (1-65535) was dropped 65535 times (POLICY_DENIED ×65535): a port scan, or an app on dynamic ports; none of them allowed: `hubble-advisor drops` shows them as one group',
      '203.0.113.9/32 -> web/frontend (Deployment) UDP on 65535 ports (1-65535) was dropped 65535 times (POLICY_DENIED ×65535): a port scan, or an app on dynamic ports; none of them allowed: `hubble-advisor drops` shows them as one group',
    ]);
    expect(JSON.stringify(r.policies.find((p) => p.document.metadata.name === 'frontend')?.document)).not.toContain('203.0.113.9');
  });

  it('an app dropped on a few ports keeps a note per port', () => {
    const r = recommend(scan(scanningPod, { dropped: true, ports: 3 }), workloads, options());
    const dropped = r.notes.filter((n) => n.kind === 'dropped' && n.policy === 'frontend').map((n) => n.message);
    expect(dropped).toHaveLength(6);
    expect(dropped).toContain(
      'tools/scanner (Deployment) -> web/frontend (Deployment) UDP/2 was dropped 1 times (POLICY_DENIED ×1); not allowed: if it is legitimate, run `hubble-advisor drops` for the fix',
    );
  });

  it('the Markdown inventory lists the scan under the target without failing', () => {
    const health: BaselineHealth = { firstFlowMs: T0, lastFlowMs: T1, flows: 2 * PORTS, sources: [], lostEvents: [], verdicts: {}, dropReasons: {} };
    const infos = workloads.map((w) => ({ ...w, labels: w.selector, unique: true, overlapsWith: [], labelSets: 1, firstSeenMs: T0, lastSeenMs: T1 }));
    for (const from of [scanner, scanningPod]) {
      const md = renderInventoryMarkdown(buildInventory({ edges: scan(from), workloads: infos, convergence: [], health }));
      expect(md).toContain('frontend');
      expect(md).toContain('65535');
    }
  });

  it('the edges table shows a scan as one line per protocol, keeps the DNS its target also answered, and says how many edges the lines stand for', () => {
    const dns = { ...scan(scanningPod, { ports: 53 }).find((e) => e.protocol === 'UDP' && e.port === 53)!, flows: 40, connections: 20, forwarded: 40, dropped: 0 };
    const dropped = scan(scanningPod, { dropped: true }).filter((e) => !(e.protocol === 'UDP' && e.port === 53));
    const lines = renderEdgesTable([...dropped, dns], { wide: true }).trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 3 + 1);
    expect(lines.filter((l) => l.includes('1-65535/TCP (65,535 ports)'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('1-52, 54-65535/UDP (65,534 ports)'))).toHaveLength(1);
    expect(lines.find((l) => l.includes('1-65535/TCP'))).toMatch(/65,535 +65,535 +0 +65,535 \(POLICY_DENIED\)/);
    expect(lines.filter((l) => /\s53\/UDP\s/.test(l))).toHaveLength(1);
    expect(lines.at(-1)).toBe('2 line(s) above stand for 131,069 edges: more than 16 ports between the same two peers (a port scan, or an app on dynamic ports); -o json lists each edge.');
  });

  it('the edges table keeps an edge per port up to 16 ports between the same peers, and collapses an allowed scan too', () => {
    const sixteen = renderEdgesTable(scan(scanner, { ports: 16 })).trimEnd().split('\n');
    expect(sixteen).toHaveLength(1 + 32);
    const seventeen = renderEdgesTable(scan(scanner, { ports: 17 })).trimEnd().split('\n');
    expect(seventeen).toHaveLength(1 + 2 + 1);
    expect(seventeen[1]).toContain('1-17/TCP (17 ports)');
    expect(seventeen[2]).toContain('1-17/UDP (17 ports)');
  });
});
