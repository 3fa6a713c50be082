import type { Db } from './open.js';

/**
 * Pages observe's WAL holds before SQLite copies them into the database file (its default is
 * 1,000). A batch of a 3,000-workload cluster updates ~5,000 edges spread over most of the edge
 * table's pages, so with the default every commit was followed by a checkpoint that wrote all its
 * pages a second time and synced the file; with 16,384 (64 MB) one checkpoint follows a few
 * commits and writes a page they all changed once.
 */
export const OBSERVE_WAL_CHECKPOINT_PAGES = 16_384;

/**
 * A checkpoint at least this often after a commit: with synchronous = NORMAL a commit still in the
 * WAL is lost on power loss, and a home lab's small commits would take many minutes to fill it.
 */
export const OBSERVE_CHECKPOINT_EVERY_MS = 10_000;

/**
 * Pages replay's WAL holds before a commit copies them into the database file. A batch of a
 * 3,000-workload cluster rewrites ~16,000 edge rows spread over the whole edge table and spills
 * pages to the WAL while it runs, so with SQLite's 1,000 every commit was followed by a checkpoint
 * that wrote those pages a second time and synced the file. With 16,384 (64 MB of WAL on disk, not
 * in memory) a checkpoint follows every few commits and writes a page they all changed once;
 * closing the database checkpoints the rest. 1M flows at 3,000 workloads, one thread: 0.93x the CPU
 * (2 pairs), the same peak RSS.
 */
export const REPLAY_WAL_CHECKPOINT_PAGES = 16_384;

/** Lets the WAL of `db`'s connection hold `pages` pages before a commit checkpoints it (SQLite's default: 1,000). */
export function checkpointWalAfter(db: Db, pages: number): void {
  db.pragma(`wal_autocheckpoint = ${pages}`);
}

/** When a long-running writer's commits are copied from the WAL into the database file. */
export class WalCheckpoints {
  readonly #checkpoint;
  readonly #everyMs: number;
  readonly #clock: () => number;
  #lastMs: number;

  constructor(db: Db, options: { readonly pages?: number; readonly everyMs?: number; readonly clock?: () => number } = {}) {
    checkpointWalAfter(db, options.pages ?? OBSERVE_WAL_CHECKPOINT_PAGES);
    this.#checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
    this.#everyMs = options.everyMs ?? OBSERVE_CHECKPOINT_EVERY_MS;
    this.#clock = options.clock ?? Date.now;
    this.#lastMs = this.#clock();
  }

  /** After a commit: checkpoints if the last one is `everyMs` old (readers in the way only make it partial). */
  afterCommit(): void {
    const now = this.#clock();
    if (now - this.#lastMs < this.#everyMs) return;
    this.#checkpoint.get();
    this.#lastMs = now;
  }
}
