import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Stores the graph snapshot of the database at `path` (store/edge-store.ts `storeGraphSnapshot`)
 * in a process of its own, and waits for it. `replay` ends with it: in replay's own process the
 * step raised replay's peak RSS at 3,000 workloads from 319 to 376 MiB (the graph was built on top
 * of the heap V8 kept from ingest); a fresh process peaks below replay's own peak. Best effort,
 * as every snapshot write: returns whether the process ended well, and a snapshot not stored is
 * the next reader's to make.
 */
export function storeSnapshotApart(path: string): boolean {
  const here = import.meta.url;
  // Under vitest or tsx the sources are TypeScript: the child loads them through tsx too.
  const entry = here.endsWith('.ts') ? ['--import', 'tsx', fileURLToPath(new URL('./snapshot-child.ts', here))] : [fileURLToPath(new URL('./snapshot-child.js', here))];
  const child = spawnSync(process.execPath, [...entry, path], { stdio: 'ignore' });
  return child.status === 0;
}
