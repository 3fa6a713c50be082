import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { MAX_LINE_BYTES } from '../ingest/line-splitter.js';
import { type BadLine, type CommittedRange, type FingerprintedSource, type IngestBatch, IngestWriter, type SourceStatus, emptyBatch } from '../store/index.js';
import { FILE_BATCH_SIZE, type IngestTotals, MAX_PENDING_CHARS } from './batch-builder.js';
import { type FlowSink, isShardable } from './ingest-session.js';
import { type RangeJob, type RangeMessage, runRanges } from './range-runner.js';
import { type ReplayFileResult, type ReplayOptions, resumeNote } from './replay.js';
import { defaultSinks } from './sinks.js';

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
 * A worker's V8 heap limits, sized for the most a worker holds: one open batch (at most
 * MAX_PENDING_CHARS of line text, held about twice: the lines' values and their aggregation), one
 * line being decoded (at most MAX_LINE_BYTES: its text, its parse and its redacted copy, and the
 * flow kept whole for triage), and the code (~40 MB). The old-space cap is a ceiling, not a
 * reservation: ordinary flows of a few KB stay far below it.
 *
 * `maxYoungGenerationSizeMb` is the whole young generation, not a semi-space: V8 makes it three
 * semi-spaces (two, and the young large-object space), the semi-space rounded up to a power of two,
 * so 8 MB gives a 4 MB semi-space (a new space of 8 MB), half the main thread's REPLAY_SEMI_SPACE_MB
 * (cli/heap.ts). A young generation of 4 MB (2 MB semi-spaces) was scavenged so often that 8 was
 * faster (1M flows 8.3 s against 8.8-10.7 s); 24 MB (8 MB semi-spaces, as the main thread) took the
 * same CPU (1.01x) and peaked 13 MB higher (750 workloads, 500k flows, two workers, 3 pairs).
 */
export function workerLimits(oldSpaceMb?: number): { maxYoungGenerationSizeMb: number; maxOldGenerationSizeMb: number } {
  const mib = 1024 * 1024;
  const sized = 48 + Math.ceil((2 * MAX_PENDING_CHARS) / mib) + Math.ceil((4 * MAX_LINE_BYTES) / mib);
  return { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: oldSpaceMb ?? sized };
}

function startWorker(job: RangeJob, oldSpaceMb: number | undefined): Worker {
  const here = import.meta.url;
  const resourceLimits = workerLimits(oldSpaceMb);
  if (!here.endsWith('.ts')) return new Worker(new URL('./replay-worker.js', here), { workerData: job, resourceLimits });
  // Under vitest or tsx the sources are TypeScript: register tsx's loader inside the worker first.
  const entry = JSON.stringify(new URL('./replay-worker.ts', here).href);
  const bootstrap = `import('tsx/esm/api').then((api) => { api.register(); return import(${entry}); });`;
  return new Worker(bootstrap, { eval: true, workerData: job, resourceLimits });
}

/** Where one runner's range `r` is in the file: the part it belongs to and the part's lines before it. */
interface RangeSlot {
  readonly part: number;
  readonly linesBefore: number;
}

