import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { capNewSpace, fullCollector, tuneHeapForIngest, tuneHeapForObserve, tuneHeapForRead } from '../../../src/cli/heap.js';

/**
 * What ingest does to the heap, in small: a live set that stays, and batches of objects that
 * live long enough to be promoted and then die. Prints the largest heap V8 grew to.
 */
const CHURN = `
  const mode = process.argv[1];
  const run = async () => {
    // A small factor, so that the effect stands out from V8's own (between 1.1x and 4x).
    if (mode === 'tune') (await import('./src/cli/heap.ts')).tuneHeapForIngest([], '', 20);
    if (mode === 'read') (await import('./src/cli/heap.ts')).tuneHeapForRead([], '');
    const live = Array.from({ length: 200_000 }, (_, i) => ({ i, s: 'live-' + i }));
    let batch = [];
    let peak = 0;
    for (let n = 0; n < 2_000_000; n++) {
      batch.push({ n, s: 'flow-' + (n % 100_000), t: [n, n + 1] });
      if (batch.length === 100_000) batch = [];
      if (n % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().heapTotal);
    }
    process.stdout.write(String(Math.round(peak / 1048576) + live.length * 0));
  };
  run();
`;

/** Runs one of the scripts here in a node of its own (V8 flags are per process), with `mode` as its argument; its output. */
function runScript(script: string, mode: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, mode], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

function peakHeapMb(mode: 'tune' | 'plain' | 'read'): number {
  return Number(runScript(CHURN, mode));
}

/** The growing factors replay/observe (tuneHeapForIngest, here at 20%) and report and check set, and how much lower each holds the churning heap than V8's own factor. */
const FACTORS = [
  { name: 'tuneHeapForIngest', tune: tuneHeapForIngest, mode: 'tune', bound: 0.8 },
  // 110-130 MB against 160-200 here.
  { name: 'tuneHeapForRead', tune: tuneHeapForRead, mode: 'read', bound: 0.85 },
] as const;

describe.each(FACTORS)('$name', ({ tune, mode, bound }) => {
  it('keeps a factor the user chose', () => {
    expect(tune(['--heap-growing-percent=300'], '')).toBe(false);
    expect(tune([], '--heap_growing_percent=20')).toBe(false);
    expect(tune([], '--max-old-space-size=512 --heap_growing_percent=20')).toBe(false);
  });

  it("sets the factor at run time: the heap grows less past what is live than with V8's own, when promoted batches die", () => {
    const plain = peakHeapMb('plain');
    const tuned = peakHeapMb(mode);
    expect(tuned).toBeLessThan(plain * bound);
  }, 60_000);
});

/** Batches that survive a few scavenges, as observe's accumulators do; prints the new space's size before and after (MB). */
const NEW_SPACE = `
  const v8 = await import('node:v8');
  if (process.argv[1] === 'tune') (await import('./src/cli/heap.ts')).tuneHeapForObserve([], '');
  const newSpace = () => Math.round((v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 1048576);
  const before = newSpace();
  let batch = [];
  for (let n = 0; n < 3_000_000; n++) {
    batch.push({ n, s: 'edge-' + n });
    if (batch.length === 200_000) batch = [];
  }
  process.stdout.write(JSON.stringify([before, newSpace()]));
`;

function newSpaceMb(tune: boolean): [number, number] {
  return JSON.parse(runScript(NEW_SPACE, tune ? 'tune' : 'plain')) as [number, number];
}

/**
 * Batches that survive scavenges, made between awaits as replay decodes between reads of its
 * input; prints the new space's size at the end (MB, both semi-spaces).
 */
const CAPPED_NEW_SPACE = `
  const v8 = await import('node:v8');
  if (process.argv[1] === 'cap') (await import('./src/cli/heap.ts')).capNewSpace(8, [], '');
  let batch = [];
  for (let n = 0; n < 3_000_000; n++) {
    batch.push({ n, s: 'edge-' + n });
    if (batch.length === 200_000) batch = [];
    if (n % 5_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  process.stdout.write(String(Math.round((v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 1048576)));
`;

function finalNewSpaceMb(cap: boolean): number {
  return Number(runScript(CAPPED_NEW_SPACE, cap ? 'cap' : 'plain'));
}

describe('capNewSpace', () => {
  it('lets the new space grow to the size asked for and no further, where V8 alone doubles it on', () => {
    expect(finalNewSpaceMb(false), 'V8 alone').toBeGreaterThan(16);
    // Checked after collections: the cap holds from the first one that finds the new space that large.
    expect(finalNewSpaceMb(true), 'capped at 8 MB a semi-space').toBeLessThanOrEqual(16);
  }, 60_000);

  it('leaves a new-space size the user chose', () => {
    expect(capNewSpace(8, ['--max-semi-space-size=64'], '')).toBe(false);
    expect(capNewSpace(8, [], '--semi_space_growth_factor=4')).toBe(false);
  });
});

describe('tuneHeapForObserve', () => {
  it('keeps the new space at the size it has, where V8 alone doubles it while batches survive', () => {
    const [plainBefore, plainAfter] = newSpaceMb(false);
    expect(plainAfter, `V8 alone: ${plainBefore} -> ${plainAfter} MB`).toBeGreaterThan(plainBefore);
    // V8 may still shrink it (when little survives), never grow it.
    const [before, after] = newSpaceMb(true);
    expect(after, `tuned: ${before} -> ${after} MB`).toBeLessThanOrEqual(before);
  }, 60_000);

  it('leaves a new-space size the user chose', () => {
    expect(tuneHeapForObserve(['--max-semi-space-size=64', '--heap-growing-percent=100'], '')).toBe(false);
    expect(tuneHeapForObserve([], '--semi_space_growth_factor=4 --heap-growing-percent=100')).toBe(false);
  });
});

describe('fullCollector', () => {
  it('collects what nothing holds any more, when it is called (no --expose-gc needed)', async () => {
    const collect = fullCollector();
    const ref = new WeakRef(Array.from({ length: 1000 }, (_, i) => ({ i })));
    // A WeakRef keeps its target until the job that made (or dereferenced) it ends.
    const nextJob = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));
    await nextJob();
    expect(ref.deref()).toBeDefined();
    await nextJob();
    collect();
    expect(ref.deref()).toBeUndefined();
  });
});
