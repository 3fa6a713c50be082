/**
 * Property (issue 12, point 8): the standalone patches `drops` prints for different drops apply in
 * any order. For generated deny and allow policies (selectors with and without matchExpressions,
 * entity and CIDR denies, a peer that is both, allow policies with and without the section the
 * fix needs) and generated drops, every permutation of a policy's patches applies to the original
 * document with fast-json-patch (not our applier), all orders give the same policy, and the
 * project's evaluator then admits every drop the patches are for.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Flow } from '../../src/flow/index.js';
import { buildPolicySet, evaluate, parsePolicies, requestFromFlow, type Policy } from '../../src/policy/index.js';
import { groupDrops, triageDrops, type PolicyPatch } from '../../src/triage/index.js';
import { applyInOrder, canonical, orders } from '../helpers/patch-orders.js';
import { drop, podEp } from '../unit/triage/triage-helpers.js';

type Obj = Record<string, unknown>;

const OTHER = { 'k8s:io.kubernetes.pod.namespace': 'other' };
const denyEntry: fc.Arbitrary<Obj> = fc.oneof(
  // A selector of namespace "other", with or without matchExpressions, sometimes two of them.
  fc.record({ expr: fc.boolean(), two: fc.boolean() }).map(({ expr, two }) => ({
    fromEndpoints: [
      { matchLabels: OTHER, ...(expr && { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['ops'] }] }) },
      ...(two ? [{ matchLabels: { ...OTHER, team: 'x' } }] : []),
    ],
  })),
  fc.constant({ fromEntities: ['world'] }),
  fc.constant({ fromCIDRSet: [{ cidr: '0.0.0.0/0' }] }),
  // Any peer on port 80.
  fc.constant({ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }),
);

const denyPolicy = fc.record({ subject: fc.constantFrom({}, { matchLabels: { app: 'web' } }), entries: fc.array(denyEntry, { minLength: 1, maxLength: 3 }) }).map(({ subject, entries }) => ({
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumNetworkPolicy',
  metadata: { name: 'deny', namespace: 'ns' },
  spec: { endpointSelector: subject, ingressDeny: entries },
}));

/** The web workload's own policy: with an ingress section, or without one (the fix must create it). */
const webPolicy = fc.constantFrom<Obj>(
  { spec: { endpointSelector: { matchLabels: { app: 'web' } }, ingress: [{ fromEndpoints: [{ matchLabels: { app: 'lb' } }] }] } },
  { spec: { endpointSelector: { matchLabels: { app: 'web' } }, egress: [{ toEntities: ['world'] }] } },
  { specs: [{ endpointSelector: { matchLabels: { app: 'web' } }, egress: [{ toEntities: ['world'] }] }, { endpointSelector: { matchLabels: { app: 'web' } }, ingress: [{ fromEndpoints: [{ matchLabels: { app: 'lb' } }] }] }] },
).map((s) => ({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'web', namespace: 'ns' }, ...s }));

const peer = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'd').map((app) => ({ kind: 'pod' as const, ns: 'other', app })),
  // A pod without a label to narrow a deny by: its fix empties the entry that another drop's fix narrows.
  fc.constant({ kind: 'bare' as const, ns: 'other', app: 'bare' }),
  fc.constantFrom('x', 'y').map((app) => ({ kind: 'pod' as const, ns: 'ns', app })),
  fc.constantFrom('8.8.8.8', '1.1.1.1').map((ip) => ({ kind: 'world' as const, ip })),
);
const drops = fc.uniqueArray(fc.record({ peer, port: fc.constantFrom(80, 443) }), { minLength: 1, maxLength: 4, selector: (d) => JSON.stringify(d) });

