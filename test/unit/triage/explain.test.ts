import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEvent, type Flow } from '../../../src/flow/index.js';
import { buildPolicySet, evaluate, requestFromFlow, type Policy } from '../../../src/policy/index.js';
import { applyJsonPatch, groupDrops, samePolicy, triageDrops, type TriagedDrop } from '../../../src/triage/index.js';
import { SAMPLES_DIR } from '../../helpers/paths.js';
import { cnp, drop, knp, load, podEp } from './triage-helpers.js';

function triage(flows: Flow[], policies: Policy[]): TriagedDrop {
  const [t, ...rest] = triageDrops(groupDrops(flows), policies);
  expect(rest).toEqual([]);
  if (!t) throw new Error('no group');
  return t;
}

/** Applies every suggested patch to the parsed policies (their spec/specs layout is the document's). */
function applyAll(policies: Policy[], t: TriagedDrop): Policy[] {
  let out = policies;
  for (const p of t.explanation.patches) out = out.map((x) => (samePolicy(x, p.policy) ? applyJsonPatch(x, p.ops) : x));
  return out;
}

const allowedAfter = (policies: Policy[], t: TriagedDrop, flow: Flow): boolean => {
  const req = requestFromFlow(flow);
  if (!req) throw new Error('no request');
  return evaluate(buildPolicySet(applyAll(policies, t)), req, { clusterName: 'default' }).allowed;
};

const WEB_INGRESS = cnp('web', '{endpointSelector: {matchLabels: {app: web}}, ingress: [{fromEndpoints: [{matchLabels: {app: lb}}], toPorts: [{ports: [{port: "80", protocol: TCP}]}]}]}');

