import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, SAMPLES_DIR, tempDir } from '../helpers/paths.js';
import type { PeerJson } from '../helpers/peer-json.js';

/** Default tables fit 120 columns, as kubectl's do; `-o wide` prints everything. On the bundled recording. */
const RECORDING = join(REPO_ROOT, 'recordings/home-lab.jsonl.gz');
const SAMPLES = ['hubble-otel__basic-sample-10-flows.json', 'hubble-otel__basic-sample-330-dns-flows.json'].map((n) => join(SAMPLES_DIR, n));
const POLICIES = join(REPO_ROOT, 'examples/policies');
const widest = (text: string): string => text.split('\n').reduce((a, l) => ([...l].length > [...a].length ? l : a), '');

const label = (p: PeerJson): string => (p.kind === 'workload' ? `${p.namespace}/${p.workloadKind}/${p.name}` : (p.entity ?? p.fqdn ?? p.cidr ?? ''));

describe('terminal tables', () => {
  const tmp = tempDir();
  const db = tmp.file('home-lab.db');
  let replayOut = '';
  beforeAll(async () => {
    const r = await runCli(['--db', db, 'replay', RECORDING]);
    expect(r.code).toBe(0);
    replayOut = r.stdout;
  });
  afterAll(() => tmp.remove());

  const commands = [
    ['status'],
    ['edges'],
    ['edges', '--workloads'],
    ['check', '--policies', POLICIES],
    ['drops'],
    ['drops', '--policies', POLICIES],
    ['drops', '--policies', POLICIES, '--combine'],
  ];
  it.each(commands.map((c) => [c.join(' '), c]))('%s fits 120 columns', async (_name, argv) => {
    const r = await runCli(['--db', db, ...(argv as string[])]);
    // check exits 4 when the policies would drop observed edges: the table is printed all the same.
    expect(argv[0] === 'check' ? [0, 4] : [0], r.stderr).toContain(r.code);
    expect(r.stdout.length).toBeGreaterThan(100);
    const line = widest(r.stdout);
    expect([...line].length, line).toBeLessThanOrEqual(120);
  });

  it('replay\'s summary fits 120 columns', () => {
    expect([...widest(replayOut)].length).toBeLessThanOrEqual(120);
  });

  it('status tells sources with long paths apart by their file names, with whole times, in 120 columns', async () => {
    // Two samples deep in folders whose names share a long start: the middle cut printed "/tmp/h…json" for both.
    const deep = tmp.file(join('captures', 'cluster-a'.repeat(8), 'week-1'));
    mkdirSync(deep, { recursive: true });
    const files = ['monday-prod-eu-west.json', 'tuesday-prod-eu-west.json'].map((n) => join(deep, n));
    SAMPLES.forEach((sample, i) => copyFileSync(sample, files[i] as string));
    const statusDb = tmp.file('sources.db');
    for (const f of files) expect((await runCli(['--db', statusDb, 'replay', f])).code).toBe(0);
    const out = (await runCli(['--db', statusDb, 'status'])).stdout;
    expect([...widest(out)].length).toBeLessThanOrEqual(120);
    const rows = out.split('\n').filter((l) => /^[12] +file /.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('monday-prod-eu-west.json');
    expect(rows[1]).toContain('tuesday-prod-eu-west.json');
    for (const row of rows) expect(row).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const wide = (await runCli(['--db', statusDb, 'status', '-o', 'wide'])).stdout;
    for (const f of files) expect(wide).toContain(f);
    expect(wide.split('\n').find((l) => l.startsWith('ID'))).toMatch(/LINES.*FIRST FLOW\s+LAST FLOW/);
  });

  it('edges -o wide prints every peer whole and the counters the default leaves out', async () => {
    const json = JSON.parse((await runCli(['--db', db, 'edges', '-o', 'json'])).stdout) as { from: PeerJson; to: PeerJson }[];
    const wide = (await runCli(['--db', db, 'edges', '-o', 'wide'])).stdout;
    const narrow = (await runCli(['--db', db, 'edges'])).stdout;
    expect(wide.split('\n')[0]).toMatch(/CONNS\s+FORWARDED.*FIRST SEEN.*HOURS/);
    expect(narrow.split('\n')[0]).not.toContain('FIRST SEEN');
    expect(wide).not.toContain('…');
    for (const e of json) {
      expect(wide).toContain(label(e.from));
      expect(wide).toContain(label(e.to));
    }
    expect([...widest(wide)].length).toBeGreaterThan(120);
  });

  it('drops without --policies lists the dropped flows grouped by edge and reason, with Hubble\'s denied-by', async () => {
    const r = await runCli(['--db', db, 'drops', '-o', 'wide']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^LAST SEEN\s+FROM\s+TO\s+PORT\s+REASON\s+ATTEMPTS\/FLOWS/);
    const radarr = lines.find((l) => l.includes('downloads/Deployment/radarr'));
    expect(radarr).toMatch(/dbms\/Cluster\/postgres\s+TCP\/5432\s+POLICY_DENY\s+4\/24 .*CiliumNetworkPolicy dbms\/deny-from-downloads/);
    const json = JSON.parse((await runCli(['--db', db, 'drops', '-o', 'json'])).stdout) as { reason: string; flows: number }[];
    const status = JSON.parse((await runCli(['--db', db, 'status', '-o', 'json'])).stdout) as { dropReasons: Record<string, number> };
    // Every dropped flow is in exactly one group.
    const byReason: Record<string, number> = {};
    for (const g of json) byReason[g.reason] = (byReason[g.reason] ?? 0) + g.flows;
    expect(byReason).toEqual(status.dropReasons);
    expect(r.stdout).toContain('Pass --policies DIR');
  });

  it('drops --combine without --policies is a usage error', async () => {
    const r = await runCli(['--db', db, 'drops', '--combine']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--combine needs --policies/);
  });
});
