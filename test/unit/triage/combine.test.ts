import { describe, expect, it } from 'vitest';
import type { Flow } from '../../../src/flow/index.js';
import { buildPolicySet, evaluate, requestFromFlow, type Policy } from '../../../src/policy/index.js';
import { type PolicyPatch, applyJsonPatch, combineFixes, groupDrops, samePolicy, triageDrops } from '../../../src/triage/index.js';
import { permutations } from '../../helpers/patch-orders.js';
import { cnp, drop, load, podEp } from './triage-helpers.js';

const DENY_OTHER = cnp('deny-other', '{endpointSelector: {}, ingressDeny: [{fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: other}}]}]}');
const WEB_FROM_OTHER = cnp('web', '{endpointSelector: {matchLabels: {app: web}}, ingress: [{fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: other}}]}]}');
const deniedBy = [{ name: 'deny-other', namespace: 'ns', kind: 'CiliumNetworkPolicy', labels: [] }];

function apply(policies: readonly Policy[], patches: readonly PolicyPatch[]): Policy[] {
  let out = [...policies];
  for (const p of patches) out = out.map((x) => (samePolicy(x, p.policy) ? applyJsonPatch(x, p.ops) : x));
  return out;
}

const allowed = (policies: readonly Policy[], flow: Flow): boolean => {
  const req = requestFromFlow(flow);
  if (!req) throw new Error('no request');
  return evaluate(buildPolicySet(policies), req, { clusterName: 'default' }).allowed;
};

describe('drops --combine', () => {
  const policies = load(DENY_OTHER, WEB_FROM_OTHER);
  const flows = [
    drop({ source: podEp('other', 'client'), dropReason: 'POLICY_DENY', ingressDeniedBy: deniedBy }),
    drop({ source: podEp('other', 'batch'), dropReason: 'POLICY_DENY', ingressDeniedBy: deniedBy, timeMs: 1_700_000_100_000 }),
  ];
  const groups = groupDrops(flows);

  it('standalone patches for two peers of one deny selector apply in either order, each alone and both together', () => {
    const triaged = triageDrops(groups, policies);
    const standalone = triaged.flatMap((t) => t.explanation.patches);
    expect(standalone).toHaveLength(2);
    // The selector has no matchExpressions: both patches create it with the same merged list and say so.
    for (const p of standalone) {
      expect(p.composition).toEqual({ how: 'merged', mergedDrops: 1, paths: ['/spec/ingressDeny/0/fromEndpoints/0/matchExpressions'] });
      expect(p.ops).toEqual([{ op: 'add', path: '/spec/ingressDeny/0/fromEndpoints/0/matchExpressions', value: [{ key: 'app', operator: 'NotIn', values: expect.arrayContaining(['client', 'batch']) }] }]);
      expect(p.description).toContain('merged with the patches of 1 other drop');
    }
    for (const order of permutations(standalone)) {
      const after = apply(policies, order);
      expect(flows.map((f) => allowed(after, f))).toEqual([true, true]);
    }
    // Each alone lets its own drop through; the rest of namespace "other" is still denied.
    for (const t of triaged) expect(allowed(apply(policies, t.explanation.patches), t.group.sample)).toBe(true);
    expect(allowed(apply(policies, standalone), drop({ source: podEp('other', 'stranger') }))).toBe(false);
  });

  it('a selector that has matchExpressions gets appends (/-), which need no merging', () => {
    const withExpr = load(
      cnp('deny-other', '{endpointSelector: {}, ingressDeny: [{fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: other}, matchExpressions: [{key: tier, operator: NotIn, values: [ops]}]}]}]}'),
      WEB_FROM_OTHER,
    );
    const standalone = triageDrops(groups, withExpr).flatMap((t) => t.explanation.patches);
    expect(standalone.map((p) => [p.composition?.how, p.ops.map((o) => o.path)])).toEqual([
      ['independent', ['/spec/ingressDeny/0/fromEndpoints/0/matchExpressions/-']],
      ['independent', ['/spec/ingressDeny/0/fromEndpoints/0/matchExpressions/-']],
    ]);
    for (const order of permutations(standalone)) expect(flows.map((f) => allowed(apply(withExpr, order), f))).toEqual([true, true]);
  });

  it('the combined fix narrows the deny for both peers in one patch and lets every drop through', () => {
    const fix = combineFixes(groups, policies);
    expect(fix).toMatchObject({ fixable: 2, allowedAfter: 2 });
    expect(fix.patches).toHaveLength(1);
    expect(fix.patches[0]?.ops).toEqual([
      { op: 'add', path: '/spec/ingressDeny/0/fromEndpoints/0/matchExpressions', value: [{ key: 'app', operator: 'NotIn', values: [expect.any(String)] }] },
      { op: 'add', path: '/spec/ingressDeny/0/fromEndpoints/0/matchExpressions/-', value: { key: 'app', operator: 'NotIn', values: [expect.any(String)] } },
    ]);
    const excluded = (fix.patches[0]?.ops ?? []).map((o) => JSON.stringify('value' in o ? o.value : null));
    expect(excluded.join()).toContain('client');
    expect(excluded.join()).toContain('batch');
    const after = apply(policies, fix.patches);
    expect(flows.map((f) => allowed(after, f))).toEqual([true, true]);
    // Still a deny for the rest of namespace "other".
    expect(allowed(after, drop({ source: podEp('other', 'stranger') }))).toBe(false);
  });
});
