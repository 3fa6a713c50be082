import type { CliIo } from './io.js';

export interface Progress {
  /** Replaces the status line; throttled, and silent when stderr is not a terminal. */
  update(render: () => string): void;
  /** Clears the line so that the next message starts clean. */
  done(): void;
}

const MIN_INTERVAL_MS = 200;

export function createProgress(io: CliIo, clock: () => number = Date.now): Progress {
  if (!io.stderrIsTTY) return { update() {}, done() {} };
  let last = 0;
  let shown = false;
  return {
    update(render) {
      const now = clock();
      if (now - last < MIN_INTERVAL_MS) return;
      last = now;
      shown = true;
      io.stderr.write(`\r\x1b[K${render()}`);
    },
    done() {
      if (shown) io.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}
