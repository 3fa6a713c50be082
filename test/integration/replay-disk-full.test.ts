import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

/** Mounts a tmpfs of `size` on `dir`; the reason it cannot, if it cannot (not root, no CAP_SYS_ADMIN). */
function mountTmpfs(dir: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `cannot mount a tmpfs here (${(e as { stderr?: Buffer }).stderr?.toString().trim() || String(e)})`;
  }
}

/** Everything a replay stores, but run bookkeeping and row ids (threads commit in other orders). */
function snapshot(db: string): Record<string, unknown> {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const all = (sql: string): unknown[] => conn.prepare(sql).all();
    return {
      sources: all('SELECT sum(lines) AS lines, sum(events) AS events, sum(flows) AS flows, sum(bad_lines) AS bad, min(first_flow_ms) AS first, max(last_flow_ms) AS last FROM sources'),
      verdicts: all('SELECT verdict, sum(flows) AS n FROM verdict_counts GROUP BY verdict ORDER BY verdict'),
      triage: all('SELECT time, uuid, verdict, drop_reason, flow_json FROM triage_flows ORDER BY time, flow_json'),
      edges: all('SELECT * FROM edges ORDER BY src_key, dst_key, protocol, port').map((r) => ({ ...(r as object), id: undefined })),
      edgeHours: all('SELECT e.src_key, e.dst_key, e.port, h.hour FROM edge_hours h JOIN edges e ON e.id = h.edge_id ORDER BY 1, 2, 3, 4'),
      workloads: all('SELECT * FROM workloads ORDER BY key'),
      labels: all('SELECT * FROM workload_label_sets ORDER BY 1, 2'),
    };
  } finally {
    conn.close();
  }
}

function read<T>(db: string, sql: string): T {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return conn.prepare(sql).get() as T;
  } finally {
    conn.close();
  }
}

/**
 * The lines a replay committed: those starting in a committed byte range (workers), or the first
 * `lines` (one thread, which records no ranges).
 */
function committedLines(file: string, db: string, lines: number): string[] {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  const ranges = conn.prepare('SELECT start, end FROM replay_ranges').all() as { start: number; end: number }[];
  conn.close();
  const text = readFileSync(file);
  const out: string[] = [];
  for (let at = 0; at < text.length; ) {
    const nl = text.indexOf(0x0a, at);
    const inRange = ranges.length === 0 ? out.length < lines : ranges.some((r) => at >= r.start && at < r.end);
    if (inRange) out.push(text.toString('utf8', at, nl));
    at = nl + 1;
  }
  return out;
}

describe('replay on a full disk', () => {
  const tmp = tempDir();
  const file = tmp.file('drops.jsonl');
  let clean: Record<string, unknown>;
  const mounts: string[] = [];
  let cannotMount: string | undefined;

  beforeAll(async () => {
    // Public TCP and HTTP flows, every one turned into a policy drop: each is stored whole (~1.5 KB).
    const lines = ['hubble-otel__basic-sample-400-tcp-flows.json', 'hubble-otel__basic-sample-348-http-flows.json']
      .flatMap((f) => readFileSync(join(SAMPLES_DIR, f), 'utf8').trim().split('\n'))
      .map((l) => l.replace('"verdict":"FORWARDED"', '"verdict":"DROPPED","drop_reason_desc":"POLICY_DENIED"'));
    const out: string[] = [];
    for (let i = 0; i < 16_000; i++) out.push(lines[i % lines.length] as string);
    writeFileSync(file, `${out.join('\n')}\n`);
    const r = await runCli(['--db', tmp.file('clean.db'), 'replay', '--workers', '1', file]);
    expect(r.code, r.stderr).toBe(0);
    clean = snapshot(tmp.file('clean.db'));
    const probe = tmp.file('probe');
    mkdirSync(probe);
    cannotMount = mountTmpfs(probe, '1m');
    if (cannotMount === undefined) mounts.push(probe);
  }, 120_000);

  afterAll(() => {
    for (const m of mounts) execFileSync('umount', [m]);
    tmp.remove();
  });

  for (const workers of [1, 2]) {
    it(`${workers === 1 ? 'one thread' : 'two workers'}: exit 1, one line, the summary counts what was committed; a later run resumes to the clean counts`, async (ctx) => {
      if (cannotMount !== undefined) ctx.skip(cannotMount);
      const dir = tmp.file(`full-${workers}`);
      mkdirSync(dir);
      expect(mountTmpfs(dir, '3m')).toBeUndefined();
      mounts.push(dir);
      const db = join(dir, 'advisor.db');
      // Small batches: several commit before the disk is full.
      const r = await runCli(['--db', db, 'replay', '--workers', String(workers), '--batch-size', '500', '-o', 'json', file]);
      expect(r.code).toBe(1);
      const errors = r.stderr.split('\n').filter(Boolean);
      expect(errors).toEqual([`Error: ${file}: cannot store: database or disk is full`]);
      const summary = JSON.parse(r.stdout)[0];
      expect(summary.status).toBe('failed');
      const stored = read<{ lines: number; flows: number; triage: number }>(db, 'SELECT lines, flows, (SELECT count(*) FROM triage_flows) AS triage FROM sources');
      // Some batches were committed, not all; the summary says exactly what.
      expect(stored.flows).toBeGreaterThan(0);
      expect(stored.flows).toBeLessThan(16_000);
      expect(summary).toMatchObject({ lines: stored.lines, flows: stored.flows, triageFlows: stored.triage });
      expect(read<{ integrity_check: string }>(db, 'PRAGMA integrity_check').integrity_check).toBe('ok');
      // What is stored is exactly a clean replay of the lines committed: flows, edges and all.
      const committed = committedLines(file, db, stored.lines);
      expect(committed.length).toBe(stored.lines);
      const part = tmp.file(`committed-${workers}.jsonl`);
      writeFileSync(part, committed.map((l) => `${l}\n`).join(''));
      const partDb = tmp.file(`committed-${workers}.db`);
      expect((await runCli(['--db', partDb, 'replay', '--workers', '1', part])).code).toBe(0);
      expect(snapshot(db)).toEqual(snapshot(partDb));

      // Space again: the next run goes on after what was committed and ends with one clean replay's counts.
      execFileSync('mount', ['-o', 'remount,size=256m', dir]);
      const again = await runCli(['--db', db, 'replay', '--workers', String(workers), '-o', 'json', file]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/resumed source #1 \((failed|interrupted)\)/);
      expect(snapshot(db)).toEqual(snapshot(tmp.file('clean.db')));
      expect(snapshot(db)).toEqual(clean);
    }, 120_000);
  }
});
