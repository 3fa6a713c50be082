import { compareStrings } from './merge.js';
import type { Edge, NamespaceConvergence } from './model.js';

const HOUR_MS = 3_600_000;

/**
 * Baseline convergence per namespace (an edge belongs to the namespaces of both its ends): how many
 * edges, when the newest one first appeared, and how many new edges each hour brought. A namespace
 * whose last new edge is long before its last flow has probably been observed enough.
 */
export function convergence(edges: readonly Pick<Edge, 'from' | 'to' | 'firstSeenMs' | 'lastSeenMs'>[]): NamespaceConvergence[] {
  type Counts = { edges: number; first: number; last: number; newest: number; hours: Map<number, number> };
  const byNs = new Map<string, Counts>();
  // Edges come sorted by their source: runs of one namespace, looked up once a run.
  let lastNs: string | undefined;
  let last: Counts | undefined;
  const count = (ns: string, e: Pick<Edge, 'firstSeenMs' | 'lastSeenMs'>): void => {
    let c = ns === lastNs ? last : byNs.get(ns);
    if (c === undefined) byNs.set(ns, (c = { edges: 0, first: e.firstSeenMs, last: e.lastSeenMs, newest: e.firstSeenMs, hours: new Map() }));
    lastNs = ns;
    last = c;
    c.edges++;
    c.first = Math.min(c.first, e.firstSeenMs);
    c.last = Math.max(c.last, e.lastSeenMs);
    c.newest = Math.max(c.newest, e.firstSeenMs);
    const hour = Math.floor(e.firstSeenMs / HOUR_MS) * HOUR_MS;
    c.hours.set(hour, (c.hours.get(hour) ?? 0) + 1);
  };
  for (const e of edges) {
    // Each namespace once an edge (an edge within one namespace counts once), no set per edge.
    const from = e.from.kind === 'workload' ? e.from.namespace : undefined;
    const to = e.to.kind === 'workload' ? e.to.namespace : undefined;
    if (from !== undefined) count(from, e);
    if (to !== undefined && to !== from) count(to, e);
  }
  return [...byNs.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([namespace, c]) => ({
      namespace,
      edges: c.edges,
      firstSeenMs: c.first,
      lastSeenMs: c.last,
      lastNewEdgeMs: c.newest,
      newEdgesPerHour: [...c.hours.entries()].sort(([a], [b]) => a - b).map(([hourMs, n]) => ({ hourMs, edges: n })),
    }));
}
