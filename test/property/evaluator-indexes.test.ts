/**
 * Property: the evaluator's indexes and memos (rules by subject label, rule entries by peer
 * label, facts per selecting rule list) never change a decision. `evaluate` is compared, reason
 * strings and rule order included, with `evaluateByScan`, which matches every rule's subject and
 * every entry's peers. Sets are big enough for every index to be used (32+ rules, rules with
 * 8+ entries), and the generated selectors, entities, CIDRs, FQDNs, deny and L7 rules are the
 * near misses an index could get wrong: `In` lists, `NotIn`, `Exists`/`DoesNotExist`, empty
 * selectors, source prefixes (`k8s:`, `any:`, `reserved:`), namespace labels, other clusters.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildPolicySet, evaluate, parsePolicies, type EvaluateOptions, type EvaluationRequest, type Peer } from '../../src/policy/index.js';
import { evaluateByScan } from '../../src/policy/evaluate.js';

type Obj = Record<string, unknown>;

const APPS = ['a', 'b', 'c', 'd'];
const app = fc.constantFrom(...APPS);
const selectorKey = (k: string): fc.Arbitrary<string> => fc.constantFrom(k, `k8s:${k}`, `any:${k}`);
const requirement = fc.oneof(
  fc.tuple(selectorKey('app'), fc.subarray(APPS, { minLength: 1 })).map(([key, values]) => ({ key, operator: 'In', values })),
  fc.tuple(selectorKey('app'), fc.subarray(APPS, { minLength: 1 })).map(([key, values]) => ({ key, operator: 'NotIn', values })),
  fc.tuple(fc.constantFrom('tier', 'app', 'io.cilium.k8s.namespace.labels.team'), fc.constantFrom('Exists', 'DoesNotExist')).map(([key, operator]) => ({ key, operator })),
  fc.constantFrom('x', 'y').map((v) => ({ key: 'io.cilium.k8s.namespace.labels.team', operator: 'In', values: [v] })),
);
const selector = fc.oneof(
  fc.constant({}),
  fc.tuple(selectorKey('app'), app).map(([k, v]) => ({ matchLabels: { [k]: v } })),
  fc.tuple(app, fc.constantFrom('web', 'db')).map(([a, t]) => ({ matchLabels: { app: a, tier: t } })),
  fc.constantFrom('n1', 'n2').map((ns) => ({ matchLabels: { 'k8s:io.kubernetes.pod.namespace': ns } })),
  fc.constantFrom('x', 'y').map((team) => ({ matchLabels: { 'io.cilium.k8s.namespace.labels.team': team } })),
  fc.constantFrom('c1', 'c2').map((c) => ({ matchLabels: { 'io.cilium.k8s.policy.cluster': c, app: 'a' } })),
  fc.constantFrom('reserved:host', 'reserved:remote-node', 'reserved:kube-apiserver').map((k) => ({ matchLabels: { [k]: '' } })),
  fc.array(requirement, { minLength: 1, maxLength: 2 }).map((matchExpressions) => ({ matchExpressions })),
);
const port = fc.record({ port: fc.constantFrom('80', '443', '0', '53', 'web'), protocol: fc.constantFrom('TCP', 'UDP', 'ANY') });
const toPorts = fc.option(fc.array(fc.record({ ports: fc.array(port, { minLength: 1, maxLength: 2 }) }), { minLength: 1, maxLength: 2 }), { nil: undefined });
const l7Ports = fc.constantFrom(
  [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method: 'GET' }] } }],
  [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method: 'POST', path: '/x' }] } }],
);

function entry(dir: 'from' | 'to', deny: boolean): fc.Arbitrary<Obj> {
  const peer = fc.oneof(
    { weight: 6, arbitrary: fc.array(selector, { minLength: 1, maxLength: 3 }).map((s) => ({ [`${dir}Endpoints`]: s })) },
    { weight: 1, arbitrary: fc.constant({}) },
    { weight: 1, arbitrary: fc.constant({ [`${dir}Endpoints`]: [] }) },
    { weight: 2, arbitrary: fc.subarray(['world', 'host', 'cluster', 'all', 'remote-node', 'kube-apiserver', 'init', 'health', 'unmanaged', 'world-ipv4'], { minLength: 1, maxLength: 2 }).map((e) => ({ [`${dir}Entities`]: e })) },
    { weight: 1, arbitrary: fc.constantFrom({ cidr: '1.0.0.0/8', except: ['1.1.1.0/24'] }, { cidr: '0.0.0.0/0', except: ['1.1.1.0/24'] }, { cidr: '10.0.0.0/8' }).map((c) => ({ [`${dir}CIDRSet`]: [c] })) },
    { weight: 1, arbitrary: fc.constantFrom('1.1.1.0/24', '8.8.8.8/32').map((c) => ({ [`${dir}CIDR`]: [c] })) },
    { weight: 1, arbitrary: fc.array(selector, { minLength: 1, maxLength: 2 }).map((s) => ({ [`${dir}Nodes`]: s })) },
    ...(dir === 'to' && !deny ? [{ weight: 1, arbitrary: fc.constantFrom('*.example.com', 'api.example.com').map((m) => ({ toFQDNs: [{ matchPattern: m }] })) }] : []),
    // An indexable selector next to one without an `In` label.
    { weight: 1, arbitrary: fc.tuple(app, fc.constantFrom({}, { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['a'] }] })).map(([a, s]) => ({ [`${dir}Endpoints`]: [{ matchLabels: { app: a } }, s] })) },
    // An explicitly empty list selects nothing, whatever else the rule names.
    { weight: 1, arbitrary: fc.constant({ [`${dir}Endpoints`]: [], [`${dir}Entities`]: ['all'] }) },
  );
  const ports = deny ? toPorts : fc.oneof(toPorts, l7Ports);
  return fc.tuple(peer, ports).map(([p, t]) => ({ ...p, ...(t !== undefined && { toPorts: t }) }));
}

/** Up to 14 entries per section: rules with 8+ entries use the entry index. */
const cnpSpec = fc
  .record({
    endpointSelector: selector,
    ingress: fc.option(fc.array(entry('from', false), { maxLength: 14 }), { nil: undefined }),
    ingressDeny: fc.option(fc.array(entry('from', true), { maxLength: 3 }), { nil: undefined }),
    egress: fc.option(fc.array(entry('to', false), { maxLength: 14 }), { nil: undefined }),
    egressDeny: fc.option(fc.array(entry('to', true), { maxLength: 3 }), { nil: undefined }),
    enableDefaultDeny: fc.option(fc.record({ ingress: fc.boolean(), egress: fc.boolean() }), { nil: undefined }),
  })
  .map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)))
  .filter((s) => ['ingress', 'ingressDeny', 'egress', 'egressDeny'].some((k) => ((s[k] as unknown[] | undefined)?.length ?? 0) > 0));

