import { describe, expect, it } from 'vitest';
import type { Edge, Peer as GraphPeer, WorkloadInfo } from '../../../src/graph/index.js';
import { buildPolicySet } from '../../../src/policy/index.js';
import { checkBaseline } from '../../../src/triage/index.js';
import { cnp, load } from './triage-helpers.js';

/** `check` skips building keys for rules it saw used by reference: that may not change which rules are unused. */
const info = (name: string, labels: Record<string, string>): WorkloadInfo =>
  ({ namespace: 'ns', kind: 'Deployment', name, selector: labels, labels, identityLabels: labels, unique: true, overlapsWith: [], labelSets: 1 }) as unknown as WorkloadInfo;

describe('check: unused rules', () => {
  it('a rule used by an equal reference from another copy of its policy is not unused', () => {
    // The same policy document loaded twice: two compiled rules with equal references; edges use one of them.
    const doc = cnp('a', '{endpointSelector: {matchLabels: {app: a}}, ingress: [{fromEndpoints: [{matchLabels: {app: b}}]}, {fromEndpoints: [{matchLabels: {app: c}}]}]}');
    const [p] = load(doc);
    const set = buildPolicySet([p as NonNullable<typeof p>, { ...(p as NonNullable<typeof p>) }]);
    const a: GraphPeer = { kind: 'workload', namespace: 'ns', workloadKind: 'Deployment', name: 'a' };
    const b: GraphPeer = { kind: 'workload', namespace: 'ns', workloadKind: 'Deployment', name: 'b' };
    const workloads = [info('a', { app: 'a' }), info('b', { app: 'b' })];
    const edge = { from: b, to: a, protocol: 'TCP', port: 80, forwarded: 1, ips: [] } as unknown as Edge;
    const r = checkBaseline([edge], workloads, set);
    expect(r.wouldDrop).toEqual([]);
    expect(r.unusedRules.map((u) => u.path)).toEqual(['spec.ingress[1]']);
  });
});
