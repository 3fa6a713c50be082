import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.js';
import { REPO_ROOT, SAMPLES_DIR, tempDir } from '../helpers/paths.js';

const SAMPLE = join(SAMPLES_DIR, 'hubble-otel__basic-sample-10-flows.json');

/** Byte 18 of an SQLite header: 1 = rollback journal, 2 = WAL. */
function journalByte(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(20);
    readSync(fd, b, 0, 20, 0);
    return b[18] as number;
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs the CLI as a user that cannot write what root (the test runner here) could: as nobody when
 * we are root, as ourselves otherwise (then file modes alone make things read-only).
 */
function runAsOtherUser(argv: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  const cmd = [...asNobody, process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...argv];
  const r = spawnSync(cmd[0] as string, cmd.slice(1), { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, HOME: '/tmp' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('opening the database', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('processes creating the same new database at the same instant all succeed (migrations under the write lock)', async () => {
    const db = tmp.file('concurrent.db');
    const script = tmp.file('open-at.mts');
    writeFileSync(
      script,
      `import { openDatabase } from ${JSON.stringify(join(REPO_ROOT, 'src/store/open.ts'))};
const at = Number(process.argv[2]);
while (Date.now() < at) {} // all start opening at the same moment
openDatabase(process.argv[3]).close();
`,
    );
    const at = Date.now() + 6000;
    const runs = [0, 1, 2, 3, 4, 5].map(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, String(at), db], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      return new Promise<{ code: number | null; stderr: string }>((r) => child.once('exit', (code) => r({ code, stderr })));
    });
    for (const r of await Promise.all(runs)) expect(r.code, r.stderr).toBe(0);
    // ... and the database then takes replays from several processes at once.
    const lines = readFileSync(SAMPLE, 'utf8').trim().split('\n');
    const replays = [0, 1, 2, 3].map((i) => {
      const file = tmp.file(`part-${i}.jsonl`);
      writeFileSync(file, `${lines.slice(i * 2, i * 2 + 2).join('\n')}\n`);
      const child = spawnCli(['--db', db, 'replay', file]);
      child.stdout.resume();
      child.stderr.resume();
      return new Promise<number | null>((r) => child.once('exit', r));
    });
    expect(await Promise.all(replays)).toEqual([0, 0, 0, 0]);
    const status = JSON.parse((await runCli(['--db', db, 'status', '-o', 'json'])).stdout) as { flows: number; sources: unknown[] };
    expect(status.sources).toHaveLength(4);
    // status -o json carries the total of flows.
    expect(status.flows).toBe(8);
  }, 120_000);

  it('a writer that opens while another process holds the lock for longer than a few seconds waits for it', async () => {
    const db = tmp.file('held.db');
    expect((await runCli(['--db', db, 'replay', SAMPLE])).code).toBe(0);
    expect(journalByte(db)).toBe(1); // the last writer left a rollback journal: locks are file locks
    // Another process takes the exclusive lock for 7 s (a long migration or a slow commit on a loaded machine).
    const holder = spawn(
      process.execPath,
      ['-e', `const D = require('better-sqlite3'); const d = new D(${JSON.stringify(db)}); d.exec('BEGIN EXCLUSIVE'); console.log('held'); setTimeout(() => { d.exec('COMMIT'); d.close(); }, 7000);`],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const holderDone = new Promise((r) => holder.once('exit', r));
    await new Promise<void>((r) => holder.stdout.once('data', () => r()));
    const started = Date.now();
    const r = await runCli(['--db', db, 'replay', SAMPLE, '--force']);
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThan(5000);
    await holderDone;
  }, 60_000);

  it('an empty file or another program\'s SQLite file is a clear error everywhere, and is never switched to WAL', async () => {
    const foreign = tmp.file('foreign.db');
    const other = new Database(foreign);
    other.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES (\'ada\')');
    other.close();
    const before = readFileSync(foreign);
    const empty = tmp.file('empty.db');
    writeFileSync(empty, '');
    const text = tmp.file('text.db');
    writeFileSync(text, 'just some text, not SQLite at all\n'.repeat(10));
    for (const db of [foreign, text, empty]) {
      for (const argv of [['status'], ['status', '-o', 'json'], ['edges', '-A'], ['recommend', '-A'], ['replay', SAMPLE]]) {
        if (db === empty && argv[0] === 'replay') continue; // an empty file holds nothing: replay makes it a new database
        const r = await runCli(['--db', db, ...argv]);
        expect(r.code, `${db} ${argv.join(' ')}: ${r.stderr}`).toBe(1);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(/not a hubble-advisor database|empty database/);
        expect(r.stdout).toBe('');
      }
    }
    expect(readFileSync(foreign)).toEqual(before);
    expect(journalByte(foreign)).toBe(1);
    expect(existsSync(`${foreign}-wal`)).toBe(false);
  }, 120_000);

  it('a read-only database is a one-line error (exit 1, no stack trace) for writers, and status reads it in a read-only directory', async () => {
    const dir = tmp.file('ro');
    mkdirSync(dir);
    chmodSync(dirname(dir), 0o755); // the other user must reach it
    const db = join(dir, 'baseline.db');
    expect((await runCli(['--db', db, 'replay', SAMPLE])).code).toBe(0);
    chmodSync(db, 0o444);
    chmodSync(dir, 0o555);
    try {
      const replay = runAsOtherUser(['--db', db, 'replay', '--force', SAMPLE]);
      expect(replay.code, replay.stderr).toBe(1);
      expect(replay.stderr.trim().split('\n')).toHaveLength(1);
      expect(replay.stderr).toMatch(/^Error: .*read-only/);
      const status = runAsOtherUser(['--db', db, 'status', '-o', 'json']);
      expect(status.code, status.stderr).toBe(0);
      expect((JSON.parse(status.stdout) as { flows: number }).flows).toBe(10);
    } finally {
      chmodSync(dir, 0o755);
      chmodSync(db, 0o644);
    }
  }, 120_000);

  it('observe that cannot reach a relay leaves no database behind (and keeps one that existed)', async () => {
    const db = tmp.file('never.db');
    const r = await runCli(['--db', db, 'observe', '--server', '127.0.0.1:1', '--timeout', '300ms']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('cannot reach Hubble');
    for (const suffix of ['', '-wal', '-shm']) expect(existsSync(db + suffix)).toBe(false);
    const kept = tmp.file('kept.db');
    expect((await runCli(['--db', kept, 'replay', SAMPLE])).code).toBe(0);
    expect((await runCli(['--db', kept, 'observe', '--server', '127.0.0.1:1', '--timeout', '300ms'])).code).toBe(1);
    expect((JSON.parse((await runCli(['--db', kept, 'status', '-o', 'json'])).stdout) as { flows: number }).flows).toBe(10);
  }, 60_000);
});
