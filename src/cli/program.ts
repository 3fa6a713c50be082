import { Command } from 'commander';
import { registerCheck } from './commands/check.js';
import { registerDrops } from './commands/drops.js';
import { registerEdges } from './commands/edges.js';
import { registerObserve } from './commands/observe.js';
import { registerRecommend } from './commands/recommend.js';
import { registerReplay } from './commands/replay.js';
import { registerReport } from './commands/report.js';
import { registerStatus } from './commands/status.js';
import type { CommandContext } from './context.js';
import { dbOption } from './options.js';

export const VERSION = '0.1.0';

/** Registers every command; commands never exit the process, they set the exit code. */
export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('hubble-advisor')
    .description('Least-privilege Cilium network policies from Hubble flows: baseline, propose, roll out, triage drops.')
    .version(VERSION)
    .addOption(dbOption())
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
    })
    .exitOverride();
  registerReplay(program, ctx);
  registerStatus(program, ctx);
  registerObserve(program, ctx);
  registerEdges(program, ctx);
  registerRecommend(program, ctx);
  registerDrops(program, ctx);
  registerCheck(program, ctx);
  registerReport(program, ctx);
  for (const sub of program.commands) {
    sub.configureOutput({ writeOut: (s) => ctx.io.stdout.write(s), writeErr: (s) => ctx.io.stderr.write(s) }).exitOverride();
  }
  return program;
}
