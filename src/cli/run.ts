import { CommanderError } from 'commander';
import { BadLineError } from '../app/ingest-session.js';
import { EXIT_FAILURE, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, InputError, UsageError } from '../errors.js';
import { StoreError } from '../store/errors.js';
import type { CliIo } from './io.js';
import { buildProgram, suggestCommand, unknownCommand } from './program.js';

/** Runs one command line; the only place that turns errors into messages and exit codes. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = EXIT_OK;
  const program = await buildProgram({ io, setExitCode: (c) => (exitCode = c) }, argv);
  const unknown = unknownCommand(program, argv);
  if (unknown !== undefined) {
    const guess = suggestCommand(program, unknown);
    io.stderr.write(`Error: unknown command '${unknown}'${guess ? ` (did you mean '${guess}'?)` : ''}\nRun 'hubble-advisor --help' for the commands.\n`);
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    return reportError(e, io);
  }
}

function reportError(e: unknown, io: CliIo): number {
  if (e instanceof CommanderError) {
    // commander already printed its message; help and version are successes.
    return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (e instanceof UsageError) {
    io.stderr.write(`Error: ${e.message}\n`);
    return EXIT_USAGE;
  }
  if (e instanceof InputError || e instanceof StoreError || e instanceof BadLineError) {
    io.stderr.write(`Error: ${e.message}\n`);
    return EXIT_FAILURE;
  }
  if (isFileError(e)) {
    io.stderr.write(`Error: ${e.path ?? ''}: ${describeFsError(e)}\n`);
    return EXIT_FAILURE;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.stderr.write(`Internal error (this is a bug in hubble-advisor, please report it): ${err.stack ?? err.message}\n`);
  return EXIT_INTERNAL;
}

function isFileError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && 'syscall' in e;
}

function describeFsError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return e.message;
  }
}
