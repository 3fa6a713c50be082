import type { Statement } from 'better-sqlite3';
import type { Db } from './open.js';

/** Rows per multi-row statement: one call into SQLite instead of 64 (each call binds and steps). */
const ROWS_PER_STATEMENT = 64;

/**
 * Collects rows for one INSERT (an UPSERT too) and writes them with multi-row VALUES, which halves
 * the cost of many small rows (edge hours, cluster addresses: ~5-10 µs a row one by one).
 * `flush` must run inside the same transaction as the rows' neighbours; rows are written in the
 * order they were added, so a statement whose rows conflict with each other behaves as one by one.
 */
export class RowBatch {
  readonly #width: number;
  readonly #many: Statement;
  readonly #one: Statement;
  #values: unknown[] = [];

  /** `head` is `INSERT ... (cols) VALUES`, `tail` what follows the rows (an ON CONFLICT clause). */
  constructor(db: Db, head: string, width: number, tail = '') {
    this.#width = width;
    const row = `(${Array.from({ length: width }, () => '?').join(', ')})`;
    this.#many = db.prepare(`${head} ${Array.from({ length: ROWS_PER_STATEMENT }, () => row).join(', ')} ${tail}`);
    this.#one = db.prepare(`${head} ${row} ${tail}`);
  }

  add(...row: unknown[]): void {
    for (const v of row) this.#values.push(v);
    if (this.#values.length === ROWS_PER_STATEMENT * this.#width) this.flush();
  }

  /** Rows added and not written yet. */
  get pending(): number {
    return this.#values.length / this.#width;
  }

  /** Forgets the rows not written (their transaction failed). */
  discard(): void {
    this.#values = [];
  }

  flush(): void {
    const values = this.#values;
    if (values.length === 0) return;
    this.#values = [];
    const chunk = ROWS_PER_STATEMENT * this.#width;
    let i = 0;
    for (; i + chunk <= values.length; i += chunk) this.#many.run(values.slice(i, i + chunk));
    for (; i < values.length; i += this.#width) this.#one.run(values.slice(i, i + this.#width));
  }
}
