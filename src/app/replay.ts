// The modules themselves, not the ingest barrel, which also brings the gRPC client.
import { forEachLine, gunzipIfCompressed, openInput } from '../ingest/line-reader.js';
import { MAX_LINE_BYTES } from '../ingest/line-splitter.js';
import { type BadLine, type Db, type FingerprintedSource, IngestWriter, type SourceStatus } from '../store/index.js';
import { BadLineError, DEFAULT_BATCH_SIZE, FILE_BATCH_SIZE, type FlowSink, IngestSession, type IngestTotals } from './ingest-session.js';
import { PARALLEL_MIN_BYTES, canReplayInParallel, replayInParallel } from './replay-parallel.js';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export interface ReplayOptions {
  readonly strict: boolean;
  readonly stdin: NodeJS.ReadableStream;
  /** Events per batch; default FILE_BATCH_SIZE for a file, DEFAULT_BATCH_SIZE for stdin. */
  readonly batchSize?: number;
  /** Parse threads for large plain files; `auto` uses 2 on a multi-core machine for files over 256 MiB. */
  readonly workers?: number | 'auto';
  /** Bytes per range a worker takes at a time (default 16 MiB); tests use small ones. */
  readonly rangeBytes?: number;
  readonly cores?: number;
  /** Builds the sinks for one source (a fresh edge aggregator per file). */
  readonly sinks?: () => readonly FlowSink[];
  readonly onBadLine?: (file: string, bad: BadLine) => void;
  /** Called between chunks with running totals, for a progress line. */
  readonly onProgress?: (file: string, totals: Readonly<IngestTotals>) => void;
  readonly clock?: () => number;
  /** Caps each worker's old space (MB) instead of sizing it for the work; tests make workers die with it. */
  readonly workerOldSpaceMb?: number;
  /** Replay a file again even though one with the same content was replayed to the end. */
  readonly force?: boolean;
  /** Runs after each batch is committed (the CLI collects the batch's garbage then). */
  readonly afterCommit?: () => void;
}

export interface ReplayFileResult {
  readonly file: string;
  readonly sourceId: number;
  /** `skipped`: the same content was replayed before (see `note`); nothing was stored. */
  readonly status: SourceStatus | 'skipped';
  /** Why a file was skipped, or that it resumed a killed replay. */
  readonly note?: string;
  readonly totals: Readonly<IngestTotals>;
  /** Threads that parsed the file. */
  readonly workers: number;
  /** Set when reading stopped early (I/O or gzip error); what was read before is stored. */
  readonly error?: string;
}

/**
 * Replays recorded files into the database, one source each. Bad lines are counted and reported;
 * with `strict` the first one stops the run (BadLineError) after committing what came before it.
 */
export async function replayFiles(db: Db, files: readonly string[], options: ReplayOptions): Promise<ReplayFileResult[]> {
  const writer = new IngestWriter(db);
  const results: ReplayFileResult[] = [];
  for (const file of files) {
    results.push(await replayOne(writer, file, options));
  }
  return results;
}

function workersFor(file: string, options: ReplayOptions): number {
  if (options.strict) return 1;
  const requested = options.workers ?? 1;
  if (requested === 'auto') {
    if ((options.cores ?? 1) < 2 || file === '-') return 1;
    try {
      return statSync(file).size >= PARALLEL_MIN_BYTES ? 2 : 1;
    } catch {
      return 1;
    }
  }
  return requested;
}

/** Bytes of a file's start that (with its size) recognise it when it is replayed again. */
const FINGERPRINT_BYTES = 1024 * 1024;

