import { Command, type OutputConfiguration } from 'commander';
import type { CommandContext } from './context.js';
import { dbOption } from './options.js';

export const VERSION = '0.1.0';

type Register = (program: Command, ctx: CommandContext) => void;

/**
 * The commands in help order. A command's module, and the libraries it needs (yaml, elkjs, gRPC),
 * is imported only when that command runs: start-up is paid on every call, and the other commands'
 * code cost `status` half a second of CPU before this.
 */
const COMMANDS: readonly (readonly [string, () => Promise<Register>])[] = [
  ['replay', async () => (await import('./commands/replay.js')).registerReplay],
  ['status', async () => (await import('./commands/status.js')).registerStatus],
  ['observe', async () => (await import('./commands/observe.js')).registerObserve],
  ['edges', async () => (await import('./commands/edges.js')).registerEdges],
  ['recommend', async () => (await import('./commands/recommend.js')).registerRecommend],
  ['drops', async () => (await import('./commands/drops.js')).registerDrops],
  ['check', async () => (await import('./commands/check.js')).registerCheck],
  ['report', async () => (await import('./commands/report.js')).registerReport],
];

/**
 * Registers the command `argv` names, or every command when it names none or one we do not have
 * (help, suggestions); commands never exit the process, they set the exit code.
 */
export async function buildProgram(ctx: CommandContext, argv: readonly string[]): Promise<Command> {
  const program = new Command('hubble-advisor')
    .description('Least-privilege Cilium network policies from Hubble flows: baseline, propose, roll out, triage drops.')
    .version(VERSION)
    .addOption(dbOption())
    .showSuggestionAfterError()
    .configureOutput(output(ctx))
    .showHelpAfterError(`Run 'hubble-advisor --help' for the commands.`)
    .exitOverride();
  const word = commandWord(program, argv);
  const named = COMMANDS.filter(([name]) => name === word);
  for (const [, load] of named.length === 1 ? named : COMMANDS) (await load())(program, ctx);
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

/** The first word of argv that is not an option (or a global option's value): the command asked for. */
function commandWord(program: Command, argv: readonly string[]): string | undefined {
  const takesValue = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((x): x is string => x !== undefined)));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return undefined;
    if (a.startsWith('-')) {
      if (takesValue.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}

/**
 * The command asked for when the program does not have it. Commander would print the top-level help
 * with exit 0 for `unknown --help`; the CLI wants exit 2 and a hint for any command it does not have.
 */
export function unknownCommand(program: Command, argv: readonly string[]): string | undefined {
  const a = commandWord(program, argv);
  if (a === undefined) return undefined;
  const known = program.commands.some((c) => c.name() === a || c.aliases().includes(a)) || a === 'help';
  return known ? undefined : a;
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
