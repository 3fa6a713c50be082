// The modules themselves, not the ingest barrel, which also brings the gRPC client.
import { forEachLine, gunzipIfCompressed, openInput } from '../ingest/line-reader.js';
import { MAX_LINE_BYTES } from '../ingest/line-splitter.js';
import { type BadLine, type Db, IngestWriter, type SourceStatus } from '../store/index.js';
import { BadLineError, type FlowSink, IngestSession, type IngestTotals } from './ingest-session.js';
import { PARALLEL_MIN_BYTES, canReplayInParallel, replayInParallel } from './replay-parallel.js';
import { statSync } from 'node:fs';

export interface ReplayOptions {
  readonly strict: boolean;
  readonly stdin: NodeJS.ReadableStream;
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
}

export interface ReplayFileResult {
  readonly file: string;
  readonly sourceId: number;
  readonly status: SourceStatus;
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

async function replayOne(writer: IngestWriter, file: string, options: ReplayOptions): Promise<ReplayFileResult> {
  const workers = workersFor(file, options);
  if (workers > 1 && canReplayInParallel(file, options.sinks?.() ?? [])) {
    return replayInParallel(writer, file, workers, options);
  }
  const displayName = file === '-' ? '(stdin)' : file;
  const session = new IngestSession(writer, 'file', displayName, {
    batchSize: options.batchSize,
    sinks: options.sinks?.(),
    clock: options.clock,
  });
  const report = (bad: BadLine | undefined): void => {
    if (!bad) return;
    if (options.strict) throw new BadLineError(displayName, bad);
    options.onBadLine?.(displayName, bad);
  };
  try {
    await forEachLine(
      gunzipIfCompressed(openInput(file, options.stdin)),
      (line, lineNo) => report(session.acceptLine(line, lineNo)),
      (lineNo, bytes) => {
        session.countLine();
        report(session.rejectLine(lineNo, '(line)', `longer than ${MAX_LINE_BYTES} bytes (${bytes} bytes), skipped`));
      },
      () => {
        session.commitIfDue();
        options.onProgress?.(displayName, session.totals);
      },
    );
  } catch (e) {
    if (e instanceof BadLineError) {
      session.finish('failed');
      throw e;
    }
    const message = e instanceof Error ? e.message : String(e);
    session.finish('failed');
    return { file: displayName, sourceId: session.sourceId, status: 'failed', totals: session.totals, workers: 1, error: message };
  }
  const status: SourceStatus = session.totals.badLines > 0 ? 'partial' : 'completed';
  session.finish(status);
  options.onProgress?.(displayName, session.totals);
  return { file: displayName, sourceId: session.sourceId, status, totals: session.totals, workers: 1 };
}
