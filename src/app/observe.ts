/**
 * `observe`: follows Hubble Relay's GetFlows and feeds the same pipeline as replay (redact, batch,
 * sinks) until stopped. The relay side (connection, wire decoding straight into Flow, resume loop,
 * dedupe) lives in ingest/.
 *
 * Memory stays bounded without an explicit queue: each response is decoded, deduped and added to the
 * open batch synchronously in the call's message callback (the next message is asked for only
 * after it returns), and a full batch is committed right there.
 * While SQLite writes, nothing is read; grpc-js keeps at most the HTTP/2 flow-control window of
 * undelivered bytes, and the relay holds the rest (or reports it lost).
 */
import { type DecodeResult, type HubbleEvent, type LostEvent, type NodeStatusEvent, isoFromMs } from '../flow/index.js';
import {
  Backoff,
  DEFAULT_OVERLAP_MS,
  DedupeWindow,
  type FlowFilterMessage,
  FlowFollower,
  type FollowEvent,
  type GetFlowsRequestMessage,
  ObserverConnection,
  RelayError,
  type RelayTarget,
  type ServerStatus,
  type TimestampMessage,
  isFatal,
  sleep,
} from '../ingest/index.js';
import { type Db, IngestWriter, RelayResumeWriter, type SourceStatus, WalCheckpoints, readRelayResumeState } from '../store/index.js';
import { type FlowSink, IngestSession, type IngestTotals } from './ingest-session.js';

export interface ObserveOptions {
  readonly target: RelayTarget;
  /** Epoch ms. Absent: resume after the newest flow stored for this server, else the live tail. */
  readonly since?: number;
  /** Epoch ms. In the past at start: fetch history and end; in the future: stop then. */
  readonly until?: number;
  readonly durationMs?: number;
  /** `--last N`: N flows per node from the ring first, then live. */
  readonly last?: number;
  readonly whitelist?: readonly FlowFilterMessage[];
  /** Ignore what earlier runs stored (default: resume after it). */
  readonly noResume?: boolean;
  readonly batchSize?: number;
  readonly maxBatchAgeMs?: number;
  readonly reconnectIntervalMs?: number;
  readonly connectTimeoutMs?: number;
  /** How often to ask ServerStatus whether nodes joined (reconnect when they did); 0 disables. */
  readonly statusPollMs?: number;
  readonly overlapMs?: number;
  readonly flowControlWindow?: number;
  readonly backoff?: Backoff;
  readonly sinks?: readonly FlowSink[];
  readonly signal: AbortSignal;
  readonly clock?: () => number;
  readonly onNotice?: (notice: ObserveNotice) => void;
  /** About once a second, for a status line. */
  readonly onProgress?: (stats: ObserveStats) => void;
}

export type ObserveNotice =
  | { readonly kind: 'server-status'; readonly status: ServerStatus }
  | { readonly kind: 'resuming'; readonly since: string; readonly from: 'database' | 'flag' }
  | { readonly kind: 'stream-started'; readonly resumed: boolean; readonly follow: boolean; readonly since?: string }
  | { readonly kind: 'stream-broken'; readonly reason: string; readonly delayMs: number; readonly attempt: number }
  | { readonly kind: 'reconnect'; readonly reason: string }
  | { readonly kind: 'lost'; readonly lost: LostEvent }
  | { readonly kind: 'node-status'; readonly status: NodeStatusEvent }
  | { readonly kind: 'bad-response'; readonly index: number; readonly field: string; readonly reason: string }
  | { readonly kind: 'stopping'; readonly reason: StopReason };

export type StopReason = 'signal' | 'duration' | 'until' | 'completed' | 'error';

export interface ObserveStats {
  readonly flows: number;
  readonly flowsPerSecond: number;
  readonly edges: number | undefined;
  readonly drops: number;
  readonly lostEvents: number;
  readonly duplicates: number;
  readonly reconnects: number;
  readonly uptimeMs: number;
}

export interface ObserveResult {
  readonly server: string;
  readonly sourceId: number;
  readonly status: SourceStatus;
  readonly stopReason: StopReason;
  readonly totals: Readonly<IngestTotals>;
  readonly drops: number;
  readonly lostBySource: Readonly<Record<string, number>>;
  readonly streams: number;
  readonly reconnects: number;
  readonly startedAt: string;
  readonly elapsedMs: number;
  readonly serverStatus: ServerStatus;
  readonly resumedFrom?: string;
  /** Set when a fatal relay error ended the run; what came before it is stored. */
  readonly error?: string;
}

/** The initial connection failed (before anything was stored). */
export class RelayUnreachableError extends Error {
  constructor(
    readonly server: string,
    readonly relayError: RelayError,
  ) {
    super(`${server}: cannot reach Hubble: ${relayError.message}`);
    this.name = 'RelayUnreachableError';
  }
}

