import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_HEAP_GROWING_PERCENT } from '../../src/cli/heap.js';
import { generateCluster } from '../helpers/cluster.js';
import { REPO_ROOT, tempDir } from '../helpers/paths.js';

/**
 * The heap settings of cli/heap.ts reach the commands a user runs: the real bin, run on a real
 * recording and database, with test/helpers/v8-probe.mjs recording the V8 flags the run set and the
 * new space's size at its end. (test/unit/cli/heap.test.ts shows what each setting does to a heap.)
 */
const tmp = tempDir();
afterAll(() => tmp.remove());
const recording = tmp.file('cluster.jsonl');
const PROBE = join(REPO_ROOT, 'test/helpers/v8-probe.mjs');

interface Probe {
  readonly flags: readonly string[];
  readonly newSpaceMb: number;
}

/** Runs the CLI with `nodeFlags` given to node (as a user would), on a database of its own; what the probe saw. */
function probeRun(name: string, argv: readonly string[], nodeFlags: readonly string[] = []): Probe {
  const out = tmp.file(`${name}.probe.json`);
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', '--import', PROBE, 'src/cli/main.ts', ...argv], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', V8_PROBE_OUT: out },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(out, 'utf8')) as Probe;
}

function replay(name: string, nodeFlags: readonly string[] = []): Probe {
  return probeRun(name, ['--db', tmp.file(`${name}.db`), 'replay', '--workers', '1', recording], nodeFlags);
}

beforeAll(() => {
  // Enough flows for V8 to double the new space past 8 MB a semi-space on its own (10,000 do).
  generateCluster(recording, { workloads: 100, flows: 10_000, seed: 'heap-flags' });
}, 60_000);

describe('replay', () => {
  it("grows the heap by the ingest factor and stops the new space at 8 MB a semi-space, where a user's own semi-space size lets it grow to V8's 2 x 16 MB", () => {
    const plain = replay('plain');
    expect(plain.flags).toContain('--heap-growing-percent=150');
    expect(plain.flags).toContain('--semi-space-growth-factor=1');
    expect(plain.newSpaceMb).toBeLessThanOrEqual(16);

    const own = replay('own', ['--max-semi-space-size=16']);
    expect(own.flags).not.toContain('--semi-space-growth-factor=1');
    // The control: this replay does grow the new space further when nothing stops it.
    expect(own.newSpaceMb).toBeGreaterThan(16);
  }, 120_000);
});

describe('report', () => {
  it("grows the heap by report's factor (2x), and keeps a factor the user gave node", () => {
    const db = tmp.file('report.db');
    probeRun('for-report', ['--db', db, 'replay', recording]);
    expect(probeRun('report', ['--db', db, 'report', '-A']).flags).toContain('--heap-growing-percent=100');
    expect(probeRun('report-own', ['--db', db, 'report', '-A'], ['--heap-growing-percent=300']).flags.some((f) => f.startsWith('--heap-growing-percent'))).toBe(false);
  }, 120_000);
});

describe('check', () => {
  it("grows the heap by the read commands' factor (2x), and keeps a factor the user gave node", () => {
    const db = tmp.file('check.db');
    probeRun('for-check', ['--db', db, 'replay', recording]);
    const argv = ['--db', db, 'check', '--policies', join(REPO_ROOT, 'examples/policies'), '--fail-on', 'none'];
    expect(probeRun('check', argv).flags).toContain(`--heap-growing-percent=${READ_HEAP_GROWING_PERCENT}`);
    expect(probeRun('check-own', argv, ['--heap-growing-percent=300']).flags.some((f) => f.startsWith('--heap-growing-percent'))).toBe(false);
  }, 120_000);
});
