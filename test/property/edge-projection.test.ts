import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint, Flow } from '../../src/flow/index.js';
import {
  EMPTY_WORKLOAD_CONFIG,
  convergence,
  EVIDENCE_FIELDS,
  type Edge,
  type EdgeFilter,
  EdgeAggregator,
  type EvidenceField,
  indexAnswers,
  indexClusterIps,
  parsePeerPattern,
  resolveEdges,
  resolveEnd,
  resolveWorkloads,
} from '../../src/graph/index.js';
import { type Db, EdgeWriter, loadGraph, openDatabase, readEdgeGraphSummary } from '../../src/store/index.js';
import { buildMarkdownReport, buildReport, reportInventoryParts, reportParts } from '../../src/app/index.js';
import { MAP_WORKLOAD_LIMIT, renderInventoryMarkdown } from '../../src/report/index.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, SAMPLES_DIR, tempDir } from '../helpers/paths.js';
import { HOUR, T0, coredns, dnsResponse, flow, immich, pod, postgres1, reserved, world } from '../unit/graph/builders.js';
import { generateCluster } from '../helpers/cluster.js';

/**
 * `loadGraph` with `evidence` reads fewer columns and builds fewer lists; everything else about an
 * edge must come out as the full read makes it. Checked on random graphs (with world addresses that
 * are pods, nodes, DNS names, every evidence set, drops and filters), on the public Hubble samples
 * and on the churning generated cluster.
 */

/** An edge as its projected type shows it: the lists outside `evidence` left out. */
/** A report's parts joined: the text it prints. */
const text = async (parts: Promise<Iterable<string>>): Promise<string> => [...(await parts)].join('');

function projected(e: Edge, evidence: readonly EvidenceField[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...e };
  for (const f of EVIDENCE_FIELDS) if (!evidence.includes(f)) delete out[f];
  return out;
}

function expectProjectionsAgree(db: Db, evidence: readonly EvidenceField[], filter?: EdgeFilter): void {
  const full = loadGraph(db, filter ? { filter } : {});
  const part = loadGraph(db, { evidence, ...(filter ? { filter } : {}) });
  expect(part.workloads).toEqual(full.workloads);
  // Filters that match peers read the reserved-label sets whatever was asked for.
  const read = filter?.from || filter?.to ? [...evidence, 'srcReserved' as const, 'dstReserved' as const] : evidence;
  expect(part.edges.map((e) => projected(e as Edge, read))).toEqual(full.edges.map((e) => projected(e, read)));
}

const node = reserved(6, 'reserved:remote-node');
const apiserver = reserved(7, 'reserved:kube-apiserver', 'reserved:remote-node');
const web = pod('shop', 'web-5d8f7c9b6d-q2w3e', { app: 'web' }, { kind: 'Deployment', name: 'web' }, 3001);
const endpoints: readonly Endpoint[] = [immich, postgres1, coredns, web, world, node, apiserver, reserved(1, 'reserved:host')];
// 10.0.2.7 is also a pod's address and 192.168.1.10 a node's: world ends that are cluster endpoints.
const addresses = ['10.0.2.7', '10.0.2.99', '192.168.1.10', '192.168.1.77', '140.82.121.6', '104.20.23.154'];

