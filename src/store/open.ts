import Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { storePendingSnapshot, storesSnapshotsTo } from './graph-snapshot.js';

export type Db = Database.Database;

export interface OpenOptions {
  readonly readonly?: boolean;
  readonly migrations?: readonly Migration[];
}

/**
 * Opens (creating if needed) the SQLite file with WAL and synchronous=NORMAL: a crash or SIGKILL
 * loses at most the open transaction, never a committed batch, and readers never block the writer.
 *
 * An existing file is recognised as ours (or as a new, empty database) before anything is changed
 * in it: another program's SQLite file, or a file that is not SQLite at all, is a clear error and is
 * never switched to WAL. Migrations run under an exclusive lock, so processes that open a new
 * database at the same time wait for each other instead of creating the same tables twice.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  const readonly = options.readonly ?? false;
  const migrations = options.migrations ?? MIGRATIONS;
  let db: Db;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly });
  } catch (e) {
    throw new StoreError(`${path}: cannot open database: ${describe(e)}`);
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const found = whileBusy(() => recognise(db, path, migrations));
    if (readonly) {
      if (found === 'empty') throw new StoreError(`${path}: empty database, not a hubble-advisor database (run replay or observe first)`);
      limitPageCache(db, READ_PAGE_CACHE_KIB);
      storeSnapshotOnClose(db, path);
    } else {
      whileBusy(() => db.pragma('journal_mode = WAL'));
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // A statement that fires triggers (the graph generation's, on every graph table) or writes
      // many rows keeps a statement journal; SQLite's default puts it in a temporary file once it
      // passes 64 KiB, and a 500,000-flow replay then made 264,000 extra write calls (344,816
      // against 44,170). It holds the pages one statement changed: small, so memory.
      db.pragma('temp_store = MEMORY');
      whileBusy(() => migrate(db, migrations));
      leaveRollbackJournalOnClose(db);
    }
  } catch (e) {
    db.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError(`${path}: ${describe(e)}`);
  }
  return db;
}

/**
 * SQLite's page cache for a long-running writer (`observe`), in KiB. better-sqlite3 builds SQLite
 * with 16 MB per connection, which observe's upserts of a large, churning graph fill and keep for
 * good (it is malloc'd: RSS). Its pages are re-read from the OS's file cache when evicted.
 */
export const OBSERVE_PAGE_CACHE_KIB = 8192;

/**
 * replay's page cache, in KiB: better-sqlite3's 16 MB per connection is RSS, and replay gains
 * nothing from it since it writes the edges it holds in row-id order (store/edge-writer.ts): at
 * 3,000 workloads (2M flows, a 120 MB database) 64 MB took the same CPU as 16 MB, and 4 MB
 * ~12 MB less of the peak.
 */
export const REPLAY_PAGE_CACHE_KIB = 4096;

/**
 * The page cache of a read command's connection, in KiB (SQLite's own default). A read scans each
 * table once, or reads the graph snapshot's parts (20 MB at 3,000 workloads), whose pages it never
 * reads again: the 16 MB better-sqlite3 gives a connection filled up with them, all of it RSS
 * (report -o html at 3,000 workloads: 12-15 MB of its peak).
 */
export const READ_PAGE_CACHE_KIB = 2000;

/** Caps the connection's page cache at `kib` KiB. */
export function limitPageCache(db: Db, kib: number): void {
  db.pragma(`cache_size = -${Math.max(1, Math.floor(kib))}`);
}

/**
 * How long a process waits for another one's lock: a migration of a large database, or a batch
 * committed on a loaded machine, can hold the write lock for seconds.
 */
const BUSY_TIMEOUT_MS = 30_000;

/**
 * SQLite does not always call the busy handler (where waiting could deadlock, or while another
 * process switches the journal mode or recovers the WAL index): it answers SQLITE_BUSY at once.
 * Every step of opening is safe to repeat, so it is retried until the same deadline.
 */
function whileBusy<T>(step: () => T): T {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let pause = 5; ; pause = Math.min(pause * 2, 250)) {
    try {
      return step();
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY') || Date.now() + pause > deadline) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
    }
  }
}

/** 'ours' (a schema we know), 'empty' (no tables yet: new); anything else throws. Reads only. */
function recognise(db: Db, path: string, migrations: readonly Migration[]): 'ours' | 'empty' {
  let version: number;
  let tables: string[];
  try {
    // One read transaction, so both come from the same snapshot: read apart, another process's
    // migration could commit in between (version 0, yet tables), which looked like a foreign file.
    [version, tables] = db.transaction((): [number, string[]] => [
      schemaVersion(db),
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").pluck().all() as string[],
    ])();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') throw new StoreError(`${path}: not a hubble-advisor database (not an SQLite file)`);
    throw e;
  }
  if (version > latest(migrations)) {
    throw new StoreError(`${path}: schema version ${version} is newer than this hubble-advisor (${latest(migrations)}); upgrade it`);
  }
  if (tables.length === 0 && version === 0) {
    return 'empty';
  }
  if (version === 0 || !tables.includes('sources')) {
    const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', ...' : '');
    throw new StoreError(`${path}: not a hubble-advisor database (it holds another program's tables: ${shown}); pass --db with another file`);
  }
  return 'ours';
}

/**
 * A read that resolved the graph the normal way leaves its parts to store (graph-snapshot.ts):
 * what is not stored by then (the workloads' part) is stored once the reader is done with the
 * database, its output written.
 */
function storeSnapshotOnClose(db: Db, path: string): void {
  storesSnapshotsTo(db, path);
  const close = db.close.bind(db);
  db.close = () => {
    const closed = close();
    storePendingSnapshot(db);
    return closed;
  };
}

/**
 * A WAL database can only be read where its `-shm` file can be created, so `status` in a read-only
 * directory (an archived baseline, a read-only mount) would fail. When the writer closes and no one
 * else has the database open, it goes back to a rollback journal (WAL again at the next open).
 */
function leaveRollbackJournalOnClose(db: Db): void {
  const close = db.close.bind(db);
  db.close = () => {
    if (db.open) {
      try {
        db.pragma('busy_timeout = 0');
        db.pragma('journal_mode = DELETE');
      } catch {
        // Another connection is open: it stays WAL, which is as good for it.
      }
    }
    return close();
  };
}

function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = (err.message ?? String(e)).replace(/\s+/g, ' ');
  switch (err.code) {
    case 'SQLITE_READONLY':
    case 'SQLITE_READONLY_DIRECTORY':
    case 'SQLITE_READONLY_RECOVERY':
    case 'SQLITE_READONLY_CANTINIT':
      return `the database or its directory is read-only (${msg})`;
    case 'SQLITE_CANTOPEN':
      return `cannot open the database file or create its journal next to it (${msg})`;
    default:
      return msg;
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function latest(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/**
 * Applies the pending migrations in one IMMEDIATE transaction (taking the write lock first, then
 * reading the version again), bumping user_version with them: a second process opening the same
 * new database waits (busy_timeout) and then finds nothing left to do.
 */
export function migrate(db: Db, migrations: readonly Migration[]): void {
  const pendingFrom = (current: number): Migration[] =>
    [...migrations].filter((m) => m.version > current).sort((a, b) => a.version - b.version);
  if (schemaVersion(db) > latest(migrations)) {
    throw new StoreError(`database schema version ${schemaVersion(db)} is newer than this hubble-advisor (${latest(migrations)}); upgrade it`);
  }
  if (pendingFrom(schemaVersion(db)).length === 0) return;
  db.transaction(() => {
    for (const m of pendingFrom(schemaVersion(db))) {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
}
