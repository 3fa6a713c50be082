import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED } from './paths.js';

/**
 * vitest globalSetup: the tests read ../shared (public Hubble samples, policy oracles, user docs) in
 * place. Without it, say what is missing and where it was looked for, once, instead of a bare
 * ENOENT from the first test that opens a file.
 */
export const SHARED_PARTS = ['samples/hubble', 'oracle', 'user-docs', 'design'] as const;

export function missingShared(root: string = SHARED): string[] {
  return SHARED_PARTS.filter((p) => !existsSync(join(root, p)));
}

export default function setup(): void {
  const missing = missingShared();
  if (missing.length === 0) return;
  throw new Error(
    `the tests need ../shared beside the repository (looked for ${SHARED}); missing: ${missing.map((m) => `${m}/`).join(', ')}. ` +
      'It holds the public Hubble samples, the policy oracles and the user docs the tests read in place; check it out next to this repository.',
  );
}
