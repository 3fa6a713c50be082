import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

const samples = readdirSync(SAMPLES_DIR).sort();

function nonEmptyLines(file: string): number {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
}

describe('replay of the public Hubble samples', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());
  const db = tmp.file('samples.db');

  it('ingests every sample with zero bad lines', async () => {
    expect(samples.length).toBeGreaterThanOrEqual(18);
    const r = await runCli(['--db', db, 'replay', '-o', 'json', ...samples.map((s) => join(SAMPLES_DIR, s))]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const results = JSON.parse(r.stdout) as { file: string; status: string; badLines: number }[];
    expect(results).toHaveLength(samples.length);
    for (const res of results) expect(res).toMatchObject({ status: 'completed', badLines: 0 });
  });

  it('status -o json counts match the line counts of each file', async () => {
    const r = await runCli(['--db', db, 'status', '-o', 'json']);
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout) as {
      sources: { name: string; flows: number; lines: number; badLines: number }[];
      verdicts: Record<string, number>;
      dropReasons: Record<string, number>;
    };
    let total = 0;
    for (const s of samples) {
      const src = status.sources.find((x) => x.name.endsWith(s));
      const lines = nonEmptyLines(join(SAMPLES_DIR, s));
      total += lines;
      expect(src, s).toMatchObject({ flows: lines, lines, badLines: 0 });
    }
    expect(Object.values(status.verdicts).reduce((a, b) => a + b, 0)).toBe(total);
    // The field-masked exporter sample and the cf2cnp drops: 5 DROPPED in all, 4 of them policy drops.
    expect(status.verdicts['DROPPED']).toBe(5);
    expect(status.dropReasons).toEqual({ POLICY_DENIED: 4, INVALID_SOURCE_IP: 1 });
    expect(status.verdicts['AUDIT']).toBe(1);
    // Epoch-ms fields come with their RFC 3339 form.
    const first = status.sources[0] as unknown as { firstFlowMs: number; firstFlow: string };
    expect(first.firstFlow).toBe(new Date(first.firstFlowMs).toISOString());
  });

  it('reads the same recording from stdin and gzip', async () => {
    const { gzipSync } = await import('node:zlib');
    const file = join(SAMPLES_DIR, 'hubble-otel__basic-sample-330-dns-flows.json');
    const gz = await runCli(['--db', tmp.file('gz.db'), 'replay', '-o', 'json', '-'], { stdin: gzipSync(readFileSync(file)) });
    expect(gz.code).toBe(0);
    expect(JSON.parse(gz.stdout)[0]).toMatchObject({ file: '(stdin)', flows: 330, badLines: 0 });
  });
});
