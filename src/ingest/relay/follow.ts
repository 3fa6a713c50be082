/**
 * The reconnect/resume loop around GetFlows. When the relay restarts or the stream breaks, it waits
 * (exponential backoff with jitter) and asks again with `since` = where we are, which the caller's
 * dedupe window computes; the caller drops what the inclusive `since` sends twice. It also
 * reconnects on a timer and on request, because older relays fix the node list at request start
 * (hubble-api.md §5, "Peers joining later").
 */
import type { DecodeResult } from '../../flow/index.js';
import { Backoff } from './backoff.js';
import { type FlowStream, type ObserverConnection, RelayError, type StreamEnd } from './connection.js';
import type { FlowFilterMessage } from './filters.js';

export interface TimestampMessage {
  readonly seconds: number | string;
  readonly nanos: number;
}

/** GetFlowsRequest as proto-loader takes it (proto field names). */
export interface GetFlowsRequestMessage {
  readonly number?: string;
  readonly follow?: boolean;
  readonly since?: TimestampMessage;
  readonly until?: TimestampMessage;
  readonly whitelist?: readonly FlowFilterMessage[];
  readonly blacklist?: readonly FlowFilterMessage[];
}

export type FollowEvent =
  | { readonly type: 'stream-started'; readonly request: GetFlowsRequestMessage; readonly attempt: number; readonly resumed: boolean }
  | { readonly type: 'stream-broken'; readonly end: StreamEnd; readonly received: number; readonly delayMs: number; readonly attempt: number }
  | { readonly type: 'reconnect'; readonly reason: string; readonly received: number };

export interface FollowOptions {
  readonly request: GetFlowsRequestMessage;
  /** Where a resumed stream starts (the dedupe window's answer); undefined when nothing was seen. */
  readonly resumeSince: () => TimestampMessage | undefined;
  /** Each response, decoded, synchronously and in order. */
  readonly onResponse: (value: DecodeResult) => void;
  readonly onEvent?: (event: FollowEvent) => void;
  readonly signal: AbortSignal;
  readonly backoff?: Backoff;
  /** Planned reconnect so that nodes that joined later are streamed too; 0 disables. */
  readonly reconnectIntervalMs?: number;
  /** When the first request is a live tail, a resume before any flow starts this much before it. */
  readonly liveOverlapMs?: number;
  readonly clock?: () => number;
}

export type FollowResult = 'completed' | 'stopped';

/** Codes that retrying cannot fix: wrong endpoint, credentials or request. */
const FATAL = new Set(['INVALID_ARGUMENT', 'UNIMPLEMENTED', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'FAILED_PRECONDITION', 'OUT_OF_RANGE', 'NOT_FOUND']);

export function isFatal(codeName: string): boolean {
  return FATAL.has(codeName);
}

export class FlowFollower {
  readonly #conn: ObserverConnection;
  readonly #o: FollowOptions;
  readonly #backoff: Backoff;
  readonly #clock: () => number;
  #stream: FlowStream | undefined;
  #reconnectReason: string | undefined;
  #liveStart: TimestampMessage | undefined;
  streams = 0;
  reconnects = 0;

  constructor(conn: ObserverConnection, options: FollowOptions) {
    this.#conn = conn;
    this.#o = options;
    this.#backoff = options.backoff ?? new Backoff();
    this.#clock = options.clock ?? Date.now;
  }

  /** Ends the current stream and resumes at once (no backoff). */
  requestReconnect(reason: string): void {
    if (!this.#stream || this.#reconnectReason !== undefined) return;
    this.#reconnectReason = reason;
    this.#stream.cancel();
  }

  /** Runs until a non-follow request completes or the signal aborts; throws RelayError on fatal codes. */
  async run(): Promise<FollowResult> {
    const { signal } = this.#o;
    let resumed = false;
    while (!signal.aborted) {
      const request = resumed ? this.#resumeRequest() : this.#o.request;
      if (!resumed && !request.since && request.number === undefined) {
        const ms = this.#clock() - (this.#o.liveOverlapMs ?? 2000);
        this.#liveStart = { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
      }
      let received = 0;
      this.#reconnectReason = undefined;
      const stream = this.#conn.getFlows(request, (v) => {
        received++;
        this.#o.onResponse(v);
      });
      this.#stream = stream;
      this.streams++;
      this.#o.onEvent?.({ type: 'stream-started', request, attempt: this.#backoff.attempt, resumed });
      const onAbort = (): void => stream.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      const interval = this.#o.reconnectIntervalMs ?? 0;
      const timer = interval > 0 && request.follow ? setTimeout(() => this.requestReconnect('periodic reconnect'), interval) : undefined;
      let end: StreamEnd;
      try {
        end = await stream.done;
      } finally {
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#stream = undefined;
      }
      resumed = true;
      if (signal.aborted) return 'stopped';
      if (this.#reconnectReason !== undefined) {
        this.reconnects++;
        this.#backoff.reset();
        this.#o.onEvent?.({ type: 'reconnect', reason: this.#reconnectReason, received });
        continue;
      }
      if (end.ok && !request.follow) return 'completed';
      if (!end.ok && isFatal(end.codeName)) throw new RelayError(end.code, end.codeName, end.details);
      if (received > 0) this.#backoff.reset();
      const delayMs = this.#backoff.next();
      this.reconnects++;
      this.#o.onEvent?.({ type: 'stream-broken', end, received, delayMs, attempt: this.#backoff.attempt });
      await sleep(delayMs, signal);
    }
    return 'stopped';
  }

  #resumeRequest(): GetFlowsRequestMessage {
    const first = this.#o.request;
    const since = this.#o.resumeSince() ?? first.since ?? this.#liveStart;
    if (!since) return first; // `--last N` and nothing seen yet: ask again the same way
    const { number: _dropped, ...rest } = first;
    return { ...rest, since };
  }
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
