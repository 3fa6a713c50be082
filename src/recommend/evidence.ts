import type { Evidence, ObservedEdge } from './model.js';

export function evidenceOf(edges: readonly ObservedEdge[]): Evidence {
  let flows = 0;
  let connections = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let hours = 0;
  for (const e of edges) {
    flows += e.flows;
    connections += e.connections;
    first = Math.min(first, e.firstSeenMs);
    last = Math.max(last, e.lastSeenMs);
    hours = Math.max(hours, e.hoursSeen);
  }
  return { flows, connections, firstSeenMs: first, lastSeenMs: last, hoursSeen: hours };
}

function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16) + 'Z';
}

/** One formatter for every count: `toLocaleString` builds a new one on each call. */
const counts = new Intl.NumberFormat('en-US');

/** One comment line: the evidence behind a rule. */
export function evidenceComment(what: string, e: Evidence): string {
  return (
    ` ${what}: ${counts.format(e.flows)} flows, ${counts.format(e.connections)} connections,` +
    ` ${isoMinute(e.firstSeenMs)} .. ${isoMinute(e.lastSeenMs)}, seen in ${e.hoursSeen} distinct hours`
  );
}
