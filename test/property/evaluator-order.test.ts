/**
 * Property: decisions do not depend on the order of policies, nor on the order of rules (and of
 * peers and ports) inside them — Cilium's own `Perm` tests check the same. Attributions are
 * compared by rule content, since a rule's index moves when rules are permuted.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildPolicySet, evaluate, parsePolicies, type Decision, type EvaluationRequest, type Peer, type Policy, type SideDecision } from '../../src/policy/index.js';

type Obj = Record<string, unknown>;

const app = fc.constantFrom('a', 'b', 'c');
const selector = fc.oneof(
  fc.constant({}),
  app.map((v) => ({ matchLabels: { app: v } })),
  fc.subarray(['a', 'b', 'c'], { minLength: 1 }).map((vs) => ({ matchExpressions: [{ key: 'app', operator: 'In', values: vs }] })),
  fc.constantFrom('n1', 'n2').map((ns) => ({ matchLabels: { 'k8s:io.kubernetes.pod.namespace': ns } })),
);
const port = fc.record({ port: fc.constantFrom('80', '443', '0', '53', 'web'), protocol: fc.constantFrom('TCP', 'UDP', 'ANY') });
const toPorts = fc.option(fc.array(fc.record({ ports: fc.array(port, { minLength: 1, maxLength: 2 }) }), { minLength: 1, maxLength: 2 }), { nil: undefined });
const l7Ports = fc.constant([{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method: 'GET' }] } }]);

function entry(dir: 'from' | 'to', deny: boolean): fc.Arbitrary<Obj> {
  const peer = fc.oneof(
    fc.constant({}),
    fc.array(selector, { maxLength: 2 }).map((s) => ({ [`${dir}Endpoints`]: s })),
    fc.subarray(['world', 'host', 'cluster', 'all', 'remote-node'], { minLength: 1 }).map((e) => ({ [`${dir}Entities`]: e })),
    fc.constant({ [`${dir}CIDRSet`]: [{ cidr: '1.0.0.0/8', except: ['1.1.1.0/24'] }] }),
    fc.constant({ [`${dir}CIDR`]: ['1.1.1.0/24'] }),
  );
  const ports = deny ? toPorts : fc.oneof(toPorts, l7Ports);
  return fc.tuple(peer, ports).map(([p, t]) => ({ ...p, ...(t !== undefined && { toPorts: t }) }));
}

const cnpSpec = fc
  .record({
    endpointSelector: selector,
    ingress: fc.option(fc.array(entry('from', false), { maxLength: 3 }), { nil: undefined }),
    ingressDeny: fc.option(fc.array(entry('from', true), { maxLength: 2 }), { nil: undefined }),
    egress: fc.option(fc.array(entry('to', false), { maxLength: 3 }), { nil: undefined }),
    egressDeny: fc.option(fc.array(entry('to', true), { maxLength: 2 }), { nil: undefined }),
    enableDefaultDeny: fc.option(fc.record({ ingress: fc.boolean(), egress: fc.boolean() }), { nil: undefined }),
  })
  .map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)))
  .filter((s) => ['ingress', 'ingressDeny', 'egress', 'egressDeny'].some((k) => ((s[k] as unknown[] | undefined)?.length ?? 0) > 0));

const knpPeer = fc.oneof(
  selector.filter((s) => !('matchLabels' in s && 'k8s:io.kubernetes.pod.namespace' in (s.matchLabels as Obj))).map((s) => ({ podSelector: s })),
  fc.constantFrom('n1', 'n2').map((ns) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } })),
  fc.constant({ ipBlock: { cidr: '0.0.0.0/0', except: ['1.1.1.0/24'] } }),
);
const knpPorts = fc.option(fc.array(fc.record({ port: fc.constantFrom(80, 443, 'web'), protocol: fc.constantFrom('TCP', 'UDP') }), { maxLength: 2 }), { nil: undefined });
const knpRule = (dir: 'from' | 'to') =>
  fc.record({ peers: fc.option(fc.array(knpPeer, { maxLength: 2 }), { nil: undefined }), ports: knpPorts }).map((r) => ({
    ...(r.peers !== undefined && { [dir]: r.peers }),
    ...(r.ports !== undefined && { ports: r.ports }),
  }));
const knpSpec = fc
  .record({
    podSelector: selector.filter((s) => !('matchLabels' in s && 'k8s:io.kubernetes.pod.namespace' in (s.matchLabels as Obj))),
    policyTypes: fc.option(fc.subarray(['Ingress', 'Egress'], { minLength: 1 }), { nil: undefined }),
    ingress: fc.option(fc.array(knpRule('from'), { maxLength: 3 }), { nil: undefined }),
    egress: fc.option(fc.array(knpRule('to'), { maxLength: 3 }), { nil: undefined }),
  })
  .map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)));

const policy = fc.oneof(
  fc.record({ kind: fc.constant('CiliumNetworkPolicy'), ns: fc.constantFrom('n1', 'n2'), spec: cnpSpec }),
  fc.record({ kind: fc.constant('CiliumClusterwideNetworkPolicy'), ns: fc.constant(undefined), spec: cnpSpec }),
  fc.record({ kind: fc.constant('NetworkPolicy'), ns: fc.constantFrom('n1', 'n2'), spec: knpSpec }),
);

function toDocs(ps: readonly { kind: string; ns: string | undefined; spec: Obj }[]): Obj[] {
  return ps.map((p, i) => ({
    apiVersion: p.kind === 'NetworkPolicy' ? 'networking.k8s.io/v1' : 'cilium.io/v2',
    kind: p.kind,
    metadata: { name: `p${i}`, ...(p.ns !== undefined && { namespace: p.ns }) },
    spec: p.spec,
  }));
}

/** Deterministic shuffle (mulberry32), applied to every list in the object tree. */
function shuffleDeep<T>(v: T, seed: { s: number }): T {
  const rnd = (): number => {
    seed.s = (seed.s + 0x6d2b79f5) | 0;
    let t = Math.imul(seed.s ^ (seed.s >>> 15), 1 | seed.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) {
      const a = x.map(walk);
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [a[i], a[j]] = [a[j], a[i]];
      }
      return a;
    }
    if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y)]));
    return x;
  };
  return walk(v) as T;
}

