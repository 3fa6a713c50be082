import { Command, type OutputConfiguration } from 'commander';
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
    .configureOutput(output(ctx))
    .showHelpAfterError(`Run 'hubble-advisor --help' for the commands.`)
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
    sub.configureOutput(output(ctx)).showHelpAfterError(`Run 'hubble-advisor ${sub.name()} --help' for its options.`).exitOverride();
  }
  return program;
}

/** Commander's messages in the one error style of the CLI: `Error: ...` on stderr. */
function output(ctx: CommandContext): OutputConfiguration {
  return {
    writeOut: (s) => ctx.io.stdout.write(s),
    writeErr: (s) => ctx.io.stderr.write(s),
    outputError: (s, write) => write(s.replace(/^error: /, 'Error: ')),
  };
}

/**
 * The first word of argv that is not an option (or a global option's value): the command asked
 * for. Commander would print the top-level help with exit 0 for `unknown --help`; the CLI wants
 * exit 2 and a hint for any command it does not have.
 */
export function unknownCommand(program: Command, argv: readonly string[]): string | undefined {
  const takesValue = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((x): x is string => x !== undefined)));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return undefined;
    if (a.startsWith('-')) {
      if (takesValue.has(a)) i++;
      continue;
    }
    const known = program.commands.some((c) => c.name() === a || c.aliases().includes(a)) || a === 'help';
    return known ? undefined : a;
  }
  return undefined;
}

/** `did you mean report?`: the closest command by edit distance, if close enough. */
export function suggestCommand(program: Command, word: string): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const c of program.commands) {
    const d = editDistance(word, c.name());
    if (d <= Math.max(2, Math.floor(c.name().length / 3)) && (!best || d < best.d)) best = { name: c.name(), d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] as number;
}
