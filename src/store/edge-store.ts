import {
  type CappedSet,
  type ClusterIpRecord,
  type ClusterIps,
  type DnsAnswer,
  type Edge,
  type EdgeFilter,
  type EdgeOutline,
  type EdgeRecord,
  EMPTY_WORKLOAD_CONFIG,
  type NamespaceRecord,
  type NamespaceConvergence,
  type RawPeer,
  SET_FIELDS,
  type SetField,
  type Side,
  type StoredEdge,
  type SideCounters,
  type WorkloadConfig,
  type WorkloadInfo,
  type WorkloadRecord,
  convergence,
  emptyCounters,
  filterEdges,
  indexAnswers,
  clusterIpIndex,
  type ClusterIpLookup,
  clusterIpLookupOf,
  NO_CLUSTER_IPS,
  parseRawPeerKey,
  type ResolvedWorkloads,
  resolveEnd,
  resolveEdges,
  resolveOutlines,
  resolveWorkloads,
} from '../graph/index.js';
import { blockOf, blockTextRange } from '../net/cidr.js';
import { SET_COLUMN, SIDE_COLUMNS } from './edge-columns.js';
import { StoreError } from './errors.js';
import type { Db } from './open.js';

/** Whether the database has the edge tables (schema 2+); a read-only v1 database has none. */
export function hasEdgeGraph(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'edges'").get() !== undefined;
}

function parseKey(key: string, what: string): RawPeer {
  const p = parseRawPeerKey(key);
  if (p === undefined) throw new StoreError(`edges: malformed ${what} key "${key}"`);
  return p;
}

/** The `edges` columns a resolved edge is made of, in the order `rowToStored` reads them. */
const EDGE_COLUMNS = [
  'id',
  'src_key',
  'dst_key',
  'protocol',
  'port',
  ...SIDE_COLUMNS.map((c) => c.column),
  'l7_requests',
  'first_seen_ms',
  'last_seen_ms',
  ...SET_FIELDS.map((f) => SET_COLUMN[f]),
  'truncated',
] as const;
const SETS_AT = 5 + SIDE_COLUMNS.length + 3;

/**
 * The edge columns as a select list; a column an older schema lacks (the reserved-label sets came
 * with migration 4) reads as NULL, an empty set.
 */
function edgeSelectList(db: Db): string {
  const present = new Set((db.prepare('PRAGMA table_info(edges)').all() as { name: string }[]).map((c) => c.name));
  return EDGE_COLUMNS.map((c) => (present.has(c) ? `e.${c}` : 'NULL')).join(', ');
}

const EMPTY_VALUES: readonly string[] = [];
const parseSet = (text: unknown): readonly string[] => (text === null || text === '[]' ? EMPTY_VALUES : (JSON.parse(String(text)) as string[]));

/** A raw row of `EDGE_COLUMNS` (arrays, not objects: 45 keys per row cost more than the row). */
function rowToStored(row: readonly unknown[], hoursSeen: number, reasons: ReadonlyMap<number, Record<string, number>>): StoredEdge {
  const sides = { egress: emptyCounters(), ingress: emptyCounters(), unknown: emptyCounters() } as Record<Side, SideCounters>;
  SIDE_COLUMNS.forEach((c, i) => {
    sides[c.side][c.field] = Number(row[5 + i]);
  });
  const id = Number(row[0]);
  const at = 5 + SIDE_COLUMNS.length;
  const truncatedText = row[SETS_AT + SET_FIELDS.length];
  const truncated = truncatedText === null || truncatedText === '[]' ? undefined : new Set(JSON.parse(String(truncatedText)) as string[]);
  const sets = {} as Record<SetField, CappedSet>;
  SET_FIELDS.forEach((f, i) => {
    sets[f] = { values: parseSet(row[SETS_AT + i]), truncated: truncated?.has(f) ?? false };
  });
  return {
    id,
    hoursSeen,
    record: {
      from: parseKey(String(row[1]), 'source'),
      to: parseKey(String(row[2]), 'destination'),
      protocol: row[3] as EdgeRecord['protocol'],
      port: Number(row[4]),
      sides,
      l7Requests: Number(row[at]),
      firstSeenMs: Number(row[at + 1]),
      lastSeenMs: Number(row[at + 2]),
      hours: [],
      dropReasons: reasons.get(id) ?? {},
      sets,
    },
  };
}

