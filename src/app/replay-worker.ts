/**
 * A replay worker: parses, decodes and aggregates the lines that start in one byte range of a file,
 * posting each batch (with the sinks' deltas) to the main thread, which alone writes SQLite.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MAX_LINE_BYTES, forEachLineInRange } from '../ingest/index.js';
import { BatchBuilder } from './batch-builder.js';
import { isShardable } from './ingest-session.js';
import { defaultSinks } from './sinks.js';

export interface WorkerJob {
  readonly file: string;
  readonly start: number;
  readonly end: number;
  readonly batchSize: number;
  /** One Int32: batches posted and not yet committed by the main thread. */
  readonly inFlight: SharedArrayBuffer;
}

/** Batches a worker may have in flight; beyond this it waits, so a lagging writer bounds memory. */
export const MAX_IN_FLIGHT = 2;

export type WorkerMessage =
  | { readonly type: 'batch'; readonly batch: ReturnType<BatchBuilder['take']>; readonly deltas: readonly unknown[] }
  | { readonly type: 'done'; readonly lines: number }
  | { readonly type: 'error'; readonly message: string };

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('replay-worker must run in a worker thread');
  const job = workerData as WorkerJob;
  const sinks = defaultSinks();
  if (!sinks.every(isShardable)) throw new Error('a sink cannot run in a worker');
  const builder = new BatchBuilder(sinks);
  const inFlight = new Int32Array(job.inFlight);
  const post = (): void => {
    for (let n = Atomics.load(inFlight, 0); n >= MAX_IN_FLIGHT; n = Atomics.load(inFlight, 0)) {
      Atomics.wait(inFlight, 0, n, 1000);
    }
    Atomics.add(inFlight, 0, 1);
    const msg: WorkerMessage = { type: 'batch', batch: builder.take(), deltas: sinks.map((s) => (isShardable(s) ? s.takeDelta() : undefined)) };
    port.postMessage(msg);
  };
  try {
    const lines = forEachLineInRange(
      job.file,
      job.start,
      job.end,
      (line, n) => {
        builder.acceptLine(line, n);
      },
      (n, bytes) => {
        builder.countLine();
        builder.rejectLine(n, '(line)', `longer than ${MAX_LINE_BYTES} bytes (${bytes} bytes), skipped`);
      },
      () => {
        if (builder.pendingEvents >= job.batchSize) post();
      },
    );
    post();
    port.postMessage({ type: 'done', lines } satisfies WorkerMessage);
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies WorkerMessage);
  }
}

main();
