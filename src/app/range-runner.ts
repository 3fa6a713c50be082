/**
 * The loop a replay worker runs, also run on the main thread when a worker died: takes the next
 * byte range of a file from a counter shared with the other runners, parses, decodes and
 * aggregates the lines that start in it, and posts each batch (with the sinks' deltas, tagged with
 * the range its bad lines belong to) to the one thread that writes SQLite. Taking ranges one at a
 * time keeps both cores busy to the end, whatever each range costs.
 */
// The modules themselves, not the ingest barrel: a worker has no use for the gRPC client.
import { MAX_LINE_BYTES } from '../ingest/line-splitter.js';
import { forEachLineInRange } from '../ingest/range-reader.js';
import { BatchBuilder } from './batch-builder.js';
import { type FlowSink, isShardable } from './ingest-session.js';

export interface RangeJob {
  readonly file: string;
  /** The file's ranges, in order; a range's lines are those that start in [start, end). */
  readonly ranges: readonly { readonly start: number; readonly end: number }[];
  /** One Int32 shared by all runners: the next range to take. */
  readonly nextRange: SharedArrayBuffer;
  readonly batchSize: number;
  /** One Int32: batches this runner posted and the writer has not committed yet. */
  readonly inFlight: SharedArrayBuffer;
}

/**
 * Batches a runner may have in flight; beyond this it waits, so a lagging writer bounds memory.
 * At 3,000 workloads (2M flows, two workers) no worker ever waited here: the main thread kept up,
 * but its commits (the edge writer, taking each batch off the port, a full collection) cost it
 * ~0.8 s of CPU for a worker's ~1 s, so three busy threads share two cores and neither lock nor
 * queue is what holds two workers back.
 */
export const MAX_IN_FLIGHT = 2;

export type RangeMessage =
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

/** Runs ranges until none is left; `post` hands each message to the writer (a port, or a call). */
export function runRanges(job: RangeJob, sinks: readonly FlowSink[], post: (msg: RangeMessage) => void): void {
  if (!sinks.every(isShardable)) throw new Error('a sink cannot run in a replay worker');
  const builder = new BatchBuilder(sinks);
  const inFlight = new Int32Array(job.inFlight);
  const nextRange = new Int32Array(job.nextRange);
  let completed: { range: number; lines: number }[] = [];
  const postBatch = (range: number, partial?: { range: number; upTo: number; lines: number }): void => {
    for (let n = Atomics.load(inFlight, 0); n >= MAX_IN_FLIGHT; n = Atomics.load(inFlight, 0)) {
      Atomics.wait(inFlight, 0, n, 1000);
    }
    Atomics.add(inFlight, 0, 1);
    const msg: RangeMessage = {
      type: 'batch',
      range,
      batch: builder.take(),
      deltas: sinks.map((s) => (isShardable(s) ? s.takeDelta() : undefined)),
      completed,
      ...(partial ? { partial } : {}),
    };
    completed = [];
    post(msg);
  };
  try {
    let lastRange = -1;
    for (let range = Atomics.add(nextRange, 0, 1); range < job.ranges.length; range = Atomics.add(nextRange, 0, 1)) {
      lastRange = range;
      const { start, end } = job.ranges[range] as RangeJob['ranges'][number];
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
          if (builder.isFull(job.batchSize)) postBatch(range, { range, upTo, lines: linesSoFar });
        },
      );
      completed.push({ range, lines });
      // Bad lines are numbered within their range, so a batch holding some ends with the range;
      // any other batch goes on into the next range (fewer, fuller commits for the writer).
      if (builder.pendingBadLines > 0) postBatch(range);
      post({ type: 'range-done', range, lines });
    }
    if (lastRange >= 0) postBatch(lastRange);
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}