/** Drop reasons by edge id (of the namespaces' edges when given), keys sorted. */
function readDropReasons(db: Db, ns: readonly string[] | undefined): Map<number, Record<string, number>> {
  const rows = (
    ns === undefined
      ? db.prepare('SELECT edge_id AS id, reason, flows FROM edge_drop_reasons ORDER BY edge_id, reason').all()
      : db
          .prepare(`SELECT r.edge_id AS id, r.reason, r.flows FROM edge_drop_reasons r JOIN edges e ON e.id = r.edge_id
                    WHERE e.src_ns IN (SELECT value FROM json_each(?)) OR e.dst_ns IN (SELECT value FROM json_each(?))
                    ORDER BY r.edge_id, r.reason`)
          .all(JSON.stringify(ns), JSON.stringify(ns))
  ) as { id: number; reason: string; flows: number }[];
  const out = new Map<number, Record<string, number>>();
  for (const r of rows) {
    let m = out.get(r.id);
    if (!m) out.set(r.id, (m = {}));
    m[r.reason] = r.flows;
  }
  return out;
}

/** Stored workload records (merged per key), for read-time resolution. */
export function readWorkloadRecords(db: Db): WorkloadRecord[] {
  const sets = new Map<string, string[][]>();
  for (const r of db.prepare('SELECT workload_key AS k, labels FROM workload_label_sets ORDER BY workload_key, labels').all() as { k: string; labels: string }[]) {
    const list = sets.get(r.k) ?? [];
    list.push(JSON.parse(r.labels) as string[]);
    sets.set(r.k, list);
  }
  const rows = db
    .prepare('SELECT key, namespace, kind, name, kind_hints AS hints, first_seen_ms AS first, last_seen_ms AS last FROM workloads ORDER BY key')
    .all() as { key: string; namespace: string; kind: string | null; name: string; hints: string; first: number; last: number }[];
  return rows.map(
    (r): WorkloadRecord => ({
      key: r.key,
      namespace: r.namespace,
      kind: r.kind ?? undefined,
      name: r.name,
      kindHints: JSON.parse(r.hints) as string[],
      labelSets: sets.get(r.key) ?? [],
      firstSeenMs: r.first,
      lastSeenMs: r.last,
    }),
  );
}

/** Namespace labels (empty on databases from before migration 4). */
export function readNamespaceRecords(db: Db): NamespaceRecord[] {
  if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'namespaces'").get() === undefined) return [];
  return (db.prepare('SELECT namespace, labels, seen_ms AS seenMs FROM namespaces ORDER BY namespace').all() as { namespace: string; labels: string; seenMs: number }[]).map(
    (r) => ({ namespace: r.namespace, labels: JSON.parse(r.labels) as string[], seenMs: r.seenMs }),
  );
}

export function readDnsAnswers(db: Db): DnsAnswer[] {
  return db
    .prepare(`SELECT client_key AS client, query, ip, first_seen_ms AS firstSeenMs, last_seen_ms AS lastSeenMs, responses
              FROM dns_answers ORDER BY client_key, ip, query`)
    .all() as DnsAnswer[];
}

/** Whether the database has the cluster address table (schema 5+); a read-only older one has not. */
function hasClusterIps(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cluster_ips'").get() !== undefined;
}

/** The stored cluster addresses; with `keep`, only the addresses it accepts (row by row). */
export function readClusterIpRecords(db: Db, keep?: (ip: string) => boolean): ClusterIpRecord[] {
  if (!hasClusterIps(db)) return [];
  const stmt = db.prepare('SELECT ip, peer_key AS peer, flows, first_seen_ms AS firstSeenMs, last_seen_ms AS lastSeenMs FROM cluster_ips ORDER BY ip, peer_key');
  if (keep === undefined) return stmt.all() as ClusterIpRecord[];
  const kept: ClusterIpRecord[] = [];
  for (const r of stmt.iterate() as Iterable<ClusterIpRecord>) if (keep(r.ip)) kept.push(r);
  return kept;
}

/**
 * The stored cluster addresses, read a block at a time through the primary key: octet-aligned
 * IPv4 blocks by their text range, the rest (IPv6) by one scan of the table on first need.
 */
