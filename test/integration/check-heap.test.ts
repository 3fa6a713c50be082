import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_HEAP_GROWING_PERCENT } from '../../src/cli/heap.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { REPO_ROOT, tempDir } from '../helpers/paths.js';

/**
 * `check` holds the graph, its snapshot's encoding and every judged edge's garbage at once: it
 * runs with the read commands' heap growing factor (cli/heap.ts), as the real bin shows by the
 * V8 flags it sets (seen through a preloaded hook on `setFlagsFromString`).
 */
const HOOK = `
const v8 = require('node:v8');
const set = v8.setFlagsFromString;
v8.setFlagsFromString = (flags) => { process.stderr.write('v8 flag: ' + flags + '\\n'); set(flags); };
require('node:module').syncBuiltinESMExports();
`;

describe('check', () => {
  const tmp = tempDir();
  const db = tmp.file('empty.db');
  const hook = tmp.file('hook.cjs');
  beforeAll(async () => {
    writeFileSync(tmp.file('empty.jsonl'), '');
    writeFileSync(hook, HOOK);
    expect((await runCli(['--db', db, 'replay', tmp.file('empty.jsonl')])).code).toBe(0);
  }, 60_000);
  afterAll(() => tmp.remove());

  function flagsSet(nodeOptions: string): Promise<string[]> {
    const child = spawnCli(['--db', db, 'check', '--policies', join(REPO_ROOT, 'examples/policies'), '--fail-on', 'none'], { NODE_OPTIONS: `--require ${hook} ${nodeOptions}` });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    return new Promise((resolve) => child.on('close', () => resolve(stderr.split('\n').filter((l) => l.startsWith('v8 flag: ')))));
  }

  it("sets the read commands' heap growing factor, and keeps one the user gave", async () => {
    expect(await flagsSet('')).toContain(`v8 flag: --heap-growing-percent=${READ_HEAP_GROWING_PERCENT}`);
    expect((await flagsSet('--heap-growing-percent=300')).filter((f) => f.includes('heap-growing'))).toEqual([]);
  }, 60_000);
});
