import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Endpoint, Flow } from '../../src/flow/index.js';
import {
  EMPTY_WORKLOAD_CONFIG,
  EdgeAggregator,
  type EdgeRecord,
  type GraphDelta,
  type WorkloadRecord,
  type DnsAnswer,
  type ClusterIpRecord,
  indexAnswers,
  indexClusterIps,
  mergeClusterIpRecords,
  mergeDnsAnswers,
  mergeEdgeRecords,
  mergeWorkloadRecords,
  resolveEdges,
  resolveEnd,
  resolveWorkloads,
} from '../../src/graph/index.js';
import { EdgeWriter, type EdgeWriterBounds, loadGraph, openDatabase } from '../../src/store/index.js';
import { HOUR, T0, coredns, dnsResponse, flow, immich, pod, postgres1, postgres2, reserved, world } from '../unit/graph/builders.js';

/**
 * The edge merge is associative and commutative: cutting the same flows into different batches (and
 * reordering them) gives identical edges, both in memory and through SQLite.
 */
const maskedCoredns: Endpoint = { ...coredns, workloads: [] };
const bare = pod('bookinfo', 'ratings-v1-b6994bb9-jgqxb', { app: 'ratings', version: 'v1' }, undefined, 16370);
const endpoints: readonly Endpoint[] = [immich, postgres1, postgres2, coredns, maskedCoredns, bare, world, reserved(1, 'reserved:host'), reserved(7, 'reserved:kube-apiserver')];
const ips = ['140.82.121.6', '140.82.121.4', '192.168.1.20', '10.0.2.7'];

const flowArb: fc.Arbitrary<Flow> = fc.oneof(
  { weight: 8, arbitrary: fc
    .record({
      src: fc.constantFrom(...endpoints),
      dst: fc.constantFrom(...endpoints),
      dstIp: fc.constantFrom(...ips),
      proto: fc.constantFrom('TCP' as const, 'UDP' as const),
      dport: fc.constantFrom(53, 443, 5432, 8080, 51000),
      sport: fc.constantFrom(5432, 40000, 52000),
      flags: fc.constantFrom({ SYN: true }, { ACK: true }, { SYN: true, ACK: true }, { FIN: true, ACK: true }),
      t: fc.integer({ min: 0, max: 72 }).map((h) => T0 + h * HOUR + (h % 7) * 1000),
      verdict: fc.constantFrom('FORWARDED' as const, 'DROPPED' as const, 'AUDIT' as const, 'REDIRECTED' as const, 'ERROR' as const),
      dir: fc.constantFrom('EGRESS' as const, 'INGRESS' as const, 'TRAFFIC_DIRECTION_UNKNOWN' as const),
      isReply: fc.constantFrom(true, false, undefined),
      eventType: fc.constantFrom(1, 4, 5),
      traceReason: fc.constantFrom('NEW', 'ESTABLISHED', undefined),
      dropReason: fc.constantFrom('POLICY_DENIED', 'POLICY_DENY', undefined),
      destinationNames: fc.constantFrom([], ['github.com'], ['example.com', 'github.com']),
      http: fc.option(fc.constantFrom('/api/assets/1', '/api/assets/2?x=1', '/healthz'), { nil: undefined }),
    })
    .map(({ http, isReply, traceReason, dropReason, ...s }) =>
      flow({
        ...s,
        ...(isReply !== undefined ? { isReply } : {}),
        ...(traceReason ? { traceReason } : {}),
        ...(dropReason ? { dropReason } : {}),
        ...(http ? { l7: { type: 'REQUEST' as const, http: { method: 'GET', url: http, headers: [] } } } : {}),
      }),
    ) },
  { weight: 1, arbitrary: fc
    .record({
      client: fc.constantFrom(immich, bare, maskedCoredns),
      query: fc.constantFrom('github.com', 'api.github.com', 'example.com'),
      answers: fc.subarray(ips, { minLength: 1 }),
      t: fc.integer({ min: 0, max: 72 }).map((h) => T0 + h * HOUR),
    })
    .map(({ client, query, answers, t }) => dnsResponse(client, coredns, query, answers, t)) },
);

