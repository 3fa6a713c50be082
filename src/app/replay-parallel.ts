import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { type BadLine, type CommittedRange, type FingerprintedSource, type IngestBatch, IngestWriter, type SourceStatus, emptyBatch } from '../store/index.js';
import type { IngestTotals } from './batch-builder.js';
import { type FlowSink, isShardable } from './ingest-session.js';
import { type ReplayFileResult, type ReplayOptions, resumeNote } from './replay.js';
import type { WorkerJob, WorkerMessage } from './replay-worker.js';

/**
 * `--workers auto` replays files smaller than this on one thread: two workers each start, load and
 * warm up their own copy of the code (~0.9 s of CPU), which a 173 MB file (100k flows: 1.5-2.0 s on
 * one thread, 1.5-1.8 s on two) does not win back, and a 1.7 GB one does (11 s against 7.5 s).
 */
export const PARALLEL_MIN_BYTES = 256 * 1024 * 1024;

/** Plain (not gzip) regular files whose sinks can run in workers; stdin and gzip stream on one thread. */
export function canReplayInParallel(file: string, sinks: readonly FlowSink[]): boolean {
  if (file === '-' || !sinks.every(isShardable)) return false;
  try {
    if (!statSync(file).isFile()) return false;
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(2);
      return !(readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * Workers take ranges of this size one at a time, so neither waits idle at the end while the other
 * finishes a half of the file (1M flows in two halves: one worker done 0.8 s before the other).
 */
const RANGE_BYTES = 16 * 1024 * 1024;

/** Byte ranges of about equal size, at least one per worker; workers align them to line starts. */
function ranges(size: number, workers: number, rangeBytes: number, from = 0): { start: number; end: number }[] {
  const n = Math.max(workers, Math.ceil(size / rangeBytes));
  const step = Math.ceil(size / n);
  return Array.from({ length: n }, (_, i) => ({ start: from + i * step, end: from + Math.min(size, (i + 1) * step) })).filter((r) => r.start < r.end);
}

/**
 * All ranges of the file in order: those a killed run committed (line counts known) and the gaps
 * between them, cut as a fresh run would cut them.
 */
function rangesAfter(size: number, workers: number, rangeBytes: number, done: readonly CommittedRange[]): { start: number; end: number; lines?: number }[] {
  const out: { start: number; end: number; lines?: number }[] = [];
  let at = 0;
  for (const d of [...done].sort((a, b) => a.start - b.start)) {
    if (d.start > at) out.push(...ranges(d.start - at, 1, rangeBytes, at));
    out.push(d);
    at = Math.max(at, d.end);
  }
  if (at < size) out.push(...ranges(size - at, done.length === 0 ? workers : 1, rangeBytes, at));
  return out;
}

/** How a replay relates to earlier ones of the same content. */
export interface ReplayIdentity {
  readonly fingerprint?: string;
  /** A killed replay of the same content: its source goes on, its committed ranges are skipped. */
  readonly resume?: FingerprintedSource;
}

/**
 * Each worker is its own V8 heap; left alone, young-generation growth lets three heaps (main and
 * two workers) pass 200 MB. A worker only holds one batch, so small heaps cost little GC.
 */
// Small heaps keep two workers' RSS low (young 16/old 64 MB peaked at 147 MB for 1M flows); a
// 4 MB young generation scavenged so often that 8 MB is faster (1M flows: 8.3 s against 8.8-10.7 s,
// 130 MB against 122 MB). MAX_LINE_BYTES keeps the largest line well inside them.
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 48 };

function startWorker(job: WorkerJob): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./replay-worker.js', here), { workerData: job, resourceLimits: WORKER_LIMITS });
  // Under vitest or tsx the sources are TypeScript: register tsx's loader inside the worker first.
  const entry = JSON.stringify(new URL('./replay-worker.ts', here).href);
  const bootstrap = `import('tsx/esm/api').then((api) => { api.register(); return import(${entry}); });`;
  return new Worker(bootstrap, { eval: true, workerData: job, resourceLimits: WORKER_LIMITS });
}

/**
 * Replays one uncompressed file with `workers` threads, each parsing and aggregating byte ranges
 * taken in turn; the main thread commits their batches. Line numbers of later ranges are known only once the
 * earlier ranges are counted, so their bad lines are reported (and stored) then.
 */
export async function replayInParallel(
  writer: IngestWriter,
  file: string,
  workers: number,
  options: ReplayOptions,
  identity: ReplayIdentity = {},
): Promise<ReplayFileResult> {
  const sinks = options.sinks?.() ?? [];
  const clock = options.clock ?? Date.now;
  const { resume } = identity;
  const sourceId = resume ? resume.id : writer.beginSource('file', file, new Date(clock()).toISOString(), identity.fingerprint);
  if (resume) writer.resumeSource(resume.id);
  const totals: IngestTotals = { lines: 0, events: 0, flows: 0, badLines: 0, duplicates: 0, lostEvents: 0, triageFlows: 0 };
  const parts = rangesAfter(statSync(file).size, workers, options.rangeBytes ?? RANGE_BYTES, resume?.ranges ?? []);
  // Workers read only the ranges not committed yet; `todo[i]` is the index in `parts` of their range i.
  const todo = parts.flatMap((p, i) => (p.lines === undefined ? [i] : []));
  const threads = Math.min(workers, todo.length);
  const nextRange = new SharedArrayBuffer(4);
  const lineCounts: (number | undefined)[] = parts.map((p) => p.lines);
  const heldBadLines: BadLine[][] = parts.map(() => []);

  const offsetOf = (range: number): number | undefined => {
    let offset = 0;
    for (let i = 0; i < range; i++) {
      const n = lineCounts[i];
      if (n === undefined) return undefined;
      offset += n;
    }
    return offset;
  };
  const release = (range: number, bad: readonly BadLine[], offset: number): BadLine[] => {
    const shifted = bad.map((b) => ({ ...b, line: b.line + offset }));
    for (const b of shifted) options.onBadLine?.(file, b);
    return shifted;
  };
  const commit = (batch: IngestBatch, deltas: readonly unknown[], completed: readonly CommittedRange[] = []): void => {
    writer.commit(
      sourceId,
      batch,
      (conn) => {
        sinks.forEach((s, i) => {
          if (isShardable(s) && deltas[i] !== undefined) s.applyDelta(conn, deltas[i]);
        });
      },
      completed,
    );
  };
  const onBatch = (range: number, batch: IngestBatch, deltas: readonly unknown[], completed: readonly CommittedRange[]): void => {
    const offset = offsetOf(range);
    const samples = batch.badLineSamples.splice(0);
    if (offset === undefined) heldBadLines[range]?.push(...samples);
    else batch.badLineSamples.push(...release(range, samples, offset));
    totals.lines += batch.lines;
    totals.events += batch.events;
    totals.flows += batch.flows;
    totals.badLines += batch.badLines;
    totals.lostEvents += batch.lostEventCount;
    totals.triageFlows += batch.triageFlows.length;
    commit(batch, deltas, completed);
    options.onProgress?.(file, totals);
  };
  const onDone = (range: number, lines: number): void => {
    lineCounts[range] = lines;
    // Ranges whose offset just became known release their held bad lines, in order.
    for (let r = 0; r < parts.length; r++) {
      const offset = offsetOf(r);
      const held = heldBadLines[r];
      if (offset === undefined || !held || held.length === 0) continue;
      const batch = emptyBatch();
      batch.badLineSamples.push(...release(r, held.splice(0), offset));
      commit(batch, []);
    }
  };

  let failure: string | undefined;
  await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<void>((resolve) => {
          const inFlight = new SharedArrayBuffer(4);
          const counter = new Int32Array(inFlight);
          const job: WorkerJob = { file, ranges: todo.map((i) => parts[i] as { start: number; end: number }), nextRange, batchSize: options.batchSize ?? 20_000, inFlight };
          const worker = startWorker(job);
          const partOf = (range: number): number => todo[range] as number;
          worker.on('message', (msg: WorkerMessage) => {
            if (msg.type === 'batch') {
              // Ranges whose every line is in this batch or an earlier one: committed with it.
              // A range cut mid-way is committed up to its next line start; its completion replaces that.
              const completed = msg.completed.map((c) => {
                const p = parts[partOf(c.range)] as { start: number; end: number };
                return { start: p.start, end: p.end, lines: c.lines };
              });
              if (msg.partial) {
                const p = parts[partOf(msg.partial.range)] as { start: number; end: number };
                completed.push({ start: p.start, end: msg.partial.upTo, lines: msg.partial.lines });
              }
              onBatch(partOf(msg.range), msg.batch, msg.deltas, completed);
              Atomics.sub(counter, 0, 1);
              Atomics.notify(counter, 0);
            } else if (msg.type === 'range-done') onDone(partOf(msg.range), msg.lines);
            else failure ??= msg.message;
          });
          worker.on('error', (e) => {
            failure ??= e.message;
            resolve();
          });
          worker.on('exit', () => resolve());
        }),
    ),
  );
  const stored = writer.storedTotals(sourceId);
  const status: SourceStatus = failure ? 'failed' : stored.badLines > 0 ? 'partial' : 'completed';
  writer.endSource(sourceId, status, new Date(clock()).toISOString());
  // The summary reports what the database holds for this source (all of it, when resumed).
  return { file, sourceId, status, totals: stored, workers: threads, ...(failure ? { error: failure } : {}), ...(resume ? { note: resumeNote(resume) } : {}) };
}