/**
 * Replays one uncompressed file with `workers` threads, each parsing and aggregating byte ranges
 * taken in turn; the main thread commits their batches. Line numbers of later ranges are known only once the
 * earlier ranges are counted, so their bad lines are reported (and stored) then.
 *
 * A worker that dies (out of memory, a crash) does not fail the replay: once the others are done,
 * the main thread reads what no commit covers, from where each range's committed part ends, and
 * says so in the result's note. A failed commit (a full disk) stops the replay: the source is
 * marked failed, the result counts what the database holds, and a later run resumes after it.
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
  const lineCounts: (number | undefined)[] = parts.map((p) => p.lines);
  /**
   * Per part: whether all its lines are committed, else the end of its committed beginning and
   * that beginning's lines. (A range a worker finished reading may still be in its open batch.)
   */
  const committedPart = parts.map((p) => ({ whole: p.lines !== undefined, upTo: p.start, lines: 0 }));
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
  const release = (bad: readonly BadLine[], offset: number): BadLine[] => {
    const shifted = bad.map((b) => ({ ...b, line: b.line + offset }));
    for (const b of shifted) options.onBadLine?.(file, b);
    return shifted;
  };
  let storeFailure: string | undefined;
  /** Set once the workers are gone or a commit failed: a batch arriving later is not committed. */
  let closed = false;
  const commit = (batch: IngestBatch, deltas: readonly unknown[], completed: readonly CommittedRange[] = []): boolean => {
    try {
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
      options.afterCommit?.();
      return true;
    } catch (e) {
      storeFailure ??= e instanceof Error ? e.message : String(e);
      closed = true;
      return false;
    }
  };
  const onDone = (part: number, lines: number): void => {
    lineCounts[part] = lines;
    // Ranges whose offset just became known release their held bad lines, in order.
    for (let r = 0; r < parts.length; r++) {
      const offset = offsetOf(r);
      const held = heldBadLines[r];
      if (offset === undefined || !held || held.length === 0) continue;
      const batch = emptyBatch();
      batch.badLineSamples.push(...release(held.splice(0), offset));
      if (!commit(batch, [])) return;
    }
  };
  /** Commits one runner message; `slots[r]` places the runner's range r in the file. */
  const handle = (msg: RangeMessage, slots: readonly RangeSlot[]): void => {
    if (closed) return;
    if (msg.type === 'error') throw new RunnerError(msg.message);
    const slot = slots[msg.range] as RangeSlot;
    if (msg.type === 'range-done') {
      onDone(slot.part, slot.linesBefore + msg.lines);
      return;
    }
    const { batch } = msg;
    // Ranges whose every line is in this batch or an earlier one: committed with it.
    // A range cut mid-way is committed up to its next line start; its completion replaces that.
    const completed = msg.completed.map((c) => {
      const s = slots[c.range] as RangeSlot;
      const p = parts[s.part] as { start: number; end: number };
      return { start: p.start, end: p.end, lines: s.linesBefore + c.lines };
    });
    const partial = msg.partial && { part: (slots[msg.partial.range] as RangeSlot).part, upTo: msg.partial.upTo, lines: (slots[msg.partial.range] as RangeSlot).linesBefore + msg.partial.lines };
    if (partial) completed.push({ start: (parts[partial.part] as { start: number }).start, end: partial.upTo, lines: partial.lines });
    const offset = offsetOf(slot.part);
    const samples = batch.badLineSamples.splice(0).map((b) => ({ ...b, line: b.line + slot.linesBefore }));
    if (offset === undefined) heldBadLines[slot.part]?.push(...samples);
    else batch.badLineSamples.push(...release(samples, offset));
    if (!commit(batch, msg.deltas, completed)) return;
    if (partial) committedPart[partial.part] = { whole: false, upTo: partial.upTo, lines: partial.lines };
    for (const c of msg.completed) (committedPart[(slots[c.range] as RangeSlot).part] as { whole: boolean }).whole = true;
    totals.lines += batch.lines;
    totals.events += batch.events;
    totals.flows += batch.flows;
    totals.badLines += batch.badLines;
    totals.lostEvents += batch.lostEventCount;
    totals.triageFlows += batch.triageFlows.length;
    options.onProgress?.(file, totals);
  };

  // Workers read only the ranges not committed yet.
  const todo = parts.flatMap((p, i) => (p.lines === undefined ? [i] : []));
  const threads = Math.min(workers, todo.length);
  const workerSlots: RangeSlot[] = todo.map((part) => ({ part, linesBefore: 0 }));
  const workerRanges = todo.map((i) => parts[i] as { start: number; end: number });
  const nextRange = new SharedArrayBuffer(4);
  let workerFailure: string | undefined;
  const live: Worker[] = [];
  await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<void>((resolve) => {
          const inFlight = new SharedArrayBuffer(4);
          const counter = new Int32Array(inFlight);
          const job: RangeJob = { file, ranges: workerRanges, nextRange, batchSize: options.batchSize ?? FILE_BATCH_SIZE, inFlight };
          const worker = startWorker(job, options.workerOldSpaceMb);
          live.push(worker);
          worker.on('message', (msg: RangeMessage) => {
            try {
              handle(msg, workerSlots);
            } catch (e) {
              workerFailure ??= e instanceof Error ? e.message : String(e);
            }
            if (msg.type === 'batch') {
              Atomics.sub(counter, 0, 1);
              Atomics.notify(counter, 0);
            }
            if (storeFailure !== undefined) for (const w of live) void w.terminate();
          });
          worker.on('error', (e) => {
            workerFailure ??= e.message;
          });
          worker.on('exit', (code) => {
            if (code !== 0 && storeFailure === undefined) workerFailure ??= `a replay worker exited with code ${code}`;
            resolve();
          });
        }),
    ),
  );

  let note = resume ? resumeNote(resume) : undefined;
  if (workerFailure !== undefined && storeFailure === undefined) {
    // What no commit covers: the ranges not complete, each from where its committed part ends.
    const rest = parts.flatMap((p, part) => {
      const c = committedPart[part] as { whole: boolean; upTo: number; lines: number };
      return c.whole ? [] : [{ part, upTo: c.upTo, lines: c.lines, end: p.end }];
    });
    const fallback = `a worker failed (${workerFailure}); the rest of the file was replayed on one thread`;
    note = note ? `${note}; ${fallback}` : fallback;
    workerFailure = undefined;
    const slots = rest.map((r) => ({ part: r.part, linesBefore: r.lines }));
    const ranges = rest.map((r) => ({ start: r.upTo, end: r.end }));
    const job: RangeJob = { file, ranges, nextRange: new SharedArrayBuffer(4), batchSize: options.batchSize ?? FILE_BATCH_SIZE, inFlight: new SharedArrayBuffer(4) };
    runRanges(job, defaultSinks(), (msg) => {
      // After a failed commit, reading on is pointless: stop the runner (it reports the error back).
      if (closed) {
        if (msg.type === 'error') return;
        throw new RunnerError('stopped: the database cannot be written');
      }
      try {
        handle(msg, slots);
      } catch (e) {
        workerFailure ??= e instanceof Error ? e.message : String(e);
      }
      if (msg.type === 'batch') Atomics.sub(new Int32Array(job.inFlight), 0, 1);
    });
  }
  closed = true;
  const failure = storeFailure !== undefined ? `cannot store: ${storeFailure}` : workerFailure;
  const stored = writer.storedTotals(sourceId);
  const status: SourceStatus = failure ? 'failed' : stored.badLines > 0 ? 'partial' : 'completed';
  try {
    writer.endSource(sourceId, status, new Date(clock()).toISOString());
  } catch {
    // The database cannot be written at all: the source stays 'running' and shows as interrupted.
  }
  // The summary reports what the database holds for this source (all of it, when resumed).
  return { file, sourceId, status, totals: stored, workers: threads, ...(failure ? { error: failure } : {}), ...(note ? { note } : {}) };
}

/** A runner reported an error of its own (not a commit): the replay falls back or fails. */
class RunnerError extends Error {}