/** Cuts `flows` at the given fractions into consecutive batches. */
function split<T>(xs: readonly T[], cuts: readonly number[]): T[][] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * xs.length)))].sort((a, b) => a - b);
  const out: T[][] = [];
  let prev = 0;
  for (const i of [...at, xs.length]) {
    out.push(xs.slice(prev, i));
    prev = i;
  }
  return out;
}

function mergeMaps<T>(into: Map<string, T>, from: ReadonlyMap<string, T>, merge: (a: T, b: T) => T): void {
  for (const [k, v] of from) {
    const cur = into.get(k);
    into.set(k, cur === undefined ? v : merge(cur, v));
  }
}

/** Aggregates each batch separately and merges the deltas, like the store does. */
function mergedDelta(batches: readonly (readonly Flow[])[]): {
  edges: Map<string, EdgeRecord>;
  workloads: Map<string, WorkloadRecord>;
  answers: Map<string, DnsAnswer>;
  clusterIps: Map<string, ClusterIpRecord>;
} {
  const edges = new Map<string, EdgeRecord>();
  const workloads = new Map<string, WorkloadRecord>();
  const answers = new Map<string, DnsAnswer>();
  const clusterIps = new Map<string, ClusterIpRecord>();
  for (const batch of batches) {
    const agg = new EdgeAggregator(); // a fresh aggregator per batch: nothing carries over but the merge
    for (const f of batch) agg.add(f);
    const d: GraphDelta = agg.take();
    mergeMaps(edges, d.edges, mergeEdgeRecords);
    mergeMaps(workloads, d.workloads, mergeWorkloadRecords);
    mergeMaps(answers, new Map(d.dnsAnswers.map((a) => [`${a.client}|${a.ip}|${a.query}`, a])), mergeDnsAnswers);
    mergeMaps(clusterIps, d.clusterIps ?? new Map(), mergeClusterIpRecords);
  }
  return { edges, workloads, answers, clusterIps };
}

function resolved(batches: readonly (readonly Flow[])[]) {
  const d = mergedDelta(batches);
  const records = [...d.edges.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
  const workloads = resolveWorkloads([...d.workloads.values()], EMPTY_WORKLOAD_CONFIG);
  const edges = resolveEdges(
    records.map((record, id) => ({ id, record, hoursSeen: record.hours.length })),
    workloads,
    indexAnswers([...d.answers.values()], workloads),
    (ids) => new Set(ids.flatMap((i) => records[i]?.hours ?? [])).size,
    indexClusterIps([...d.clusterIps.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.peer < b.peer ? -1 : 1)), records, (p) => resolveEnd(p, workloads)),
  );
  return { edges, workloads: workloads.workloads };
}

function viaSqlite(batches: readonly (readonly Flow[])[]) {
  const db = openDatabase(':memory:');
  try {
    const writer = new EdgeWriter(db);
    for (const batch of batches) {
      const agg = new EdgeAggregator();
      for (const f of batch) agg.add(f);
      db.transaction(() => writer.write(agg.take()))();
    }
    return loadGraph(db);
  } finally {
    db.close();
  }
}

/** A SYN from churning pod `src` of immich-server to pod `postgres-<dst>` on `port`, in hour `h`. */
function churningClientFlow(src: number, dst: number, port: number, h: number) {
  return flow({
    src: pod('self-hosted', `immich-server-7d9c9b7c4d-${String.fromCharCode(98 + (src % 20))}${src}x2x9`, { app: 'immich' }, { kind: 'Deployment', name: 'immich-server' }, 20001),
    dst: pod('dbms', `postgres-${dst}`, { 'cnpg.io/cluster': 'postgres' }, undefined, 20002),
    dstIp: '10.0.2.7',
    proto: 'TCP',
    dport: port,
    sport: 40000,
    flags: { SYN: true },
    t: T0 + h * HOUR,
    verdict: 'FORWARDED',
    dir: 'EGRESS',
    eventType: 4,
    destinationNames: [],
  });
}

