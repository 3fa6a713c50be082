import type { CommandContext } from './context.js';

/**
 * Runs `write` (files into a user's directory, synchronously) with SIGINT/SIGTERM held, so that
 * Ctrl-C or a `kill` during it leaves the directory as the write's all-or-nothing rule says, not
 * strewn with temporary files; a signal that came ends the process right after.
 */
export async function writeHoldingSignals<T>(ctx: CommandContext, what: string, write: () => T): Promise<T> {
  const hold = ctx.io.holdSignals?.();
  let value: T;
  try {
    value = write();
  } finally {
    await hold?.release((signal) => ctx.io.stderr.write(`${signal} while writing ${what}: the write was finished first; stopping\n`));
  }
  return value;
}