function storedClusterIpLookup(db: Db): ClusterIpLookup {
  const columns = 'c.ip, c.peer_key AS peer, c.flows, c.first_seen_ms AS firstSeenMs, c.last_seen_ms AS lastSeenMs';
  // One statement for all blocks, each block's range sought in the primary key. CROSS JOIN keeps
  // the blocks as the outer loop: left to itself SQLite scanned the whole table once per block.
  const ranges = db.prepare(`SELECT b.key AS block, ${columns} FROM json_each(?) b
    CROSS JOIN cluster_ips c ON c.ip >= json_extract(b.value, '$[0]') AND c.ip < json_extract(b.value, '$[1]') ORDER BY c.ip, c.peer_key`);
  const at = db.prepare(`SELECT ${columns} FROM cluster_ips c WHERE c.ip = ? ORDER BY c.peer_key`);
  let others: ClusterIpLookup | undefined;
  return {
    inBlocks(blocks) {
      const found = new Map<string, ClusterIpRecord[]>();
      const text: Record<string, [string, string]> = {};
      const rest: string[] = [];
      for (const block of blocks) {
        const range = blockTextRange(block);
        if (range === undefined) rest.push(block);
        else text[block] = [range.from, range.to];
      }
      if (rest.length > 0) {
        others ??= clusterIpLookupOf(readClusterIpRecords(db, (ip) => blockTextRange(blockOf(ip) ?? '') === undefined));
        for (const [block, records] of others.inBlocks(rest)) found.set(block, [...records]);
      }
      if (Object.keys(text).length === 0) return found;
      for (const { block, ...r } of ranges.all(JSON.stringify(text)) as (ClusterIpRecord & { block: string })[]) {
        // The text range also holds text that is no address of the block (`10.1.2.300`).
        if (blockOf(r.ip) !== block) continue;
        const list = found.get(block);
        if (list === undefined) found.set(block, [r]);
        else list.push(r);
      }
      return found;
    },
    at: (ip) => at.all(ip) as ClusterIpRecord[],
  };
}

/**
 * Which world addresses are cluster endpoints, judged over the whole database whatever edges a
 * reader asked for: the cluster addresses, and the ends and ports of the edges that touch a world
 * address or a node. The cluster addresses are read only for the blocks a reader asks about: a
 * churning cluster stores hundreds of thousands.
 */
function readClusterIps(db: Db, workloads: ResolvedWorkloads): ClusterIps {
  if (!hasClusterIps(db) || db.prepare('SELECT 1 FROM cluster_ips LIMIT 1').get() === undefined) return NO_CLUSTER_IPS;
  const rows = db.prepare(`SELECT src_key, dst_key, protocol, port FROM edges
    WHERE src_key LIKE 'ip:%' OR dst_key LIKE 'ip:%' OR src_key IN ('e:host', 'e:remote-node') OR dst_key IN ('e:host', 'e:remote-node')`);
  const ends = (rows.all() as { src_key: string; dst_key: string; protocol: EdgeRecord['protocol']; port: number }[]).map(
    (r): Pick<EdgeRecord, 'from' | 'to' | 'protocol' | 'port'> => ({ from: parseKey(r.src_key, 'source'), to: parseKey(r.dst_key, 'destination'), protocol: r.protocol, port: r.port }),
  );
  return clusterIpIndex(storedClusterIpLookup(db), ends, (p) => resolveEnd(p, workloads));
}

/** The cluster-address index `loadGraph` uses, for readers that judge single flows (drops). */
export function loadClusterIps(db: Db, workloadConfig?: WorkloadConfig): ClusterIps {
  return loadWorkloadsAndClusterIps(db, workloadConfig).clusterIps;
}

/** Every workload and the cluster-address index, the workloads resolved once for both (drops reads both). */
export function loadWorkloadsAndClusterIps(db: Db, workloadConfig?: WorkloadConfig): { readonly workloads: WorkloadInfo[]; readonly clusterIps: ClusterIps } {
  if (!hasEdgeGraph(db)) return { workloads: [], clusterIps: NO_CLUSTER_IPS };
  const resolved = resolveWorkloads(readWorkloadRecords(db), workloadConfig ?? EMPTY_WORKLOAD_CONFIG, readNamespaceRecords(db));
  return { workloads: [...resolved.workloads], clusterIps: readClusterIps(db, resolved) };
}

export interface LoadGraphOptions {
  /** Narrows the edges; namespaces are also applied in SQL. Workloads are never filtered. */
  readonly filter?: EdgeFilter;
  /** Read-time workload rules (`--workload-config`). */
  readonly workloadConfig?: WorkloadConfig;
}

/** The resolved graph: edges (filtered) and every workload with its selector. */
export interface Graph {
  readonly edges: readonly Edge[];
  readonly workloads: readonly WorkloadInfo[];
}

/**
 * Reads and resolves the edge graph (see graph/index.ts for the steps). Deterministic: edges are
 * sorted by (from, to, protocol, port) keys, workloads by namespace, kind, name.
 */