export async function observe(db: Db, o: ObserveOptions): Promise<ObserveResult> {
  const clock = o.clock ?? Date.now;
  const startMs = clock();
  const history = o.until !== undefined && o.until <= startMs;
  const overlapMs = o.overlapMs ?? DEFAULT_OVERLAP_MS;
  const stored = o.since === undefined && o.last === undefined && !o.noResume ? readRelayResumeState(db, o.target.name, overlapMs) : undefined;
  const floor = stored?.newestTime;
  // Without stored keys (a database from before they were kept) the newest stored flow is a floor.
  const window = new DedupeWindow({
    overlapMs,
    persist: true,
    ...(stored && stored.keys.length > 0 ? { resume: stored } : { floor }),
  });
  const request: GetFlowsRequestMessage = {
    follow: !history,
    ...(o.last !== undefined ? { number: String(o.last) } : {}),
    ...(o.since !== undefined ? { since: msToTimestamp(o.since) } : floor !== undefined ? { since: window.resumeSince() } : {}),
    ...(history && o.until !== undefined ? { until: msToTimestamp(o.until) } : {}),
    ...(o.whitelist && o.whitelist.length > 0 ? { whitelist: o.whitelist } : {}),
  };

  const conn = await ObserverConnection.open(o.target, { flowControlWindow: o.flowControlWindow });
  let session: IngestSession | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    const serverStatus = await connect(conn, o.connectTimeoutMs ?? 5000, o.signal);
    o.onNotice?.({ kind: 'server-status', status: serverStatus });
    if (floor !== undefined) o.onNotice?.({ kind: 'resuming', since: floor, from: 'database' });

    const drops = { n: 0 };
    const dropCounter: FlowSink = { add: (f) => void (f.verdict === 'DROPPED' && drops.n++), flush() {} };
    // The dedupe keys of each batch are committed with it: a restart, even after SIGKILL, resumes exactly.
    const resumeWriter = new RelayResumeWriter(db, o.target.name, overlapMs);
    const resumeKeys: FlowSink = { add() {}, flush: () => resumeWriter.save(window.takePending(), window.newestMs) };
    const sinks = [...(o.sinks ?? []), dropCounter, resumeKeys];
    session = new IngestSession(new IngestWriter(db), 'relay', o.target.name, {
      batchSize: o.batchSize,
      maxBatchAgeMs: o.maxBatchAgeMs,
      sinks,
      isNew: window.isNew,
      clock,
    });
    const s = session;
    const checkpoints = new WalCheckpoints(db, { clock });
    const lostBySource: Record<string, number> = {};

    const stop = new AbortController();
    let stopReason: StopReason = 'completed';
    const stopWith = (reason: StopReason): void => {
      if (stop.signal.aborted) return;
      stopReason = reason;
      o.onNotice?.({ kind: 'stopping', reason });
      stop.abort();
    };
    if (o.signal.aborted) stopWith('signal');
    o.signal.addEventListener('abort', () => stopWith('signal'), { once: true });
    if (o.durationMs !== undefined) timers.push(setTimeout(() => stopWith('duration'), o.durationMs));
    if (o.until !== undefined && !history) timers.push(setTimeout(() => stopWith('until'), Math.max(0, o.until - startMs)));

    let responses = 0;
    const onResponse = (result: DecodeResult): void => {
      if (stop.signal.aborted) return; // stopping: nothing after the final commit
      responses++;
      if (!result.ok) {
        // Reported as stored: field and reason, without the raw value (which may be a secret).
        const bad = s.rejectLine(responses, result.error.field, result.error.reason);
        o.onNotice?.({ kind: 'bad-response', index: responses, field: bad.field, reason: bad.reason });
      } else {
        // Deduped on the time the server sent (if any), before a receive time is stamped on.
        if (result.event.kind === 'lost' && !window.isNewLost(result.event.lost)) return;
        const event = stamp(result.event, clock);
        if (event.kind === 'lost') {
          lostBySource[event.lost.source] = (lostBySource[event.lost.source] ?? 0) + event.lost.numEventsLost;
          o.onNotice?.({ kind: 'lost', lost: event.lost });
        } else if (event.kind === 'node-status') {
          o.onNotice?.({ kind: 'node-status', status: event.status });
        }
        s.acceptEvent(event);
      }
      if (s.commitIfDue()) checkpoints.afterCommit();
    };

    const follower = new FlowFollower(conn, {
      request,
      resumeSince: () => window.resumeSince(),
      onResponse,
      onEvent: (e) => reportFollowEvent(e, o),
      signal: stop.signal,
      backoff: o.backoff,
      reconnectIntervalMs: o.reconnectIntervalMs ?? 10 * 60_000,
      liveOverlapMs: o.overlapMs,
      clock,
    });

    let lastTick = { at: startMs, flows: 0 };
    timers.push(
      setInterval(() => {
        if (s.commitIfDue()) checkpoints.afterCommit();
        const now = clock();
        const rate = ((s.totals.flows - lastTick.flows) * 1000) / Math.max(1, now - lastTick.at);
        lastTick = { at: now, flows: s.totals.flows };
        o.onProgress?.({
          flows: s.totals.flows,
          flowsPerSecond: rate,
          edges: countEdges(sinks),
          drops: drops.n,
          lostEvents: s.totals.lostEvents,
          duplicates: s.totals.duplicates,
          reconnects: follower.reconnects,
          uptimeMs: now - startMs,
        });
      }, 1000),
    );
    const pollMs = o.statusPollMs ?? 60_000;
    if (pollMs > 0 && request.follow) {
      let nodes = serverStatus.numConnectedNodes;
      timers.push(
        setInterval(() => {
          conn.serverStatus(Math.min(pollMs, 10_000)).then(
            (st) => {
              if (st.numConnectedNodes !== undefined && nodes !== undefined && st.numConnectedNodes > nodes) {
                follower.requestReconnect(`${st.numConnectedNodes} nodes connected (was ${nodes})`);
              }
              nodes = st.numConnectedNodes ?? nodes;
            },
            () => {}, // the stream's own errors drive reconnects
          );
        }, pollMs),
      );
    }

    let status: SourceStatus = 'completed';
    let error: string | undefined;
    try {
      const end = await follower.run();
      if (end === 'completed') stopReason = 'completed';
    } catch (e) {
      if (!(e instanceof RelayError)) throw e;
      stopReason = 'error';
      status = 'failed';
      error = e.message;
    }
    stop.abort();
    if (status !== 'failed' && s.totals.badLines > 0) status = 'partial';
    s.finish(status);
    return {
      server: o.target.name,
      sourceId: s.sourceId,
      status,
      stopReason,
      totals: s.totals,
      drops: drops.n,
      lostBySource,
      streams: follower.streams,
      reconnects: follower.reconnects,
      startedAt: isoFromMs(startMs),
      elapsedMs: clock() - startMs,
      serverStatus,
      resumedFrom: floor,
      error,
    };
  } catch (e) {
    // Whatever reached the open batch is committed before the error propagates.
    if (session) session.finish('failed');
    throw e;
  } finally {
    for (const t of timers) clearTimeout(t);
    conn.close();
  }
}

