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
  /** Ends the process as `signal` would have (its default action), once a held one may take effect. */
  readonly raise?: (signal: string) => void;
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
    raise(signal) {
      process.kill(process.pid, signal);
    },
  };
}
