import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Peer as EvalPeer, buildPolicySet, evaluate, parsePolicies } from '../../src/policy/index.js';
import { type ObservedEdge, type Peer, recommend } from '../../src/recommend/index.js';
import { renderRecommendationYaml } from '../../src/report/index.js';
import { edge, options, workload } from '../helpers/edges.js';

/**
 * Round trip through YAML and the evaluator: for random topologies, every observed forwarded edge is
 * allowed by the recommended policies, and an unobserved connection between the same endpoints is
 * denied unless a note says the policies allow more than was seen.
 */
const NAMESPACES = ['dbms', 'apps', 'kube-system'];
const NAMES = ['api', 'db', 'cache', 'web', 'worker'];
const PORTS = [53, 80, 443, 5432, 6379, 8000, 9153, 9187];
/** The cluster DNS, always present: clients query it, prometheus-like peers scrape 9153. */
const COREDNS = { namespace: 'kube-system', name: 'coredns' };
const FQDNS = ['api.github.com', 'example.com'];

interface Topology {
  readonly workloads: { namespace: string; name: string }[];
  readonly edges: ObservedEdge[];
}

const wlPeer = (w: { namespace: string; name: string }): Peer => ({ kind: 'workload', namespace: w.namespace, workloadKind: 'Deployment', name: w.name });

const topology: fc.Arbitrary<Topology> = fc
  .uniqueArray(fc.record({ namespace: fc.constantFrom(...NAMESPACES), name: fc.constantFrom(...NAMES) }), {
    minLength: 2,
    maxLength: 6,
    selector: (w) => `${w.namespace}/${w.name}`,
  })
  .map((ws) => [...ws.filter((w) => !(w.namespace === COREDNS.namespace && w.name === COREDNS.name)), COREDNS])
  .chain((workloads) => {
    const wl = fc.constantFrom(...workloads);
    const source = fc.oneof(
      { weight: 4, arbitrary: wl.map(wlPeer) },
      { weight: 1, arbitrary: fc.constantFrom<Peer>({ kind: 'entity', entity: 'host' }, { kind: 'entity', entity: 'remote-node' }) },
    );
    const target = fc.oneof(
      { weight: 4, arbitrary: wl.map(wlPeer) },
      { weight: 1, arbitrary: fc.constantFrom<Peer>({ kind: 'entity', entity: 'kube-apiserver' }, { kind: 'cidr', cidr: '203.0.113.7/32' }, ...FQDNS.map((f): Peer => ({ kind: 'fqdn', fqdn: f }))) },
    );
    const e = fc.record({ from: source, to: target, protocol: fc.constantFrom<'TCP' | 'UDP'>('TCP', 'UDP'), port: fc.constantFrom(...PORTS) });
    return fc.record({
      workloads: fc.constant(workloads),
      edges: fc.uniqueArray(e, { minLength: 1, maxLength: 12, selector: (x) => JSON.stringify(x) }).map((es) =>
        es.filter((x) => x.from.kind === 'workload' || x.to.kind === 'workload').map((x) => edge(x.from, x.to, x.protocol, x.port)),
      ),
    });
  });

function evalPeer(p: Peer): EvalPeer {
  switch (p.kind) {
    case 'workload':
      return {
        labels: [p.name === COREDNS.name ? 'k8s:k8s-app=kube-dns' : `k8s:app=${p.name}`, `k8s:io.kubernetes.pod.namespace=${p.namespace}`, `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${p.namespace}`],
        namespace: p.namespace,
        identity: 1000,
        managed: true,
      };
    case 'entity':
      return { labels: [`reserved:${p.entity}`], identity: ({ host: 1, world: 2, 'remote-node': 6, 'kube-apiserver': 7 } as Record<string, number>)[p.entity] ?? 2 };
    case 'fqdn':
      return { labels: ['reserved:world'], identity: 2, ip: '198.51.100.20', names: [p.fqdn] };
    case 'cidr':
      return { labels: ['reserved:world', `cidr:${p.cidr}`], identity: 16777220, ip: p.cidr.split('/')[0] as string };
  }
}

/** A pod nobody has seen, in a namespace nobody has seen. */
const NEWCOMER: EvalPeer = { labels: ['k8s:app=newcomer', 'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=brand-new'], namespace: 'brand-new', identity: 4242, managed: true };

describe.each([false, true])('recommend then evaluate (baseline %s)', (baseline) => {
  it('allows every observed forwarded edge and denies unobserved ports between the same peers', () => {
    fc.assert(
      fc.property(topology, ({ workloads, edges }) => {
        const infos = workloads.map((w) => workload(w.namespace, 'Deployment', w.name, w.name === COREDNS.name ? { 'k8s-app': 'kube-dns' } : { app: w.name }));
        const r = recommend(edges, infos, options({ baseline }));
        const parsed = parsePolicies(renderRecommendationYaml(r), { file: 'recommended.yaml' });
        expect(parsed.errors).toEqual([]);
        const set = buildPolicySet(parsed.policies);
        for (const e of edges) {
          const d = evaluate(set, { source: evalPeer(e.from), destination: evalPeer(e.to), protocol: e.protocol, port: e.port });
          expect(d.allowed, `${JSON.stringify(e.from)} -> ${JSON.stringify(e.to)} ${e.protocol}/${e.port}: ${d.egress.reason} / ${d.ingress.reason}`).toBe(true);
        }
        // A pod never observed, in a namespace never observed, still resolves names over UDP and TCP.
        for (const protocol of ['UDP', 'TCP'] as const) {
          const d = evaluate(set, { source: NEWCOMER, destination: evalPeer({ kind: 'workload', namespace: COREDNS.namespace, workloadKind: 'Deployment', name: COREDNS.name }), protocol, port: 53 });
          expect(d.allowed, `newcomer -> coredns ${protocol}/53: ${d.egress.reason} / ${d.ingress.reason}`).toBe(true);
        }
        // So does every observed workload, whatever it was seen doing.
        for (const w of workloads) {
          for (const protocol of ['UDP', 'TCP'] as const) {
            const d = evaluate(set, { source: evalPeer({ kind: 'workload', namespace: w.namespace, workloadKind: 'Deployment', name: w.name }), destination: evalPeer({ kind: 'workload', namespace: COREDNS.namespace, workloadKind: 'Deployment', name: COREDNS.name }), protocol, port: 53 });
            expect(d.allowed, `${w.namespace}/${w.name} -> coredns ${protocol}/53: ${d.egress.reason} / ${d.ingress.reason}`).toBe(true);
          }
        }
        const widened = r.notes.some((n) => n.kind === 'widening');
        if (widened) return;
        for (const e of edges) {
          // Same peers, a port nobody used: must be denied somewhere (host is exempt: allow-localhost).
          if (e.from.kind === 'entity' && e.from.entity === 'host') continue;
          const unused = 1234;
          const d = evaluate(set, { source: evalPeer(e.from), destination: evalPeer(e.to), protocol: 'TCP', port: unused });
          expect(d.allowed, `${JSON.stringify(e.from)} -> ${JSON.stringify(e.to)} TCP/${unused} should be denied`).toBe(false);
        }
      }),
      { numRuns: 150 },
    );
  });
});