const stable = (x: unknown): string =>
  Array.isArray(x)
    ? `[${x.map(stable).sort().join(',')}]`
    : typeof x === 'object' && x !== null
      ? `{${Object.keys(x).sort().map((k) => `${k}:${stable((x as Obj)[k])}`).join(',')}}`
      : JSON.stringify(x);

function at(doc: Obj, path: string): unknown {
  return path.split('.').reduce<unknown>((o, seg) => {
    const m = /^(\w+)(?:\[(\d+)\])?$/.exec(seg);
    const v = (o as Obj | undefined)?.[m?.[1] ?? ''];
    return m?.[2] === undefined ? v : (v as unknown[] | undefined)?.[Number(m[2])];
  }, doc);
}

function canon(d: Decision, docs: readonly Obj[]): string {
  const byName = new Map(docs.map((x) => [(x['metadata'] as Obj)['name'] as string, x]));
  const side = (s: SideDecision): string =>
    stable({
      v: s.verdict,
      e: s.enforced,
      dd: s.defaultDeny,
      i: s.implicit ?? '',
      sel: s.selectedBy.map((p) => p.name),
      rules: s.rules.map((r) => `${r.name}/${r.section}/${stable(at(byName.get(r.name) ?? {}, r.path))}`),
    });
  return `${d.allowed} ${d.blockedAt ?? ''} ${d.dropReason ?? ''} ${side(d.egress)} ${side(d.ingress)}`;
}

const pod = (ns: string, a: string, ip: string): Peer => ({
  labels: [`k8s:app=${a}`, `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${ns}`, 'k8s:io.cilium.k8s.policy.cluster=default'],
  namespace: ns,
  ip,
  namedPorts: { web: { port: 80, protocol: 'TCP' } },
});
const PEERS: Peer[] = [
  pod('n1', 'a', '10.0.0.1'),
  pod('n1', 'b', '10.0.0.2'),
  pod('n2', 'a', '10.0.1.1'),
  pod('n2', 'c', '10.0.1.2'),
  { labels: ['reserved:world'], identity: 2, ip: '1.1.1.1' },
  { labels: ['reserved:world'], identity: 2, ip: '1.2.3.4' },
  { labels: ['reserved:host'], identity: 1 },
];
const L4: Pick<EvaluationRequest, 'protocol' | 'port' | 'icmpType' | 'l7'>[] = [
  { protocol: 'TCP', port: 80 },
  { protocol: 'TCP', port: 80, l7: { http: { method: 'POST', path: '/' } } },
  { protocol: 'TCP', port: 443 },
  { protocol: 'UDP', port: 53 },
  { protocol: 'ICMPv4', icmpType: 8 },
];

