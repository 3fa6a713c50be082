import type { Flow, LostEvent, NodeStatusEvent } from '../flow/index.js';
import { hostname } from 'node:os';
import type { Db } from './open.js';

/** Bad lines kept per source for `status`; all of them are counted. */
export const BAD_LINES_KEPT = 1000;

export interface BadLine {
  readonly line: number;
  readonly field: string;
  readonly reason: string;
}

/** Everything one batch adds; written in a single transaction. */
export interface IngestBatch {
  lines: number;
  events: number;
  flows: number;
  badLines: number;
  duplicates: number;
  lostEventCount: number;
  firstFlowMs: number | undefined;
  lastFlowMs: number | undefined;
  lastFlowTime: string | undefined;
  readonly verdicts: Map<string, number>;
  readonly triageFlows: Flow[];
  readonly lostEvents: LostEvent[];
  readonly nodeStatuses: NodeStatusEvent[];
  readonly badLineSamples: BadLine[];
}

export function emptyBatch(): IngestBatch {
  return {
    lines: 0,
    events: 0,
    flows: 0,
    badLines: 0,
    duplicates: 0,
    lostEventCount: 0,
    firstFlowMs: undefined,
    lastFlowMs: undefined,
    lastFlowTime: undefined,
    verdicts: new Map(),
    triageFlows: [],
    lostEvents: [],
    nodeStatuses: [],
    badLineSamples: [],
  };
}

export type SourceKind = 'file' | 'relay';
export type SourceStatus = 'running' | 'completed' | 'partial' | 'failed' | 'interrupted';

/** A source found by its content fingerprint (replay), with what it committed. */
export interface FingerprintedSource {
  readonly id: number;
  readonly name: string;
  readonly status: SourceStatus;
  readonly lines: number;
  /** Byte ranges committed by a replay with workers (empty for a one-thread replay). */
  readonly ranges: readonly CommittedRange[];
  /** Set when the source is running in another live process on this host. */
  readonly runningPid?: number;
}

/** Lines starting in [start, end) of a file, all committed. */
export interface CommittedRange {
  readonly start: number;
  readonly end: number;
  readonly lines: number;
}

/** What one source has stored (the counts a summary reports). */
export interface StoredTotals {
  readonly lines: number;
  readonly events: number;
  readonly flows: number;
  readonly badLines: number;
  readonly duplicates: number;
  readonly lostEvents: number;
  readonly triageFlows: number;
}

