import { describe, expect, it } from 'vitest';
import type { Flow } from '../../../src/flow/index.js';
import { renderDropGroupsTable, renderDropsTable } from '../../../src/report/index.js';
import { groupDrops, MANY_PORTS, portSpans, triageDrops } from '../../../src/triage/index.js';
import { cnp, drop, load, podEp } from './triage-helpers.js';

const T = 1_700_000_000_000;
const scanner = podEp('ns', 'scanner');

/** A scan from `scanner` to `web`: one SYN per port, each retransmitted once `retryMs` later. */
function scan(ports: Iterable<number>, start = T, protocol: 'TCP' | 'UDP' = 'TCP', retryMs = 1000): Flow[] {
  const flows: Flow[] = [];
  let t = start;
  for (const port of ports) {
    const l4 =
      protocol === 'TCP'
        ? { protocol, sourcePort: 50000, destinationPort: port, flags: { SYN: true } }
        : { protocol, sourcePort: 50000, destinationPort: port };
    flows.push(drop({ timeMs: t, dport: port, source: scanner, l4 } as Partial<Flow>));
    flows.push(drop({ timeMs: t + retryMs, dport: port, source: scanner, l4 } as Partial<Flow>));
    t += 3;
  }
  return flows;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('drops on many ports between the same peers are one group', () => {
  it('a scan of every TCP port is one group with one range, next to an app denied three ports that keeps a group per port', () => {
    const app = [80, 443, 8080].map((dport, i) => drop({ timeMs: T + i, dport }));
    const groups = groupDrops([...app, ...scan(range(1, 65535))]);
    expect(groups).toHaveLength(4);
    const many = groups.filter((g) => g.ports !== undefined);
    expect(many).toHaveLength(1);
    expect(many[0]).toMatchObject({ protocol: 'TCP', ports: { count: 65535, ranges: [{ port: 1, endPort: 65535 }] }, attempts: 65535, flows: 131070 });
    expect(many[0]?.port).toBeUndefined();
    expect(many[0]?.from).toMatchObject({ kind: 'workload', name: 'scanner' });
    expect(groups.filter((g) => g.ports === undefined).map((g) => g.port).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([80, 443, 8080]);
  });

  it(`${MANY_PORTS} ports stay groups of one port; one more makes one group; TCP and UDP stay apart`, () => {
    expect(groupDrops(scan(range(1, MANY_PORTS)))).toHaveLength(MANY_PORTS);
    const over = groupDrops([...scan(range(1, MANY_PORTS + 1)), ...scan([53, 123], T + 10_000_000, 'UDP')]);
    expect(over.map((g) => `${g.protocol} ${g.port ?? ''} ${g.ports?.count ?? ''}`).sort()).toEqual([`TCP  ${MANY_PORTS + 1}`, 'UDP 123 ', 'UDP 53 ']);
  });

  it('ports that are not one run are listed as sorted ranges', () => {
    const ports = [...range(20, 25), 80, 443, ...range(8000, 8010), 9090, 3000];
    const [g] = groupDrops(scan(ports));
    expect(g?.ports).toEqual({
      count: ports.length,
      ranges: [
        { port: 20, endPort: 25 },
        { port: 80, endPort: 80 },
        { port: 443, endPort: 443 },
        { port: 3000, endPort: 3000 },
        { port: 8000, endPort: 8010 },
        { port: 9090, endPort: 9090 },
      ],
    });
    expect(portSpans([5, 3, 4, 1])).toEqual([
      { port: 1, endPort: 1 },
      { port: 3, endPort: 5 },
    ]);
    expect(portSpans([])).toEqual([]);
  });

  it('retransmissions of a scan that outlives the remembered 5-tuples still count once per attempt', () => {
    // 10,000 ports: more 5-tuples than are remembered at once, each SYN retransmitted just inside the 10 s window.
    const [g] = groupDrops(scan(range(1000, 10_999), T, 'TCP', 9_900));
    expect(g).toMatchObject({ attempts: 10_000, flows: 20_000 });
    // The same scan run twice, a minute apart: each port is attempted twice.
    const [twice] = groupDrops([...scan(range(1000, 10_999)), ...scan(range(1000, 10_999), T + 60_000 + 30_000)]);
    expect(twice).toMatchObject({ attempts: 20_000, flows: 40_000 });
  });

  it('the tables show the range; with --policies no patch is offered and the explanation says why', () => {
    const flows = scan(range(1, 1000));
    const groups = groupDrops(flows);
    expect(renderDropGroupsTable(groups, flows.length)).toMatch(/TCP\/1-1000 /);
    const policies = load(cnp('web', '{endpointSelector: {matchLabels: {app: web}}, ingress: [{fromEndpoints: [{matchLabels: {app: client}}]}]}'));
    const [triaged] = triageDrops(groups, policies);
    expect(triaged?.explanation.verdict).toBe('default-deny');
    expect(triaged?.explanation.patches).toEqual([]);
    expect(triaged?.explanation.summary).toMatch(/^on 1000 ports \(judged on one of them, port \d+\), no patch suggested: ingress of ns\/Deployment\/web: default deny/);
    expect(triaged?.explanation.notes[0]).toMatch(/dropped on 1000 ports between the same peers \(1-1000\): a port scan/);
    const table = renderDropsTable([triaged!], flows.length, { wide: true });
    expect(table).toContain('none (1,000 ports)');
    expect(table).not.toContain('kubectl patch');
  });

  it('an app denied a few ports still gets its patches', () => {
    const groups = groupDrops([80, 443].map((dport, i) => drop({ timeMs: T + i, dport })));
    const policies = load(cnp('web', '{endpointSelector: {matchLabels: {app: web}}, ingress: [{fromEndpoints: [{matchLabels: {app: other}}]}]}'));
    const triaged = triageDrops(groups, policies);
    expect(triaged.map((d) => d.explanation.patches.length)).toEqual([1, 1]);
  });
});