export function loadGraph(db: Db, options: LoadGraphOptions = {}): Graph {
  if (!hasEdgeGraph(db)) return { edges: [], workloads: [] };
  const workloads = resolveWorkloads(readWorkloadRecords(db), options.workloadConfig ?? EMPTY_WORKLOAD_CONFIG, readNamespaceRecords(db));
  const answers = indexAnswers(readDnsAnswers(db), workloads);
  const ns = options.filter?.namespaces;
  const reasons = readDropReasons(db, ns);
  // Distinct hours per stored row in one pass over edge_hours (a subquery per row cost more).
  const hours = new Map<number, number>();
  for (const [id, n] of db.prepare('SELECT edge_id, count(*) FROM edge_hours GROUP BY edge_id').raw().iterate() as Iterable<[number, number]>) hours.set(id, n);
  const select = `SELECT ${edgeSelectList(db)} FROM edges e`;
  // Row by row: the raw rows never all sit in memory beside their records.
  const stored: StoredEdge[] = [];
  const rows = (
    ns === undefined
      ? db.prepare(`${select} ORDER BY e.id`).raw().iterate()
      : ns.length === 0
        ? []
        : db
            .prepare(`${select} WHERE e.src_ns IN (SELECT value FROM json_each(?)) OR e.dst_ns IN (SELECT value FROM json_each(?)) ORDER BY e.id`)
            .raw()
            .iterate(JSON.stringify(ns), JSON.stringify(ns))
  ) as Iterable<unknown[]>;
  for (const r of rows) stored.push(rowToStored(r, hours.get(Number(r[0])) ?? 0, reasons));
  const countHoursStmt = db.prepare('SELECT count(DISTINCT hour) AS n FROM edge_hours WHERE edge_id IN (SELECT value FROM json_each(?))');
  const countHours = (ids: readonly number[]): number => (countHoursStmt.get(JSON.stringify(ids)) as { n: number }).n;
  const edges = resolveEdges(stored, workloads, answers, countHours, readClusterIps(db, workloads));
  return { edges: options.filter ? filterEdges(edges, options.filter) : edges, workloads: workloads.workloads };
}

/** Resolved edges matching `filter` (all when absent). */
export function loadEdges(db: Db, filter?: EdgeFilter, workloadConfig?: WorkloadConfig): Edge[] {
  return [...loadGraph(db, { ...(filter ? { filter } : {}), ...(workloadConfig ? { workloadConfig } : {}) }).edges];
}

/** Every workload seen, with its selector labels. */
export function loadWorkloads(db: Db, workloadConfig?: WorkloadConfig): WorkloadInfo[] {
  if (!hasEdgeGraph(db)) return [];
  return [...resolveWorkloads(readWorkloadRecords(db), workloadConfig ?? EMPTY_WORKLOAD_CONFIG, readNamespaceRecords(db)).workloads];
}

export interface EdgeGraphSummary {
  /** Resolved edges. */
  readonly edges: number;
  /** Stored rows (world edges are kept per IP until read). */
  readonly rawEdges: number;
  readonly workloads: number;
  readonly dnsAnswers: number;
  /** Flows that made no edge, by reason. */
  readonly skipped: Readonly<Record<string, number>>;
  readonly convergence: readonly NamespaceConvergence[];
}

/** What `status` shows about the graph, including baseline convergence per namespace. */
export function readEdgeGraphSummary(db: Db): EdgeGraphSummary | undefined {
  if (!hasEdgeGraph(db)) return undefined;
  // Ends, times and destination names only, row by row: at 60,000 edges the whole graph with its
  // evidence cost status ~1 GB and most of its time.
  const workloads = resolveWorkloads(readWorkloadRecords(db), EMPTY_WORKLOAD_CONFIG);
  const answers = indexAnswers(readDnsAnswers(db), workloads);
  const rows = db.prepare(`SELECT src_key, dst_key, protocol, port, first_seen_ms, last_seen_ms, ${SET_COLUMN.destinationNames} AS names FROM edges ORDER BY id`);
  function* outlines(): Generator<EdgeOutline> {
    for (const r of rows.iterate() as Iterable<{ src_key: string; dst_key: string; protocol: string; port: number; first_seen_ms: number; last_seen_ms: number; names: string | null }>) {
      yield {
        from: parseKey(r.src_key, 'source'),
        to: parseKey(r.dst_key, 'destination'),
        protocol: r.protocol,
        port: r.port,
        destinationNames: r.names === null || r.names === '[]' ? [] : (JSON.parse(r.names) as string[]),
        firstSeenMs: r.first_seen_ms,
        lastSeenMs: r.last_seen_ms,
      };
    }
  }
  const edges = resolveOutlines(outlines(), workloads, answers, readClusterIps(db, workloads));
  const graph = { edges, workloads: workloads.workloads };
  const count = (table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const skipped: Record<string, number> = {};
  for (const r of db.prepare('SELECT reason, flows FROM edge_skips ORDER BY reason').all() as { reason: string; flows: number }[]) skipped[r.reason] = r.flows;
  return {
    edges: graph.edges.length,
    rawEdges: count('edges'),
    workloads: graph.workloads.length,
    dnsAnswers: count('dns_answers'),
    skipped,
    convergence: convergence(graph.edges),
  };
}
