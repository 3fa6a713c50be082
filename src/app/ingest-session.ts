import { type Flow, type HubbleEvent, decodeEvent, redactFlow } from '../flow/index.js';
import {
  type BadLine,
  type Db,
  type IngestBatch,
  IngestWriter,
  type SourceKind,
  type SourceStatus,
  emptyBatch,
} from '../store/index.js';

/** A consumer of every stored flow (the edge aggregator); flushed inside each batch transaction. */
export interface FlowSink {
  add(flow: Flow): void;
  flush(db: Db): void;
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
}

export interface IngestTotals {
  lines: number;
  events: number;
  flows: number;
  badLines: number;
  duplicates: number;
  lostEvents: number;
  triageFlows: number;
}

/** Verdicts whose flows triage reads whole; all others only feed counts and edges. */
const KEPT_WHOLE = new Set(['DROPPED', 'AUDIT', 'ERROR']);

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
  readonly totals: IngestTotals = { lines: 0, events: 0, flows: 0, badLines: 0, duplicates: 0, lostEvents: 0, triageFlows: 0 };
  readonly #db: Db;
  readonly #writer: IngestWriter;
  readonly #sinks: readonly FlowSink[];
  readonly #isNew: ((flow: Flow) => boolean) | undefined;
  readonly #batchSize: number;
  readonly #maxBatchAgeMs: number;
  readonly #clock: () => number;
  #batch: IngestBatch = emptyBatch();
  #batchStartedAt: number;

  constructor(db: Db, writer: IngestWriter, kind: SourceKind, readonly name: string, options: IngestOptions = {}) {
    this.#db = db;
    this.#writer = writer;
    this.#sinks = options.sinks ?? [];
    this.#isNew = options.isNew;
    this.#batchSize = options.batchSize ?? 20_000;
    this.#maxBatchAgeMs = options.maxBatchAgeMs ?? 1000;
    this.#clock = options.clock ?? Date.now;
    this.#batchStartedAt = this.#clock();
    this.sourceId = writer.beginSource(kind, name, new Date(this.#clock()).toISOString());
  }

  /** Parses one recorded line. Returns the problem for a bad line; the caller decides to go on. */
  acceptLine(text: string, lineNo: number): BadLine | undefined {
    this.#batch.lines++;
    this.totals.lines++;
    if (text.length === 0 || isBlank(text)) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return this.rejectLine(lineNo, '(json)', jsonReason(e, text));
    }
    const result = decodeEvent(value);
    if (!result.ok) return this.rejectLine(lineNo, result.error.field, result.error.reason);
    this.acceptEvent(result.event);
    return undefined;
  }

  /** Counts a line that could not be used (also for lines too long to read). */
  rejectLine(lineNo: number, field: string, reason: string): BadLine {
    const bad = { line: lineNo, field, reason };
    this.#batch.badLines++;
    this.totals.badLines++;
    this.#batch.badLineSamples.push(bad);
    return bad;
  }

  /** Countable line that was not JSON-parsed (the overlong case). */
  countLine(): void {
    this.#batch.lines++;
    this.totals.lines++;
  }

  acceptEvent(event: HubbleEvent): void {
    const b = this.#batch;
    b.events++;
    this.totals.events++;
    switch (event.kind) {
      case 'flow':
        this.#acceptFlow(event.flow);
        break;
      case 'lost':
        b.lostEvents.push(event.lost);
        b.lostEventCount += event.lost.numEventsLost;
        this.totals.lostEvents += event.lost.numEventsLost;
        break;
      case 'node-status':
        b.nodeStatuses.push(event.status);
        break;
      case 'other':
        break;
      default: {
        const never: never = event;
        throw new Error(`unhandled event ${String(never)}`);
      }
    }
  }

  #acceptFlow(raw: Flow): void {
    const b = this.#batch;
    if (this.#isNew && !this.#isNew(raw)) {
      b.duplicates++;
      this.totals.duplicates++;
      return;
    }
    const flow = redactFlow(raw);
    b.flows++;
    this.totals.flows++;
    b.verdicts.set(flow.verdict, (b.verdicts.get(flow.verdict) ?? 0) + 1);
    if (b.firstFlowMs === undefined || flow.timeMs < b.firstFlowMs) b.firstFlowMs = flow.timeMs;
    if (b.lastFlowMs === undefined || flow.timeMs > b.lastFlowMs) b.lastFlowMs = flow.timeMs;
    if (b.lastFlowTime === undefined || flow.time > b.lastFlowTime) b.lastFlowTime = flow.time;
    if (KEPT_WHOLE.has(flow.verdict)) {
      b.triageFlows.push(flow);
      this.totals.triageFlows++;
    }
    for (const sink of this.#sinks) sink.add(flow);
  }

  /** Events waiting in the open batch (what a crash now would lose). */
  get pending(): number {
    return this.#batch.lines + this.#batch.events;
  }

  commitIfDue(): boolean {
    if (this.#batch.events >= this.#batchSize || this.#clock() - this.#batchStartedAt >= this.#maxBatchAgeMs) {
      this.commit();
      return true;
    }
    return false;
  }

  commit(): void {
    const batch = this.#batch;
    this.#batch = emptyBatch();
    this.#batchStartedAt = this.#clock();
    this.#writer.commit(this.sourceId, batch, (db) => {
      for (const sink of this.#sinks) sink.flush(db);
    });
  }

  finish(status: SourceStatus): void {
    this.commit();
    this.#writer.endSource(this.sourceId, status, new Date(this.#clock()).toISOString());
  }

  get db(): Db {
    return this.#db;
  }
}

function isBlank(s: string): boolean {
  return s.trim().length === 0;
}

function jsonReason(e: unknown, text: string): string {
  const msg = e instanceof Error ? e.message : String(e);
  // V8 quotes the whole input in some messages; keep the error one line and short.
  const short = msg.replace(/\s+/g, ' ').slice(0, 160);
  return text.length > 0 && short.length > 0 ? `invalid JSON: ${short}` : 'invalid JSON';
}
