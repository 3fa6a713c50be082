import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * How far V8 lets the old generation grow past what survived the last full GC before it collects
 * again, for the ingest commands (`replay`, `observe`). V8's own factor is up to 4x: ingest
 * promotes each batch's edge accumulators, new endpoints and kept drops (~400 bytes a flow) and
 * lets them go at the commit, so the heap grew to 3-4 times its live data, most of it garbage.
 * Replay of a 3,000-workload cluster (2M flows, one thread): peak RSS 457 -> 334 MB at 1.02x the
 * CPU with 2.5x; 2x gave 311 MB but 1.12x the CPU (full GCs of ~80 MB live, three times as many).
 * At 750 workloads 2x was free (305 -> 238 MB, 0.97x the CPU): its live data is half as big.
 */
export const INGEST_HEAP_GROWING_PERCENT = 150;

/**
 * Applies INGEST_HEAP_GROWING_PERCENT to this process (worker threads included: V8 flags are per
 * process), unless the user chose a growing factor themselves (node flags or NODE_OPTIONS).
 * Returns whether it was applied. The flag is read at each GC, so setting it once the VM runs works.
 */
export function tuneHeapForIngest(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env['NODE_OPTIONS'] ?? '',
  percent: number = INGEST_HEAP_GROWING_PERCENT,
): boolean {
  if (userGave(/^--heap[-_]growing[-_]percent\b/, execArgv, nodeOptions)) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}

/**
 * observe's growing factor (1.5x). Its peak target is a flat 200 MB however long it runs, while
 * ~50 MB of its ~90 MB outside the JS heap is node's own code and SQLite: at 3,000 workloads (a week
 * of flows at full speed) its old generation reached 125 MB at 2.5x and 75-95 MB at 1.5x, for about
 * the same CPU (3% more GC), and fewer promoted HTTP/2 chunks waited for it.
 */
export const OBSERVE_HEAP_GROWING_PERCENT = 50;

/**
 * The growing factor (2x) of the read commands that hold the whole graph and make much garbage
 * besides: `report` resolves or decodes the graph and then renders every workload's section;
 * `check` resolves it, encodes its snapshot, and judges every edge against the compiled policies.
 * V8 let the garbage pile up to ~4x what was live before a full collection. At 3,000 workloads
 * `report -o html` peaked at 334 -> 283 MB cold and 288 -> 244 MB warm, for 1.03x the CPU (4
 * pairs each); the Markdown report 291 -> 272 MB cold; `check` 295 -> 274 MB cold for 1.02x.
 */
export const READ_HEAP_GROWING_PERCENT = 100;

/** Applies READ_HEAP_GROWING_PERCENT, unless the user chose a factor; returns whether it did. */
export function tuneHeapForRead(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env['NODE_OPTIONS'] ?? ''): boolean {
  return tuneHeapForIngest(execArgv, nodeOptions, READ_HEAP_GROWING_PERCENT);
}

/**
 * Tunes the heap for `observe`: INGEST's factor at OBSERVE_HEAP_GROWING_PERCENT, and the new space
 * kept at the size it has now (V8 doubles it up to 2 x 16 MB when much survives a scavenge, as a
 * batch's accumulators do; it then stayed at 32 MB for good, a quarter of observe's JS heap). Each
 * is left alone where the user chose it. Returns whether the new space was capped.
 */
export function tuneHeapForObserve(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env['NODE_OPTIONS'] ?? ''): boolean {
  tuneHeapForIngest(execArgv, nodeOptions, OBSERVE_HEAP_GROWING_PERCENT);
  if (userSizedNewSpace(execArgv, nodeOptions)) return false;
  setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}

/**
 * replay's semi-space, in MB: V8 doubles the new space up to 16 MB a semi-space while a batch's
 * accumulators survive scavenges, and keeps it. At 8 (as replay's snapshot process has; replay's
 * workers have 4: app/replay-parallel.ts workerLimits) replay of 1M flows of a 1,500-workload
 * cluster on one thread peaked at 204 MB instead of 225, for the same CPU (1.01x, paired); at 4 it
 * took 1.27x the CPU and peaked higher (more is promoted).
 */
export const REPLAY_SEMI_SPACE_MB = 8;

/**
 * Lets the new space grow to `mb` MB a semi-space and no further, unless the user sized it (node
 * flags or NODE_OPTIONS); returns whether it watches. V8 reads --max-semi-space-size only at start
 * (set later, replay took 2.5x the CPU), but the growth factor at every growth: once a collection
 * finds the new space that large, the factor becomes 1 and watching stops. Collections are reported
 * after they end, between the reads of replay's input, so the next doubling comes after the check.
 */
export function capNewSpace(mb: number = REPLAY_SEMI_SPACE_MB, execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env['NODE_OPTIONS'] ?? ''): boolean {
  if (userSizedNewSpace(execArgv, nodeOptions)) return false;
  const observer = new PerformanceObserver(() => {
    const size = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
    // space_size counts both semi-spaces.
    if (size < 2 * mb * 1024 * 1024) return;
    setFlagsFromString('--semi-space-growth-factor=1');
    observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
  return true;
}

function userSizedNewSpace(execArgv: readonly string[], nodeOptions: string): boolean {
  return userGave(/^--(max[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)\b/, execArgv, nodeOptions);
}

/** Whether the user passed a V8 flag matching `flag`, to node or in NODE_OPTIONS: theirs is kept. */
function userGave(flag: RegExp, execArgv: readonly string[], nodeOptions: string): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => flag.test(a));
}

/**
 * A full collection, which replay runs after each commit: the batch it committed (~35 MB of edge
 * accumulators and records at 3,000 workloads, promoted while the batch filled) is garbage then,
 * and a collection that finds ~55 MB live sets the next limit from that instead of letting old
 * space grow on past it. 2M flows of a 3,000-workload cluster in 20 batches, one thread: peak RSS
 * 340-360 -> 265-280 MB. `gc` is exposed to contexts made after the flag is set, so one is made.
 */
export function fullCollector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