const flowArb: fc.Arbitrary<Flow> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record({
        src: fc.constantFrom(...endpoints),
        dst: fc.constantFrom(...endpoints),
        srcIp: fc.constantFrom(...addresses),
        dstIp: fc.constantFrom(...addresses),
        dport: fc.constantFrom(53, 443, 5432, 10250),
        t: fc.integer({ min: 0, max: 48 }).map((h) => T0 + h * HOUR),
        verdict: fc.constantFrom('FORWARDED' as const, 'DROPPED' as const, 'AUDIT' as const),
        dir: fc.constantFrom('EGRESS' as const, 'INGRESS' as const),
        eventType: fc.constantFrom(4, 5),
        dropReason: fc.constantFrom('POLICY_DENIED', undefined),
        destinationNames: fc.constantFrom([], ['github.com']),
        http: fc.option(fc.constantFrom('/api/assets/1', '/healthz'), { nil: undefined }),
        dns: fc.option(fc.constantFrom('github.com', 'example.com'), { nil: undefined }),
        service: fc.option(fc.constantFrom('web', 'postgres-rw'), { nil: undefined }),
        policy: fc.option(fc.constantFrom('allow-web', 'deny-all'), { nil: undefined }),
      })
      .map(({ http, dns, dropReason, service, policy, ...s }): Flow => {
        const f = flow({
          ...s,
          proto: 'TCP',
          flags: { SYN: true },
          ...(dropReason ? { dropReason } : {}),
          ...(http ? { l7: { type: 'REQUEST' as const, http: { method: 'GET', url: http, headers: [] } } } : {}),
          ...(dns && !http ? { l7: { type: 'REQUEST' as const, dns: { query: `${dns}.`, ips: [], cnames: [], qtypes: ['A'], rrtypes: [] } } } : {}),
        });
        const ref = policy ? [{ kind: 'CiliumNetworkPolicy', namespace: 'shop', name: policy, labels: [] }] : [];
        return {
          ...f,
          ...(service ? { destinationService: { namespace: 'shop', name: service } } : {}),
          ...(policy === 'deny-all' ? { egressDeniedBy: ref } : { egressAllowedBy: ref }),
        };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ client: fc.constantFrom(immich, web), query: fc.constantFrom('github.com', 'api.github.com'), answers: fc.subarray(addresses, { minLength: 1 }) })
      .map(({ client, query, answers }) => dnsResponse(client, coredns, query, answers)),
  },
);

