import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tuneHeapForIngest } from '../../../src/cli/heap.js';

/**
 * What ingest does to the heap, in small: a live set that stays, and batches of objects that
 * live long enough to be promoted and then die. Prints the largest heap V8 grew to.
 */
const CHURN = `
  const tune = process.argv[1] === 'tune';
  const run = async () => {
    // A small factor, so that the effect stands out from V8's own (between 1.1x and 4x).
    if (tune) (await import('./src/cli/heap.ts')).tuneHeapForIngest([], '', 20);
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

function peakHeapMb(tune: boolean): number {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHURN, tune ? 'tune' : 'plain'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  expect(r.status, r.stderr).toBe(0);
  return Number(r.stdout);
}

describe('tuneHeapForIngest', () => {
  it('keeps a factor the user chose', () => {
    expect(tuneHeapForIngest(['--heap-growing-percent=300'], '')).toBe(false);
    expect(tuneHeapForIngest([], '--max-old-space-size=512 --heap_growing_percent=20')).toBe(false);
  });

  it('sets the factor at run time: the heap grows less past what is live, when promoted batches die', () => {
    const plain = peakHeapMb(false);
    const tuned = peakHeapMb(true);
    expect(tuned).toBeLessThan(plain * 0.8);
  }, 60_000);
});
