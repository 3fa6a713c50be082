import type { Statement } from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Endpoint, Flow } from '../../src/flow/index.js';
import { EdgeAggregator } from '../../src/graph/index.js';
import { type Db, EdgeWriter, openDatabase } from '../../src/store/index.js';
import { mergedColumnCount } from '../../src/store/set-texts.js';
import { tempDir } from '../helpers/paths.js';
import { T0, flow, pod } from '../unit/graph/builders.js';

/**
 * What an edge writer asks SQLite for a batch, counted per statement: at 3,000 workloads two
 * thirds of the edges a batch touches have left the writer's slots, and ~2,800 workloads are
 * upserted in every commit, so statements per edge and per workload are what observe's write
 * path costs.
 */
const tmp = tempDir();
afterAll(() => tmp.remove());

/** Executions (get/run/all) per SQL text of the statements the writer prepared on `db`. */
function counting(db: Db): { db: Db; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const wrap = (stmt: Statement, sql: string): Statement =>
    new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        if (prop !== 'get' && prop !== 'run' && prop !== 'all') return (value as (...a: unknown[]) => unknown).bind(target);
        return (...args: unknown[]) => {
          calls.set(sql, (calls.get(sql) ?? 0) + 1);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const proxy = new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql), sql);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db: proxy, calls };
}

/** Calls of the statements whose SQL matches `pattern`. */
function callsOf(calls: ReadonlyMap<string, number>, pattern: RegExp): number {
  let n = 0;
  for (const [sql, c] of calls) if (pattern.test(sql)) n += c;
  return n;
}

/** One flow from each of `clients` web pods (each its own workload) to postgres on each port. */
function flows(clients: number, ports: readonly number[], t: number): Flow[] {
  const out: Flow[] = [];
  for (let c = 0; c < clients; c++) {
    for (const dport of ports) {
      out.push(
        flow({
          src: pod('shop', `web${c}-7d4b9c-x${c}`, { app: `web${c}` }, { kind: 'Deployment', name: `web${c}` }, 30000 + c),
          dst: pod('db', 'postgres-0', { app: 'postgres' }, { kind: 'StatefulSet', name: 'postgres' }, 20000),
          dstIp: '10.0.2.7',
          proto: 'TCP',
          dport,
          sport: 40000,
          flags: { SYN: true },
          t,
          verdict: 'FORWARDED',
          dir: 'EGRESS',
          eventType: 4,
          destinationNames: [],
        }),
      );
    }
  }
  return out;
}

function write(db: Db, writer: EdgeWriter, batch: readonly Flow[]): void {
  const agg = new EdgeAggregator();
  for (const f of batch) agg.add(f);
  db.transaction(() => writer.write(agg.take()))();
}

describe('EdgeWriter statements per batch', () => {
  it('reads an edge its slot forgot once, by key with its sets', () => {
    const real = openDatabase(tmp.file('forgotten.db'));
    try {
      const { db, calls } = counting(real);
      // One slot: of a batch's edges only the last one written stays remembered.
      const writer = new EdgeWriter(db, { edgeSlots: 1 });
      const ports = [5001, 5002, 5003, 5004, 5005];
      write(db, writer, flows(1, ports, T0));
      calls.clear();
      write(db, writer, flows(1, ports, T0 + 1000));
      expect(callsOf(calls, /^SELECT\b[^]*\bFROM edges\b/)).toBe(ports.length - 1);
      expect(callsOf(calls, /^INSERT INTO edges\b/), 'a forgotten edge is not tried as new').toBe(0);
      expect(real.prepare('SELECT port, eg_flows, src_pods FROM edges ORDER BY port').all()).toEqual(
        ports.map((port) => ({ port, eg_flows: 2, src_pods: '["web0-7d4b9c-x0"]' })),
      );
    } finally {
      real.close();
    }
  });

  it('upserts a batch of workloads 64 to a statement', () => {
    const real = openDatabase(tmp.file('workloads.db'));
    try {
      const { db, calls } = counting(real);
      const writer = new EdgeWriter(db);
      write(db, writer, flows(130, [5432], T0));
      // 131 workloads (130 clients and postgres): two statements of 64 rows and three of one.
      expect(callsOf(calls, /^INSERT INTO workloads\b/)).toBe(5);
      expect(real.prepare('SELECT count(*) FROM workloads').pluck().get()).toBe(131);
      calls.clear();
      write(db, writer, flows(130, [5432], T0 + 7_200_000));
      expect(callsOf(calls, /^INSERT INTO workloads\b/)).toBe(5);
      expect(real.prepare("SELECT first_seen_ms, last_seen_ms FROM workloads WHERE key LIKE '%web129%'").get()).toEqual({ first_seen_ms: T0, last_seen_ms: T0 + 7_200_000 });
    } finally {
      real.close();
    }
  });

  it('writes only the set column a batch changes as new text, the others as they were stored', () => {
    const db = openDatabase(tmp.file('columns.db'));
    try {
      const web = (name: string) => pod('shop', name, { app: 'web' }, { kind: 'Deployment', name: 'web' }, 30000);
      const api = pod('shop', 'api-0', { app: 'api' }, { kind: 'StatefulSet', name: 'api' }, 20000);
      const request = (src: Endpoint, t: number): Flow =>
        flow({ src, dst: api, dport: 8080, t, eventType: 129, l7: { type: 'REQUEST', http: { method: 'GET', url: 'http://api/v1/items', headers: [] } } });
      // Remembered (the default slots) and forgotten (one slot, two edges): both merge by column.
      for (const edgeSlots of [undefined, 1]) {
        const writer = new EdgeWriter(db, edgeSlots === undefined ? {} : { edgeSlots });
        const other = flow({ src: web('web-a'), dst: api, dport: 9090, t: T0 });
        write(db, writer, [request(web('web-a'), T0), other]);
        const before = mergedColumnCount();
        // A new pod of the same workload: src_pods takes it; dst_pods, l7_protocols and http_requests stay.
        write(db, writer, [request(web(edgeSlots === undefined ? 'web-b' : 'web-c'), T0 + 1000), other]);
        expect(mergedColumnCount() - before).toBe(1);
      }
      expect(db.prepare('SELECT src_pods, dst_pods, l7_protocols, http_requests, eg_flows FROM edges WHERE port = 8080').get()).toEqual({
        src_pods: '["web-a","web-b","web-c"]',
        dst_pods: '["api-0"]',
        l7_protocols: '["http"]',
        http_requests: '["GET /v1/items"]',
        eg_flows: 4,
      });
    } finally {
      db.close();
    }
  });
});
