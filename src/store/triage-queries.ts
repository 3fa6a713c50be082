import type { Flow } from '../flow/index.js';
import type { Db } from './open.js';

export interface DroppedFlowQuery {
  /** Drops with either end in one of these namespaces; all when absent or empty. */
  readonly namespaces?: readonly string[];
  /** Only drops at or after this time (ms since the epoch). */
  readonly sinceMs?: number;
}

/**
 * The kept DROPPED flows (triage_flows holds each as whole normalised Flow JSON), oldest first,
 * one at a time: readers keep only what they make of them.
 */
export function* eachDroppedFlow(db: Db, query: DroppedFlowQuery = {}): Generator<Flow> {
  const where = ["verdict = 'DROPPED'"];
  const params: (string | number)[] = [];
  if (query.sinceMs !== undefined) {
    where.push('time_ms >= ?');
    params.push(query.sinceMs);
  }
  const ns = query.namespaces ?? [];
  if (ns.length > 0) {
    const marks = ns.map(() => '?').join(', ');
    where.push(`(src_namespace IN (${marks}) OR dst_namespace IN (${marks}))`);
    params.push(...ns, ...ns);
  }
  const rows = db
    .prepare(`SELECT flow_json FROM triage_flows WHERE ${where.join(' AND ')} ORDER BY time_ms, id`)
    .pluck()
    .iterate(...params) as Iterable<string>;
  for (const json of rows) yield JSON.parse(json) as Flow;
}
