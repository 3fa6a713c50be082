import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVIDENCE_FIELDS, type EdgeFilter, type EvidenceField, type WorkloadInfo, decodeGraphSnapshot, encodeGraphSnapshot, parsePeerPattern, parseWorkloadConfig } from '../../src/graph/index.js';
import { readDropsToTriage } from '../../src/app/index.js';
import { type Db, type Graph, type LoadGraphOptions, afterGraphResolved, loadGraph, openDatabase, readEdgeGraphSummary } from '../../src/store/index.js';
import { fullCollector } from '../../src/cli/heap.js';
import { graphGeneration, readSnapshotParts, rememberSnapshot, type StoredPart, storeSnapshot, takePendingSnapshot } from '../../src/store/graph-snapshot.js';
import { GRAPH_INPUT_TABLES } from '../../src/store/migrations/006-graph-snapshot.js';
import { storeSnapshotAfterReplay } from '../../src/cli/replay-snapshot.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, SAMPLES_DIR, tempDir } from '../helpers/paths.js';
import { generateCluster } from '../helpers/cluster.js';

/**
 * The stored snapshot of the resolved graph (migration 6) in real SQLite files: a read of a
 * current snapshot gives exactly what resolving the rows gives, for every filter and projection;
 * a stale, damaged or foreign one is never read; a database that may not be written is not.
 */
const tmp = tempDir();
afterAll(() => tmp.remove());

const samples = tmp.file('samples.db');
const cluster = tmp.file('cluster.db');
const clusterLines = tmp.file('cluster.jsonl');
const clusterMore = tmp.file('cluster-more.jsonl');
const sampleFiles = readdirSync(SAMPLES_DIR).sort().map((f) => join(SAMPLES_DIR, f));

function generate(out: string, seed: string, flows: number): void {
  generateCluster(out, { workloads: 200, flows, seed });
}

/**
 * Takes out the snapshot replay stored: most tests start from a database whose first read
 * resolves the graph (as after `observe`, or a replay whose snapshot could not be written).
 * Not a graph input table: the generation stays.
 */
function dropSnapshot(path: string): void {
  const raw = new Database(path);
  raw.exec('DELETE FROM graph_snapshot');
  raw.close();
}

beforeAll(async () => {
  expect((await runCli(['--db', samples, 'replay', ...sampleFiles])).code).toBe(0);
  // Churning pods, node addresses, unlabelled pods, FQDN egress: scripts/generate-cluster.mjs.
  generate(clusterLines, 'snapshot', 15000);
  generate(clusterMore, 'snapshot-more', 3000);
  expect((await runCli(['--db', cluster, 'replay', clusterLines])).code).toBe(0);
  dropSnapshot(samples);
  dropSnapshot(cluster);
}, 120_000);

/** A copy of `db` (with no -wal: replay leaves the file whole) to change freely. */
function copyOf(db: string, name: string): string {
  const to = tmp.file(name);
  copyFileSync(db, to);
  return to;
}