let seq = 0;
type Peer = { kind: 'pod' | 'bare'; ns: string; app: string } | { kind: 'world'; ip: string };
function flowOf(d: { peer: Peer; port: number }): Flow {
  seq++;
  const timeMs = 1_700_000_000_000 + seq * 1000;
  return d.peer.kind === 'world'
    ? drop({ source: { identity: 2, labels: ['reserved:world'], workloads: [] }, ip: { source: d.peer.ip, destination: '10.0.2.2', ipVersion: 'IPv4' }, dport: d.port, timeMs, dropReason: 'POLICY_DENY' } as Partial<Flow>)
    : d.peer.kind === 'bare'
      ? drop({ source: { ...podEp(d.peer.ns, 'bare', 'bare-pod', 3000), labels: ['k8s:io.kubernetes.pod.namespace=other', 'k8s:io.cilium.k8s.policy.cluster=default'] }, dport: d.port, timeMs, dropReason: 'POLICY_DENY' })
      : drop({ source: podEp(d.peer.ns, d.peer.app, `${d.peer.app}-pod`, 2000 + d.peer.app.charCodeAt(0)), dport: d.port, timeMs, dropReason: 'POLICY_DENY' });
}

const parse = (docs: readonly Obj[]): Policy[] => {
  const r = parsePolicies(docs.map((d) => stringify(d)).join('---\n'), { file: 'gen.yaml' });
  expect(r.errors).toEqual([]);
  return r.policies;
};

const admits = (policies: readonly Policy[], flow: Flow): boolean => {
  const req = requestFromFlow(flow);
  if (req === undefined) throw new Error('no request');
  return evaluate(buildPolicySet(policies), req, { clusterName: 'default' }).allowed;
};

describe('drops: standalone patches apply in any order (generated policies and drops)', () => {
  it('every permutation of every policy patches applies, gives one policy, and admits every fixed drop', () => {
    let merged = 0;
    let narrowedIntoEmptied = 0;
    let checkedOrders = 0;
    fc.assert(
      fc.property(denyPolicy, webPolicy, drops, (deny, web, ds) => {
        const docs: Obj[] = [deny, web];
        const policies = parse(docs);
        const flows = ds.map(flowOf);
        const triaged = triageDrops(groupDrops(flows), policies, { evaluate: { clusterName: 'default' } });
        const fixed = triaged.filter((t) => t.explanation.allowedAfterPatches === true);
        const patches: PolicyPatch[] = fixed.flatMap((t) => t.explanation.patches);
        merged += patches.filter((p) => p.composition?.how === 'merged').length;
        narrowedIntoEmptied += patches.filter((p) => p.action === 'narrow-deny' && p.ops.some((o) => o.op === 'replace')).length;
        const docIndex = (p: PolicyPatch): number => (p.policy.origin?.doc ?? 0) - 1;
        for (const [i, doc] of docs.entries()) {
          const mine = patches.filter((p) => docIndex(p) === i);
          const others = patches.filter((p) => docIndex(p) !== i);
          let first: unknown;
          for (const order of orders(mine, { exhaustive: 5, sampled: 40 })) {
            const patched = applyInOrder(doc, order.map((p) => p.ops));
            const rest = docs.map((d, j) => (j === i ? patched : applyInOrder(d, others.filter((p) => docIndex(p) === j).map((p) => p.ops))));
            const after = parse(rest);
            for (const t of fixed) expect(admits(after, t.group.sample), `${t.group.key} after ${order.map((p) => p.description).join(' / ')}`).toBe(true);
            if (first === undefined) first = canonical(patched);
            else expect(canonical(patched)).toEqual(first);
            checkedOrders++;
          }
        }
      }),
      { numRuns: 50, seed: 1212 },
    );
    // The generator reaches the cases that need merging, and many orders were tried.
    expect(merged).toBeGreaterThan(15);
    expect(narrowedIntoEmptied).toBeGreaterThan(0);
    expect(checkedOrders).toBeGreaterThan(200);
    console.log(`drops patches: ${merged} merged, ${narrowedIntoEmptied} narrowed into an emptied entry, ${checkedOrders} orders checked`);
  });
});
