import Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { generateCluster } from '../helpers/cluster.js';
import { tempDir } from '../helpers/paths.js';

/**
 * `replay` holds a WAL larger than SQLite's 1,000 pages (store/wal-checkpoints.ts
 * REPLAY_WAL_CHECKPOINT_PAGES): its commits stay in the WAL instead of each being copied into the
 * database file, page by page a second time, as soon as the WAL passes 4 MB. Seen from outside
 * while a replay from stdin runs: after commits that wrote well over 1,000 pages to the WAL, the
 * database file still holds almost none of its pages.
 */
const tmp = tempDir();
afterAll(() => tmp.remove());
const recording = tmp.file('cluster.jsonl');
const FLOWS = 12_000;

beforeAll(() => {
  generateCluster(recording, { workloads: 1_000, flows: FLOWS, seed: 'replay-wal' });
}, 60_000);

/** Flows the replay has committed so far (0 before its first commit). */
function committedFlows(file: string): number {
  if (!existsSync(file)) return 0;
  const db = new Database(file, { readonly: true });
  try {
    const has = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'sources'").pluck().get() as number;
    return has === 0 ? 0 : ((db.prepare('SELECT coalesce(sum(flows), 0) FROM sources').pluck().get() as number) ?? 0);
  } catch {
    return 0; // the first commit (the schema) is under way
  } finally {
    db.close();
  }
}

describe('replay and its WAL', () => {
  it('keeps its commits in the WAL past 1,000 pages instead of copying each into the database file', async () => {
    const file = tmp.file('wal.db');
    const stdin = new PassThrough();
    let stderr = '';
    const running = run(['--db', file, 'replay', '--batch-size', '1000', '-o', 'json', '-'], {
      stdout: { write: () => undefined },
      stderr: { write: (s: string) => (stderr += s) },
      stdin,
      env: {},
      stderrIsTTY: false,
    });
    const lines = readFileSync(recording, 'utf8').split('\n').filter((l) => l.length > 0);
    // A commit at a time (each rewrites pages the one before changed), all but the last lines: the
    // replay stays open, so nothing is checkpointed at close yet.
    for (let at = 0; at < 11_000; at += 1_000) {
      stdin.write(`${lines.slice(at, at + 1_000).join('\n')}\n`);
      for (let waited = 0; committedFlows(file) < at + 900; waited += 20) {
        if (waited > 60_000) throw new Error(`replay committed ${committedFlows(file)} flows in 60 s: ${stderr}`);
        await sleep(20);
      }
    }
    const reader = new Database(file, { readonly: true });
    const pages = reader.pragma('page_count', { simple: true }) as number;
    const pageSize = reader.pragma('page_size', { simple: true }) as number;
    reader.close();
    const walBytes = statSync(`${file}-wal`).size;
    const dbBytes = statSync(file).size;
    // The control: the commits wrote more than SQLite's default WAL bound...
    expect(walBytes).toBeGreaterThan(1_000 * pageSize);
    // ...and with that default most of the database's pages would be in its file by now.
    expect(dbBytes).toBeLessThan(0.25 * pages * pageSize);

    stdin.end(`${lines.slice(11_000).join('\n')}\n`);
    expect(await running, stderr).toBe(0);
    // Closing checkpointed everything: the file holds the whole database, and every flow.
    expect(statSync(file).size).toBeGreaterThanOrEqual(pages * pageSize);
    expect(committedFlows(file)).toBe(FLOWS);
  }, 120_000);
});