function decisions(docs: Obj[]): string[] {
  const r = parsePolicies(docs.map((d) => stringify(d)).join('---\n'), { file: 'gen.yaml' });
  expect(r.errors).toEqual([]);
  const set = buildPolicySet(r.policies);
  return PEERS.flatMap((source) => PEERS.filter((d) => d !== source).flatMap((destination) => L4.map((l4) => canon(evaluate(set, { source, destination, ...l4 }), docs))));
}

describe('evaluator order independence', () => {
  it('permuting policies and the rules, peers and ports inside them never changes a decision', () => {
    fc.assert(
      fc.property(fc.array(policy, { minLength: 1, maxLength: 5 }), fc.integer(), (ps, seed) => {
        const docs = toDocs(ps);
        const permuted = shuffleDeep(docs, { s: seed });
        expect(decisions(permuted)).toEqual(decisions(docs));
      }),
      { numRuns: 60 },
    );
  });

  it('a set big enough for the indexed rule lookup decides exactly like the full scan of a small one', () => {
    // Fillers never select any probe peer but would allow everything if they did: each is a near
    // miss for the index (a label the peers carry plus one they lack, or no `In` label at all).
    const allowAll = { ingress: [{ fromEntities: ['all'] }], egress: [{ toEntities: ['all'] }] };
    const fillerSelectors: Obj[] = [
      { matchLabels: { app: 'a', tier: 'never' } },
      { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'n1', app: 'zz' } },
      { matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b', 'c'] }, { key: 'never', operator: 'Exists' }] },
      { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['a', 'b', 'c'] }] },
      { matchExpressions: [{ key: 'never', operator: 'Exists' }] },
    ];
    const fillers: Obj[] = Array.from({ length: 40 }, (_, i) => ({
      apiVersion: 'cilium.io/v2',
      kind: i % 2 === 0 ? 'CiliumNetworkPolicy' : 'CiliumClusterwideNetworkPolicy',
      metadata: { name: `filler${i}`, ...(i % 2 === 0 && { namespace: i % 4 === 0 ? 'n1' : 'n2' }) },
      spec: { endpointSelector: fillerSelectors[i % fillerSelectors.length], ...allowAll },
    }));
    fc.assert(
      fc.property(fc.array(policy, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 40 }), (ps, at) => {
        const docs = toDocs(ps);
        const mixed = [...fillers.slice(0, at), ...docs, ...fillers.slice(at)];
        expect(decisions(mixed)).toEqual(decisions(docs));
      }),
      { numRuns: 60 },
    );
  });

  it('a set of the same policy objects with a few replaced (as triage builds per fix) decides like one compiled afresh', () => {
    const parse = (docs: Obj[], file: string) => parsePolicies(docs.map((d) => stringify(d)).join('---\n'), { file }).policies;
    const fillers = parse(
      Array.from({ length: 40 }, (_, i) => ({
        apiVersion: 'cilium.io/v2',
        kind: 'CiliumNetworkPolicy',
        metadata: { name: `filler${i}`, namespace: i % 2 === 0 ? 'n1' : 'n2' },
        spec: { endpointSelector: { matchLabels: { app: 'a', tier: 'never' } }, ingress: [{ fromEntities: ['all'] }] },
      })),
      'fillers.yaml',
    );
    const requests = PEERS.flatMap((source) => PEERS.filter((d) => d !== source).flatMap((destination) => L4.map((l4) => ({ source, destination, ...l4 }))));
    const judge = (ps: readonly Policy[]): string[] => {
      const set = buildPolicySet(ps);
      return requests.map((r) => JSON.stringify(evaluate(set, r)));
    };
    fc.assert(
      fc.property(fc.array(policy, { minLength: 1, maxLength: 6 }), fc.array(policy, { minLength: 1, maxLength: 3 }), fc.nat(), (ps, rs, seed) => {
        const original = [...fillers, ...parse(toDocs(ps), 'policies.yaml')];
        judge(original);
        const replacements = parse(toDocs(rs), 'replacements.yaml');
        const patched = [...original];
        replacements.forEach((r, k) => {
          patched[(seed + k * 7) % patched.length] = r;
        });
        // One more policy (that selects none of the peers) makes an unrelated array: compiled afresh.
        expect(judge(patched)).toEqual(judge([...patched, fillers[0] as Policy]));
      }),
      { numRuns: 60 },
    );
  });
});
