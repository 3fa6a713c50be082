import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** ../shared beside the repo; tests read samples and oracles in place, never copies. */
export const SHARED = resolve(REPO_ROOT, '../shared');
export const SAMPLES_DIR = join(SHARED, 'samples/hubble');

/** Whether `path` is a regular file (a test that needs a bundled recording skips without it). */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface TempDir {
  readonly path: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(prefix = 'hubble-advisor-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}
