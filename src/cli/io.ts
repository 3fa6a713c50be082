/** Everything a command may touch outside the process: injected so tests run commands in-process. */
export interface CliIo {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
  readonly stdin: NodeJS.ReadableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Progress lines and colours only on a terminal. */
  readonly stderrIsTTY: boolean;
  /** Installs SIGINT/SIGTERM handlers for long runs; returns the uninstaller. */
  readonly onSignal?: (handler: (signal: string) => void) => () => void;
  /**
   * Holds SIGINT/SIGTERM while files are written (synchronously) into a user's directory: a signal
   * that ends the process mid-write would leave its temporary files there. `release` lets one that
   * came take its default action once the write is whole, after `onHeld` has said so.
   */
  readonly holdSignals?: () => { release(onHeld: (signal: string) => void): Promise<void> };
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    stderrIsTTY: Boolean(process.stderr.isTTY),
    onSignal(handler) {
      const listener = (signal: NodeJS.Signals): void => handler(signal);
      process.on('SIGINT', listener);
      process.on('SIGTERM', listener);
      return () => {
        process.off('SIGINT', listener);
        process.off('SIGTERM', listener);
      };
    },
    holdSignals() {
      let held: NodeJS.Signals | undefined;
      const listener = (signal: NodeJS.Signals): void => {
        held ??= signal;
      };
      process.on('SIGINT', listener);
      process.on('SIGTERM', listener);
      return {
        async release(onHeld) {
          // A signal that came during synchronous work waits in libuv's pipe until the loop polls:
          // the first immediate may run before that poll, the second runs after it.
          await new Promise((resolve) => setImmediate(resolve));
          await new Promise((resolve) => setImmediate(resolve));
          process.off('SIGINT', listener);
          process.off('SIGTERM', listener);
          if (held === undefined) return;
          onHeld(held);
          process.kill(process.pid, held);
        },
      };
    },
  };
}
