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

  it('a rule that allows only DNS is kept, not listed, when no lookup was observed; other unused rules are listed', () => {
    // What recommend writes for every workload: DNS to kube-dns on UDP and TCP 53, observed or not.
    const doc = cnp(
      'a',
      `{endpointSelector: {matchLabels: {app: a}}, egress: [
        {toEndpoints: [{matchLabels: {k8s-app: kube-dns, k8s:io.kubernetes.pod.namespace: kube-system}}], toPorts: [{ports: [{port: "53", protocol: UDP}, {port: "53", protocol: TCP}], rules: {dns: [{matchPattern: "*"}]}}]},
        {toEndpoints: [{matchLabels: {app: b}}], toPorts: [{ports: [{port: "80", protocol: TCP}]}]},
        {toEndpoints: [{matchLabels: {app: c}}], toPorts: [{ports: [{port: "53", protocol: UDP}, {port: "5353", protocol: UDP}]}]}],
      ingress: [{fromEntities: [host, remote-node], toPorts: [{ports: [{port: "53", protocol: UDP}, {port: "53", protocol: TCP}]}]}]}`,
    );
    const set = buildPolicySet(load(doc));
    const a: GraphPeer = { kind: 'workload', namespace: 'ns', workloadKind: 'Deployment', name: 'a' };
    const b: GraphPeer = { kind: 'workload', namespace: 'ns', workloadKind: 'Deployment', name: 'b' };
    const workloads = [info('a', { app: 'a' }), info('b', { app: 'b' })];
    const edge = { from: a, to: b, protocol: 'TCP', port: 80, forwarded: 1, ips: [] } as unknown as Edge;
    const r = checkBaseline([edge], workloads, set);
    expect(r.wouldDrop).toEqual([]);
    // The rule with 5353 besides 53 is not DNS alone: it is listed.
    expect(r.unusedRules.map((u) => u.path)).toEqual(['spec.egress[2]']);
    expect(r.unusedDnsRules).toBe(2);
  });
});
