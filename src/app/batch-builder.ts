import { type Flow, type HubbleEvent, LineDecoder, decodeEvent, redactFlow } from '../flow/index.js';
import { type BadLine, type IngestBatch, emptyBatch } from '../store/index.js';
import type { FlowSink } from './ingest-session.js';

export interface IngestTotals {
  lines: number;
  events: number;
  flows: number;
  badLines: number;
  duplicates: number;
  lostEvents: number;
  triageFlows: number;
}

/**
 * A batch ends once a sink holds this many items (edges and cluster addresses), however few flows
 * it has. Each item is a few hundred bytes, so this bounds a batch to about 10-20 MB of them;
 * beyond that, bigger batches save little: every batch upserts each edge it touched once, and a
 * churning cluster's batch of 100,000 flows touches about 15,000 of them.
 */
export const MAX_PENDING_ITEMS = 32_000;

/** Events per batch unless told otherwise (`--batch-size`). */
export const DEFAULT_BATCH_SIZE = 100_000;

/**
 * Events per batch of a recorded file (not stdin) unless told otherwise: its batches end by the
 * items and text bounds instead. Every batch writes each edge it touched, and a churning cluster
 * brings new pod names to most of them each time: at 750 workloads 500,000 flows in batches of
 * 100,000 wrote 46,768 edge rows (28,912 with new sets) for 16,296 edges, in batches ended by
 * MAX_PENDING_ITEMS 34,211 (17,498). A file killed mid-batch is read again from its last commit.
 */
export const FILE_BATCH_SIZE = 1_000_000;

/**
 * A batch ends once the text it holds adds up to this many characters, however few flows it has:
 * 40 flows of 9 MB each held whole (drops are kept for triage; labels and URLs enter the edge
 * sets) made one batch of 360 MB. Counted is what the batch keeps: the lines of events held whole
 * and the text the sinks keep (`FlowSink.keptChars`); the line of any other flow is let go once it
 * is decoded (values that outlive it are copies: flow/own-copy.ts), so it is not counted.
 */
export const MAX_PENDING_CHARS = 32 * 1024 * 1024;

/** Verdicts whose flows triage reads whole; all others only feed counts and edges. */
const KEPT_WHOLE = new Set(['DROPPED', 'AUDIT', 'ERROR']);

/**
 * Turns lines and events into the next batch: decode, redact, count, keep triage flows, feed the
 * sinks. It touches no database, so replay workers run it too.
 */
export class BatchBuilder {
  readonly totals: IngestTotals = { lines: 0, events: 0, flows: 0, badLines: 0, duplicates: 0, lostEvents: 0, triageFlows: 0 };
  #batch: IngestBatch = emptyBatch();
  /** Characters of the lines of events the open batch holds whole (triage flows, lost events, node statuses). */
  #heldChars = 0;
  /** Events the open batch holds whole, so that acceptLine can tell whether it kept the line. */
  #held = 0;
  readonly #lines = new LineDecoder();

  constructor(
    private readonly sinks: readonly FlowSink[],
    private readonly isNew?: (flow: Flow) => boolean,
  ) {}

  /** Parses one recorded line. Returns the problem for a bad line; the caller decides to go on. */
  acceptLine(text: string, lineNo: number): BadLine | undefined {
    this.#batch.lines++;
    this.totals.lines++;
    if (text.length === 0) return undefined;
    const held = this.#held;
    // Plain flow lines are read straight into a Flow; the rest (and every error) goes the general way.
    const event = this.#lines.decode(text);
    if (event !== undefined) {
      this.acceptEvent(event);
      if (this.#held !== held) this.#heldChars += text.length;
      return undefined;
    }
    if (isBlank(text)) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return this.rejectLine(lineNo, '(json)', jsonReason(e, text));
    }
    const result = decodeEvent(value);
    if (!result.ok) return this.rejectLine(lineNo, result.error.field, result.error.reason);
    this.acceptEvent(result.event);
    if (this.#held !== held) this.#heldChars += text.length;
    return undefined;
  }

  /** Counts a line that could not be used (also for lines too long to read). */
  rejectLine(lineNo: number, field: string, reason: string): BadLine {
    const bad = { line: lineNo, field: withoutRawValues(field), reason: withoutRawValues(reason) };
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
        this.#held++;
        b.lostEvents.push(event.lost);
        b.lostEventCount += event.lost.numEventsLost;
        this.totals.lostEvents += event.lost.numEventsLost;
        break;
      case 'node-status':
        this.#held++;
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
    if (this.isNew && !this.isNew(raw)) {
      b.duplicates++;
      this.totals.duplicates++;
      return;
    }
    const flow = redactFlow(raw);
    b.flows++;
    this.totals.flows++;
    b.verdicts.set(flow.verdict, (b.verdicts.get(flow.verdict) ?? 0) + 1);
    if (b.firstFlowMs === undefined || flow.timeMs < b.firstFlowMs) b.firstFlowMs = flow.timeMs;
    // `time` orders like `timeMs` and only breaks its ties: one number compare per flow, mostly.
    const lastMs = b.lastFlowMs;
    if (lastMs === undefined || flow.timeMs > lastMs) {
      b.lastFlowMs = flow.timeMs;
      b.lastFlowTime = flow.time;
    } else if (flow.timeMs === lastMs && flow.time > (b.lastFlowTime ?? '')) {
      b.lastFlowTime = flow.time;
    }
    if (KEPT_WHOLE.has(flow.verdict)) {
      this.#held++;
      b.triageFlows.push(flow);
      this.totals.triageFlows++;
    }
    for (const sink of this.sinks) sink.add(flow);
  }

  /** Hands over the batch built so far and starts a new one. */
  take(): IngestBatch {
    const batch = this.#batch;
    this.#batch = emptyBatch();
    this.#heldChars = 0;
    return batch;
  }

  /** Whether the open batch should be committed now: by events, by edges, or by the text it holds. */
  isFull(batchSize: number): boolean {
    return this.#batch.events >= batchSize || this.pendingSinkItems >= MAX_PENDING_ITEMS || this.pendingChars >= MAX_PENDING_CHARS;
  }

  /** Characters of text the open batch holds: lines kept whole and what the sinks keep. */
  get pendingChars(): number {
    let n = this.#heldChars;
    for (const s of this.sinks) n += s.keptChars ?? 0;
    return n;
  }

  /** Events in the open batch. */
  get pendingEvents(): number {
    return this.#batch.events;
  }

  /** The most items (edges) any sink holds for the open batch. */
  get pendingSinkItems(): number {
    let n = 0;
    for (const s of this.sinks) n = Math.max(n, s.pendingItems ?? 0);
    return n;
  }

  /** Bad lines in the open batch. */
  get pendingBadLines(): number {
    return this.#batch.badLineSamples.length;
  }
}

/**
 * A bad line is kept (and printed) as its field and the reason, never its raw value, which may be
 * a secret: quoted parts of a message ("invalid timestamp \"...\"", V8's JSON errors quoting the
 * input) become `(value)`, and control characters a space.
 */
export function withoutRawValues(text: string): string {
  return text
    .replace(/"(?:[^"\\]|\\.)*"?/g, '(value)')
    .replace(/'(?:[^'\\]|\\.)*'?/g, '(value)')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .slice(0, 200);
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
