import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSinks, replayFiles } from '../../src/app/index.js';
import type { BadLine } from '../../src/store/index.js';
import { openDatabase } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

/** What a replay left in the database, minus ids and wall-clock times. */
function snapshot(db: string): unknown {
  const conn = new Database(db, { readonly: true });
  try {
    // replay_ranges is how a replay with workers resumes; one thread needs none. The graph
    // generation counts row writes, which differ with the batches (it is a version, not content),
    // and so does the generation the snapshot replay stores is made at (its parts must be equal).
    const tables = conn
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('sources', 'replay_ranges', 'graph_generation') ORDER BY name")
      .pluck()
      .all() as string[];
    const out: Record<string, unknown> = {
      source: conn.prepare('SELECT lines, events, flows, bad_lines, lost_events, first_flow_ms, last_flow_ms, last_flow_time, status FROM sources').all(),
    };
    for (const t of tables) {
      // Row ids depend on insert order, which differs between threads: compare edges by their key.
      const cols = (conn.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[])
        .map((c) => c.name)
        .filter((c) => c !== 'id' && !(t === 'graph_snapshot' && c === 'generation'))
        .map((c) => (c === 'edge_id' ? `(SELECT src_key || '|' || dst_key || '|' || protocol || '|' || port FROM edges e WHERE e.id = edge_id) AS edge` : c));
      const order = cols.map((c, i) => String(i + 1)).join(', ');
      out[t] = conn.prepare(`SELECT ${cols.join(', ')} FROM ${t} ORDER BY ${order}`).all();
    }
    return out;
  } finally {
    conn.close();
  }
}

describe('replay with worker threads', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());
  const samples = ['hubble-otel__basic-sample-400-tcp-flows.json', 'hubble-otel__basic-sample-330-dns-flows.json', 'cilium-docs__exporter-fieldmask-2drops.jsonl']
    .flatMap((f) => readFileSync(join(SAMPLES_DIR, f), 'utf8').trim().split('\n'));
  const lines: string[] = [];
  for (let i = 0; i < 6000; i++) lines.push(samples[i % samples.length] as string);
  // Bad lines in the first and in the second half, so line numbers of the second range are tested.
  lines[10] = '{"flow": truncated';
  lines[4500] = '{"flow":{"time":"2021-10-04T11:22:26Z","verdict":{"x":1}}}';
  lines[5999] = 'garbage at the very end';
  const file = tmp.file('mixed.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');

  it('stores exactly what the single-threaded replay stores, bad line numbers included', async () => {
    const one = await runCli(['--db', tmp.file('w1.db'), 'replay', '--workers', '1', '-o', 'json', file]);
    const two = await runCli(['--db', tmp.file('w2.db'), 'replay', '--workers', '2', '-o', 'json', file]);
    expect(one.code).toBe(3);
    expect(two.code).toBe(3);
    expect(two.stderr.split('\n').filter(Boolean).sort()).toEqual(one.stderr.split('\n').filter(Boolean).sort());
    expect(one.stderr).toContain(`${file}:4501: flow.verdict: expected an enum name or number, got object`);
    expect(snapshot(tmp.file('w2.db'))).toEqual(snapshot(tmp.file('w1.db')));
    expect(JSON.parse(two.stdout)[0]).toMatchObject({ workers: 2, lines: 6000, flows: 5997, badLines: 3, status: 'partial' });
    expect(JSON.parse(one.stdout)[0]).toMatchObject({ workers: 1 });
  });

  it('splits at line boundaries whatever the range edges hit', async () => {
    for (const workers of [3, 7]) {
      const r = await runCli(['--db', tmp.file(`w${workers}.db`), 'replay', '--workers', String(workers), '-o', 'json', file]);
      expect(JSON.parse(r.stdout)[0]).toMatchObject({ workers, lines: 6000, flows: 5997, badLines: 3 });
    }
  });

  it('workers taking many small ranges in turn store the same, with the same bad line numbers', async () => {
    const replay = async (name: string, workers: number, rangeBytes?: number): Promise<{ bad: string[]; workers: number }> => {
      const db = openDatabase(tmp.file(name));
      const bad: string[] = [];
      try {
        const [result] = await replayFiles(db, [file], {
          strict: false,
          stdin: process.stdin,
          workers,
          rangeBytes,
          sinks: defaultSinks,
          onBadLine: (_f: string, b: BadLine) => bad.push(`${b.line}: ${b.field}: ${b.reason}`),
        });
        return { bad: bad.sort(), workers: result?.workers ?? 0 };
      } finally {
        db.close();
      }
    };
    const one = await replay('ranges-1.db', 1);
    // ~6 MB in 40 KB ranges: ~150 ranges, each worker takes dozens, bad lines land in late ones.
    const two = await replay('ranges-2.db', 2, 40_000);
    expect(two.workers).toBe(2);
    expect(one.bad).toHaveLength(3);
    expect(two.bad).toEqual(one.bad);
    expect(snapshot(tmp.file('ranges-2.db'))).toEqual(snapshot(tmp.file('ranges-1.db')));
  });

  it('a line far beyond a worker heap is reported as over-long, not a crash; the rest is stored', async () => {
    const huge = tmp.file('huge-line.jsonl');
    const body = `${lines.slice(0, 2000).filter((_, i) => i !== 10).join('\n')}\n`;
    // 60 MiB of one line: over MAX_LINE_BYTES (16 MiB) and over a worker's old-space cap, had it been read.
    writeFileSync(huge, `${body}{"flow":{"Summary":"${'x'.repeat(60 * 1024 * 1024)}"}}\n${body}`);
    const r = await runCli(['--db', tmp.file('huge.db'), 'replay', '--workers', '2', '-o', 'json', huge]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/huge-line\.jsonl:2000: \(line\): longer than 16777216 bytes \(629145\d\d bytes\), skipped/);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ workers: 2, lines: 3999, flows: 3998, badLines: 1, status: 'partial' });
  }, 60_000);
});
