import { type EdgeGraphSummary, readEdgeGraphSummary } from './edge-store.js';
import { processAlive } from './ingest-writer.js';
import type { Db } from './open.js';

export interface SourceRow {
  readonly id: number;
  readonly kind: string;
  readonly name: string;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly status: string;
  readonly lines: number;
  readonly events: number;
  readonly flows: number;
  readonly badLines: number;
  readonly duplicates: number;
  readonly lostEvents: number;
  readonly firstFlowMs: number | null;
  readonly lastFlowMs: number | null;
}

export interface LostEventSummary {
  readonly lostSource: string;
  readonly events: number;
  readonly numLost: number;
  readonly firstMs: number | null;
  readonly lastMs: number | null;
}

export interface NodeStatusRow {
  readonly time: string | null;
  readonly state: string;
  readonly nodeNames: readonly string[];
  readonly message: string | null;
}

export interface BadLineRow {
  readonly sourceId: number;
  readonly source: string;
  readonly line: number;
  readonly field: string;
  readonly reason: string;
}

export interface DatabaseSummary {
  /** Flows stored over all sources. */
  readonly flows: number;
  readonly sources: readonly SourceRow[];
  readonly verdicts: Readonly<Record<string, number>>;
  readonly dropReasons: Readonly<Record<string, number>>;
  readonly triageFlows: number;
  readonly lostEvents: readonly LostEventSummary[];
  readonly nodeStatus: readonly NodeStatusRow[];
  readonly badLines: readonly BadLineRow[];
  /** The edge graph and baseline convergence per namespace; absent on a schema-1 database. */
  readonly graph?: EdgeGraphSummary;
}

/** A source left 'running' by a process that is gone (killed, crashed) was interrupted. */
function effectiveStatus(status: string, pid: number | null, host: string | null): string {
  return status === 'running' && processAlive(pid, host) === false ? 'interrupted' : status;
}

const NODE_STATUS_SHOWN = 20;
const BAD_LINES_SHOWN = 20;

/** The newest flow time the database holds (ms), or undefined when it holds no flow. */
export function newestFlowMs(db: Db): number | undefined {
  const row = db.prepare('SELECT max(last_flow_ms) AS ms FROM sources').get() as { ms: number | null };
  return row.ms ?? undefined;
}

/** `graph: false` leaves out the edge-graph summary (resolving every stored edge) for callers that read the graph themselves. */
export function readSummary(db: Db, { graph: withGraph = true }: { readonly graph?: boolean } = {}): DatabaseSummary {
  const sources = (
    db
      .prepare(`SELECT id, kind, name, started_at AS startedAt, ended_at AS endedAt, status, lines, events,
                     flows, bad_lines AS badLines, duplicates, lost_events AS lostEvents,
                     first_flow_ms AS firstFlowMs, last_flow_ms AS lastFlowMs, pid, host
              FROM sources ORDER BY id`)
      .all() as (SourceRow & { pid: number | null; host: string | null })[]
  ).map(({ pid, host, ...row }) => ({ ...row, status: effectiveStatus(row.status, pid, host) }));
  const verdicts: Record<string, number> = {};
  for (const r of db.prepare('SELECT verdict, sum(flows) AS n FROM verdict_counts GROUP BY verdict ORDER BY verdict').all() as {
    verdict: string;
    n: number;
  }[]) {
    verdicts[r.verdict] = r.n;
  }
  const dropReasons: Record<string, number> = {};
  for (const r of db
    .prepare(`SELECT coalesce(drop_reason, 'UNKNOWN') AS reason, count(*) AS n FROM triage_flows
              WHERE verdict = 'DROPPED' GROUP BY reason ORDER BY n DESC, reason`)
    .all() as { reason: string; n: number }[]) {
    dropReasons[r.reason] = r.n;
  }
  const triageFlows = (db.prepare('SELECT count(*) AS n FROM triage_flows').get() as { n: number }).n;
  const lostEvents = db
    .prepare(`SELECT lost_source AS lostSource, count(*) AS events, sum(num_lost) AS numLost,
                     min(time_ms) AS firstMs, max(time_ms) AS lastMs
              FROM lost_events GROUP BY lost_source ORDER BY lost_source`)
    .all() as LostEventSummary[];
  const nodeStatus = (
    db
      .prepare(`SELECT time, state, node_names AS nodeNames, message FROM node_status ORDER BY id DESC LIMIT ?`)
      .all(NODE_STATUS_SHOWN) as { time: string | null; state: string; nodeNames: string; message: string | null }[]
  ).map((r) => ({ ...r, nodeNames: JSON.parse(r.nodeNames) as string[] }));
  const badLines = db
    .prepare(`SELECT b.source_id AS sourceId, s.name AS source, b.line, b.field, b.reason
              FROM bad_lines b JOIN sources s ON s.id = b.source_id ORDER BY b.source_id, b.line LIMIT ?`)
    .all(BAD_LINES_SHOWN) as BadLineRow[];
  const graph = withGraph ? readEdgeGraphSummary(db) : undefined;
  const flows = sources.reduce((n, x) => n + x.flows, 0);
  return { flows, sources, verdicts, dropReasons, triageFlows, lostEvents, nodeStatus, badLines, ...(graph ? { graph } : {}) };
}
