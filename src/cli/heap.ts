import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived the last full GC before it collects
 * again, for the ingest commands (`replay`, `observe`). V8's own factor is up to 4x: ingest
 * promotes each batch's edge accumulators, new endpoints and kept drops (~400 bytes a flow) and
 * lets them go at the commit, so with ~45 MB live the heap grew to ~180 MB of mostly garbage
 * before a full GC (replay of 500k flows of a 750-workload cluster: peak RSS 305 MB). At 2x it
 * peaked at 238 MB on 0.94x the CPU (less memory to fault in); 1.5x cost 1.1x the CPU.
 */
export const INGEST_HEAP_GROWING_PERCENT = 100;

/**
 * Applies INGEST_HEAP_GROWING_PERCENT to this process (worker threads included: V8 flags are per
 * process), unless the user chose a growing factor themselves (node flags or NODE_OPTIONS).
 * Returns whether it was applied. The flag is read at each GC, so setting it once the VM runs works.
 */
export function tuneHeapForIngest(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env['NODE_OPTIONS'] ?? ''): boolean {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--heap[-_]growing[-_]percent\b/.test(a));
  if (given) return false;
  setFlagsFromString(`--heap-growing-percent=${INGEST_HEAP_GROWING_PERCENT}`);
  return true;
}
