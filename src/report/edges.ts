import { type Edge, type EvidenceField, type NamespaceConvergence, type Peer, type ProjectedEdge, type WorkloadInfo, peerKey } from '../graph/index.js';
import { MANY_PORTS, PORT_PROTOCOLS, portRangesText, portSpans } from '../net/ports.js';
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

/**
 * One table row: an edge, or every edge between the same two peers on one protocol when they use
 * more than `MANY_PORTS` ports (a port scan makes 65,535 edges of one flow each; as rows they
 * buried the rest of the table), edges that were only dropped apart from the others. Counters are
 * summed, times and hours are the widest.
 */
interface EdgesTableRow {
  readonly edge: TableEdge;
  /** Set on a row that stands for many edges: their ports and how many. */
  readonly ports?: { readonly text: string; readonly count: number };
  readonly dropReasons: readonly string[];
}

/** The table's rows, in the edges' order (a collapsed row where its first edge was). */
function edgesTableRows(edges: readonly TableEdge[]): EdgesTableRow[] {
  const families = new Map<string, TableEdge[]>();
  for (const e of edges) {
    if (!PORT_PROTOCOLS.has(e.protocol)) continue;
    // Edges only ever dropped apart from the rest: the DNS a scanned pod also answered stays its own row.
    const key = `${peerKey(e.from)}|${peerKey(e.to)}|${e.protocol}|${e.forwarded === 0 && e.dropped > 0 ? 'dropped' : 'seen'}`;
    const family = families.get(key);
    if (family === undefined) families.set(key, [e]);
    else family.push(e);
  }
  const collapsed = new Map<TableEdge, EdgesTableRow>();
  const hidden = new Set<TableEdge>();
  for (const family of families.values()) {
    if (new Set(family.map((e) => e.port)).size <= MANY_PORTS) continue;
    const first = family[0] as TableEdge;
    collapsed.set(first, manyPortsRow(family));
    for (const e of family) if (e !== first) hidden.add(e);
  }
  const rows: EdgesTableRow[] = [];
  for (const e of edges) {
    if (hidden.has(e)) continue;
    rows.push(collapsed.get(e) ?? { edge: e, dropReasons: Object.keys(e.dropReasons) });
  }
  return rows;
}

/** The largest `f` over `family` (a spread of 65,535 arguments would overflow the stack). */
function widest(family: readonly TableEdge[], f: (e: TableEdge) => number): number {
  let most = Number.NEGATIVE_INFINITY;
  for (const e of family) most = Math.max(most, f(e));
  return most;
}

function manyPortsRow(family: readonly TableEdge[]): EdgesTableRow {
  const first = family[0] as TableEdge;
  const sum = (f: (e: TableEdge) => number): number => family.reduce((n, e) => n + f(e), 0);
  const reasons = new Set<string>();
  for (const e of family) for (const r of Object.keys(e.dropReasons)) reasons.add(r);
  const spans = portSpans(family.map((e) => e.port));
  const edge: TableEdge = {
    ...first,
    flows: sum((e) => e.flows),
    connections: sum((e) => e.connections),
    forwarded: sum((e) => e.forwarded),
    dropped: sum((e) => e.dropped),
    firstSeenMs: widest(family, (e) => -e.firstSeenMs) * -1,
    lastSeenMs: widest(family, (e) => e.lastSeenMs),
    // Distinct hours of the whole family are not kept per edge: its busiest edge's is a floor.
    hoursSeen: widest(family, (e) => e.hoursSeen),
    dnsNames: [],
    httpRequests: [],
    sharedIpWith: [],
  };
  const count = spans.reduce((n, r) => n + r.endPort - r.port + 1, 0);
  return { edge, ports: { text: portRangesText(spans), count }, dropReasons: [...reasons].sort() };
}

/**
 * The default `edges` view: one line per edge, readable at a terminal; `-o wide` adds counters
 * and first seen. Many ports between the same peers are one line (`edgesTableRows`); the JSON
 * lists every edge.
 */
export function renderEdgesTable(edges: readonly TableEdge[], options: TableOptions = {}): string {
  if (edges.length === 0) return 'No edges match.\n';
  const rows = edgesTableRows(edges);
  const collapsed = rows.filter((r) => r.ports !== undefined);
  const table = renderTable(
    [PEER_COLUMN('FROM'), PEER_COLUMN('TO'), 'PORT', 'FLOWS', wideOnly('CONNS'), wideOnly('FORWARDED'), 'DROPPED', wideOnly('FIRST SEEN'), 'LAST SEEN', wideOnly('HOURS'), 'L7'],
    rows.map(({ edge: e, ports, dropReasons }) => [
      peerLabel(e.from),
      peerLabel(e.to),
      ports ? `${ports.text}/${e.protocol} (${formatCount(ports.count)} ports)` : `${e.port}/${e.protocol}`,
      formatCount(e.flows),
      formatCount(e.connections),
      formatCount(e.forwarded),
      e.dropped > 0 ? `${formatCount(e.dropped)} (${dropReasons.join(',')})` : '0',
      formatTime(e.firstSeenMs),
      formatTime(e.lastSeenMs),
      ports ? `>=${e.hoursSeen}` : String(e.hoursSeen),
      ports ? '' : l7Summary(e),
    ]),
    options,
  );
  if (collapsed.length === 0) return table;
  const edgesIn = collapsed.reduce((n, r) => n + (r.ports?.count ?? 0), 0);
  return `${table}${formatCount(collapsed.length)} line(s) above stand for ${formatCount(edgesIn)} edges: more than ${MANY_PORTS} ports between the same two peers (a port scan, or an app on dynamic ports); -o json lists each edge.\n`;
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
