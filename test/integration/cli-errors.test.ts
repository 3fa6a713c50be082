import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** Usage errors: exit 2, one `Error: ` line and a hint; help is a success only for commands that exist. */
describe('CLI usage errors', () => {
  it('an unknown command exits 2 with a hint, even with --help, and suggests the closest command', async () => {
    for (const argv of [['frobnicate'], ['frobnicate', '--help'], ['--db', 'x.db', 'repor', '--help']]) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toMatch(/^Error: unknown command '(frobnicate|repor)'/);
      expect(r.stderr).toContain(`Run 'hubble-advisor --help' for the commands.`);
    }
    expect((await runCli(['repor'])).stderr).toContain(`did you mean 'report'?`);
  });

  it('report --help prints the report\'s own help and exits 0', async () => {
    const r = await runCli(['report', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: hubble-advisor report \[options\]/);
    expect(r.stdout).toContain('-o, --output <format>');
    expect((await runCli(['help', 'report'])).stdout).toMatch(/^Usage: hubble-advisor report/);
  });

  it('commander\'s own errors use the same `Error: ` prefix as ours, with the command\'s help hint', async () => {
    const bad = await runCli(['edges', '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^Error: unknown option '--bogus'/);
    expect(bad.stderr).toContain(`Run 'hubble-advisor edges --help' for its options.`);
    const missing = await runCli(['report', '-o', 'pdf']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^Error: option '-o, --output <format>' argument 'pdf' is invalid/);
    const ours = await runCli(['--db', '/nonexistent/x.db', 'report']);
    expect(ours.code).toBe(1);
    expect(ours.stderr).toMatch(/^Error: \/nonexistent\/x.db: no such database/);
  });
});
