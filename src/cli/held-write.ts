import type { CommandContext } from './context.js';

/**
 * Runs `write` (files into a user's directory, synchronously) with SIGINT/SIGTERM held, so that
 * Ctrl-C or a `kill` during it leaves the directory as the write's all-or-nothing rule says, not
 * strewn with temporary files; a signal that came ends the process right after, as it would have.
 */
export async function writeHoldingSignals<T>(ctx: CommandContext, what: string, write: () => T): Promise<T> {
  let held: string | undefined;
  const uninstall = ctx.io.onSignal?.((signal) => {
    held ??= signal;
  });
  try {
    return write();
  } finally {
    // A signal that came during the synchronous write waits in libuv's pipe until the loop polls:
    // the first immediate may run before that poll, the second runs after it.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    uninstall?.();
    if (held !== undefined) {
      ctx.io.stderr.write(`${held} while writing ${what}: the write was finished first; stopping\n`);
      ctx.io.raise?.(held);
    }
  }
}
