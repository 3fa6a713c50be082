import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

const BATCH = 1000;

async function writeRecording(path: string, lines: number): Promise<void> {
  const sample = readFileSync(join(SAMPLES_DIR, 'hubble-otel__basic-sample-400-tcp-flows.json'), 'utf8').trim().split('\n');
  const out = createWriteStream(path);
  for (let i = 0; i < lines; i++) {
    if (!out.write(`${sample[i % sample.length]}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
}

function committedFlows(db: string): number {
  try {
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (conn.prepare('SELECT coalesce(sum(flows), 0) AS n FROM sources').get() as { n: number }).n;
    } finally {
      conn.close();
    }
  } catch {
    return 0;
  }
}

describe('replay killed with SIGKILL', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('leaves a database that opens and holds every committed batch, whole', async () => {
    const file = tmp.file('big.jsonl');
    const db = tmp.file('killed.db');
    await writeRecording(file, 150_000);
    const child = spawnCli(['--db', db, 'replay', '--batch-size', String(BATCH), file]);
    const exited = new Promise((r) => child.once('exit', r));
    const deadline = Date.now() + 60_000;
    while (committedFlows(db) < 5 * BATCH && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited;

    const conn = new Database(db);
    expect(conn.pragma('integrity_check', { simple: true })).toBe('ok');
    const src = conn.prepare('SELECT flows, lines, status FROM sources').get() as { flows: number; lines: number; status: string };
    const verdicts = (conn.prepare('SELECT sum(flows) AS n FROM verdict_counts').get() as { n: number }).n;
    conn.close();
    expect(src.status).toBe('running');
    expect(src.flows).toBeGreaterThanOrEqual(5 * BATCH);
    expect(src.flows).toBeLessThan(150_000);
    // Batches commit whole: counters and verdict counts agree, and no batch is half-written.
    expect(verdicts).toBe(src.flows);

    // The same database takes a new replay afterwards.
    const again = await runCli(['--db', db, 'replay', '-o', 'json', join(SAMPLES_DIR, 'hubble-otel__basic-sample-10-flows.json')]);
    expect(again.code).toBe(0);
    const status = JSON.parse((await runCli(['--db', db, 'status', '-o', 'json'])).stdout);
    expect(status.sources).toHaveLength(2);
    // The killed source's process is gone: it shows as interrupted.
    expect(status.sources[0].status).toBe('interrupted');
  });
});