/** Whether the process that ran a source is still alive (only knowable on the same host). */
export function processAlive(pid: number | null, host: string | null): boolean | undefined {
  if (pid === null || host === null || host !== hostname()) return undefined;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Prepared statements for ingest; one instance per open database. */
export class IngestWriter {
  readonly #db: Db;
  readonly #insertSource;
  readonly #updateSource;
  readonly #endSource;
  readonly #addVerdict;
  readonly #insertTriage;
  readonly #insertLost;
  readonly #insertNodeStatus;
  readonly #insertBadLine;
  readonly #countBadLines;
  readonly #insertRange;

  constructor(db: Db) {
    this.#db = db;
    this.#insertSource = db.prepare(
      'INSERT INTO sources (kind, name, started_at, fingerprint, pid, host) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#insertRange = db.prepare('INSERT OR REPLACE INTO replay_ranges (source_id, start, end, lines) VALUES (?, ?, ?, ?)');
    this.#updateSource = db.prepare(`UPDATE sources SET
        lines = lines + @lines, events = events + @events, flows = flows + @flows,
        bad_lines = bad_lines + @badLines, duplicates = duplicates + @duplicates,
        lost_events = lost_events + @lostEventCount,
        first_flow_ms = CASE WHEN @firstFlowMs IS NULL THEN first_flow_ms
                             WHEN first_flow_ms IS NULL OR @firstFlowMs < first_flow_ms THEN @firstFlowMs
                             ELSE first_flow_ms END,
        last_flow_ms = CASE WHEN @lastFlowMs IS NULL THEN last_flow_ms
                            WHEN last_flow_ms IS NULL OR @lastFlowMs > last_flow_ms THEN @lastFlowMs
                            ELSE last_flow_ms END,
        last_flow_time = CASE WHEN @lastFlowTime IS NULL THEN last_flow_time
                              WHEN last_flow_time IS NULL OR @lastFlowTime > last_flow_time THEN @lastFlowTime
                              ELSE last_flow_time END
      WHERE id = @id`);
    this.#endSource = db.prepare('UPDATE sources SET status = ?, ended_at = ? WHERE id = ?');
    this.#addVerdict = db.prepare(`INSERT INTO verdict_counts (source_id, verdict, flows) VALUES (?, ?, ?)
      ON CONFLICT (source_id, verdict) DO UPDATE SET flows = flows + excluded.flows`);
    this.#insertTriage = db.prepare(`INSERT OR IGNORE INTO triage_flows
      (source_id, time, time_ms, uuid, verdict, drop_reason, direction, src_namespace, src_pod,
       dst_namespace, dst_pod, protocol, dst_port, node_name, flow_json)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#insertLost = db.prepare(`INSERT INTO lost_events
      (source_id, time, time_ms, node_name, lost_source, num_lost, cpu) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.#insertNodeStatus = db.prepare(`INSERT INTO node_status
      (source_id, time, time_ms, state, node_names, message) VALUES (?, ?, ?, ?, ?, ?)`);
    this.#insertBadLine = db.prepare('INSERT INTO bad_lines (source_id, line, field, reason) VALUES (?, ?, ?, ?)');
    this.#countBadLines = db.prepare('SELECT count(*) AS n FROM bad_lines WHERE source_id = ?');
  }

  beginSource(kind: SourceKind, name: string, startedAt: string, fingerprint?: string): number {
    return Number(this.#insertSource.run(kind, name, startedAt, fingerprint ?? null, process.pid, hostname()).lastInsertRowid);
  }

  /** Takes over a source a killed run left behind: this process now runs it. */
  resumeSource(id: number): void {
    this.#db.prepare("UPDATE sources SET status = 'running', ended_at = NULL, pid = ?, host = ? WHERE id = ?").run(process.pid, hostname(), id);
  }

  /** The newest file source with this content fingerprint, if any. */
  findByFingerprint(fingerprint: string): FingerprintedSource | undefined {
    const row = this.#db
      .prepare('SELECT id, name, status, lines, pid, host FROM sources WHERE fingerprint = ? ORDER BY id DESC LIMIT 1')
      .get(fingerprint) as { id: number; name: string; status: SourceStatus; lines: number; pid: number | null; host: string | null } | undefined;
    if (!row) return undefined;
    const ranges = this.#db
      .prepare('SELECT start, end, lines FROM replay_ranges WHERE source_id = ? ORDER BY start')
      .all(row.id) as CommittedRange[];
    const alive = row.status === 'running' && processAlive(row.pid, row.host) === true && row.pid !== process.pid;
    return { id: row.id, name: row.name, status: row.status, lines: row.lines, ranges, ...(alive && row.pid !== null ? { runningPid: row.pid } : {}) };
  }

  /** What the source has stored, whatever this process counted. */
  storedTotals(id: number): StoredTotals {
    const row = this.#db
      .prepare(`SELECT lines, events, flows, bad_lines AS badLines, duplicates, lost_events AS lostEvents,
                       (SELECT count(*) FROM triage_flows WHERE source_id = sources.id) AS triageFlows
                FROM sources WHERE id = ?`)
      .get(id) as StoredTotals | undefined;
    return row ?? { lines: 0, events: 0, flows: 0, badLines: 0, duplicates: 0, lostEvents: 0, triageFlows: 0 };
  }

  endSource(id: number, status: SourceStatus, endedAt: string): void {
    this.#endSource.run(status, endedAt, id);
  }

  /**
   * Writes the batch and whatever `alsoInTransaction` writes (the edge flush) atomically, so a
   * SIGKILL leaves either the whole batch or none of it.
   */
  commit(sourceId: number, batch: IngestBatch, alsoInTransaction?: (db: Db) => void, ranges?: readonly CommittedRange[]): void {
    this.#db.transaction(() => {
      for (const r of ranges ?? []) this.#insertRange.run(sourceId, r.start, r.end, r.lines);
      this.#updateSource.run({
        id: sourceId,
        lines: batch.lines,
        events: batch.events,
        flows: batch.flows,
        badLines: batch.badLines,
        duplicates: batch.duplicates,
        lostEventCount: batch.lostEventCount,
        firstFlowMs: batch.firstFlowMs ?? null,
        lastFlowMs: batch.lastFlowMs ?? null,
        lastFlowTime: batch.lastFlowTime ?? null,
      });
      for (const [verdict, n] of batch.verdicts) this.#addVerdict.run(sourceId, verdict, n);
      for (const f of batch.triageFlows) this.#insertTriageFlow(sourceId, f);
      for (const l of batch.lostEvents) {
        this.#insertLost.run(sourceId, l.time ?? null, l.timeMs ?? null, l.nodeName ?? null, l.source, l.numEventsLost, l.cpu ?? null);
      }
      for (const s of batch.nodeStatuses) {
        this.#insertNodeStatus.run(sourceId, s.time ?? null, s.timeMs ?? null, s.state, JSON.stringify(s.nodeNames), s.message ?? null);
      }
      if (batch.badLineSamples.length > 0) {
        const kept = (this.#countBadLines.get(sourceId) as { n: number }).n;
        for (const b of batch.badLineSamples.slice(0, Math.max(0, BAD_LINES_KEPT - kept))) {
          this.#insertBadLine.run(sourceId, b.line, b.field, b.reason);
        }
      }
      alsoInTransaction?.(this.#db);
    })();
  }

  #insertTriageFlow(sourceId: number, f: Flow): void {
    const l4 = f.l4;
    const port = l4 && 'destinationPort' in l4 ? l4.destinationPort : null;
    this.#insertTriage.run(
      sourceId,
      f.time,
      f.timeMs,
      f.uuid ?? null,
      f.verdict,
      f.dropReason ?? null,
      f.trafficDirection,
      f.source.namespace ?? null,
      f.source.podName ?? null,
      f.destination.namespace ?? null,
      f.destination.podName ?? null,
      l4?.protocol ?? null,
      port,
      f.nodeName ?? null,
      JSON.stringify(f),
    );
  }
}
