import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

const good = readFileSync(join(SAMPLES_DIR, 'hubble-otel__basic-sample-10-flows.json'), 'utf8').trim().split('\n');

function goodLine(i: number): string {
  return good[i % good.length] as string;
}

describe('replay of corrupted input', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  // Lines: 1 good, 2 truncated JSON, 3 good, 4 wrong type, 5 binary garbage, 6 good, 7 a 10 MB line, 8 good, 9 empty, 10 good (no newline)
  const lines = [
    goodLine(0),
    goodLine(1).slice(0, 120),
    goodLine(2),
    goodLine(3).replace('"verdict":"FORWARDED"', '"verdict":{"oops":1}'),
    Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x22, 0x80, 0x81]).toString('latin1'),
    goodLine(4),
    `{"flow":{"time":"2021-06-16T16:52:13Z","Summary":"${'x'.repeat(10 * 1024 * 1024)}`,
    goodLine(5),
    '',
    goodLine(6),
  ];
  const file = tmp.file('corrupt.jsonl');
  writeFileSync(file, Buffer.concat(lines.map((l, i) => Buffer.from(i === lines.length - 1 ? l : `${l}\n`, 'latin1'))));

  it('reports each bad line as FILE:LINE: field: reason, stores every good line and exits 3 (partial)', async () => {
    const db = tmp.file('a.db');
    const r = await runCli(['--db', db, 'replay', '-o', 'json', file]);
    expect(r.code).toBe(3);
    const errors = r.stderr.trim().split('\n');
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatch(new RegExp(`^${file}:2: \\(json\\): invalid JSON`));
    expect(errors[1]).toBe(`${file}:4: flow.verdict: expected an enum name or number, got object`);
    expect(errors[2]).toMatch(new RegExp(`^${file}:5: \\(json\\): invalid JSON`));
    expect(errors[3]).toMatch(new RegExp(`^${file}:7: \\(json\\): invalid JSON`));
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ status: 'partial', lines: 10, flows: 5, badLines: 4 });

    const conn = new Database(db, { readonly: true });
    expect(conn.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(conn.prepare('SELECT flows, bad_lines AS bad, status FROM sources').get()).toEqual({ flows: 5, bad: 4, status: 'partial' });
    expect(conn.prepare('SELECT line FROM bad_lines ORDER BY line').pluck().all()).toEqual([2, 4, 5, 7]);
    conn.close();
  });

  it('--strict stops at the first bad line with exit 1, keeping the lines before it', async () => {
    const db = tmp.file('strict.db');
    const r = await runCli(['--db', db, 'replay', '--strict', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^Error: ${file}:2: \\(json\\): invalid JSON`));
    expect(r.stdout).toBe('');
    const conn = new Database(db, { readonly: true });
    expect(conn.prepare('SELECT flows, status FROM sources').get()).toEqual({ flows: 1, status: 'failed' });
    conn.close();
  });

  it('an empty file is not an error and stores nothing', async () => {
    const empty = tmp.file('empty.jsonl');
    writeFileSync(empty, '');
    const r = await runCli(['--db', tmp.file('e.db'), 'replay', '-o', 'json', empty]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ status: 'completed', lines: 0, flows: 0 });
  });

  it('a missing file is a one-line error before anything is written, and the database keeps what it had', async () => {
    const db = tmp.file('keep.db');
    expect((await runCli(['--db', db, 'replay', join(SAMPLES_DIR, 'hubble-otel__basic-sample-10-flows.json')])).code).toBe(0);
    const r = await runCli(['--db', db, 'replay', tmp.file('nope.jsonl')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error: ${tmp.file('nope.jsonl')}: no such file\n`);
    const status = JSON.parse((await runCli(['--db', db, 'status', '-o', 'json'])).stdout);
    expect(status.sources).toHaveLength(1);
    expect(status.sources[0].flows).toBe(10);
  });

  it('a truncated gzip file keeps the flows read before the damage and exits 1', async () => {
    const { gzipSync } = await import('node:zlib');
    const body = Buffer.from(Array.from({ length: 2000 }, (_, i) => goodLine(i)).join('\n') + '\n');
    const gz = gzipSync(body);
    const cut = tmp.file('cut.jsonl.gz');
    writeFileSync(cut, gz.subarray(0, Math.floor(gz.length * 0.9)));
    const r = await runCli(['--db', tmp.file('gz.db'), 'replay', '-o', 'json', cut]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cut\.jsonl\.gz: unexpected end of file/);
    const res = JSON.parse(r.stdout)[0];
    expect(res.status).toBe('failed');
    expect(res.flows).toBeGreaterThan(0);
  });
});
