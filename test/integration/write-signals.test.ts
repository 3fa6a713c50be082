import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { generateCluster } from '../helpers/cluster.js';

/**
 * Ctrl-C or a `kill` while `recommend --out` writes into a GitOps folder: the real bin, a real
 * signal sent the moment its first temporary file shows in the folder. The folder must end up as
 * the all-or-nothing rule says (here: every policy written and listed), with none of our
 * temporary files left among the user's, and the process must still stop as the signal asks.
 */
const tmp = tempDir();
afterAll(() => tmp.remove());

const db = tmp.file('cluster.db');

beforeAll(async () => {
  // ~900 policies: staging them takes long enough to be caught in the middle.
  const lines = tmp.file('cluster.jsonl');
  generateCluster(lines, { workloads: 1000, flows: 20000, seed: 'signals' });
  expect((await runCli(['--db', db, 'replay', lines])).code).toBe(0);
}, 120_000);

const USER_NOTE = '# Hand-written: who talks to whom\n';

async function interruptedWrite(signal: 'SIGINT' | 'SIGTERM'): Promise<{ dir: string; code: number | null; signal: NodeJS.Signals | null; stderr: string; tempsSeen: number }> {
  const dir = tmp.file(`out-${signal}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'README.md'), USER_NOTE);
  const child = spawnCli(['--db', db, 'recommend', '-A', '--out', dir]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
  let tempsSeen = 0;
  while (child.exitCode === null && child.signalCode === null) {
    tempsSeen = readdirSync(dir).filter((n) => n.endsWith('.tmp')).length;
    if (tempsSeen > 0) {
      child.kill(signal);
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { dir, ...(await exited), stderr, tempsSeen };
}

describe('a signal during recommend --out', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: the write finishes whole, no temporary file is left, and the process then stops by the signal`, async () => {
      const r = await interruptedWrite(signal);
      expect(r.tempsSeen, 'the signal was sent while temporary files were being staged').toBeGreaterThan(0);
      const names = readdirSync(r.dir);
      expect(names.filter((n) => n.endsWith('.tmp') || n.startsWith('.hubble-advisor-'))).toEqual([]);
      expect(readFileSync(join(r.dir, 'README.md'), 'utf8')).toBe(USER_NOTE);
      const policies = names.filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml');
      expect(policies.length).toBeGreaterThan(500);
      const listed = readFileSync(join(r.dir, 'kustomization.yaml'), 'utf8')
        .split('\n')
        .filter((l) => /^\s*- /.test(l))
        .map((l) => l.replace(/^\s*- /, '').trim());
      expect(listed.sort()).toEqual(policies.sort());
      expect(r.signal, `exit code ${r.code}; stderr: ${r.stderr.slice(-300)}`).toBe(signal);
      expect(r.stderr).toContain(`${signal} while writing ${r.dir}: the write was finished first; stopping`);
    }, 120_000);
  }
});
