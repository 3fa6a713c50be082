import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPolicySet, parsePolicies } from '../../src/policy/index.js';
import { checkBaseline } from '../../src/triage/index.js';
import { flow, graphOf } from '../unit/graph/builders.js';
import { samplePod } from '../helpers/sample-endpoints.js';

/**
 * Issue 16 property, through flows → graph → check: labels on a namespace that no selector
 * mentions never change a verdict; adding the label a selector requires turns the drop into an allow.
 */
const POLICIES = parsePolicies(
  [
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: x}\nspec: {podSelector: {matchLabels: {app: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}]}]}',
    'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: x}\nspec: {endpointSelector: {matchLabels: {app: a}}, egress: [{toEndpoints: [{matchLabels: {k8s:io.cilium.k8s.namespace.labels.env: prod}}]}]}',
    'apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: d}\nspec: {endpointSelector: {matchLabels: {app: b}}, ingress: [{fromEntities: [all]}], ingressDeny: [{fromEndpoints: [{matchExpressions: [{key: io.cilium.k8s.namespace.labels.quarantine, operator: Exists}]}]}]}',
  ].join('\n---\n'),
  { file: 'p.yaml' },
);
const SET = buildPolicySet(POLICIES.policies);

/** Keys no selector above mentions (team, env and quarantine are mentioned). */
const unmentioned = fc.dictionary(fc.constantFrom('owner', 'tier', 'example.com/cost-center', 'teams', 'environment', 'blue'), fc.constantFrom('blue', 'prod', 'x', ''), { maxKeys: 4 });
const mentioned = fc.record({ team: fc.constantFrom('blue', 'red'), env: fc.constantFrom('prod', 'dev') }, { requiredKeys: [] });

function verdicts(nsLabels: Record<string, string>): string[] {
  const c = samplePod('c-ns', 'client', nsLabels, 300001);
  const a = samplePod('x', 'a', {}, 300002);
  const b = samplePod('x', 'b', {}, 300003);
  const s = samplePod('c-ns', 'server', nsLabels, 300004);
  const flows = [flow({ src: c, dst: a, dport: 80 }), flow({ src: a, dst: s, dport: 5432 }), flow({ src: c, dst: b, dport: 8080 })];
  const { edges, workloads } = graphOf(flows);
  const r = checkBaseline(edges, workloads, SET);
  return edges.map((e) => {
    const w = r.wouldDrop.find((d) => d.edge === e);
    return `${e.protocol}/${e.port}:${w ? `${w.side}:${w.reason}` : 'allowed'}`;
  });
}

describe('namespace labels and verdicts', () => {
  it('unmentioned namespace labels never change a verdict', () => {
    expect(POLICIES.errors).toEqual([]);
    fc.assert(
      fc.property(mentioned, unmentioned, (base, extra) => {
        expect(verdicts({ ...extra, ...base })).toEqual(verdicts(base));
      }),
      { numRuns: 60 },
    );
  });

  it('adding the label a selector requires turns the drop into an allow', () => {
    fc.assert(
      fc.property(unmentioned, (extra) => {
        const without = verdicts(extra);
        expect(without).toContain('TCP/80:ingress:POLICY_DENIED');
        expect(without).toContain('TCP/5432:egress:POLICY_DENIED');
        const withTeam = verdicts({ ...extra, team: 'blue' });
        expect(withTeam).toContain('TCP/80:allowed');
        const withEnv = verdicts({ ...extra, env: 'prod' });
        expect(withEnv).toContain('TCP/5432:allowed');
        // And a deny selector's label turns an allow into a drop.
        expect(without).toContain('TCP/8080:allowed');
        expect(verdicts({ ...extra, quarantine: '' })).toContain('TCP/8080:ingress:POLICY_DENY');
      }),
      { numRuns: 40 },
    );
  });
});
