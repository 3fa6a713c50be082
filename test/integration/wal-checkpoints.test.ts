import { statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type Db, OBSERVE_CHECKPOINT_EVERY_MS, WalCheckpoints, openDatabase } from '../../src/store/index.js';
import { tempDir } from '../helpers/paths.js';

/** observe's commits stay in the WAL for a few commits, and reach the database file on time. */
const tmp = tempDir();
afterAll(() => tmp.remove());

const PAGE = 4096;
/** One commit that changes ~1,500 pages: more than SQLite's default checkpoint (1,000 pages). */
function bigCommit(db: Db, n: number): void {
  const insert = db.prepare('INSERT INTO t (n, b) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 1500; i++) insert.run(n * 1500 + i, Buffer.alloc(PAGE - 200, n));
  })();
}

function opened(name: string): { db: Db; file: string } {
  const file = tmp.file(name);
  const db = openDatabase(file, { migrations: [] });
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY, b BLOB NOT NULL)');
  return { db, file };
}

describe('observe WAL checkpoints', () => {
  it('several commits of thousands of pages stay in the WAL (no checkpoint after each), and the timed checkpoint writes them to the database', () => {
    let now = 0;
    const { db, file } = opened('observe.db');
    const checkpoints = new WalCheckpoints(db, { clock: () => now });
    for (let n = 0; n < 3; n++) {
      bigCommit(db, n);
      now += 1000;
      checkpoints.afterCommit();
    }
    // Not checkpointed: the database file has not grown, the WAL holds all three commits.
    expect(statSync(file).size).toBeLessThan(100 * PAGE);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(4500 * PAGE);
    now += OBSERVE_CHECKPOINT_EVERY_MS;
    checkpoints.afterCommit();
    expect(statSync(file).size).toBeGreaterThan(4500 * PAGE);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 4500 });
    db.close();
  });

  it("SQLite's default checkpoints after each such commit (what the setting avoids)", () => {
    const { db, file } = opened('default.db');
    bigCommit(db, 0);
    expect(statSync(file).size).toBeGreaterThan(1500 * PAGE);
    db.close();
  });
});
