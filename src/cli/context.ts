import type { CliIo } from './io.js';

export interface CommandContext {
  readonly io: CliIo;
  setExitCode(code: number): void;
}
