import {
  COUNTER_FIELDS,
  type CappedSet,
  type ClusterIpRecord,
  type DnsAnswer,
  type EdgeRecord,
  SET_FIELDS,
  SET_LIMITS,
  type SetField,
  type Side,
  type SideCounters,
  type WorkloadRecord,
  type NamespaceRecord,
} from './model.js';

/**
 * The merge of stored aggregates. Every function here is associative and commutative: counters
 * add, first-seen takes the minimum, last-seen the maximum, sets take the union (capped to their K
 * smallest values, which is still associative). So however flows are cut into batches or files,
 * and in whatever order they arrive, the stored result is the same.
 */

export function emptyCounters(): SideCounters {
  return { flows: 0, connections: 0, verdicts: 0, forwarded: 0, dropped: 0, audit: 0, redirected: 0, errors: 0 };
}

export function addCounters(a: Readonly<SideCounters>, b: Readonly<SideCounters>): SideCounters {
  const out = emptyCounters();
  for (const f of COUNTER_FIELDS) out[f] = a[f] + b[f];
  return out;
}

export function addSides(
  a: Readonly<Record<Side, Readonly<SideCounters>>>,
  b: Readonly<Record<Side, Readonly<SideCounters>>>,
): Record<Side, SideCounters> {
  return { egress: addCounters(a.egress, b.egress), ingress: addCounters(a.ingress, b.ingress), unknown: addCounters(a.unknown, b.unknown) };
}

const EMPTY_SET: CappedSet = { values: [], truncated: false };

export function emptySets(): Record<SetField, CappedSet> {
  const out = {} as Record<SetField, CappedSet>;
  for (const f of SET_FIELDS) out[f] = EMPTY_SET;
  return out;
}

/** The K smallest values of `values` (deduplicated, sorted by code unit), and whether more existed. */
export function capSet(values: Iterable<string>, limit: number): CappedSet {
  const sorted = [...new Set(values)].sort(compareStrings);
  return sorted.length > limit ? { values: sorted.slice(0, limit), truncated: true } : { values: sorted, truncated: false };
}

export function unionCapped(a: CappedSet, b: CappedSet, limit: number): CappedSet {
  if (b.values.length === 0 && !b.truncated) return a;
  if (a.values.length === 0 && !a.truncated) return b;
  const merged = mergeSorted(a.values, b.values, limit) ?? capSet([...a.values, ...b.values], limit);
  return merged.truncated || a.truncated || b.truncated ? { values: merged.values, truncated: true } : merged;
}

/**
 * `capSet` of two sorted lists of distinct values, merged in one pass (the edge writer merges a
 * few stored sets into each of thousands of edges a batch: concatenating and sorting made ~47 MB
 * of garbage per 300,000 flows at 3,000 workloads). Undefined if either list is not sorted and distinct.
 */
function mergeSorted(a: readonly string[], b: readonly string[], limit: number): CappedSet | undefined {
  if (!sortedDistinct(a) || !sortedDistinct(b)) return undefined;
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (out.length === limit) return { values: out, truncated: true };
    if (y === undefined || (x !== undefined && x <= y)) {
      out.push(x as string);
      i++;
      if (x === y) j++;
    } else {
      out.push(y);
      j++;
    }
  }
  return { values: out, truncated: false };
}

function sortedDistinct(values: readonly string[]): boolean {
  for (let i = 1; i < values.length; i++) if ((values[i] as string) <= (values[i - 1] as string)) return false;
  return true;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function unionSorted(a: readonly number[], b: readonly number[]): number[] {
  if (b.length === 0) return [...a];
  if (a.length === 0) return [...b];
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

function addCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [k, n] of Object.entries(b)) out[k] = (out[k] ?? 0) + n;
  return sortRecord(out);
}

export function sortRecord(o: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(o).sort(compareStrings)) out[k] = o[k] as number;
  return out;
}

/** Merges two records of the same edge key (`a.from`, `a.to`, protocol and port are kept). */
export function mergeEdgeRecords(a: EdgeRecord, b: EdgeRecord): EdgeRecord {
  const sets = {} as Record<SetField, CappedSet>;
  for (const f of SET_FIELDS) sets[f] = unionCapped(a.sets[f], b.sets[f], SET_LIMITS[f]);
  return {
    from: a.from,
    to: a.to,
    protocol: a.protocol,
    port: a.port,
    sides: addSides(a.sides, b.sides),
    l7Requests: a.l7Requests + b.l7Requests,
    firstSeenMs: Math.min(a.firstSeenMs, b.firstSeenMs),
    lastSeenMs: Math.max(a.lastSeenMs, b.lastSeenMs),
    hours: unionSorted(a.hours, b.hours),
    dropReasons: addCounts(a.dropReasons, b.dropReasons),
    sets,
  };
}

function unionStrings(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort(compareStrings);
}

/** Merges what two batches learned about one raw workload key. */
export function mergeWorkloadRecords(a: WorkloadRecord, b: WorkloadRecord): WorkloadRecord {
  const sets = new Map<string, readonly string[]>();
  for (const s of [...a.labelSets, ...b.labelSets]) sets.set(s.join('\n'), s);
  return {
    key: a.key,
    namespace: a.namespace,
    kind: a.kind,
    name: a.name,
    kindHints: unionStrings(a.kindHints, b.kindHints),
    labelSets: [...sets.keys()].sort(compareStrings).map((k) => sets.get(k) as readonly string[]),
    firstSeenMs: Math.min(a.firstSeenMs, b.firstSeenMs),
    lastSeenMs: Math.max(a.lastSeenMs, b.lastSeenMs),
  };
}

/** Namespace labels change rarely; the newest sighting wins (ties: the larger list, so order never matters). */
export function mergeNamespaceRecords(a: NamespaceRecord, b: NamespaceRecord): NamespaceRecord {
  if (a.seenMs !== b.seenMs) return a.seenMs > b.seenMs ? a : b;
  const ka = a.labels.join('\n');
  const kb = b.labels.join('\n');
  return compareStrings(ka, kb) >= 0 ? a : b;
}

export function mergeDnsAnswers(a: DnsAnswer, b: DnsAnswer): DnsAnswer {
  return {
    client: a.client,
    query: a.query,
    ip: a.ip,
    firstSeenMs: Math.min(a.firstSeenMs, b.firstSeenMs),
    lastSeenMs: Math.max(a.lastSeenMs, b.lastSeenMs),
    responses: a.responses + b.responses,
  };
}

/** Two counts of one (address, cluster peer): what the store's UPSERT on cluster_ips does. */
export function mergeClusterIpRecords(a: ClusterIpRecord, b: ClusterIpRecord): ClusterIpRecord {
  return {
    ip: a.ip,
    peer: a.peer,
    flows: a.flows + b.flows,
    firstSeenMs: Math.min(a.firstSeenMs, b.firstSeenMs),
    lastSeenMs: Math.max(a.lastSeenMs, b.lastSeenMs),
  };
}
