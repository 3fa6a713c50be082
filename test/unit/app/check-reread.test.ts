import { describe, expect, it } from 'vitest';
import { namespacesOfEdges } from '../../../src/app/check.js';
import type { Peer } from '../../../src/graph/index.js';

const workload = (namespace: string, name: string): Peer => ({ kind: 'workload', namespace, workloadKind: 'Deployment', name });
const host: Peer = { kind: 'entity', entity: 'host' };
const world: Peer = { kind: 'cidr', cidr: '203.0.113.7/32' };

/** Which namespaces' rows `check` reads again for the edges it lists (would-drops, unjudged). */
describe('namespacesOfEdges', () => {
  it('takes a workload end of each edge, either side, once each, sorted', () => {
    const edges = [
      { from: workload('shop', 'web'), to: workload('db', 'postgres') },
      { from: host, to: workload('billing', 'api') },
      { from: workload('shop', 'worker'), to: world },
    ];
    expect(namespacesOfEdges(edges)).toEqual(['billing', 'shop']);
  });

  it('asks for the whole graph when an edge has no workload end', () => {
    expect(namespacesOfEdges([{ from: workload('shop', 'web'), to: world }, { from: host, to: world }])).toBeUndefined();
  });
});
