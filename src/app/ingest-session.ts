import type { Flow, HubbleEvent } from '../flow/index.js';
import { type BadLine, type Db, IngestWriter, type SourceKind, type SourceStatus, type StoredTotals } from '../store/index.js';
import { BatchBuilder, DEFAULT_BATCH_SIZE, type IngestTotals } from './batch-builder.js';

export { DEFAULT_BATCH_SIZE, FILE_BATCH_SIZE, type IngestTotals, MAX_PENDING_ITEMS } from './batch-builder.js';

/** A consumer of every stored flow (the edge aggregator); flushed inside each batch transaction. */
export interface FlowSink {
  add(flow: Flow): void;
  flush(db: Db): void;
  /**
   * Items (edges) held for the next flush. Flow counts alone do not bound a batch's memory: on a
   * big churning cluster 20,000 flows can hold 10,000 distinct edges, so batches also end here.
   */
  readonly pendingItems?: number;
  /** Characters of text held for the next flush (labels, names, URLs, addresses it keeps). */
  readonly keptChars?: number;
}

/**
 * A sink whose pending work can be moved between threads: a replay worker `add`s flows and
 * `takeDelta`s a structured-cloneable value; the main thread `applyDelta`s it inside the batch
 * transaction, with the same effect as `flush` after the same adds.
 */
export interface ShardableSink<Delta = unknown> extends FlowSink {
  takeDelta(): Delta;
  applyDelta(db: Db, delta: Delta): void;
}

export function isShardable(sink: FlowSink): sink is ShardableSink {
  return typeof (sink as Partial<ShardableSink>).takeDelta === 'function' && typeof (sink as Partial<ShardableSink>).applyDelta === 'function';
}

export interface IngestOptions {
  /** Events per transaction; larger batches are faster, smaller ones lose less on SIGKILL. */
  readonly batchSize?: number;
  /** Commit at least this often (ms) so a slow live stream is still visible within a second. */
  readonly maxBatchAgeMs?: number;
  readonly sinks?: readonly FlowSink[];
  /** Returns false for a flow already stored (relay resume sends the `since` boundary again). */
  readonly isNew?: (flow: Flow) => boolean;
  readonly clock?: () => number;
  /** Content fingerprint of a replayed file, so that it is recognised when replayed again. */
  readonly fingerprint?: string;
  /** Go on with this source (left behind by a killed run) instead of starting a new one. */
  readonly resumeSourceId?: number;
}

export class BadLineError extends Error {
  constructor(
    readonly sourceName: string,
    readonly bad: BadLine,
  ) {
    super(`${sourceName}:${bad.line}: ${bad.field}: ${bad.reason}`);
    this.name = 'BadLineError';
  }
}

/**
 * One ingest run (a replayed file or a relay session): decodes, redacts, counts and batches events,
 * then commits each batch atomically with the sinks' flush.
 */
export class IngestSession {
  readonly sourceId: number;
  readonly #writer: IngestWriter;
  readonly #sinks: readonly FlowSink[];
  readonly #builder: BatchBuilder;
  readonly #batchSize: number;
  readonly #maxBatchAgeMs: number;
  readonly #clock: () => number;
  #batchStartedAt: number;
  /** Why a commit failed; nothing is committed after that (the edge writer's caches may name rolled-back rows). */
  #commitFailure: string | undefined;

  constructor(writer: IngestWriter, kind: SourceKind, readonly name: string, options: IngestOptions = {}) {
    this.#writer = writer;
    this.#sinks = options.sinks ?? [];
    this.#builder = new BatchBuilder(this.#sinks, options.isNew);
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.#maxBatchAgeMs = options.maxBatchAgeMs ?? 1000;
    this.#clock = options.clock ?? Date.now;
    this.#batchStartedAt = this.#clock();
    if (options.resumeSourceId !== undefined) {
      writer.resumeSource(options.resumeSourceId);
      this.sourceId = options.resumeSourceId;
    } else {
      this.sourceId = writer.beginSource(kind, name, new Date(this.#clock()).toISOString(), options.fingerprint);
    }
  }

  get totals(): Readonly<IngestTotals> {
    return this.#builder.totals;
  }

  /** Parses one recorded line. Returns the problem for a bad line; the caller decides to go on. */
  acceptLine(text: string, lineNo: number): BadLine | undefined {
    return this.#builder.acceptLine(text, lineNo);
  }

  /** Counts a line that could not be used (also for lines too long to read). */
  rejectLine(lineNo: number, field: string, reason: string): BadLine {
    return this.#builder.rejectLine(lineNo, field, reason);
  }

  /** Countable line that was not JSON-parsed (the overlong case). */
  countLine(): void {
    this.#builder.countLine();
  }

  acceptEvent(event: HubbleEvent): void {
    this.#builder.acceptEvent(event);
  }

  commitIfDue(): boolean {
    if (this.#builder.isFull(this.#batchSize) || this.#clock() - this.#batchStartedAt >= this.#maxBatchAgeMs) {
      this.commit();
      return true;
    }
    return false;
  }

  commit(): void {
    if (this.#commitFailure !== undefined) throw new Error(this.#commitFailure);
    const batch = this.#builder.take();
    this.#batchStartedAt = this.#clock();
    try {
      this.#writer.commit(this.sourceId, batch, (db) => {
        for (const sink of this.#sinks) sink.flush(db);
      });
    } catch (e) {
      this.#commitFailure = e instanceof Error ? e.message : String(e);
      throw e;
    }
  }

  /** Why a commit failed (a full disk), if one did. */
  get commitFailure(): string | undefined {
    return this.#commitFailure;
  }

  finish(status: SourceStatus): void {
    this.commit();
    this.#writer.endSource(this.sourceId, status, new Date(this.#clock()).toISOString());
  }

  /**
   * Ends the source even when a commit fails or failed (a full disk): the open batch is then
   * dropped and the source marked failed. Returns why the commit failed, if it did.
   */
  finishSafely(status: SourceStatus): string | undefined {
    try {
      this.finish(status);
      return undefined;
    } catch (e) {
      const reason = this.#commitFailure ?? (e instanceof Error ? e.message : String(e));
      try {
        this.#writer.endSource(this.sourceId, 'failed', new Date(this.#clock()).toISOString());
      } catch {
        // The database cannot be written at all: the source stays 'running' and shows as interrupted.
      }
      return reason;
    }
  }

  /** What this source has stored (more than `totals` when it resumed a killed run; less if a commit failed). */
  storedTotals(): StoredTotals {
    return this.#writer.storedTotals(this.sourceId);
  }
}