const filterArb: fc.Arbitrary<EdgeFilter | undefined> = fc.option(
  fc.record(
    {
      namespaces: fc.subarray(['shop', 'dbms', 'kube-system', 'self-hosted'], { minLength: 1 }),
      from: fc.subarray(['remote-node', 'kube-apiserver', 'world', 'shop/'], { minLength: 1 }).map((ps) => ps.map(parsePeerPattern)),
      to: fc.subarray(['host', 'world', 'fqdn:github.com', 'dbms/'], { minLength: 1 }).map((ps) => ps.map(parsePeerPattern)),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

function storedGraph(flows: readonly Flow[]): Db {
  const db = openDatabase(':memory:');
  const agg = new EdgeAggregator();
  for (const f of flows) agg.add(f);
  db.transaction(() => new EdgeWriter(db).write(agg.take()))();
  return db;
}

/** The graph resolved in memory from the aggregator's own records, no store in between. */
function inMemoryGraph(flows: readonly Flow[]): Edge[] {
  const agg = new EdgeAggregator();
  for (const f of flows) agg.add(f);
  const d = agg.take();
  const records = [...d.edges.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
  const workloads = resolveWorkloads([...d.workloads.values()], EMPTY_WORKLOAD_CONFIG, [...(d.namespaces?.values() ?? [])]);
  const clusterIps = [...(d.clusterIps?.values() ?? [])].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.peer < b.peer ? -1 : 1));
  return resolveEdges(
    records.map((record, id) => ({ id, record, hoursSeen: record.hours.length })),
    workloads,
    indexAnswers(d.dnsAnswers, workloads),
    (ids) => new Set(ids.flatMap((i) => records[i]?.hours ?? [])).size,
    indexClusterIps(clusterIps, records, (p) => resolveEnd(p, workloads)),
  );
}

describe('a projected graph read', () => {
  it('gives every edge and workload the full read gives, with only the asked-for evidence lists', () => {
    fc.assert(
      fc.property(fc.array(flowArb, { minLength: 1, maxLength: 80 }), fc.subarray([...EVIDENCE_FIELDS]), filterArb, (flows, evidence, filter) => {
        const db = storedGraph(flows);
        try {
          expectProjectionsAgree(db, evidence, filter);
        } finally {
          db.close();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('reads, in full, in status outline and as the Markdown report prints it, the edges the records resolve to in memory (world addresses that are pods or nodes included)', () => {
    fc.assert(
      fc.property(fc.array(flowArb, { minLength: 1, maxLength: 80 }), (flows) => {
        const db = storedGraph(flows);
        try {
          const edges = loadGraph(db).edges;
          expect(edges).toEqual(inMemoryGraph(flows));
          // status resolves ends and times only: the same edges, counted and charted.
          const summary = readEdgeGraphSummary(db);
          expect(summary?.edges).toBe(edges.length);
          expect(summary?.convergence).toEqual(convergence(edges));
          // The Markdown report reads only the evidence it prints: the same text as from the full read.
          expect(renderInventoryMarkdown(buildMarkdownReport(db))).toBe(renderInventoryMarkdown(buildReport(db)));
        } finally {
          db.close();
        }
      }),
      { numRuns: 150 },
    );
  });

  describe('on real and generated recordings', () => {
    const tmp = tempDir();
    const samples = tmp.file('samples.db');
    const cluster = tmp.file('cluster.db');
    beforeAll(async () => {
      const files = readdirSync(SAMPLES_DIR).sort().map((f) => join(SAMPLES_DIR, f));
      expect((await runCli(['--db', samples, 'replay', ...files])).code).toBe(0);
      // Churning pods, node addresses, unlabelled pods, FQDN egress: scripts/generate-cluster.mjs.
      const lines = tmp.file('cluster.jsonl');
      const g = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/generate-cluster.mjs'), '--workloads', '200', '--flows', '15000', '--seed', 'projection', '--out', lines], { encoding: 'utf8' });
      expect(g.status, g.stderr).toBe(0);
      expect((await runCli(['--db', cluster, 'replay', lines])).code).toBe(0);
    }, 120_000);
    afterAll(() => tmp.remove());

    const cases: readonly (readonly EvidenceField[])[] = [[], ['dnsNames', 'httpRequests'], ['services', 'httpRequests'], ...EVIDENCE_FIELDS.map((f) => [f])];
    for (const which of ['samples', 'cluster'] as const) {
      it(`the ${which}: each projection equals the full read, lists aside`, () => {
        const db = openDatabase(which === 'samples' ? samples : cluster, { readonly: true });
        try {
          expect(loadGraph(db).edges.length).toBeGreaterThan(which === 'samples' ? 20 : 500);
          for (const evidence of cases) expectProjectionsAgree(db, evidence);
          expectProjectionsAgree(db, ['dnsNames'], { from: [parsePeerPattern('world')] });
          // The Markdown report reads only the evidence it prints: the same text as from the full read.
          expect(renderInventoryMarkdown(buildMarkdownReport(db))).toBe(renderInventoryMarkdown(buildReport(db)));
          expect(renderInventoryMarkdown(buildMarkdownReport(db, { namespaces: ['kube-system'] }))).toBe(renderInventoryMarkdown(buildReport(db, { namespaces: ['kube-system'] })));
        } finally {
          db.close();
        }
      });
    }
  });

  describe('the HTML report of a scope too big for a map of workloads', () => {
    const tmp = tempDir();
    const cluster = tmp.file('cluster.db');
    beforeAll(async () => {
      const lines = tmp.file('cluster.jsonl');
      generateCluster(lines, { workloads: 320, flows: 12000, seed: 'namespace-map' });
      expect((await runCli(['--db', cluster, 'replay', lines])).code).toBe(0);
    }, 120_000);
    afterAll(() => tmp.remove());

    it('reads only the evidence its namespace map and tables print, and is the full read\'s HTML byte for byte (scopes under the limit too)', async () => {
      const db = openDatabase(cluster, { readonly: true });
      try {
        const html = { format: 'html', generatedAtMs: T0 } as const;
        const whole = buildMarkdownReport(db);
        // The case under test: more workloads than a workload map draws.
        expect(whole.workloads.length).toBeGreaterThan(MAP_WORKLOAD_LIMIT);
        expect(await text(reportParts(db, {}, html))).toBe(await text(reportInventoryParts(buildReport(db), html)));
        // A few namespaces: a map of workloads with their evidence, from the full read.
        const few = [...new Set(whole.workloads.map((w) => w.namespace))].slice(0, 3);
        expect(buildMarkdownReport(db, { namespaces: few }).workloads.length).toBeLessThanOrEqual(MAP_WORKLOAD_LIMIT);
        expect(await text(reportParts(db, { namespaces: few }, html))).toBe(await text(reportInventoryParts(buildReport(db, { namespaces: few }), html)));
      } finally {
        db.close();
      }
    }, 120_000);
  });
});
