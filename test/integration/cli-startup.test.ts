import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/paths.js';

/**
 * Start-up is paid on every call: a command loads its own code and the libraries it uses, not the
 * layout engine of `report` or the YAML parser of `recommend`.
 */
function packagesLoadedBy(argv: readonly string[]): string[] {
  const probe = `
    const { createRequire } = await import('node:module');
    const { run } = await import('./src/cli/run.ts');
    const sink = { write: () => true };
    await run(${JSON.stringify(argv)}, { stdout: sink, stderr: sink, stdin: process.stdin, env: {}, stderrIsTTY: false });
    const names = Object.keys(createRequire(import.meta.url).cache).map((f) => /node_modules\\/((@[^/]+\\/)?[^/]+)\\//.exec(f)?.[1]).filter(Boolean);
    console.log(JSON.stringify([...new Set(names)].sort()));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as string[];
}

describe('CLI start-up', () => {
  it('status and replay load neither elkjs nor yaml; report loads elkjs only when it lays a map out', () => {
    for (const argv of [['status', '--help'], ['replay', '--help']]) {
      const loaded = packagesLoadedBy(argv);
      expect(loaded, argv.join(' ')).not.toContain('elkjs');
      expect(loaded, argv.join(' ')).not.toContain('@grpc/grpc-js');
    }
    expect(packagesLoadedBy(['status', '--help'])).not.toContain('yaml');
    expect(packagesLoadedBy(['report', '--help'])).not.toContain('elkjs');
  }, 60_000);

  it('top-level help still lists every command, in order', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    const listed = [...r.stdout.matchAll(/^  (\w+) /gm)].map((m) => m[1]);
    expect(listed.filter((c) => c !== 'help')).toEqual(['replay', 'status', 'observe', 'edges', 'recommend', 'drops', 'check', 'report']);
  });
});