const knpPeer = fc.oneof(
  app.map((a) => ({ podSelector: { matchLabels: { app: a } } })),
  fc.constantFrom('n1', 'n2').map((ns) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } })),
  fc.tuple(app, fc.constantFrom('x', 'y')).map(([a, t]) => ({ podSelector: { matchLabels: { app: a } }, namespaceSelector: { matchLabels: { team: t } } })),
  fc.constant({ ipBlock: { cidr: '0.0.0.0/0', except: ['1.1.1.0/24'] } }),
);
const knpRule = (dir: 'from' | 'to') =>
  fc.record({ peers: fc.option(fc.array(knpPeer, { maxLength: 10 }), { nil: undefined }), ports: fc.option(fc.array(fc.record({ port: fc.constantFrom(80, 443, 'web'), protocol: fc.constantFrom('TCP', 'UDP') }), { maxLength: 2 }), { nil: undefined }) }).map((r) => ({
    ...(r.peers !== undefined && { [dir]: r.peers }),
    ...(r.ports !== undefined && { ports: r.ports }),
  }));
const knpSpec = fc
  .record({
    podSelector: fc.oneof(fc.constant({}), app.map((a) => ({ matchLabels: { app: a } }))),
    policyTypes: fc.option(fc.subarray(['Ingress', 'Egress'], { minLength: 1 }), { nil: undefined }),
    ingress: fc.option(fc.array(knpRule('from'), { maxLength: 3 }), { nil: undefined }),
    egress: fc.option(fc.array(knpRule('to'), { maxLength: 3 }), { nil: undefined }),
  })
  .map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)));

const policy = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('CiliumNetworkPolicy'), ns: fc.constantFrom('n1', 'n2'), spec: cnpSpec }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('CiliumClusterwideNetworkPolicy'), ns: fc.constant(undefined), spec: cnpSpec }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('CiliumClusterwideNetworkPolicy'), ns: fc.constant(undefined), spec: cnpSpec.map((s) => ({ ...s, nodeSelector: s['endpointSelector'], endpointSelector: undefined })).map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined))) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('NetworkPolicy'), ns: fc.constantFrom('n1', 'n2'), spec: knpSpec }) },
);

const pod = (ns: string, labels: Record<string, string>, team: string, cluster: string, ip: string): Peer => ({
  labels: [
    ...Object.entries(labels).map(([k, v]) => `k8s:${k}=${v}`),
    `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${ns}`,
    ...(team === '' ? [] : [`k8s:io.cilium.k8s.namespace.labels.team=${team}`]),
    ...(cluster === '' ? [] : [`k8s:io.cilium.k8s.policy.cluster=${cluster}`]),
  ],
  namespace: ns,
  ip,
  namedPorts: { web: { port: 80, protocol: 'TCP' } },
});