/** sha256 of the size and the first MiB: the same recording under another name or path is the same. */
export function fingerprintOf(file: string): string {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    hash.update(`${statSync(file).size}\n`);
    const buf = Buffer.alloc(FINGERPRINT_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

async function replayOne(writer: IngestWriter, file: string, options: ReplayOptions): Promise<ReplayFileResult> {
  const displayName = file === '-' ? '(stdin)' : file;
  const fingerprint = file === '-' || !statSync(file).isFile() ? undefined : fingerprintOf(file);
  const prior = fingerprint === undefined || options.force ? undefined : writer.findByFingerprint(fingerprint);
  if (prior && prior.runningPid !== undefined) {
    return skipped(displayName, prior, `being replayed by process ${prior.runningPid} (source #${prior.id}); skipped`);
  }
  if (prior && (prior.status === 'completed' || prior.status === 'partial')) {
    return skipped(displayName, prior, `already replayed as source #${prior.id} (${prior.name}, ${prior.status}); skipped (--force replays it again)`);
  }
  // A killed (or failed) replay of the same content goes on after what it committed.
  const resume = prior;
  const workers = workersFor(file, options);
  const sinks = options.sinks?.() ?? [];
  if (resume && resume.ranges.length > 0) {
    return replayInParallel(writer, file, Math.max(2, workers), options, { fingerprint, resume });
  }
  if (!(resume && resume.lines > 0) && workers > 1 && canReplayInParallel(file, sinks)) {
    return replayInParallel(writer, file, workers, options, { fingerprint, resume });
  }
  const skipLines = resume?.lines ?? 0;
  const session = new IngestSession(writer, 'file', displayName, {
    batchSize: options.batchSize ?? (file === '-' ? DEFAULT_BATCH_SIZE : FILE_BATCH_SIZE),
    // A live pipe (`hubble observe -o json | … replay -`) shows its flows within a second; a file's
    // batches end by size only, so they are as large as the bounds allow (fewer, cheaper commits).
    ...(file === '-' ? {} : { maxBatchAgeMs: Number.POSITIVE_INFINITY }),
    sinks,
    clock: options.clock,
    fingerprint,
    resumeSourceId: resume?.id,
  });
  const note = resume ? resumeNote(resume) : undefined;
  const report = (bad: BadLine | undefined): void => {
    if (!bad) return;
    if (options.strict) throw new BadLineError(displayName, bad);
    options.onBadLine?.(displayName, bad);
  };
  try {
    await forEachLine(
      gunzipIfCompressed(openInput(file, options.stdin)),
      (line, lineNo) => {
        if (lineNo > skipLines) report(session.acceptLine(line, lineNo));
      },
      (lineNo, bytes) => {
        if (lineNo <= skipLines) return;
        session.countLine();
        report(session.rejectLine(lineNo, '(line)', `longer than ${MAX_LINE_BYTES} bytes (${bytes} bytes), skipped`));
      },
      () => {
        if (session.commitIfDue()) options.afterCommit?.();
        options.onProgress?.(displayName, session.totals);
      },
    );
  } catch (e) {
    if (e instanceof BadLineError) {
      session.finishSafely('failed');
      throw e;
    }
    const message = session.commitFailure !== undefined ? `cannot store: ${session.commitFailure}` : e instanceof Error ? e.message : String(e);
    session.finishSafely('failed');
    return { file: displayName, sourceId: session.sourceId, status: 'failed', totals: session.storedTotals(), workers: 1, error: message, ...(note ? { note } : {}) };
  }
  const totals = session.storedTotals();
  const status: SourceStatus = totals.badLines > 0 || session.totals.badLines > 0 ? 'partial' : 'completed';
  const failure = session.finishSafely(status);
  // The summary reports what the database holds for this source, not what was read.
  const stored = session.storedTotals();
  options.onProgress?.(displayName, stored);
  return {
    file: displayName,
    sourceId: session.sourceId,
    status: failure ? 'failed' : status,
    totals: stored,
    workers: 1,
    ...(failure ? { error: `cannot store: ${failure}` } : {}),
    ...(note ? { note } : {}),
  };
}

function skipped(file: string, prior: FingerprintedSource, note: string): ReplayFileResult {
  return {
    file,
    sourceId: prior.id,
    status: 'skipped',
    note,
    totals: { lines: 0, events: 0, flows: 0, badLines: 0, duplicates: 0, lostEvents: 0, triageFlows: 0 },
    workers: 0,
  };
}

export function resumeNote(prior: FingerprintedSource): string {
  const done = prior.ranges.length > 0 ? `${prior.ranges.length} committed ranges` : `line ${prior.lines}`;
  return `resumed source #${prior.id} (${prior.status === 'running' ? 'interrupted' : prior.status}) after ${done}`;
}