function withDb<T>(path: string, read: (db: Db) => T): T {
  const db = openDatabase(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Resolves the graph the normal way and closes: the read-only connection stores the snapshot. */
function makeSnapshot(path: string, evidence?: readonly EvidenceField[]): void {
  withDb(path, (db) => {
    const g = evidence ? loadGraph(db, { evidence }) : loadGraph(db);
    expect(g.workloads.length).toBeGreaterThan(0);
  });
  withDb(path, (db) => expect(readSnapshotParts(db, ['core', ...(evidence ?? EVIDENCE_FIELDS), 'workloads'])).toBeDefined());
}

const snapshotRows = (path: string): number => withDb(path, (db) => db.prepare('SELECT count(*) FROM graph_snapshot').pluck().get() as number);

function namespacesOf(path: string): string[] {
  return withDb(path, (db) => db.prepare('SELECT DISTINCT src_ns FROM edges WHERE src_ns IS NOT NULL ORDER BY 1').pluck().all() as string[]);
}

/** Every option `loadGraph` takes that the snapshot answers: filters of each kind, projections. */
function readCases(path: string): LoadGraphOptions[] {
  const ns = namespacesOf(path);
  const filters: EdgeFilter[] = [
    { namespaces: [ns[0] as string] },
    { namespaces: ns.slice(1, 4) },
    { namespaces: ['kube-system'] },
    { namespaces: [] },
    { from: [parsePeerPattern('world')] },
    { to: [parsePeerPattern('kube-apiserver')] },
    { from: [parsePeerPattern(`${ns[0] as string}/`)], to: [parsePeerPattern('fqdn:*.com')] },
    { to: [parsePeerPattern('10.0.0.0/8')] },
    { newSinceMs: 0 },
    { namespaces: [ns[1] as string], newSinceMs: Date.UTC(2026, 0, 1) },
  ];
  // Per-namespace filters: every namespace, so a row of another namespace that merges into one of its edges is met.
  const perNamespace = ns.map((n): LoadGraphOptions => ({ filter: { namespaces: [n] }, evidence: [] }));
  const projections: (readonly EvidenceField[])[] = [[], ['dnsNames', 'httpRequests'], ...EVIDENCE_FIELDS.map((f) => [f])];
  return [
    {},
    ...filters.map((filter) => ({ filter })),
    ...projections.map((evidence) => ({ evidence })),
    ...filters.map((filter) => ({ filter, evidence: ['services'] as EvidenceField[] })),
    ...perNamespace,
  ];
}

function expectSnapshotReadsAsNormal(path: string): void {
  withDb(path, (db) => {
    // Decoded directly, not through loadGraph (which would fall back to resolving on a decoding error).
    const parts = readSnapshotParts(db, ['core', ...EVIDENCE_FIELDS]);
    expect(parts).toBeDefined();
    const decoded = decodeGraphSnapshot(parts?.get('core') as Uint8Array, new Map(EVIDENCE_FIELDS.map((f) => [f, parts?.get(f) as Uint8Array])));
    expect(decoded).toStrictEqual(loadGraph(db, { snapshot: false }).edges);
    for (const options of readCases(path)) {
      const normal = loadGraph(db, { ...options, snapshot: false } as LoadGraphOptions & { evidence?: undefined });
      const stored = loadGraph(db, options as LoadGraphOptions & { evidence?: undefined });
      expect(stored.edges, JSON.stringify(options)).toStrictEqual(normal.edges);
      // JSON output follows key order, which toStrictEqual does not see.
      expect(JSON.stringify(stored.edges)).toBe(JSON.stringify(normal.edges));
    }
    const normal = loadGraph(db, { snapshot: false });
    expect(loadGraph(db).workloads).toStrictEqual(normal.workloads);
    expect(JSON.stringify(loadGraph(db).workloads)).toBe(JSON.stringify(normal.workloads));
  });
}

describe('a current snapshot', () => {
  for (const which of ['samples', 'cluster'] as const) {
    it(`reads as the rows resolve, for every filter and projection: the ${which}`, async () => {
      const path = copyOf(which === 'samples' ? samples : cluster, `${which}-equal.db`);
      const cold = await runCli(['--db', path, 'status', '-o', 'json']);
      expect(snapshotRows(path)).toBe(0);
      makeSnapshot(path);
      expectSnapshotReadsAsNormal(path);
      // status takes its edge count, workload count and convergence from the snapshot: the same JSON.
      const warm = await runCli(['--db', path, 'status', '-o', 'json']);
      expect(warm.code).toBe(0);
      expect(warm.stdout).toBe(cold.stdout);
      withDb(path, (db) => expect(readSnapshotParts(db, ['core'])).toBeDefined());
    }, 120_000);
  }

  it('keeps names and lists outside ASCII as they are (a DNS name, an HTTP path, a pod name in any script)', () => {
    const edges = withDb(samples, (db) => loadGraph(db, { snapshot: false }).edges);
    const [first, ...rest] = edges;
    if (first === undefined) throw new Error('no edges in the samples');
    const wide = [{ ...first, to: { kind: 'fqdn' as const, fqdn: 'bücher.example' }, httpRequests: ['GET /café/日本'], srcPods: ['pod-ü-0'] }, ...rest];
    const parts = new Map(encodeGraphSnapshot(wide, EVIDENCE_FIELDS, { workloads: 1 }));
    const evidence = new Map(EVIDENCE_FIELDS.map((f) => [f, parts.get(f) as Uint8Array]));
    expect(decodeGraphSnapshot(parts.get('core') as Uint8Array, evidence)).toStrictEqual(wide);
  });

  it('is what the read returns (a snapshot at the current generation is trusted, so only the generation guards it)', () => {
    const path = copyOf(samples, 'poisoned.db');
    const { edges, generation } = withDb(path, (db) => ({ edges: loadGraph(db, { snapshot: false }).edges, generation: graphGeneration(db) as number }));
    // A snapshot of one edge fewer, stored at the current generation: the read must show it.
    const fewer = edges.slice(1);
    expect(storeSnapshot(path, { generation, parts: () => encodeGraphSnapshot(fewer, EVIDENCE_FIELDS, { workloads: 1 }) })).toBe(true);
    withDb(path, (db) => {
      expect(loadGraph(db).edges).toStrictEqual(fewer);
      expect(readEdgeGraphSummary(db)?.edges).toBe(fewer.length);
      expect(readEdgeGraphSummary(db)?.workloads).toBe(1);
    });
    // One generation later (any write) it is never read again.
    const raw = new Database(path);
    raw.prepare('UPDATE edges SET last_seen_ms = last_seen_ms WHERE id = (SELECT min(id) FROM edges)').run();
    raw.close();
    withDb(path, (db) => expect(loadGraph(db).edges).toStrictEqual(edges));
  });

  it('drops takes its workloads from the snapshot (storing them when it resolved them), and from the rows once a write moved the generation', () => {
    const path = copyOf(cluster, 'drops-workloads.db');
    const fromRows = withDb(path, (db) => loadGraph(db, { snapshot: false }).workloads);
    const dropsWorkloads = (): readonly WorkloadInfo[] => withDb(path, (db) => readDropsToTriage(db, {}).options.workloads ?? []);
    // No snapshot: resolved, and stored when the database closes.
    expect(dropsWorkloads()).toStrictEqual(fromRows);
    const generation = withDb(path, (db) => {
      const part = readSnapshotParts(db, ['workloads'])?.get('workloads');
      expect(part, 'drops stored its workloads').toBeDefined();
      expect(JSON.parse(new TextDecoder().decode(part))).toStrictEqual(fromRows);
      return graphGeneration(db) as number;
    });
    // A part at the current generation is trusted: the read shows what it holds.
    const marked = fromRows.map((w) => ({ ...w, name: `${w.name}-from-the-snapshot` }));
    expect(storeSnapshot(path, { generation, parts: () => new Map([['workloads', new TextEncoder().encode(JSON.stringify(marked))]]) })).toBe(true);
    expect(dropsWorkloads()).toStrictEqual(marked);
    // One generation later (any write) it is never read again.
    const raw = new Database(path);
    raw.prepare('UPDATE workloads SET last_seen_ms = last_seen_ms WHERE key = (SELECT min(key) FROM workloads)').run();
    raw.close();
    expect(dropsWorkloads()).toStrictEqual(fromRows);
  }, 60_000);

  it('a snapshot made from a projected read serves that projection only; a wider read resolves and adds its lists', () => {
    const path = copyOf(cluster, 'projected.db');
    makeSnapshot(path, ['dnsNames', 'httpRequests']);
    withDb(path, (db) => {
      expect(readSnapshotParts(db, ['srcPods'])).toBeUndefined();
      expect(loadGraph(db, { evidence: ['httpRequests'] }).edges).toStrictEqual(loadGraph(db, { evidence: ['httpRequests'], snapshot: false }).edges);
      expect(loadGraph(db).edges).toStrictEqual(loadGraph(db, { snapshot: false }).edges);
    });
    withDb(path, (db) => expect(readSnapshotParts(db, ['core', ...EVIDENCE_FIELDS])).toBeDefined());
    expectSnapshotReadsAsNormal(path);
  }, 60_000);
});

describe('what the snapshot does not answer', () => {
  it('workload rules (--workload-config): resolved the normal way, and no snapshot stored from them', async () => {
    const path = copyOf(samples, 'workload-config.db');
    makeSnapshot(path);
    const workloadConfig = parseWorkloadConfig({ workloadRules: [{ label: 'app.kubernetes.io/name', kind: 'App', namespaces: ['cf2cnp-lab'] }] });
    withDb(path, (db) => {
      const ruled = loadGraph(db, { workloadConfig });
      expect(ruled.edges).not.toStrictEqual(loadGraph(db).edges);
      expect(ruled.edges.some((e) => e.from.kind === 'workload' && e.from.workloadKind === 'App')).toBe(true);
    });
    const cfg = tmp.file('rules.yaml');
    writeFileSync(cfg, 'workloadRules:\n  - label: app.kubernetes.io/name\n    kind: App\n    namespaces: [cf2cnp-lab]\n');
    const first = await runCli(['--db', path, 'edges', '-A', '--workload-config', cfg, '-o', 'json']);
    const second = await runCli(['--db', path, 'edges', '-A', '--workload-config', cfg, '-o', 'json']);
    expect(first.stdout).toContain('"App"');
    expect(second.stdout).toBe(first.stdout);
    // The default read still answers from the rows as they resolve without rules.
    expectSnapshotReadsAsNormal(path);
  });

  it('every table the graph read selects from moves the generation (a new table read must get triggers too)', () => {
    // The SQL of edge-store.ts, comments left out.
    const source = readFileSync(join(REPO_ROOT, 'src/store/edge-store.ts'), 'utf8').replace(/^\s*(\/\/|\*).*$/gm, '');
    const read = new Set([...source.matchAll(/\b(?:FROM|JOIN)\s+([a-z_]+)/g)].map((m) => m[1] as string));
    // Read live on every call, never from the snapshot: edge_skips (status' skipped flows).
    for (const t of ['json_each', 'sqlite_master', 'edge_skips', 'graph_snapshot', 'graph_generation']) read.delete(t);
    expect([...read].sort()).toEqual([...GRAPH_INPUT_TABLES].sort());
  });
});

describe('the snapshot replay stores', () => {
  it('is there after a replay, workloads included: the first read decodes it, and it reads as the rows resolve', async () => {
    const path = tmp.file('replayed.db');
    expect((await runCli(['--db', path, 'replay', clusterLines])).code).toBe(0);
    const generation = withDb(path, (db) => {
      expect(readSnapshotParts(db, ['core', ...EVIDENCE_FIELDS, 'workloads'])).toBeDefined();
      return graphGeneration(db);
    });
    expectSnapshotReadsAsNormal(path);
    // The first read found it current: it neither resolved nor stored anything.
    withDb(path, (db) => expect(graphGeneration(db)).toBe(generation));
    expect(withDb(path, (db) => db.prepare('SELECT DISTINCT generation FROM graph_snapshot').pluck().all())).toEqual([generation]);
  }, 60_000);

  it('a large graph is made in a process of its own: the same parts as in-process; one that cannot be made is reported as not made, never thrown', () => {
    const here = copyOf(cluster, 'in-process.db');
    const apart = copyOf(cluster, 'apart.db');
    expect(storeSnapshotAfterReplay(here, 0, 1)).toBe(true);
    expect(storeSnapshotAfterReplay(apart, 1, 1)).toBe(true);
    const parts = (path: string) => withDb(path, (db) => db.prepare('SELECT part, format, generation, checksum FROM graph_snapshot ORDER BY part').all());
    expect(parts(apart)).toHaveLength(EVIDENCE_FIELDS.length + 2);
    expect(parts(apart)).toEqual(parts(here));
    expectSnapshotReadsAsNormal(apart);
    expect(storeSnapshotAfterReplay(tmp.file('no-such.db'), 1, 1)).toBe(false);
    expect(storeSnapshotAfterReplay(tmp.file('no-such.db'), 0, 1)).toBe(false);
  }, 60_000);

  it('a replay of a file replayed before (nothing stored) leaves the snapshot as it was', async () => {
    const path = copyOf(cluster, 'replayed-again.db');
    const again = await runCli(['--db', path, 'replay', clusterLines]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('skipped');
    expect(snapshotRows(path)).toBe(0);
  }, 60_000);
});

describe('a stale snapshot', () => {
  it('is not read after more flows are replayed into the database: the replay stores the graph with them', async () => {
    const path = copyOf(cluster, 'stale-replay.db');
    makeSnapshot(path);
    const before = withDb(path, (db) => ({ edges: loadGraph(db).edges, generation: graphGeneration(db) as number }));
    const edgesBefore = await runCli(['--db', path, 'edges', '-A', '-o', 'json']);
    expect((await runCli(['--db', path, 'replay', clusterMore])).code).toBe(0);
    withDb(path, (db) => {
      expect(graphGeneration(db)).toBeGreaterThan(before.generation);
      expect(db.prepare('SELECT DISTINCT generation FROM graph_snapshot').pluck().all()).toEqual([graphGeneration(db)]);
      const after = loadGraph(db).edges;
      expect(after).not.toStrictEqual(before.edges);
      expect(after).toStrictEqual(loadGraph(db, { snapshot: false }).edges);
    });
    // What a user sees: the edges of the new flows, as a read that resolves the rows prints them.
    const warm = await runCli(['--db', path, 'edges', '-A', '-o', 'json']);
    expect(warm.stdout).not.toBe(edgesBefore.stdout);
    dropSnapshot(path);
    expect((await runCli(['--db', path, 'edges', '-A', '-o', 'json'])).stdout).toBe(warm.stdout);
    expectSnapshotReadsAsNormal(path);
  }, 60_000);

  it('is not read after one row is changed by plain SQL, in any graph table, by insert, update or delete', () => {
    const path = copyOf(samples, 'stale-sql.db');
    for (const table of GRAPH_INPUT_TABLES) {
      for (const change of ['update', 'insert', 'delete'] as const) {
        makeSnapshot(path);
        const raw = new Database(path);
        const cols = (raw.prepare(`PRAGMA table_info(${table})`).all() as { name: string; pk: number }[]).map((c) => c.name);
        const rowid = raw.prepare(`SELECT * FROM ${table} LIMIT 1`).get() as Record<string, unknown> | undefined;
        expect(rowid, `${table} has rows`).toBeDefined();
        const row = rowid as Record<string, unknown>;
        const where = cols.map((c) => `${c} IS @${c}`).join(' AND ');
        raw.pragma('foreign_keys = OFF');
        if (change === 'update') raw.prepare(`UPDATE ${table} SET ${cols[0]} = ${cols[0]} WHERE ${where}`).run(row);
        if (change === 'delete') raw.prepare(`DELETE FROM ${table} WHERE ${where}`).run(row);
        if (change === 'insert') {
          raw.prepare(`DELETE FROM ${table} WHERE ${where}`).run(row);
          makeSnapshotOn(raw);
          raw.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(row);
        }
        raw.close();
        withDb(path, (db) => expect(readSnapshotParts(db, ['core']), `${change} ${table}`).toBeUndefined());
      }
    }
    /** Marks the snapshot current again on `raw` (as if stored after the delete), for the insert to make stale. */
    function makeSnapshotOn(raw: Database.Database): void {
      raw.prepare('UPDATE graph_snapshot SET generation = (SELECT generation FROM graph_generation)').run();
      expect(withDb(path, (db) => readSnapshotParts(db, ['core']))).toBeDefined();
    }
  }, 60_000);

  it('is not read when a generation trigger was dropped (writes could no longer move the generation)', () => {
    const path = copyOf(samples, 'no-trigger.db');
    makeSnapshot(path);
    const raw = new Database(path);
    raw.exec('DROP TRIGGER graph_generation_edges_update');
    raw.close();
    withDb(path, (db) => {
      expect(graphGeneration(db)).toBeUndefined();
      expect(readSnapshotParts(db, ['core'])).toBeUndefined();
    });
  });
});

describe('a damaged snapshot', () => {
  /** Part name, and what is done to its bytes (`checksum`: the stored checksum made to match). */
  const damage: Record<string, { part: string; change: (data: Buffer) => Buffer | string; checksum?: true }> = {
    'truncated core': { part: 'core', change: (d) => d.subarray(0, d.length - 7) },
    'a changed byte in the header': { part: 'core', change: (d) => (d[9] === 0xff ? d : (d.fill(0xff, 9, 10), d)) },
    'a changed byte in a list': { part: 'srcPods', change: (d) => (d.writeUInt32LE(d.readUInt32LE(40) + 1, 40), d) },
    // Bytes 28-31 are the first edge's port: the layout stays sound, only the checksum sees it.
    'a changed port (only the checksum sees it)': { part: 'core', change: (d) => (d.writeUInt32LE(d.readUInt32LE(28) + 1, 28), d) },
    // Bytes of another format (the header's format word, bytes 4-7, and the first edge's port
    // changed) with a checksum that matches: the codec refuses them by their format.
    'another format, checksum matching': { part: 'core', change: (d) => (d.writeUInt32LE(d.readUInt32LE(4) + 1, 4), d.writeUInt32LE(d.readUInt32LE(28) + 1, 28), d), checksum: true },
    'text instead of bytes': { part: 'core', change: () => 'x' },
    'an empty core': { part: 'core', change: () => Buffer.alloc(0) },
  };
  for (const [what, { part, change, checksum }] of Object.entries(damage)) {
    it(`${what}: the normal read, the same output, exit 0`, async () => {
      const path = copyOf(samples, `damaged-${what.replace(/\W+/g, '-')}.db`);
      const cold = await runCli(['--db', path, 'edges', '-A', '-o', 'json']);
      expect(cold.code).toBe(0);
      expect(snapshotRows(path)).toBeGreaterThan(0);
      const raw = new Database(path);
      const data = change(raw.prepare('SELECT data FROM graph_snapshot WHERE part = ?').pluck().get(part) as Buffer);
      raw.prepare('UPDATE graph_snapshot SET data = ? WHERE part = ?').run(data, part);
      if (checksum) raw.prepare('UPDATE graph_snapshot SET checksum = ? WHERE part = ?').run(createHash('sha1').update(data).digest('hex'), part);
      raw.close();
      withDb(path, (db) => expect(loadGraph(db).edges).toStrictEqual(loadGraph(db, { snapshot: false }).edges));
      const warm = await runCli(['--db', path, 'edges', '-A', '-o', 'json']);
      expect(warm.code).toBe(0);
      expect(warm.stderr).toBe('');
      expect(warm.stdout).toBe(cold.stdout);
      expect((await runCli(['--db', path, 'status', '-o', 'json'])).code).toBe(0);
    });
  }

  it('another format in the format column: not read', async () => {
    const path = copyOf(samples, 'format-column.db');
    makeSnapshot(path);
    const raw = new Database(path);
    raw.exec('UPDATE graph_snapshot SET format = format + 1');
    raw.close();
    withDb(path, (db) => expect(readSnapshotParts(db, ['core'])).toBeUndefined());
  });
});

describe('a database that may not be written', () => {
  const commands: readonly (readonly string[])[] = [
    ['edges', '-A', '-o', 'json'],
    ['recommend', '-A', '-o', 'yaml'],
    ['report'],
    ['status', '-o', 'json'],
  ];
  it('a chmod 444 file: every read works, prints what a writable copy prints, and the file is not changed', async () => {
    const path = copyOf(samples, 'readonly-file.db');
    const writable = copyOf(samples, 'writable-twin.db');
    chmodSync(path, 0o444);
    const before = readFileSync(path);
    for (const argv of commands) {
      for (let run = 0; run < 2; run++) {
        const r = await runCli(['--db', path, ...argv]);
        const w = await runCli(['--db', writable, ...argv]);
        expect(r.code, argv.join(' ')).toBe(0);
        expect(r.stderr).toBe(w.stderr.replaceAll(writable, path));
        expect(r.stdout).toBe(w.stdout.replaceAll(writable, path));
      }
    }
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(snapshotRows(writable)).toBeGreaterThan(0);
  }, 60_000);

  it('a file in a read-only directory: every read works and nothing is written', async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'baseline.db');
      copyFileSync(samples, path);
      const cold = await runCli(['--db', path, 'edges', '-A', '-o', 'json']);
      chmodSync(dir.path, 0o555);
      const mtime = statSync(path).mtimeMs;
      for (let run = 0; run < 2; run++) {
        const r = await runCli(['--db', path, 'edges', '-A', '-o', 'json']);
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(cold.stdout);
      }
      expect(statSync(path).mtimeMs).toBe(mtime);
      expect(readdirSync(dir.path)).toEqual(['baseline.db']);
    } finally {
      chmodSync(dir.path, 0o755);
      dir.remove();
    }
  });

  it('a database from before migration 6, opened read-only, is read the normal way and left as it was', async () => {
    const path = copyOf(samples, 'v5.db');
    const raw = new Database(path);
    // What migration 6 added, taken away (a database of the previous release; read commands never migrate).
    const triggers = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'graph_generation_%'").pluck().all() as string[];
    expect(triggers.length).toBe(24);
    for (const t of triggers) raw.exec(`DROP TRIGGER ${t}`);
    raw.exec(`DROP TABLE graph_snapshot; DROP TABLE graph_generation; PRAGMA user_version = 5;`);
    raw.close();
    const before = readFileSync(path);
    const first = await runCli(['--db', path, 'edges', '-A', '-o', 'json']);
    const second = await runCli(['--db', path, 'edges', '-A', '-o', 'json']);
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('a database whose generation table is gone (but not its triggers) is read the normal way', async () => {
    const path = copyOf(samples, 'no-generation.db');
    const cold = await runCli(['--db', path, 'edges', '-A', '-o', 'json']);
    const raw = new Database(path);
    raw.exec('DROP TABLE graph_generation');
    raw.close();
    const warm = await runCli(['--db', path, 'edges', '-A', '-o', 'json']);
    expect(warm.code).toBe(0);
    expect(warm.stdout).toBe(cold.stdout);
  });
});

describe('the CLI, cold and warm', () => {
  it('what a connection keeps to store: parts of two reads add up, a read that makes all of the earlier parts again replaces them (each part encoded once)', () => {
    const path = copyOf(samples, 'remembered.db');
    withDb(path, (db) => {
      const made: string[] = [];
      const part = (name: StoredPart, read: string) => (): Map<StoredPart, Uint8Array> => (made.push(read), new Map([[name, new TextEncoder().encode(read)]]));
      rememberSnapshot(db, { generation: 7, names: ['core', 'srcReserved'], parts: part('core', 'projected') });
      rememberSnapshot(db, { generation: 7, names: ['core', ...EVIDENCE_FIELDS, 'workloads'], parts: part('core', 'whole') });
      rememberSnapshot(db, { generation: 7, names: ['workloads'], parts: part('workloads', 'workloads') });
      const kept = takePendingSnapshot(db);
      expect([...(kept?.parts().keys() ?? [])].sort()).toEqual(['core', 'workloads']);
      expect(made).toEqual(['whole', 'workloads']);
      // Another generation's parts are stale: only the newest read's are kept.
      rememberSnapshot(db, { generation: 7, names: ['workloads'], parts: part('workloads', 'old') });
      rememberSnapshot(db, { generation: 8, names: ['core'], parts: part('core', 'new') });
      expect([...(takePendingSnapshot(db)?.parts().values() ?? [])].map((b) => new TextDecoder().decode(b))).toEqual(['new']);
    });
  });

  it("a read that resolves the graph stores the edges' parts at once, before the reader goes on with them; the workloads' part when it closes, once described", () => {
    const path = copyOf(cluster, 'at-once.db');
    const stored = (parts: readonly StoredPart[]) => withDb(path, (other) => readSnapshotParts(other, parts) !== undefined);
    const db = openDatabase(path, { readonly: true });
    try {
      const graph = loadGraph(db);
      expect(stored(['core', ...EVIDENCE_FIELDS])).toBe(true);
      expect(stored(['workloads'])).toBe(false);
      expect(graph.workloads.length).toBeGreaterThan(0);
      expect(stored(['workloads'])).toBe(false);
    } finally {
      db.close();
    }
    expect(stored(['core', ...EVIDENCE_FIELDS, 'workloads'])).toBe(true);
    expectSnapshotReadsAsNormal(path);
  });

  it("a read that resolves the graph runs the after-resolve hook (the CLI's full collection) once its edges' parts are stored, and a read of the snapshot does not; the workloads' part kept to store does not keep the edges alive", async () => {
    const path = copyOf(cluster, 'collected.db');
    const stored = (parts: readonly StoredPart[]) => withDb(path, (other) => readSnapshotParts(other, parts) !== undefined);
    const calls: boolean[] = [];
    const before = afterGraphResolved(() => calls.push(stored(['core', ...EVIDENCE_FIELDS])));
    try {
      const db = openDatabase(path, { readonly: true });
      try {
        let graph: Graph | undefined = loadGraph(db);
        expect(calls).toEqual([true]);
        const edges = new WeakRef(graph.edges);
        // Described: their part is now kept until the close, and must not hold the edges with it.
        expect(graph.workloads.length).toBeGreaterThan(0);
        graph = undefined;
        // A WeakRef holds its target until the current job ends.
        await new Promise(setImmediate);
        fullCollector()();
        expect(edges.deref()).toBeUndefined();
      } finally {
        db.close();
      }
      expect(stored(['workloads'])).toBe(true);
      expect(withDb(path, (db) => loadGraph(db).edges.length)).toBeGreaterThan(0);
      expect(calls).toEqual([true]);
    } finally {
      afterGraphResolved(before);
    }
  });

  it('recommend collects the garbage of a cold read (one full collection, asked for by the program), and a warm read has none to collect', async () => {
    const path = copyOf(cluster, 'recommend-collects.db');
    const asked = async (): Promise<number> => {
      const child = spawn(process.execPath, ['--trace-gc', '--import', 'tsx', 'src/cli/main.ts', '--db', path, 'recommend', '-A'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      const code = await new Promise<number | null>((done) => child.on('close', done));
      expect(code).toBe(0);
      // V8's trace names a collection the program asked for (`gc()`) "testing".
      return out.split('\n').filter((l) => l.includes('Mark-Compact') && l.includes('testing')).length;
    };
    expect(await asked()).toBe(1);
    expect(await asked()).toBe(0);
  }, 60_000);

  it('a read that resolves the graph and then its workloads again (report --policies judges drops) stores every part of both', async () => {
    const path = copyOf(cluster, 'report-policies.db');
    const policies = tmp.file('report-policies');
    expect((await runCli(['--db', copyOf(cluster, 'report-policies-source.db'), 'recommend', '-A', '--out', policies])).code).toBe(0);
    expect(snapshotRows(path)).toBe(0);
    expect((await runCli(['--db', path, 'report', '--policies', policies])).code).toBe(0);
    withDb(path, (db) => expect(readSnapshotParts(db, ['core', ...EVIDENCE_FIELDS, 'workloads'])).toBeDefined());
  }, 120_000);


  it('prints byte-identical output with and without a snapshot (edges, recommend, check, drops, report)', async () => {
    const path = copyOf(cluster, 'cli.db');
    const policies = tmp.file('cli-policies');
    expect((await runCli(['--db', copyOf(cluster, 'cli-policies.db'), 'recommend', '-A', '--out', policies])).code).toBe(0);
    const commands: readonly (readonly string[])[] = [
      ['edges', '-A', '-o', 'json'],
      ['edges', '-A'],
      ['edges', '-n', 'kube-system', '-o', 'json'],
      ['recommend', '-A', '-o', 'yaml'],
      ['check', '--policies', policies],
      ['check', '--policies', policies, '-o', 'json'],
      ['drops'],
      ['drops', '--policies', policies, '-o', 'json'],
      ['report'],
      ['report', '-o', 'html'],
      ['status', '-o', 'json'],
    ];
    let stored = 0;
    for (const argv of commands) {
      stored += snapshotRows(path);
      const raw = new Database(path);
      raw.exec('DELETE FROM graph_snapshot');
      raw.close();
      const cold = await runCli(['--db', path, ...argv]);
      const warm = await runCli(['--db', path, ...argv]);
      expect(cold.code, argv.join(' ')).toBe(warm.code);
      expect(warm.stderr, argv.join(' ')).toBe(cold.stderr);
      expect(warm.stdout, argv.join(' ')).toBe(cold.stdout);
    }
    // The commands that resolve the whole graph left a snapshot.
    expect(stored).toBeGreaterThan(0);
  }, 120_000);
});
