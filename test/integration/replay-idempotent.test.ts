import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.js';
import { committedFlows } from '../helpers/db.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

const SAMPLES = ['tcp', 'dns', 'http', 'udp', 'icmpv4', 'l7-redirected'].map((k) =>
  join(SAMPLES_DIR, `hubble-otel__basic-sample-${k === 'dns' ? 330 : k === 'http' ? 348 : 400}-${k}-flows.json`),
);
const LINES = 120_000;

/** Public sample lines of every kind in turn, with a bad line and a lost-event marker now and then. */
async function writeRecording(path: string): Promise<void> {
  const lines = SAMPLES.flatMap((f) => readFileSync(f, 'utf8').trim().split('\n'));
  const out = createWriteStream(path);
  for (let i = 0; i < LINES; i++) {
    let line = lines[i % lines.length] as string;
    if (i % 9_973 === 0) line = '{"flow": {"time": "not a time"}}';
    else if (i % 7_001 === 0) line = `{"lost_events":{"source":"PERF_EVENT_RING_BUFFER","num_events_lost":"4"},"node_name":"n1","time":"2021-11-10T10:40:0${i % 10}Z"}`;
    if (!out.write(`${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
}

/** Everything a replay stores, but the bookkeeping of the runs themselves (ids, run times, pids). */
function snapshot(db: string): Record<string, unknown> {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const all = (sql: string): unknown[] => conn.prepare(sql).all();
    return {
      sources: all(`SELECT sum(lines) AS lines, sum(events) AS events, sum(flows) AS flows, sum(bad_lines) AS bad, sum(duplicates) AS dup,
                           sum(lost_events) AS lost, min(first_flow_ms) AS first, max(last_flow_ms) AS last FROM sources`),
      verdicts: all('SELECT verdict, sum(flows) AS n FROM verdict_counts GROUP BY verdict ORDER BY verdict'),
      triage: all('SELECT time, uuid, verdict, drop_reason, flow_json FROM triage_flows ORDER BY time, flow_json'),
      lost: all('SELECT time, node_name, lost_source, num_lost FROM lost_events ORDER BY time, num_lost'),
      badLines: all('SELECT line, field, reason FROM bad_lines ORDER BY line'),
      edges: all(`SELECT * FROM edges ORDER BY src_key, dst_key, protocol, port`).map((r) => ({ ...(r as object), id: undefined })),
      edgeHours: all('SELECT e.src_key, e.dst_key, e.port, h.hour FROM edge_hours h JOIN edges e ON e.id = h.edge_id ORDER BY 1, 2, 3, 4'),
      dropReasons: all('SELECT e.src_key, e.dst_key, e.port, d.reason, d.flows FROM edge_drop_reasons d JOIN edges e ON e.id = d.edge_id ORDER BY 1, 2, 3, 4'),
      workloads: all('SELECT * FROM workloads ORDER BY key'),
      labels: all('SELECT * FROM workload_label_sets ORDER BY 1, 2'),
      dns: all('SELECT * FROM dns_answers ORDER BY 1, 2, 3'),
      skips: all('SELECT * FROM edge_skips ORDER BY reason'),
    };
  } finally {
    conn.close();
  }
}


async function killMidway(db: string, args: readonly string[], atFlows: number): Promise<void> {
  const child = spawnCli(['--db', db, 'replay', ...args]);
  child.stdout.resume();
  child.stderr.resume();
  const exited = new Promise((r) => child.once('exit', r));
  const deadline = Date.now() + 90_000;
  while (committedFlows(db) < atFlows && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGKILL');
  await exited;
}

describe('replay is idempotent', () => {
  const tmp = tempDir();
  const file = tmp.file('recording.jsonl');
  let clean: Record<string, unknown>;
  beforeAll(async () => {
    await writeRecording(file);
    const db = tmp.file('clean.db');
    const r = await runCli(['--db', db, 'replay', '--workers', '1', file]);
    expect(r.code, r.stderr).toBe(3); // the planted bad lines
    clean = snapshot(db);
  }, 120_000);
  afterAll(() => tmp.remove());

  it('skips a file replayed before (under another name too) with a note, unless --force', async () => {
    const db = tmp.file('twice.db');
    await runCli(['--db', db, 'replay', '--workers', '1', file]);
    const copy = tmp.file('same-content.jsonl');
    await new Promise<void>((r) => createWriteStream(copy).end(readFileSync(file), () => r()));
    const again = await runCli(['--db', db, 'replay', '-o', 'json', file, copy]);
    expect(again.code, again.stderr).toBe(0);
    const results = JSON.parse(again.stdout) as { status: string; note: string; flows: number }[];
    expect(results.map((r) => r.status)).toEqual(['skipped', 'skipped']);
    expect(again.stderr).toContain('already replayed as source #1');
    expect(again.stderr).toContain('--force');
    expect(snapshot(db)).toEqual(clean);
    const forced = await runCli(['--db', db, 'replay', '--force', '--workers', '1', '-o', 'json', file]);
    expect((JSON.parse(forced.stdout) as { status: string }[])[0]?.status).toBe('partial');
  }, 120_000);

  it('a replay killed with SIGKILL shows as interrupted and, run again, resumes to exactly one clean replay', async () => {
    const db = tmp.file('killed-1.db');
    await killMidway(db, ['--workers', '1', '--batch-size', '1000', file], 20_000);
    const status = JSON.parse((await runCli(['--db', db, 'status', '-o', 'json'])).stdout) as { sources: { status: string; flows: number }[] };
    expect(status.sources[0]?.status).toBe('interrupted');
    expect(status.sources[0]?.flows).toBeLessThan(LINES - 100);
    const again = await runCli(['--db', db, 'replay', '--workers', '1', '-o', 'json', file]);
    expect(again.stderr).toContain('resumed source #1 (interrupted) after line');
    expect(snapshot(db)).toEqual(clean);
    const [result] = JSON.parse(again.stdout) as { status: string; flows: number }[];
    // The summary reports what the source holds, all of it.
    expect(result).toMatchObject({ status: 'partial', flows: (clean['sources'] as { flows: number }[])[0]?.flows });
  }, 180_000);

  it('a replay with workers killed with SIGKILL resumes after its committed ranges to exactly one clean replay', async () => {
    const db = tmp.file('killed-2.db');
    await killMidway(db, ['--workers', '2', '--batch-size', '1000', file], 60_000);
    const conn = new Database(db, { readonly: true });
    const ranges = (conn.prepare('SELECT count(*) AS n FROM replay_ranges').get() as { n: number }).n;
    conn.close();
    const again = await runCli(['--db', db, 'replay', '--workers', '2', '-o', 'json', file]);
    expect(again.stderr).toContain('resumed source #1');
    expect(ranges).toBeGreaterThan(0);
    // Every count is exact. Bad-line samples of a range whose line numbers were not known yet when
    // the run was killed (they wait in memory for the ranges before it) may be missing; never doubled.
    const { badLines, ...rest } = snapshot(db);
    const { badLines: cleanBad, ...cleanRest } = clean;
    expect(rest).toEqual(cleanRest);
    expect((cleanBad as unknown[]).length).toBeGreaterThanOrEqual((badLines as unknown[]).length);
    for (const b of badLines as unknown[]) expect(cleanBad).toContainEqual(b);
    // And once more: nothing changes.
    await runCli(['--db', db, 'replay', '--workers', '2', file]);
    expect(snapshot(db)['sources']).toEqual(clean['sources']);
  }, 180_000);
});