/** Identities: pods (with and without tier, namespace team, cluster label), entities, world addresses, CIDR and FQDN identities. */
const podPeer = fc
  .record({ ns: fc.constantFrom('n1', 'n2'), app, tier: fc.constantFrom('web', 'db', ''), team: fc.constantFrom('x', 'y', ''), cluster: fc.constantFrom('c1', 'c2', ''), last: fc.integer({ min: 2, max: 250 }) })
  .map((p) => pod(p.ns, { app: p.app, ...(p.tier !== '' && { tier: p.tier }) }, p.team, p.cluster, `10.0.${p.ns === 'n1' ? 0 : 1}.${p.last}`));
const OTHER_PEERS: Peer[] = [
  { labels: ['reserved:world'], identity: 2, ip: '1.1.1.1' },
  { labels: ['reserved:world'], identity: 2, ip: '1.2.3.4' },
  { labels: ['reserved:world-ipv4'], identity: 9, ip: '8.8.8.8' },
  { labels: ['cidr:1.2.3.0/24', 'reserved:world'], identity: 16777217 },
  { labels: ['reserved:world'], identity: 2, ip: '5.6.7.8', names: ['api.example.com'] },
  { labels: ['fqdn:*.example.com', 'reserved:world'], identity: 16777218, ip: '5.6.7.9' },
  { labels: ['reserved:host'], identity: 1, ip: '10.9.0.1' },
  { labels: ['reserved:remote-node'], identity: 6, ip: '10.9.0.2' },
  { labels: ['reserved:kube-apiserver', 'reserved:remote-node'], identity: 7, ip: '10.96.0.1' },
  { labels: ['reserved:health'], identity: 4 },
  { labels: ['reserved:init'], identity: 5 },
  { labels: ['reserved:unmanaged'], identity: 3, ip: '10.0.0.99' },
  { labels: ['k8s:app=a', 'k8s:io.cilium.k8s.policy.cluster=c2'], namespace: 'n1' },
];
const peers = fc.tuple(fc.array(podPeer, { minLength: 3, maxLength: 6 }), fc.subarray(OTHER_PEERS, { minLength: 2, maxLength: 5 })).map(([pods, others]) => [...pods, ...others]);
const L4: Pick<EvaluationRequest, 'protocol' | 'port' | 'icmpType' | 'l7'>[] = [
  { protocol: 'TCP', port: 80 },
  { protocol: 'TCP', port: 80, l7: { http: { method: 'GET', path: '/' } } },
  { protocol: 'TCP', port: 443 },
  { protocol: 'UDP', port: 53 },
  { protocol: 'ICMPv4', icmpType: 8 },
];
const options = fc.constantFrom<EvaluateOptions>(
  { clusterName: 'c1' },
  { clusterName: 'c1', nonDefaultDenyPolicies: false },
  { clusterName: 'c2', hostFirewall: true, cidrMatchNodes: true },
  { clusterName: 'c1', defaultLocalCluster: false, enforcementMode: 'always' },
);

function toDocs(ps: readonly { kind: string; ns: string | undefined; spec: Obj }[]): string {
  return ps
    .map((p, i) =>
      stringify({
        apiVersion: p.kind === 'NetworkPolicy' ? 'networking.k8s.io/v1' : 'cilium.io/v2',
        kind: p.kind,
        metadata: { name: `p${i}`, ...(p.ns !== undefined && { namespace: p.ns }) },
        spec: p.spec,
      }),
    )
    .join('---\n');
}

describe('evaluator indexes', () => {
  it('decide every request exactly as matching every rule and every peer does', () => {
    let indexedRules = 0;
    const verdicts = new Set<string>();
    fc.assert(
      fc.property(fc.array(policy, { minLength: 32, maxLength: 48 }), peers, options, (ps, all, opts) => {
        const r = parsePolicies(toDocs(ps), { file: 'gen.yaml' });
        expect(r.errors).toEqual([]);
        const set = buildPolicySet(r.policies);
        if (set.rules.some((x) => x.ingress.entries.length >= 8 || x.egress.entries.length >= 8)) indexedRules++;
        for (const source of all) {
          for (const destination of all) {
            if (source === destination) continue;
            for (const l4 of L4) {
              const request = { source, destination, ...l4 };
              const indexed = evaluate(set, request, opts);
              expect(indexed).toEqual(evaluateByScan(set, request, opts));
              for (const side of [indexed.egress, indexed.ingress]) if (side.rules.length > 0 || side.verdict !== 'allowed') verdicts.add(side.verdict);
            }
          }
        }
      }),
      { numRuns: 25 },
    );
    expect([...verdicts].sort()).toEqual(['allowed', 'allowed-l7-proxied', 'default-deny', 'explicit-deny', 'l7-denied', 'not-enforced']);
    // The entry index was exercised, not only the subject index.
    expect(indexedRules).toBeGreaterThan(10);
  });
});
