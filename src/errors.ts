/** Errors that end a run. Only cli/main.ts turns them into messages and exit codes. */

/** Wrong flags or arguments: nothing was read or written. Exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Bad input the run cannot go on with, located as `file:line: field: reason`. Exit 1. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string | undefined,
    readonly reason: string,
  ) {
    super([file, line, field].filter((x) => x !== undefined && x !== '').join(':') + `: ${reason}`);
    this.name = 'InputError';
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** Ran to the end, but some input was skipped (bad lines); what was good is stored. */
export const EXIT_PARTIAL = 3;
/** `check` ran, and found what `--fail-on` names (would-drop edges by default) or an unreadable policy. */
export const EXIT_CHECK_FAILED = 4;
export const EXIT_INTERNAL = 70;
