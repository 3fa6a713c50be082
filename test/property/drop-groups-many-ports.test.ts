/**
 * A many-port group holds what one group fed every flow of its peers, protocol and reason would
 * hold, however many per-port groups it was merged from and whenever the merge happened; groups
 * under the threshold are the per-port groups unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Flow } from '../../src/flow/index.js';
import { type DropGroup, groupDrops, MANY_PORTS } from '../../src/triage/index.js';
import { drop, podEp } from '../unit/triage/triage-helpers.js';

const T = 1_700_000_000_000;
const peers = [podEp('ns', 'a'), podEp('ns', 'b'), podEp('other', 'c')];

const flowArb = fc.record({
  from: fc.integer({ min: 0, max: 2 }),
  to: fc.integer({ min: 0, max: 2 }),
  port: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 65535 })),
  sport: fc.integer({ min: 40000, max: 40003 }),
  udp: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  dt: fc.integer({ min: 0, max: 15_000 }),
  verdictEvent: fc.boolean(),
  deny: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  node: fc.constantFrom('n1', 'n2'),
});

type Spec = typeof flowArb extends fc.Arbitrary<infer R> ? R : never;

function flowsOf(specs: readonly Spec[]): Flow[] {
  let t = T;
  return specs.map((s) => {
    t += s.dt;
    const protocol = s.udp ? 'UDP' : 'TCP';
    return drop({
      timeMs: t,
      source: peers[s.from],
      destination: peers[s.to],
      l4: s.udp ? { protocol, sourcePort: s.sport, destinationPort: s.port } : { protocol, sourcePort: s.sport, destinationPort: s.port, flags: { SYN: true } },
      nodeName: s.node,
      ...(s.deny && { dropReason: 'POLICY_DENY', dropReasonCode: 181 }),
      eventType: s.verdictEvent ? { type: 5, subType: 0 } : { type: 1, subType: s.deny ? 181 : 133 },
    } as Partial<Flow>);
  });
}

const family = (g: DropGroup): string => `${g.key.split('|').slice(0, 3).join('|')}|${g.reason}`;

describe('many-port drop groups', () => {
  it('equal the group merged from the first flow, and leave smaller families as they were', () => {
    let mergedFamilies = 0;
    fc.assert(
      fc.property(fc.array(flowArb, { minLength: 1, maxLength: 400, size: 'max' }), (specs) => {
        const flows = flowsOf(specs);
        const merged = groupDrops(flows);
        const fromFirst = new Map(groupDrops(flows, { manyPorts: 0 }).map((g) => [family(g), g]));
        const perPort = new Map(groupDrops(flows, { manyPorts: Number.POSITIVE_INFINITY }).map((g) => [g.key, g]));
        const portsPerFamily = new Map<string, number>();
        for (const g of perPort.values()) portsPerFamily.set(family(g), (portsPerFamily.get(family(g)) ?? 0) + 1);
        for (const g of merged) {
          const many = (portsPerFamily.get(family(g)) ?? 0) > MANY_PORTS;
          expect(g.ports !== undefined).toBe(many);
          expect(g).toStrictEqual(many ? fromFirst.get(family(g)) : perPort.get(g.key));
        }
        mergedFamilies += merged.filter((g) => g.ports !== undefined).length;
        // Every flow is in exactly one group.
        expect(merged.reduce((n, g) => n + g.flows, 0)).toBe(flows.length);
      }),
      { numRuns: 150 },
    );
    // The runs did merge families (not only the trivial case).
    expect(mergedFamilies).toBeGreaterThan(50);
  });

  it('a family with more than the threshold of ports is always merged (dense ports)', () => {
    fc.assert(
      fc.property(fc.integer({ min: MANY_PORTS + 1, max: 200 }), fc.integer({ min: 0, max: 1000 }), (n, offset) => {
        const flows = flowsOf(Array.from({ length: n }, (_, i) => ({ from: 0, to: 1, port: offset + i + 1, sport: 40000, udp: false, dt: 1, verdictEvent: false, deny: false, node: 'n1' })));
        const [g, ...rest] = groupDrops(flows);
        expect(rest).toEqual([]);
        expect(g?.ports).toEqual({ count: n, ranges: [{ port: offset + 1, endPort: offset + n }] });
      }),
    );
  });
});
