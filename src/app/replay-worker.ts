/**
 * A replay worker: takes the next byte range of a file from a counter shared with the other
 * workers, parses, decodes and aggregates the lines that start in it, and posts each batch (with the
 * sinks' deltas, tagged with the range its bad lines belong to) to the main thread, which alone writes SQLite. Taking ranges
 * one at a time keeps both cores busy to the end, whatever each range costs.
 */
import { parentPort, workerData } from 'node:worker_threads';
// The modules themselves, not the ingest barrel: a worker has no use for the gRPC client.
import { MAX_LINE_BYTES } from '../ingest/line-splitter.js';
import { forEachLineInRange } from '../ingest/range-reader.js';
import { BatchBuilder } from './batch-builder.js';
import { isShardable } from './ingest-session.js';
import { defaultSinks } from './sinks.js';

export interface WorkerJob {
  readonly file: string;
  /** The file's ranges, in order; a range's lines are those that start in [start, end). */
  readonly ranges: readonly { readonly start: number; readonly end: number }[];
  /** One Int32 shared by all workers: the next range to take. */
  readonly nextRange: SharedArrayBuffer;
  readonly batchSize: number;
  /** One Int32: batches this worker posted and the main thread has not committed yet. */
  readonly inFlight: SharedArrayBuffer;
}

/** Batches a worker may have in flight; beyond this it waits, so a lagging writer bounds memory. */
export const MAX_IN_FLIGHT = 2;

export type WorkerMessage =
  | {
      readonly type: 'batch';
      readonly range: number;
      readonly batch: ReturnType<BatchBuilder['take']>;
      readonly deltas: readonly unknown[];
      /** Ranges read to their end whose last lines are in this batch (or an earlier one). */
      readonly completed: readonly { readonly range: number; readonly lines: number }[];
      /** Posted mid-range: the range's lines starting before `upTo` are all in this batch or earlier ones. */
      readonly partial?: { readonly range: number; readonly upTo: number; readonly lines: number };
    }
  | { readonly type: 'range-done'; readonly range: number; readonly lines: number }
  | { readonly type: 'error'; readonly message: string };

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('replay-worker must run in a worker thread');
  const job = workerData as WorkerJob;
  const sinks = defaultSinks();
  if (!sinks.every(isShardable)) throw new Error('a sink cannot run in a worker');
  const builder = new BatchBuilder(sinks);
  const inFlight = new Int32Array(job.inFlight);
  const nextRange = new Int32Array(job.nextRange);
  let completed: { range: number; lines: number }[] = [];
  const post = (range: number, partial?: { range: number; upTo: number; lines: number }): void => {
    for (let n = Atomics.load(inFlight, 0); n >= MAX_IN_FLIGHT; n = Atomics.load(inFlight, 0)) {
      Atomics.wait(inFlight, 0, n, 1000);
    }
    Atomics.add(inFlight, 0, 1);
    const msg: WorkerMessage = {
      type: 'batch',
      range,
      batch: builder.take(),
      deltas: sinks.map((s) => (isShardable(s) ? s.takeDelta() : undefined)),
      completed,
      ...(partial ? { partial } : {}),
    };
    completed = [];
    port.postMessage(msg);
  };
  try {
    let lastRange = -1;
    for (let range = Atomics.add(nextRange, 0, 1); range < job.ranges.length; range = Atomics.add(nextRange, 0, 1)) {
      lastRange = range;
      const { start, end } = job.ranges[range] as WorkerJob['ranges'][number];
      const lines = forEachLineInRange(
        job.file,
        start,
        end,
        (line, n) => {
          builder.acceptLine(line, n);
        },
        (n, bytes) => {
          builder.countLine();
          builder.rejectLine(n, '(line)', `longer than ${MAX_LINE_BYTES} bytes (${bytes} bytes), skipped`);
        },
        (upTo, linesSoFar) => {
          if (builder.pendingEvents >= job.batchSize) post(range, { range, upTo, lines: linesSoFar });
        },
      );
      completed.push({ range, lines });
      // Bad lines are numbered within their range, so a batch holding some ends with the range;
      // any other batch goes on into the next range (fewer, fuller commits for the main thread).
      if (builder.pendingBadLines > 0) post(range);
      port.postMessage({ type: 'range-done', range, lines } satisfies WorkerMessage);
    }
    if (lastRange >= 0) post(lastRange);
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies WorkerMessage);
  }
}

main();