// Many pod names per workload exercise the writer's skip of values above a full set's largest.
const churnArb = fc
  .array(fc.record({ src: fc.integer({ min: 0, max: 40 }), dst: fc.integer({ min: 0, max: 40 }), h: fc.integer({ min: 0, max: 48 }) }), { minLength: 1, maxLength: 150 })
  .map((xs) => xs.map(({ src, dst, h }) => churningClientFlow(src, dst, 5432, h)));

// Several edges (ports) of churning pods within the same few hours: a writer with few slots has
// them replace each other in one slot, batch after batch.
const portsChurnArb = fc
  .array(fc.record({ src: fc.integer({ min: 0, max: 30 }), port: fc.constantFrom(5432, 5433, 6379, 8080), h: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 120 })
  .map((xs) => xs.map(({ src, port, h }) => churningClientFlow(src, port % 3, port, h)));

/**
 * Every row the writer stored, edge ids replaced by edge keys: what "the same database" means.
 * `writerPerBatch`: each batch written by a new writer, which knows none of the rows stored before
 * (a resumed run, another process on the same file).
 */
function rowsViaSqlite(batches: readonly (readonly Flow[])[], writerPerBatch = false, bounds?: EdgeWriterBounds): Record<string, unknown[]> {
  const db = openDatabase(':memory:');
  try {
    let writer = new EdgeWriter(db, bounds);
    for (const batch of batches) {
      const agg = new EdgeAggregator();
      for (const f of batch) agg.add(f);
      if (writerPerBatch) writer = new EdgeWriter(db, bounds);
      db.transaction(() => writer.write(agg.take()))();
    }
    const all = (sql: string): unknown[] => db.prepare(sql).all();
    const key = 'e.src_key, e.dst_key, e.protocol, e.port';
    return {
      edges: (all('SELECT * FROM edges ORDER BY src_key, dst_key, protocol, port') as Record<string, unknown>[]).map(({ id: _id, ...row }) => row),
      hours: all(`SELECT ${key}, h.hour FROM edge_hours h JOIN edges e ON e.id = h.edge_id ORDER BY 1, 2, 3, 4, 5`),
      drops: all(`SELECT ${key}, d.reason, d.flows FROM edge_drop_reasons d JOIN edges e ON e.id = d.edge_id ORDER BY 1, 2, 3, 4, 5`),
      workloads: all('SELECT * FROM workloads ORDER BY key'),
      labelSets: all('SELECT * FROM workload_label_sets ORDER BY 1, 2'),
      answers: all('SELECT * FROM dns_answers ORDER BY client_key, ip, query'),
      skips: all('SELECT * FROM edge_skips ORDER BY reason'),
      namespaces: all('SELECT * FROM namespaces ORDER BY namespace'),
      clusterIps: all('SELECT * FROM cluster_ips ORDER BY ip, peer_key'),
    };
  } finally {
    db.close();
  }
}

const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

describe('edge merge (property)', () => {
  it('the stored rows, every column and table, do not depend on how flows are cut into batches', () => {
    // New edges are inserted whole (sets and their truncation included); later batches merge into
    // them, also when their writer did not insert them.
    fc.assert(
      fc.property(fc.oneof(fc.array(flowArb, { minLength: 1, maxLength: 80 }), churnArb), cutsArb, (flows, cuts) => {
        const whole = rowsViaSqlite([flows]);
        expect(rowsViaSqlite(split(flows, cuts))).toEqual(whole);
        expect(rowsViaSqlite(split(flows, cuts), true), 'a new writer per batch').toEqual(whole);
      }),
      { numRuns: 80 },
    );
  });

  it('a writer that remembers one edge or a few stores the same rows as one that remembers all', () => {
    // Under pod churn the edges a writer remembers (ids, last hours, stored sets) replace each
    // other in their slots, and the sets start over when full: what it forgot is read back, never guessed.
    fc.assert(
      fc.property(
        fc.oneof(portsChurnArb, churnArb, fc.array(flowArb, { minLength: 1, maxLength: 80 })),
        fc.integer({ min: 2, max: 12 }),
        fc.constantFrom(1, 2, 4, 1 << 16),
        fc.constantFrom(1, 200, 400, 1e12),
        (flows, pieces, edgeSlots, knownSetsChars) => {
          const many = Array.from({ length: pieces }, (_, i) => flows.slice(Math.floor((i * flows.length) / pieces), Math.floor(((i + 1) * flows.length) / pieces)));
          const all = rowsViaSqlite(many, false, { edgeSlots: 1 << 16, knownSetsChars: 1e12 });
          expect(rowsViaSqlite(many, false, { edgeSlots, knownSetsChars })).toEqual(all);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('an aggregator whose peer cache keeps one peer hands over the same deltas as one that keeps all', () => {
    // One aggregator for all batches, as an ingest sink has: its peer cache is dropped between
    // batches once full, and peers are worked out again.
    fc.assert(
      fc.property(fc.oneof(portsChurnArb, fc.array(flowArb, { minLength: 1, maxLength: 80 })), fc.integer({ min: 2, max: 8 }), (unshared, pieces) => {
        // As the decoders hand them out: one frozen object per distinct endpoint.
        const shared = new Map<string, Endpoint>();
        const share = (e: Endpoint): Endpoint => {
          const k = JSON.stringify(e);
          const known = shared.get(k) ?? Object.freeze({ ...e });
          shared.set(k, known);
          return known;
        };
        const flows = unshared.map((f) => ({ ...f, source: share(f.source), destination: share(f.destination) }));
        const deltas = (peerCacheMax: number): GraphDelta[] => {
          const agg = new EdgeAggregator({ peerCacheMax });
          return Array.from({ length: pieces }, (_, i) => {
            for (const f of flows.slice(Math.floor((i * flows.length) / pieces), Math.floor(((i + 1) * flows.length) / pieces))) agg.add(f);
            return agg.take();
          });
        };
        expect(deltas(1)).toEqual(deltas(1e9));
      }),
      { numRuns: 100 },
    );
  });

  it('counts distinct edges within 1% in fixed memory', () => {
    const agg = new EdgeAggregator();
    const base = (fc.sample(portsChurnArb, { seed: 7, numRuns: 1 })[0] as Flow[])[0] as Flow;
    // Every edge twice, in two batches: counted once.
    for (let pass = 0; pass < 2; pass++) {
      for (let port = 1; port <= 20_000; port++) agg.add({ ...base, l4: { protocol: 'TCP' as const, sourcePort: 40000, destinationPort: port, flags: { SYN: true } } });
      agg.take();
    }
    expect(Math.abs(agg.edgeCount - 20_000)).toBeLessThan(200);
  });

  it('batch boundaries and flow order do not change the resolved edges', () => {
    fc.assert(
      fc.property(fc.array(flowArb, { minLength: 1, maxLength: 120 }), cutsArb, fc.integer(), (flows, cuts, seed) => {
        const whole = resolved([flows]);
        expect(resolved(split(flows, cuts))).toEqual(whole);
        const shuffled = fc.sample(fc.shuffledSubarray(flows, { minLength: flows.length, maxLength: flows.length }), { numRuns: 1, seed })[0] as Flow[];
        expect(resolved(split(shuffled, cuts))).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('the same holds through SQLite (one transaction per batch)', () => {
    fc.assert(
      fc.property(fc.array(flowArb, { minLength: 1, maxLength: 80 }), cutsArb, (flows, cuts) => {
        const whole = viaSqlite([flows]);
        expect(viaSqlite(split(flows, cuts))).toEqual(whole);
        expect(whole.edges).toEqual(resolved([flows]).edges);
      }),
      { numRuns: 60 },
    );
  });

  it('through SQLite with churning pods: every batch brings new pod names, the stored sets stay the K smallest', () => {
    fc.assert(
      fc.property(churnArb, cutsArb, fc.integer({ min: 1, max: 12 }), (flows, cuts, pieces) => {
        const whole = viaSqlite([flows]);
        const many = Array.from({ length: pieces }, (_, i) => flows.slice(Math.floor((i * flows.length) / pieces), Math.floor(((i + 1) * flows.length) / pieces)));
        expect(viaSqlite(many)).toEqual(whole);
        expect(viaSqlite(split(flows, cuts))).toEqual(whole);
        expect(whole.edges).toEqual(resolved([flows]).edges);
      }),
      { numRuns: 80 },
    );
  });
});
