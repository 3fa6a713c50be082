import type { Edge, EvidenceField, NamespaceConvergence, Peer, ProjectedEdge, WorkloadInfo } from '../graph/index.js';
import { type Column, formatCount, formatDuration, formatTime, renderTable, type TableOptions } from './table.js';

/** JSON shape of a peer: `{kind, namespace?, workloadKind?, name?, entity?, fqdn?, cidr?, enclosing?}`. */
export function peerJson(p: Peer): Record<string, unknown> {
  switch (p.kind) {
    case 'workload':
      return { kind: 'workload', namespace: p.namespace, workloadKind: p.workloadKind, name: p.name };
    case 'entity':
      return { kind: 'entity', entity: p.entity };
    case 'fqdn':
      return { kind: 'fqdn', fqdn: p.fqdn };
    case 'cidr':
      return { kind: 'cidr', cidr: p.cidr, ...(p.enclosing && { enclosing: p.enclosing }), ...(p.clusterEndpoint && { clusterEndpoint: p.clusterEndpoint }) };
    default: {
      const never: never = p;
      throw new Error(`unknown peer ${String(never)}`);
    }
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** `edges -o json`: one object per edge, times as RFC 3339 (and ms), sets as arrays. */
export function edgesJson(edges: readonly Edge[]): Record<string, unknown>[] {
  return edges.map(edgeJson);
}

/** One edge of `edgesJson`. */
export function edgeJson(e: Edge): Record<string, unknown> {
  return {
    from: peerJson(e.from),
    to: peerJson(e.to),
    protocol: e.protocol,
    port: e.port,
    flows: e.flows,
    connections: e.connections,
    forwarded: e.forwarded,
    dropped: e.dropped,
    audit: e.audit,
    redirected: e.redirected,
    errors: e.errors,
    dropReasons: e.dropReasons,
    firstSeen: iso(e.firstSeenMs),
    lastSeen: iso(e.lastSeenMs),
    firstSeenMs: e.firstSeenMs,
    lastSeenMs: e.lastSeenMs,
    hoursSeen: e.hoursSeen,
    dnsNames: e.dnsNames,
    httpRequests: e.httpRequests,
    l7Protocols: e.l7Protocols,
    ips: e.ips,
    sharedIpWith: e.sharedIpWith,
    allowedBy: e.allowedBy,
    deniedBy: e.deniedBy,
    services: e.services,
    srcPods: e.srcPods,
    dstPods: e.dstPods,
    ...((e.srcReserved?.length ?? 0) > 0 && { srcReserved: e.srcReserved }),
    ...((e.dstReserved?.length ?? 0) > 0 && { dstReserved: e.dstReserved }),
    sides: e.sides,
  };
}

/**
 * Writes `items` as `JSON.stringify(items.map(toJson), null, 2)` plus a newline, byte for byte,
 * in pieces: the whole text of 60,000 edges is ~125 MB, twice that as a JS string. Each piece is
 * a slice of items stringified as an array, whose layout is the whole array's between its brackets.
 */
export function writeJsonArray<T>(write: (s: string) => void, items: Iterable<T>, toJson: (item: T) => unknown): void {
  let slice: unknown[] = [];
  let first = true;
  const flush = (): void => {
    const text = JSON.stringify(slice, null, 2);
    // `[\n  ...\n]`: the items, already indented one level.
    write(`${first ? '[\n' : ',\n'}${text.slice(2, -2)}`);
    first = false;
    slice = [];
  };
  for (const item of items) {
    slice.push(toJson(item));
    if (slice.length >= JSON_SLICE) flush();
  }
  if (slice.length > 0) flush();
  write(first ? '[]\n' : '\n]\n');
}

/** Items per piece of `writeJsonArray` (an edge is ~2 KB of JSON). */
const JSON_SLICE = 64;

/** `ns/Kind/name`, the entity name, the FQDN, or the CIDR (with its well-known range). */
export function peerLabel(p: Peer): string {
  switch (p.kind) {
    case 'workload':
      return `${p.namespace}/${p.workloadKind}/${p.name}`;
    case 'entity':
      return p.entity;
    case 'fqdn':
      return p.fqdn;
    case 'cidr': {
      // An unidentified cluster endpoint says so: it never becomes a CIDR rule.
      if (p.clusterEndpoint) return `${p.cidr} (cluster endpoint, unidentified)`;
      const range = p.enclosing?.[p.enclosing.length - 1];
      return range ? `${p.cidr} (${range.cidr})` : p.cidr;
    }
    default: {
      const never: never = p;
      throw new Error(`unknown peer ${String(never)}`);
    }
  }
}

function list(values: readonly string[], max = 3): string {
  if (values.length <= max) return values.join(', ');
  return `${values.slice(0, max).join(', ')} +${values.length - max}`;
}

/** The evidence the edges table prints (its L7 column). */
export const EDGES_TABLE_EVIDENCE = ['dnsNames', 'httpRequests'] as const satisfies readonly EvidenceField[];
type TableEdge = ProjectedEdge<(typeof EDGES_TABLE_EVIDENCE)[number]>;

function l7Summary(e: TableEdge): string {
  if (e.httpRequests.length > 0) return list(e.httpRequests);
  if (e.dnsNames.length > 0) return list(e.dnsNames);
  if (e.sharedIpWith.length > 0) return `same IP as ${list(e.sharedIpWith, 2)}`;
  return '';
}

/** `namespace/Kind/name` columns: both ends matter, so long ones lose their middle. */
export const PEER_COLUMN = (header: string): Column => ({ header, cut: 'path', min: 22 });
const wideOnly = (header: string): Column => ({ header, wideOnly: true });

/** The default `edges` view: one line per edge, readable at a terminal; `-o wide` adds counters and first seen. */
export function renderEdgesTable(edges: readonly TableEdge[], options: TableOptions = {}): string {
  if (edges.length === 0) return 'No edges match.\n';
  return renderTable(
    [PEER_COLUMN('FROM'), PEER_COLUMN('TO'), 'PORT', 'FLOWS', wideOnly('CONNS'), wideOnly('FORWARDED'), 'DROPPED', wideOnly('FIRST SEEN'), 'LAST SEEN', wideOnly('HOURS'), 'L7'],
    edges.map((e) => [
      peerLabel(e.from),
      peerLabel(e.to),
      `${e.port}/${e.protocol}`,
      formatCount(e.flows),
      formatCount(e.connections),
      formatCount(e.forwarded),
      e.dropped > 0 ? `${formatCount(e.dropped)} (${Object.keys(e.dropReasons).join(',')})` : '0',
      formatTime(e.firstSeenMs),
      formatTime(e.lastSeenMs),
      String(e.hoursSeen),
      l7Summary(e),
    ]),
    options,
  );
}

/** `edges --workloads`: each workload and the selector that picks exactly its pods. */
export function renderWorkloadsTable(workloads: readonly WorkloadInfo[], options: TableOptions = {}): string {
  if (workloads.length === 0) return 'No workloads match.\n';
  return renderTable(
    ['NAMESPACE', 'KIND', 'NAME', 'SELECTOR', 'NOTE'],
    workloads.map((w) => [
      w.namespace,
      w.kind,
      w.name,
      Object.entries(w.selector).map(([k, v]) => `${k}=${v}`).join(',') || '-',
      w.unique ? '' : Object.keys(w.selector).length === 0 ? 'no labels seen' : `also matches ${w.overlapsWith.join(', ')}`,
    ]),
    options,
  );
}

export function workloadsJson(workloads: readonly WorkloadInfo[]): Record<string, unknown>[] {
  return workloads.map((w) => ({ ...w, firstSeen: iso(w.firstSeenMs), lastSeen: iso(w.lastSeenMs) }));
}

const HOUR_MS = 3_600_000;
/** Hours of per-hour new-edge counts shown in text (the JSON has them all). */
const HOURS_SHOWN = 12;

/**
 * Baseline convergence per namespace: edges, when the last new one appeared, how long the namespace
 * has been quiet since (up to its last flow), and new edges in each of its last hours.
 */
export function renderConvergenceTable(rows: readonly NamespaceConvergence[], options: TableOptions = {}): string {
  return renderTable(
    ['NAMESPACE', 'EDGES', 'LAST NEW EDGE', 'QUIET FOR', `NEW EDGES/HOUR (LAST ${HOURS_SHOWN}H, OLDEST FIRST)`],
    rows.map((c) => {
      const lastHour = Math.floor(c.lastSeenMs / HOUR_MS) * HOUR_MS;
      const counts = new Map(c.newEdgesPerHour.map((h) => [h.hourMs, h.edges]));
      const recent: string[] = [];
      for (let i = HOURS_SHOWN - 1; i >= 0; i--) recent.push(String(counts.get(lastHour - i * HOUR_MS) ?? 0));
      return [c.namespace, formatCount(c.edges), formatTime(c.lastNewEdgeMs), formatDuration(c.lastSeenMs - c.lastNewEdgeMs), recent.join(' ')];
    }),
    options,
  );
}

export function convergenceJson(rows: readonly NamespaceConvergence[]): Record<string, unknown>[] {
  return rows.map((c) => ({
    namespace: c.namespace,
    edges: c.edges,
    firstSeen: iso(c.firstSeenMs),
    lastSeen: iso(c.lastSeenMs),
    lastNewEdge: iso(c.lastNewEdgeMs),
    quietForMs: c.lastSeenMs - c.lastNewEdgeMs,
    newEdgesPerHour: c.newEdgesPerHour.map((h) => ({ hour: iso(h.hourMs), edges: h.edges })),
  }));
}
