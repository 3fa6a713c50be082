import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { GRAPH_SNAPSHOT_FORMAT, type SnapshotPart } from '../graph/index.js';
import { GENERATION_TRIGGERS } from './migrations/006-graph-snapshot.js';
import { type Db, limitPageCache, READ_PAGE_CACHE_KIB } from './open.js';

/**
 * The stored snapshot of the resolved graph (migration 6): parts of graph/snapshot-codec.ts, each
 * valid only at the generation it was made at, which every write to a graph input table moves.
 *
 * Who writes it: `replay` as its last step (edge-store.ts `storeGraphSnapshot`), and a read
 * command that had to resolve the graph the normal way (no snapshot, or a stale one) with default
 * options: the edges' parts as soon as it has resolved them, the workloads' when it closes its
 * database (if it described them); each on a connection of its own. Never `observe`: it keeps writing, and building the graph would cost its memory. A
 * database that is read-only, locked, or older than migration 6 is left as it is.
 */

/** Parts of the workload descriptions `loadGraph` gives (JSON of `WorkloadInfo[]`). */
export type StoredPart = SnapshotPart | 'workloads';

const checksum = (data: Uint8Array): string => createHash('sha1').update(data).digest('hex');

/**
 * The current generation, or undefined when this database keeps no snapshot: older than
 * migration 6 (opened read-only, so never migrated), or a generation trigger is missing.
 */
export function graphGeneration(db: Db): number | undefined {
  const found = db
    .prepare(
      `SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (SELECT value FROM json_each(?))),
              (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('graph_generation', 'graph_snapshot'))`,
    )
    .raw()
    .get(JSON.stringify(GENERATION_TRIGGERS)) as [number, number];
  if (found[0] !== GENERATION_TRIGGERS.length || found[1] !== 2) return undefined;
  const row = db.prepare('SELECT generation FROM graph_generation WHERE id = 1').pluck().get() as number | undefined;
  return typeof row === 'number' ? row : undefined;
}

/**
 * The parts asked for, each checked against its checksum, all made at the current generation in
 * this build's format; undefined when any is missing, stale or damaged. One statement, so the
 * generation and the parts are read from the same state of the database.
 */
export function readSnapshotParts(db: Db, parts: readonly StoredPart[]): Map<StoredPart, Uint8Array> | undefined {
  if (graphGeneration(db) === undefined) return undefined;
  const rows = db
    .prepare(
      `SELECT s.part, s.format, s.checksum, s.data FROM graph_snapshot s JOIN graph_generation g ON g.id = 1 AND s.generation = g.generation
       WHERE s.part IN (SELECT value FROM json_each(?))`,
    )
    .raw()
    .all(JSON.stringify(parts)) as [string, number, string, unknown][];
  const out = new Map<StoredPart, Uint8Array>();
  for (const [part, format, sum, data] of rows) {
    if (format !== GRAPH_SNAPSHOT_FORMAT || !(data instanceof Uint8Array) || checksum(data) !== sum) return undefined;
    out.set(part as StoredPart, data);
  }
  return parts.every((p) => out.has(p)) ? out : undefined;
}

/** Parts to store once the reader is done, made only then (encoding costs time and memory). */
export interface PendingSnapshot {
  readonly generation: number;
  parts(): ReadonlyMap<StoredPart, Uint8Array>;
}

/** A read's parts to store, with the names of every part `parts()` may give. */
export interface RememberedSnapshot extends PendingSnapshot {
  readonly names: readonly StoredPart[];
}

const pending = new WeakMap<Db, RememberedSnapshot>();

/**
 * Keeps a read's parts to store when `db` (a read-only connection) closes, with the parts kept
 * before at the same generation (`report --policies` resolves the graph, then `drops` its
 * workloads: both are stored). Parts of another generation are dropped, and so are parts the new
 * read makes all of again (`check` reads the graph projected, then whole): each is encoded once.
 */