describe('explain and fix', () => {
  it('133 at ingress: the side and the policy that made it default deny; one allow rule for the exact peer and port', () => {
    const policies = load(WEB_INGRESS, cnp('all', '{endpointSelector: {}, egress: [{toEntities: [all]}], enableDefaultDeny: {egress: false}}'));
    const f = drop();
    const t = triage([f], policies);
    expect(t.explanation).toMatchObject({ verdict: 'default-deny', policyDrop: true, policies: ['CiliumNetworkPolicy ns/web'], policiesFrom: 'evaluator', allowedAfterPatches: true });
    expect(t.explanation.sides.map((s) => s.direction)).toEqual(['ingress']);
    expect(t.explanation.patches).toEqual([
      expect.objectContaining({
        action: 'add-allow',
        direction: 'ingress',
        policy: expect.objectContaining({ kind: 'CiliumNetworkPolicy', namespace: 'ns', name: 'web' }),
        ops: [{ op: 'add', path: '/spec/ingress/-', value: { fromEndpoints: [{ matchLabels: { app: 'client' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] } }],
      }),
    ]);
    expect(allowedAfter(policies, t, f)).toBe(true);
  });

  it('both sides deny: two patches, cross-namespace peers carry the pod namespace, a missing section is created', () => {
    const policies = load(
      cnp('client-out', '{endpointSelector: {matchLabels: {app: client}}, egress: [{toEntities: [kube-apiserver]}]}', 'other'),
      cnp('web', '{endpointSelector: {matchLabels: {app: web}}, ingressDeny: [{fromEntities: [world]}]}'),
    );
    const f = drop({ source: podEp('other', 'client') });
    const t = triage([f], policies);
    expect(t.explanation.sides.map((s) => s.direction)).toEqual(['egress', 'ingress']);
    const [egress, ingress] = t.explanation.patches;
    expect(egress?.ops).toEqual([{ op: 'add', path: '/spec/egress/-', value: { toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'ns', app: 'web' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] } }]);
    expect(ingress?.ops).toEqual([{ op: 'add', path: '/spec/ingress', value: [{ fromEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'other', app: 'client' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] }]);
    expect(t.explanation.allowedAfterPatches).toBe(true);
    expect(allowedAfter(policies, t, f)).toBe(true);
  });

  it('181: Hubble names the policy; an allow cannot override a deny, so the deny is narrowed to exclude the peer', () => {
    const policies = load(
      cnp('deny-other', '{endpointSelector: {}, ingressDeny: [{fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: other}}]}]}'),
      cnp('web', '{endpointSelector: {matchLabels: {app: web}}, ingress: [{fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: other}}]}]}'),
    );
    const f = drop({ source: podEp('other', 'client'), dropReason: 'POLICY_DENY', ingressDeniedBy: [{ name: 'deny-other', namespace: 'ns', kind: 'CiliumNetworkPolicy', labels: [] }] });
    const t = triage([f], policies);
    expect(t.explanation).toMatchObject({ verdict: 'explicit-deny', policies: ['CiliumNetworkPolicy ns/deny-other'], policiesFrom: 'hubble', allowedAfterPatches: true });
    expect(t.explanation.summary).toContain('an allow rule cannot override a deny');
    expect(t.explanation.patches).toEqual([
      expect.objectContaining({
        action: 'narrow-deny',
        ops: [{ op: 'add', path: '/spec/ingressDeny/0/fromEndpoints/0/matchExpressions', value: [{ key: 'app', operator: 'NotIn', values: ['client'] }] }],
      }),
    ]);
    expect(allowedAfter(policies, t, f)).toBe(true);
  });

  it('181 from a world peer: the deny rule is emptied in place ({} matches no peer), so the policy keeps a rule and no index shifts', () => {
    const policies = load(cnp('no-world', '{endpointSelector: {matchLabels: {app: web}}, ingressDeny: [{fromEntities: [world]}], enableDefaultDeny: {ingress: false}}'));
    const f = drop({ source: { identity: 2, labels: ['reserved:world'], workloads: [] }, ip: { source: '8.8.8.8', destination: '10.0.2.2' }, dropReason: 'POLICY_DENY' });
    const t = triage([f], policies);
    expect(t.explanation.patches.map((p) => [p.action, p.ops])).toEqual([['remove-deny', [{ op: 'replace', path: '/spec/ingressDeny/0', value: {} }]]]);
    expect(allowedAfter(policies, t, f)).toBe(true);
    // Still denied from a world peer? No: the emptied entry denies nothing at all.
    expect(allowedAfter(policies, t, { ...f, ip: { source: '9.9.9.9', destination: '10.0.2.2', ipVersion: 'IPv4' } } as Flow)).toBe(true);
  });

  it('L7 refusal (type 129, HTTP 403): an L7 allow rule for exactly that method and path, next to the rule that refused it', () => {
    const policies = load(cnp('web', '{endpointSelector: {matchLabels: {app: web}}, ingress: [{fromEndpoints: [{matchLabels: {app: client}}], toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: GET, path: "/public/.*"}]}}]}]}'));
    const f = drop({
      dropReason: undefined,
      type: 'L7',
      eventType: { type: 129, subType: 0 },
      l7: { type: 'REQUEST', http: { method: 'POST', url: 'http://web/api/v1.items?x=1', headers: [], code: 403 } },
    } as Partial<Flow>);
    const t = triage([f], policies);
    expect(t.group.kind).toBe('l7');
    expect(t.explanation.verdict).toBe('l7-denied');
    expect(t.explanation.patches[0]?.ops).toEqual([
      {
        op: 'add',
        path: '/spec/ingress/-',
        value: { fromEndpoints: [{ matchLabels: { app: 'client' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method: 'POST', path: "^/api/v1\\.items(\\?.*)?$" }] } }] },
      },
    ]);
    expect(allowedAfter(policies, t, f)).toBe(true);
  });

  it('a non-policy reason: no policy change fixes it, no patch', () => {
    const t = triage([drop({ dropReason: 'CT_MAP_INSERTION_FAILED', dropReasonCode: 155 })], load(WEB_INGRESS));
    expect(t.explanation).toMatchObject({ verdict: 'not-policy', policyDrop: false, patches: [] });
    expect(t.explanation.summary).toBe('not a policy drop: CT_MAP_INSERTION_FAILED: no policy change fixes it');
  });

  it('a policy drop the loaded policies now allow is said so', () => {
    const t = triage([drop()], load(cnp('web', '{endpointSelector: {matchLabels: {app: web}}, ingress: [{fromEndpoints: [{}]}]}')));
    expect(t.explanation.verdict).toBe('now-allowed');
    expect(t.explanation.patches).toEqual([]);
  });

  it('egress to the API server, an FQDN and a bare IP: entities, toFQDNs matchName, /32 toCIDRSet; multi-spec paths', () => {
    const policies = load(
      `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: multi, namespace: ns}\nspecs:\n- {endpointSelector: {matchLabels: {app: other}}, egress: [{toEntities: [world]}]}\n- {endpointSelector: {matchLabels: {app: client}}, egress: [{toEndpoints: [{}]}]}`,
    );
    const egressDrop = (over: Parameters<typeof drop>[0]): Flow => drop({ trafficDirection: 'EGRESS', dport: 443, ...over });
    const cases: [Flow, unknown][] = [
      [egressDrop({ destination: { identity: 7, labels: ['reserved:kube-apiserver'], workloads: [] }, ip: { source: '10.0.1.1', destination: '10.96.0.1' }, dport: 6443 }), { toEntities: ['kube-apiserver'], toPorts: [{ ports: [{ port: '6443', protocol: 'TCP' }] }] }],
      [egressDrop({ destination: { identity: 16777217, labels: ['reserved:world'], workloads: [] }, ip: { source: '10.0.1.1', destination: '140.82.112.3' }, destinationNames: ['api.github.com'] }), { toFQDNs: [{ matchName: 'api.github.com' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] }],
      [egressDrop({ destination: { identity: 2, labels: ['reserved:world'], workloads: [] }, ip: { source: '10.0.1.1', destination: '1.2.3.4' } }), { toCIDRSet: [{ cidr: '1.2.3.4/32' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] }],
    ];
    for (const [f, rule] of cases) {
      const t = triage([f], policies);
      expect(t.explanation.patches.map((p) => p.ops)).toEqual([[{ op: 'add', path: '/specs/1/egress/-', value: rule }]]);
      expect(allowedAfter(policies, t, f)).toBe(true);
    }
  });

  it('NetworkPolicy: the KNP rule shape {from, ports} with a namespaceSelector across namespaces', () => {
    const policies = load(knp('web', '{podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}'));
    const f = drop({ source: podEp('other', 'client') });
    const t = triage([f], policies);
    expect(t.explanation.patches[0]?.ops).toEqual([
      {
        op: 'add',
        path: '/spec/ingress',
        value: [{ from: [{ podSelector: { matchLabels: { app: 'client' } }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } } }], ports: [{ protocol: 'TCP', port: 80 }] }],
      },
    ]);
    expect(allowedAfter(policies, t, f)).toBe(true);
  });

  it('the public stranger-to-shop drop (observer sample, read in place) against a shop policy that only admits pos', () => {
    const text = readFileSync(join(SAMPLES_DIR, 'ephico2real2-cilium-poc__26-flow-stranger-to-shop.observer.json'), 'utf8');
    const ev = decodeEvent(JSON.parse(text) as unknown);
    if (!ev.ok || ev.event.kind !== 'flow') throw new Error('sample did not decode');
    const policies = load(cnp('shop', '{endpointSelector: {matchLabels: {app: shop}}, ingress: [{fromEndpoints: [{matchLabels: {app: pos}}], toPorts: [{ports: [{port: "80", protocol: TCP}]}]}]}', 'cf2cnp-lab'));
    const [t] = triageDrops(groupDrops([ev.event.flow]), policies);
    expect(t?.explanation).toMatchObject({ verdict: 'default-deny', policies: ['CiliumNetworkPolicy cf2cnp-lab/shop'], allowedAfterPatches: true });
    expect(t?.explanation.patches[0]?.ops).toEqual([
      { op: 'add', path: '/spec/ingress/-', value: { fromEndpoints: [{ matchLabels: { 'app.kubernetes.io/name': 'stranger' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] } },
    ]);
    // The cluster (poc1) comes from the flow: the patched policy admits the sample under the evaluator.
    const req = requestFromFlow(ev.event.flow);
    if (!req) throw new Error('no request');
    const patched = policies.map((p) => applyJsonPatch(p, t?.explanation.patches[0]?.ops ?? []));
    expect(evaluate(buildPolicySet(patched), req, { clusterName: 'poc1' }).allowed).toBe(true);
  });
});
