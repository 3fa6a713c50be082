import Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

export type Db = Database.Database;

export interface OpenOptions {
  readonly readonly?: boolean;
  readonly migrations?: readonly Migration[];
}

/**
 * Opens (creating if needed) the SQLite file with WAL and synchronous=NORMAL: a crash or SIGKILL
 * loses at most the open transaction, never a committed batch, and readers never block the writer.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  let db: Db;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (e) {
    throw new StoreError(`${path}: cannot open database: ${(e as Error).message}`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, options.migrations ?? MIGRATIONS);
    } else {
      checkVersion(db, path, options.migrations ?? MIGRATIONS);
    }
  } catch (e) {
    db.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError(`${path}: not a hubble-advisor database: ${(e as Error).message}`);
  }
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function latest(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

function checkVersion(db: Db, path: string, migrations: readonly Migration[]): void {
  const version = schemaVersion(db);
  if (version > latest(migrations)) {
    throw new StoreError(`${path}: schema version ${version} is newer than this hubble-advisor (${latest(migrations)}); upgrade it`);
  }
}

/** Applies each pending migration in its own transaction, bumping user_version with it. */
export function migrate(db: Db, migrations: readonly Migration[]): void {
  const current = schemaVersion(db);
  if (current > latest(migrations)) {
    throw new StoreError(`database schema version ${current} is newer than this hubble-advisor (${latest(migrations)}); upgrade it`);
  }
  const pending = [...migrations].filter((m) => m.version > current).sort((a, b) => a.version - b.version);
  for (const m of pending) {
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