/** ServerStatus, retried with backoff for up to `timeoutMs` (the relay may be starting). */
async function connect(conn: ObserverConnection, timeoutMs: number, signal: AbortSignal): Promise<ServerStatus> {
  const deadline = Date.now() + timeoutMs;
  const backoff = new Backoff({ initialMs: 100, maxMs: 1000 });
  for (;;) {
    try {
      return await conn.serverStatus(Math.max(100, deadline - Date.now()));
    } catch (e) {
      if (!(e instanceof RelayError)) throw e;
      const delay = backoff.next();
      if (isFatal(e.codeName) || Date.now() + delay >= deadline || signal.aborted) {
        throw new RelayUnreachableError(conn.target.name, e);
      }
      await sleep(delay, signal);
    }
  }
}

function reportFollowEvent(e: FollowEvent, o: ObserveOptions): void {
  switch (e.type) {
    case 'stream-started':
      o.onNotice?.({ kind: 'stream-started', resumed: e.resumed, follow: e.request.follow === true, since: e.request.since ? timestampIso(e.request.since) : undefined });
      break;
    case 'stream-broken':
      o.onNotice?.({
        kind: 'stream-broken',
        reason: e.end.ok ? 'the server ended the stream' : `${e.end.codeName}: ${e.end.details}`,
        delayMs: e.delayMs,
        attempt: e.attempt,
      });
      break;
    case 'reconnect':
      o.onNotice?.({ kind: 'reconnect', reason: e.reason });
      break;
    default: {
      const never: never = e;
      throw new Error(`unhandled follow event ${String(never)}`);
    }
  }
}

/** Lost and node-status events without a time get the time we received them. */
function stamp(event: HubbleEvent, clock: () => number): HubbleEvent {
  if (event.kind === 'lost' && event.lost.time === undefined) {
    const ms = clock();
    return { kind: 'lost', lost: { ...event.lost, time: isoFromMs(ms), timeMs: ms } };
  }
  if (event.kind === 'node-status' && event.status.time === undefined) {
    const ms = clock();
    return { kind: 'node-status', status: { ...event.status, time: isoFromMs(ms), timeMs: ms } };
  }
  return event;
}

/** Sinks that aggregate edges may expose their count as `edgeCount` (or `size`). */
function countEdges(sinks: readonly FlowSink[]): number | undefined {
  let total: number | undefined;
  for (const sink of sinks) {
    const s = sink as { edgeCount?: unknown; size?: unknown };
    const n = typeof s.edgeCount === 'number' ? s.edgeCount : typeof s.size === 'number' ? s.size : undefined;
    if (n !== undefined) total = (total ?? 0) + n;
  }
  return total;
}

export function msToTimestamp(ms: number): TimestampMessage {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1_000_000) };
}

function timestampIso(t: TimestampMessage): string {
  const seconds = Number(t.seconds);
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(t.nanos).padStart(9, '0')}Z`;
}