export function rememberSnapshot(db: Db, snapshot: RememberedSnapshot): void {
  const before = pending.get(db);
  if (before === undefined || before.generation !== snapshot.generation || before.names.every((n) => snapshot.names.includes(n))) {
    pending.set(db, snapshot);
    return;
  }
  pending.set(db, {
    generation: snapshot.generation,
    names: [...new Set([...before.names, ...snapshot.names])],
    parts: () => new Map([...before.parts(), ...snapshot.parts()]),
  });
}

/** Takes what `rememberSnapshot` kept for `db`. */
export function takePendingSnapshot(db: Db): PendingSnapshot | undefined {
  const p = pending.get(db);
  pending.delete(db);
  return p;
}

/** The files of the connections that store what they keep (open.ts: read-only ones), by connection. */
const storedBy = new WeakMap<Db, string>();

/** Marks `db`, a connection to `path`, as one whose kept parts are stored (`storePendingSnapshot`, and when it closes). */
export function storesSnapshotsTo(db: Db, path: string): void {
  storedBy.set(db, path);
}

/**
 * Stores what `db` keeps, on a connection that stores its parts: when it closes (open.ts), and
 * earlier where a read asks; returns whether anything was stored. A read that resolved the graph
 * stores its edges' parts at once: made at the close, their encoding (~50 MB of JSON and bytes
 * at 3,000 workloads) came on top of everything the command had made, and `check` peaked 25-50
 * MB higher for it.
 */
export function storePendingSnapshot(db: Db): boolean {
  const path = storedBy.get(db);
  if (path === undefined) return false;
  const p = takePendingSnapshot(db);
  return p !== undefined && storeSnapshot(path, p);
}

/** How long a snapshot write waits for another writer (`observe`'s batch) before giving up. */
const WRITE_WAIT_MS = 200;

/**
 * A file or folder nobody may write (chmod a-w, a read-only mount) is one a user keeps as it is,
 * even from root, who could write it anyway.
 */
function meantReadOnly(path: string): boolean {
  try {
    return (statSync(path).mode & 0o222) === 0 || (statSync(dirname(path)).mode & 0o222) === 0;
  } catch {
    return true;
  }
}

/**
 * Stores the parts on a connection of its own, if the database is still at their generation:
 * stale parts are deleted, other parts of the same generation kept. Best effort: anything in the
 * way (read-only file, lock, an older schema, a full disk) leaves the database as it was, and the
 * next read resolves the normal way. Returns whether the parts were stored.
 */
export function storeSnapshot(path: string, snapshot: PendingSnapshot): boolean {
  if (meantReadOnly(path)) return false;
  let db: Db | undefined;
  try {
    db = new Database(path, { fileMustExist: true, timeout: WRITE_WAIT_MS });
    const conn = db;
    // The parts' pages are written once: a cache of them is RSS at the read's peak (16 MB by default).
    limitPageCache(conn, READ_PAGE_CACHE_KIB);
    if (graphGeneration(conn) !== snapshot.generation) return false;
    const parts = snapshot.parts();
    if (parts.size === 0) return false;
    const drop = conn.prepare('DELETE FROM graph_snapshot WHERE generation <> ? OR format <> ?');
    const put = conn.prepare('INSERT OR REPLACE INTO graph_snapshot (part, format, generation, checksum, data) VALUES (?, ?, ?, ?, ?)');
    return conn.transaction((): boolean => {
      // Again under the write lock: a writer may have committed since the check above.
      if (graphGeneration(conn) !== snapshot.generation) return false;
      drop.run(snapshot.generation, GRAPH_SNAPSHOT_FORMAT);
      for (const [part, data] of parts) put.run(part, GRAPH_SNAPSHOT_FORMAT, snapshot.generation, checksum(data), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return true;
    }).immediate();
  } catch {
    return false;
  } finally {
    db?.close();
  }
}
