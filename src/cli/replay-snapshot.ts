import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { storeGraphSnapshot } from '../store/index.js';
import { REPLAY_SEMI_SPACE_MB } from './heap.js';

/**
 * Stored edge rows from which the snapshot is made in a process of its own. Below it the graph is
 * resolved in replay's process: a process costs ~0.25 s of CPU to start, 3.6% of a home-lab replay
 * of 1M flows (a few hundred rows), more than resolving its graph.
 */
export const SNAPSHOT_APART_ROWS = 10_000;

// Replay's semi-space (8 MB): the step at 3,000 workloads peaked at 287-290 MB with V8's 16 MB,
// 240-242 MB with 8, 246-249 with 4, 260-263 with 2, for the same CPU.
const CHILD_FLAGS = [`--max-semi-space-size=${REPLAY_SEMI_SPACE_MB}`];

/**
 * Stores the graph snapshot of the database at `path` (store/edge-store.ts `storeGraphSnapshot`)
 * after a replay of it, so that the first read after the replay decodes the graph instead of
 * resolving it (at 3,000 workloads that read took a second more than a warm one, and a third more
 * memory). A graph of `apartFrom` stored rows or more is made in a process of its own: in replay's
 * process the step raised replay's peak RSS at 3,000 workloads from 319 to 376 MiB (the graph was
 * built on top of the heap V8 kept from ingest); a fresh process peaks below replay's own peak.
 * Best effort, as every snapshot write: returns whether it ended well, and a snapshot not stored
 * is the next reader's to make (that reader reports what is wrong with the graph, if anything).
 */
export function storeSnapshotAfterReplay(path: string, rows: number, apartFrom: number = SNAPSHOT_APART_ROWS): boolean {
  if (rows < apartFrom) {
    try {
      storeGraphSnapshot(path);
      return true;
    } catch {
      return false;
    }
  }
  const here = import.meta.url;
  // Under vitest or tsx the sources are TypeScript: the child loads them through tsx too.
  const entry = here.endsWith('.ts') ? ['--import', 'tsx', fileURLToPath(new URL('./snapshot-child.ts', here))] : [fileURLToPath(new URL('./snapshot-child.js', here))];
  const child = spawnSync(process.execPath, [...CHILD_FLAGS, ...entry, path], { stdio: 'ignore' });
  return child.status === 0;
}
