import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/index.js';
import { RowBatch } from '../../src/store/row-batch.js';
import { tempDir } from '../helpers/paths.js';

/** Multi-row writes (edge hours, cluster addresses) store exactly what row-by-row writes store. */
const tmp = tempDir();
afterAll(() => tmp.remove());

function counts(): { db: ReturnType<typeof openDatabase>; batch: RowBatch } {
  const db = openDatabase(tmp.file(`rows-${Math.random().toString(36).slice(2)}.db`), { migrations: [] });
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER NOT NULL, lo INTEGER NOT NULL)');
  const batch = new RowBatch(db, 'INSERT INTO t (k, n, lo) VALUES', 3, 'ON CONFLICT (k) DO UPDATE SET n = n + excluded.n, lo = min(lo, excluded.lo)');
  return { db, batch };
}

describe('RowBatch', () => {
  it('writes every row, full statements and the rest, and conflicting rows add up as one by one', () => {
    const { db, batch } = counts();
    // 3 full statements of 64 and 9 single rows; every key comes 3 times, in different statements or the same.
    for (let i = 0; i < 201; i++) batch.add(`k${i % 67}`, 1, i);
    expect(batch.pending).toBe(201 - 192);
    db.transaction(() => batch.flush())();
    expect(batch.pending).toBe(0);
    const rows = db.prepare('SELECT k, n, lo FROM t ORDER BY lo').all() as { k: string; n: number; lo: number }[];
    expect(rows).toHaveLength(67);
    expect(rows.every((r, i) => r.k === `k${i}` && r.n === 3 && r.lo === i)).toBe(true);
    db.close();
  });

  it('forgets discarded rows: a rolled-back batch does not enter the next transaction', () => {
    const { db, batch } = counts();
    batch.add('lost', 1, 0);
    expect(() =>
      db.transaction(() => {
        batch.flush();
        throw new Error('disk full');
      })(),
    ).toThrow('disk full');
    batch.add('pending', 1, 0);
    batch.discard();
    batch.add('kept', 1, 0);
    db.transaction(() => batch.flush())();
    expect(db.prepare('SELECT k FROM t').all()).toEqual([{ k: 'kept' }]);
    db.close();
  });

  // Statement journals went to temporary files: a 500,000-flow replay made 344,816 write calls
  // where 44,170 suffice. A temporary file SQLite opens is unlinked at once, so it shows among the
  // process's open files as "(deleted)" while the transaction runs.
  it.runIf(existsSync('/proc/self/fd'))('a batch of upserts into a graph table (generation triggers) writes no temporary file', () => {
    const db = openDatabase(tmp.file('journal.db'));
    const batch = new RowBatch(db, 'INSERT INTO cluster_ips (ip, peer_key, flows, first_seen_ms, last_seen_ms) VALUES', 5, 'ON CONFLICT (ip, peer_key) DO UPDATE SET flows = flows + excluded.flows');
    const deletedFiles = (): string[] =>
      readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.endsWith('(deleted)') ? [target] : [];
        } catch {
          return [];
        }
      });
    const before = deletedFiles();
    let during: string[] = [];
    db.transaction(() => {
      // Addresses out of key order, as a churning cluster brings them: each statement changes many pages.
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 20_000; i++) batch.add(`10.0.${(i * 7919) % 20_000}`, `pod:ns/w${i}`, 1, 1, 2);
        batch.flush();
      }
      during = deletedFiles();
    })();
    expect(db.prepare('SELECT sum(flows) FROM cluster_ips').pluck().get()).toBe(40_000);
    expect(during.filter((f) => !before.includes(f))).toEqual([]);
    db.close();
  });
});
