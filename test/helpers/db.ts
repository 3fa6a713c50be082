import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Runs one query on a database file through its own read-only connection (another process may be writing it). */
export function readDb<T>(db: string, sql: string): T[] {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return conn.prepare(sql).all() as T[];
  } finally {
    conn.close();
  }
}

/** Flows committed so far by every source; 0 while the file or its schema does not exist yet. */
export function committedFlows(db: string): number {
  if (!existsSync(db)) return 0;
  try {
    return readDb<{ n: number }>(db, 'SELECT coalesce(sum(flows), 0) AS n FROM sources')[0]?.n ?? 0;
  } catch {
    return 0;
  }
}
