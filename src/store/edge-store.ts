import {
  type CappedSet,
  type ClusterIpRecord,
  type ClusterIps,
  type DnsAnswer,
  type Edge,
  EVIDENCE_FIELDS,
  type EvidenceField,
  type ProjectedEdge,
  COUNTER_FIELDS,
  type EdgeFilter,
  type EdgeOutline,
  type EdgeProtocol,
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
  evidenceForFilter,
  indexAnswers,
  clusterIpIndex,
  clusterIpIndexOnDemand,
  endPort,
  type EndPorts,
  NODE_ENTITY_KEYS,
  type Peer,
  type ClusterIpLookup,
  clusterIpLookupOf,
  NO_CLUSTER_IPS,
  parseRawPeerKey,
  type ResolvedWorkloads,
  resolveEnd,
  resolveEdges,
  resolveOutlines,
  resolveWorkloads,
  resolveWorkloadPeers,
  describeWorkloads,
  decodeGraphSnapshot,
  encodeGraphSnapshot,
  snapshotSummary,
  type SnapshotSummary,
} from '../graph/index.js';
import { graphGeneration, readSnapshotParts, rememberSnapshot, storePendingSnapshot, type StoredPart } from './graph-snapshot.js';
import { blockOf, blockTextRange } from '../net/cidr.js';
import { SET_COLUMN, SIDE_COLUMNS } from './edge-columns.js';
import { StoreError } from './errors.js';
import { type Db, openDatabase } from './open.js';

/** Whether the database has the edge tables (schema 2+); a read-only v1 database has none. */
export function hasEdgeGraph(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'edges'").get() !== undefined;
}

function parseKey(key: string, what: string): RawPeer {
  const p = parseRawPeerKey(key);
  if (p === undefined) throw new StoreError(`edges: malformed ${what} key "${key}"`);
  return p;
}

/**
 * A row's counts (id, port, the side counters), in this order, as one JSON array (`json_array`):
 * SQLite hands over each column as a value of its own, and 26 numbers cost the read of every row
 * a quarter more than one short text and its `JSON.parse`. The times stay columns: a number past
 * 31 bits in the array makes it an array of doubles, and every counter read from it a boxed
 * number in its edge (16 MB more at 3,000 workloads).
 */
const COUNT_COLUMNS = ['id', 'port', ...SIDE_COLUMNS.map((c) => c.column)] as const;
const SIDES_AT = 2;
/** Where the row's times and then its sets (the destination names first) are. */
const TIMES_AT = 4;
const SETS_AT = 6;

/**
 * The select list `storedRows` reads: the ends, the protocol, the counts, the times, the destination names,
 * then the `evidence` set columns (in that order); a set column an older schema lacks (the
 * reserved-label sets came with migration 4) reads as NULL, an empty set.
 */
function edgeSelectList(db: Db, evidence: readonly EvidenceField[]): string {
  const present = new Set((db.prepare('PRAGMA table_info(edges)').all() as { name: string }[]).map((c) => c.name));
  // An empty set reads as NULL: most rows have most sets empty, and a '[]' string per set and row is garbage.
  const sets = [SET_COLUMN.destinationNames, ...evidence.map((f) => SET_COLUMN[f])].map((c) => (present.has(c) ? `NULLIF(e.${c}, '[]')` : 'NULL'));
  return ['e.src_key', 'e.dst_key', 'e.protocol', `json_array(${COUNT_COLUMNS.map((c) => `e.${c}`).join(', ')})`, 'e.first_seen_ms', 'e.last_seen_ms', ...sets].join(', ');
}

const EMPTY_VALUES: readonly string[] = [];
/** A stored edge's hours are counted in SQL (`hoursSeen`), never listed. */
const NO_HOURS: readonly number[] = [];
const EMPTY_SET: CappedSet = { values: EMPTY_VALUES, truncated: false };
const setOf = (text: unknown): CappedSet => (text === null || text === '[]' ? EMPTY_SET : { values: JSON.parse(String(text)) as string[], truncated: false });

/**
 * One object for every side that saw nothing (the unknown side of nearly every edge, the egress
 * side of half): edges keep their counters, and tens of thousands of zero copies cost memory and
 * collection time. Frozen, as it is shared.
 */
const NO_COUNTERS: Readonly<SideCounters> = Object.freeze(emptyCounters());

function countersAt(n: readonly number[], at: number): Readonly<SideCounters> {
  let seen = false;
  for (let i = 0; i < COUNTER_FIELDS.length; i++) if (n[at + i] !== 0) seen = true;
  if (!seen) return NO_COUNTERS;
  // Named in COUNTER_FIELDS order (the columns' order), not stored by a key looked up per field.
  return {
    flows: n[at] as number,
    connections: n[at + 1] as number,
    verdicts: n[at + 2] as number,
    forwarded: n[at + 3] as number,
    dropped: n[at + 4] as number,
    audit: n[at + 5] as number,
    redirected: n[at + 6] as number,
    errors: n[at + 7] as number,
  };
}

/** `parseKey` for keys that repeat on thousands of rows: each parsed once, one object per key. */
function peerParser(): (key: unknown, what: string) => RawPeer {
  const peers = new Map<string, RawPeer>();
  return (key, what) => {
    const k = String(key);
    let p = peers.get(k);
    if (p === undefined) peers.set(k, (p = parseKey(k, what)));
    return p;
  };
}

/**
 * Turns raw rows (`edgeSelectList` order) into stored edges. Arrays, not objects: 45 keys per row
 * cost more than the row. Peer keys repeat on thousands of rows and are parsed once. The sets a
 * reader did not ask for stay empty, and no set's `truncated` flag is read: a resolved edge shows
 * only the values.
 */
function storedRows(evidence: readonly EvidenceField[], hours: ReadonlyMap<number, number>, reasons: ReadonlyMap<number, Record<string, number>>, peer: (key: unknown, what: string) => RawPeer) {
  const NO_REASONS: Readonly<Record<string, number>> = {};
  return (row: readonly unknown[]): StoredEdge => {
    const n = JSON.parse(row[3] as string) as readonly number[];
    const id = n[0] as number;
    // Assumes SIDE_COLUMNS lists egress, ingress, unknown, each in COUNTER_FIELDS order (edge-columns.ts).
    const sides: Record<Side, Readonly<SideCounters>> = {
      egress: countersAt(n, SIDES_AT),
      ingress: countersAt(n, SIDES_AT + COUNTER_FIELDS.length),
      unknown: countersAt(n, SIDES_AT + 2 * COUNTER_FIELDS.length),
    };
    // Every key at once (one object shape), then the evidence read.
    const sets: Record<SetField, CappedSet> = {
      dnsNames: EMPTY_SET,
      httpRequests: EMPTY_SET,
      destinationNames: setOf(row[SETS_AT]),
      l7Protocols: EMPTY_SET,
      allowedBy: EMPTY_SET,
      deniedBy: EMPTY_SET,
      services: EMPTY_SET,
      srcPods: EMPTY_SET,
      dstPods: EMPTY_SET,
      srcReserved: EMPTY_SET,
      dstReserved: EMPTY_SET,
    };
    for (let i = 0; i < evidence.length; i++) sets[evidence[i] as EvidenceField] = setOf(row[SETS_AT + 1 + i]);
    return {
      id,
      hoursSeen: hours.get(id) ?? 0,
      record: {
        from: peer(row[0], 'source'),
        to: peer(row[1], 'destination'),
        protocol: row[2] as EdgeRecord['protocol'],
        port: n[1] as number,
        sides,
        // Not an edge field: a resolved edge counts L7 requests in its side counters.
        l7Requests: 0,
        firstSeenMs: row[TIMES_AT] as number,
        lastSeenMs: row[TIMES_AT + 1] as number,
        hours: NO_HOURS,
        dropReasons: reasons.get(id) ?? NO_REASONS,
        sets,
      },
    };
  };
}

/** The rows as stored edges, one at a time as SQLite hands them over. */
function* storedOf(rows: Iterable<unknown[]>, toStored: (row: readonly unknown[]) => StoredEdge): Iterable<StoredEdge> {
  for (const r of rows) yield toStored(r);
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

/**
 * Distinct hours per stored row, in one pass over edge_hours (a subquery per row cost more), as
 * two JSON arrays made in that pass: a row per edge cost three times what SQLite's grouping does.
 */
function readHourCounts(db: Db): Map<number, number> {
  const [ids, counts] = db.prepare('SELECT json_group_array(edge_id), json_group_array(n) FROM (SELECT edge_id, count(*) AS n FROM edge_hours GROUP BY edge_id)').raw().get() as [string, string];
  const idList = JSON.parse(ids) as number[];
  const countList = JSON.parse(counts) as number[];
  const hours = new Map<number, number>();
  for (let i = 0; i < idList.length; i++) hours.set(idList[i] as number, countList[i] as number);
  return hours;
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
function readClusterIps(db: Db, workloads: Pick<ResolvedWorkloads, 'byRawKey'>, peer: (key: unknown, what: string) => RawPeer = peerParser()): ClusterIps {
  if (!hasStoredClusterIps(db)) return NO_CLUSTER_IPS;
  // GLOB, not LIKE: a key is `ip:` in lower case or no world key at all (`parseRawPeerKey`), and
  // LIKE's case folding made this scan of the key index about twice as slow.
  const rows = db.prepare(`SELECT src_key, dst_key, protocol, port FROM edges
    WHERE src_key GLOB 'ip:*' OR dst_key GLOB 'ip:*' OR src_key IN ('e:host', 'e:remote-node') OR dst_key IN ('e:host', 'e:remote-node')`);
  const ends = (rows.raw().all() as [string, string, EdgeRecord['protocol'], number][]).map(
    (r): Pick<EdgeRecord, 'from' | 'to' | 'protocol' | 'port'> => ({ from: peer(r[0], 'source'), to: peer(r[1], 'destination'), protocol: r[2], port: r[3] }),
  );
  return clusterIpIndex(storedClusterIpLookup(db), ends, (p) => resolveEnd(p, workloads));
}

/** `readClusterIps` over ends already read: every stored row's (the index only looks at world and node ends). */
function clusterIpsOf(db: Db, workloads: Pick<ResolvedWorkloads, 'byRawKey'>, rows: readonly Pick<EdgeRecord, 'from' | 'to' | 'protocol' | 'port'>[]): ClusterIps {
  if (!hasStoredClusterIps(db)) return NO_CLUSTER_IPS;
  return clusterIpIndex(storedClusterIpLookup(db), rows, (p) => resolveEnd(p, workloads));
}

const hasStoredClusterIps = (db: Db): boolean => hasClusterIps(db) && db.prepare('SELECT 1 FROM cluster_ips LIMIT 1').get() !== undefined;

/** The cluster-address index `loadGraph` uses, built up front over every stored edge. */
export function loadClusterIps(db: Db, workloadConfig?: WorkloadConfig): ClusterIps {
  if (!hasEdgeGraph(db)) return NO_CLUSTER_IPS;
  return readClusterIps(db, resolveWorkloadPeers(readWorkloadRecords(db), workloadConfig ?? EMPTY_WORKLOAD_CONFIG));
}

/**
 * The cluster-address index for readers that judge single flows (`drops`): the same verdicts as
 * `loadClusterIps`, but nothing is read until a question needs it (the block of an address asked
 * about, the workloads when a block holds one, the ports of the edges when a verdict turns on
 * them). A 3,000-workload cluster's drops ask about a few dozen of its 18,000 world addresses,
 * where building the whole index cost most of the read. It reads `db` whenever it is asked:
 * keep the database open until the last question.
 */
export function loadClusterIpsOnDemand(db: Db, workloadConfig?: WorkloadConfig): ClusterIps {
  if (!hasEdgeGraph(db) || !hasStoredClusterIps(db)) return NO_CLUSTER_IPS;
  let workloads: Pick<ResolvedWorkloads, 'byRawKey'> | undefined;
  const resolve = (p: RawPeer): Peer => resolveEnd(p, (workloads ??= resolveWorkloadPeers(readWorkloadRecords(db), workloadConfig ?? EMPTY_WORKLOAD_CONFIG)));
  return clusterIpIndexOnDemand(storedClusterIpLookup(db), storedEndPorts(db), resolve);
}

/** The ports of the stored edges' node and world ends, each read on first need. */
function storedEndPorts(db: Db): EndPorts {
  let nodePorts: Set<string> | undefined;
  let worldPorts: Map<string, Set<string>> | undefined;
  const readNodePorts = (): Set<string> => {
    const keys = JSON.stringify(NODE_ENTITY_KEYS);
    const rows = db
      .prepare(`SELECT DISTINCT 'to', protocol, port FROM edges WHERE dst_key IN (SELECT value FROM json_each(?))
                UNION SELECT DISTINCT 'from', protocol, port FROM edges WHERE src_key IN (SELECT value FROM json_each(?))`)
      .raw()
      .all(keys, keys) as ['from' | 'to', EdgeProtocol, number][];
    return new Set(rows.map(([side, protocol, port]) => endPort(side, protocol, port)));
  };
  // Every world address's ports at once, when the first verdict needs one: an address's own
  // lookup scans the key index for its destination rows (~12 ms at 68,000 edges), all of them ~0.1 s.
  const readWorldPorts = (): Map<string, Set<string>> => {
    const peer = peerParser();
    const out = new Map<string, Set<string>>();
    const rows = db
      .prepare(`SELECT 'to', dst_key, protocol, port FROM edges WHERE dst_key GLOB 'ip:*' UNION ALL SELECT 'from', src_key, protocol, port FROM edges WHERE src_key GLOB 'ip:*'`)
      .raw()
      .iterate() as Iterable<['from' | 'to', string, EdgeProtocol, number]>;
    for (const [side, key, protocol, port] of rows) {
      const p = peer(key, side === 'to' ? 'destination' : 'source');
      if (p.kind !== 'world-ip') continue;
      let ports = out.get(p.ip);
      if (ports === undefined) out.set(p.ip, (ports = new Set()));
      ports.add(endPort(side, protocol, port));
    }
    return out;
  };
  return {
    nodePorts: () => (nodePorts ??= readNodePorts()),
    worldPorts: (ip) => (worldPorts ??= readWorldPorts()).get(ip) ?? new Set(),
  };
}

export interface LoadGraphOptions {
  /** Narrows the edges; namespaces are also applied in SQL. Workloads are never filtered. */
  readonly filter?: EdgeFilter;
  /** Read-time workload rules (`--workload-config`). */
  readonly workloadConfig?: WorkloadConfig;
  /**
   * The evidence lists to read (all when absent). At tens of thousands of edges the lists are
   * most of what a read costs; a reader that prints few of them asks for those only.
   */
  readonly evidence?: readonly EvidenceField[];
  /** `false`: resolve the rows, and neither read nor keep a snapshot (the reference tests and benchmarks compare with). */
  readonly snapshot?: false;
}

/** The resolved graph: edges (filtered) and every workload with its selector. */
export interface Graph<E = Edge> {
  readonly edges: readonly E[];
  readonly workloads: readonly WorkloadInfo[];
}

/**
 * Reads and resolves the edge graph (see graph/index.ts for the steps). Deterministic: edges are
 * sorted by (from, to, protocol, port) keys, workloads by namespace, kind, name. With `evidence`,
 * the edges carry only those evidence lists.
 */
export function loadGraph(db: Db, options?: LoadGraphOptions & { readonly evidence?: undefined }): Graph;
export function loadGraph<F extends EvidenceField>(db: Db, options: LoadGraphOptions & { readonly evidence: readonly F[] }): Graph<ProjectedEdge<F>>;
export function loadGraph(db: Db, options: LoadGraphOptions = {}): Graph {
  if (!hasEdgeGraph(db)) return { edges: [], workloads: [] };
  const evidence = options.evidence === undefined ? EVIDENCE_FIELDS : evidenceForFilter(options.evidence, options.filter);
  // Only the default read is snapshotted: workload rules change what the rows resolve to.
  const snapshotted = options.workloadConfig === undefined && options.snapshot !== false;
  const stored = snapshotted ? graphFromSnapshot(db, evidence) : undefined;
  if (stored !== undefined) return withEdges(stored, options.filter ? filterEdges(stored.edges, options.filter) : stored.edges);
  // Read before the rows: a write committed after this moves the generation, and the snapshot is not stored.
  const generation = snapshotted && options.filter?.namespaces === undefined ? graphGeneration(db) : undefined;
  const graph = resolveGraph(db, options, evidence);
  if (generation !== undefined) {
    const workloads = graph.workloadCount;
    rememberSnapshot(db, { generation, names: ['core', ...evidence], parts: () => encodeGraphSnapshot(graph.edges, evidence, { workloads }) });
    // The edges' parts now, before the reader builds on the graph (graph-snapshot.ts `storePendingSnapshot`); its workloads once described.
    storePendingSnapshot(db);
    rememberWorkloadsPart(db, generation, graph.described);
  }
  // Resolving every row leaves ~60 MB of garbage at 3,000 workloads (rows, records, keys, the
  // snapshot's encoding) in an old space sized to it: a command that builds much on the graph has
  // it collected here, and starts from the live graph as a warm read does.
  afterResolve();
  return withEdges(graph, options.filter ? filterEdges(graph.edges, options.filter) : graph.edges);
}

/**
 * Keeps the workloads' part to store at close. A function of its own: a closure made in
 * `loadGraph` would share its scope with the edges' encoder, and hold the resolved graph (every
 * edge, after the reader is done with them) until the database closes.
 */
function rememberWorkloadsPart(db: Db, generation: number, described: () => readonly WorkloadInfo[] | undefined): void {
  rememberSnapshot(db, {
    generation,
    names: ['workloads'],
    parts: () => {
      const workloads = described();
      return new Map(workloads === undefined ? [] : [['workloads', encodeWorkloads(workloads)]]);
    },
  });
}

let afterResolve: () => void = () => undefined;

/**
 * What runs each time a read has resolved the graph from its rows (and stored its snapshot
 * parts): the command line's full collection (cli/heap.ts `fullCollector`). Returns the hook it
 * replaces.
 */
export function afterGraphResolved(hook: () => void): () => void {
  const before = afterResolve;
  afterResolve = hook;
  return before;
}

/** Stored edge rows (world edges per IP): what resolving the graph costs grows with them. */
export function storedEdgeRows(db: Db): number {
  return hasEdgeGraph(db) ? (db.prepare('SELECT count(*) FROM edges').pluck().get() as number) : 0;
}

/**
 * Stores the snapshot of the graph at `path` now, workloads included, unless a current one is
 * there: `replay` ends with it, so that the reads after it (the first included) decode the graph
 * instead of resolving it. The same read, parts and best-effort write as any reader's, so a
 * snapshot it cannot store (a lock, a full disk) is left to the next reader to make.
 */
export function storeGraphSnapshot(path: string): void {
  const db = openDatabase(path, { readonly: true });
  try {
    if (!hasEdgeGraph(db) || readSnapshotParts(db, ['core', ...EVIDENCE_FIELDS, 'workloads']) !== undefined) return;
    // Described, so that their part is stored with the edges' (check, recommend and report read them).
    void loadGraph(db).workloads;
  } finally {
    db.close();
  }
}

/** `graph` with other edges; its workloads read through (described on first use only). */
function withEdges(graph: Graph, edges: readonly Edge[]): Graph {
  return {
    edges,
    get workloads() {
      return graph.workloads;
    },
  };
}

/**
 * The graph from the stored snapshot, when it has the core and the `evidence` parts at the
 * current generation; undefined otherwise (none, stale, damaged), and the caller resolves.
 * Workloads come from their part, or, when a reader before never described them, from the
 * tables, read in the same transaction as the parts (the same state of the database).
 */
function graphFromSnapshot(db: Db, evidence: readonly EvidenceField[]): Graph | undefined {
  return db.transaction((): Graph | undefined => {
    const parts = readSnapshotParts(db, ['core', ...evidence]);
    if (parts === undefined) return undefined;
    let edges: Edge[];
    try {
      edges = decodeGraphSnapshot(parts.get('core') as Uint8Array, new Map(evidence.map((f) => [f, parts.get(f) as Uint8Array])));
    } catch {
      // Never trusted, never fatal: the normal read answers.
      return undefined;
    }
    const described = readSnapshotParts(db, ['workloads'])?.get('workloads');
    if (described !== undefined) {
      let workloads: WorkloadInfo[] | undefined;
      return {
        edges,
        get workloads() {
          // Its checksum matched: text that does not decode is a bug, not damage.
          return (workloads ??= decodeWorkloads(described) ?? unreadablePart('workloads'));
        },
      };
    }
    const records = readWorkloadRecords(db);
    const namespaces = readNamespaceRecords(db);
    const generation = graphGeneration(db);
    let workloads: readonly WorkloadInfo[] | undefined;
    if (generation !== undefined) {
      rememberSnapshot(db, { generation, names: ['workloads'], parts: () => new Map(workloads === undefined ? [] : [['workloads', encodeWorkloads(workloads)]]) });
    }
    return {
      edges,
      get workloads() {
        return (workloads ??= describeWorkloads(records, resolveWorkloadPeers(records, EMPTY_WORKLOAD_CONFIG).byRawKey, namespaces));
      },
    };
  })();
}

/** The normal read: every row (of the filter's namespaces) resolved. */
function resolveGraph(db: Db, options: LoadGraphOptions, evidence: readonly EvidenceField[]) {
  const records = readWorkloadRecords(db);
  const namespaces = readNamespaceRecords(db);
  const workloads = resolveWorkloadPeers(records, options.workloadConfig ?? EMPTY_WORKLOAD_CONFIG);
  const answers = indexAnswers(readDnsAnswers(db), workloads);
  const ns = options.filter?.namespaces;
  const reasons = readDropReasons(db, ns);
  const hours = readHourCounts(db);
  const select = `SELECT ${edgeSelectList(db, evidence)} FROM edges e`;
  // One parsed peer per key for both reads of the keys (a row's ends are parsed once).
  const peer = peerParser();
  const toStored = storedRows(evidence, hours, reasons, peer);
  // The cluster-address index first (its own scan of the world and node ends), so that each row
  // is resolved as it is read and no row's record outlives it.
  const clusterIps = readClusterIps(db, workloads, peer);
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
  const countHoursStmt = db.prepare('SELECT count(DISTINCT hour) AS n FROM edge_hours WHERE edge_id IN (SELECT value FROM json_each(?))');
  const countHours = (ids: readonly number[]): number => (countHoursStmt.get(JSON.stringify(ids)) as { n: number }).n;
  const edges = resolveEdges(storedOf(rows, toStored), workloads, answers, countHours, clusterIps);
  // Selectors are chosen on first use: a reader of edges alone (`edges`) never pays for them.
  let described: readonly WorkloadInfo[] | undefined;
  return {
    edges,
    workloadCount: workloads.count,
    described: () => described,
    get workloads() {
      return (described ??= describeWorkloads(records, workloads.byRawKey, namespaces));
    },
  };
}

/** Resolved edges matching `filter` (all when absent). */
export function loadEdges(db: Db, filter?: EdgeFilter, workloadConfig?: WorkloadConfig): Edge[] {
  return [...loadGraph(db, { ...(filter ? { filter } : {}), ...(workloadConfig ? { workloadConfig } : {}) }).edges];
}

/**
 * Every workload seen, with its selector labels: from the stored snapshot when it is current
 * (and no workload rules are given), else resolved from the rows, and then kept to store when
 * the database closes (graph-snapshot.ts), so that the next reader (`drops`) need not choose the
 * selectors again.
 */
export function loadWorkloads(db: Db, workloadConfig?: WorkloadConfig): WorkloadInfo[] {
  if (!hasEdgeGraph(db)) return [];
  if (workloadConfig !== undefined) return [...resolveWorkloads(readWorkloadRecords(db), workloadConfig, readNamespaceRecords(db)).workloads];
  return db.transaction((): WorkloadInfo[] => {
    const stored = storedWorkloads(db);
    if (stored !== undefined) return stored;
    // Read with the rows (one transaction): a write committed after it moves the generation, and the part is not stored.
    const generation = graphGeneration(db);
    const workloads = [...resolveWorkloads(readWorkloadRecords(db), EMPTY_WORKLOAD_CONFIG, readNamespaceRecords(db)).workloads];
    if (generation !== undefined) rememberSnapshot(db, { generation, names: ['workloads'], parts: () => new Map([['workloads', encodeWorkloads(workloads)]]) });
    return workloads;
  })();
}

const encodeWorkloads = (workloads: readonly WorkloadInfo[]): Uint8Array => new TextEncoder().encode(JSON.stringify(workloads));

/** The workloads `encodeWorkloads` stored; undefined when the bytes are not such a list. */
function decodeWorkloads(part: Uint8Array): WorkloadInfo[] | undefined {
  try {
    const workloads = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(part)) as unknown;
    return Array.isArray(workloads) ? (workloads as WorkloadInfo[]) : undefined;
  } catch {
    return undefined;
  }
}

function unreadablePart(part: StoredPart): never {
  throw new Error(`graph snapshot: the ${part} part matched its checksum but does not decode`);
}

/** The workloads of the snapshot's `workloads` part, when it is current and sound. */
function storedWorkloads(db: Db): WorkloadInfo[] | undefined {
  const part = readSnapshotParts(db, ['workloads'])?.get('workloads');
  return part === undefined ? undefined : decodeWorkloads(part);
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
  const graph = summaryFromSnapshot(db) ?? summaryOf(resolveSummary(db));
  const count = (table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const skipped: Record<string, number> = {};
  for (const r of db.prepare('SELECT reason, flows FROM edge_skips ORDER BY reason').all() as { reason: string; flows: number }[]) skipped[r.reason] = r.flows;
  return {
    edges: graph.edges,
    rawEdges: count('edges'),
    workloads: graph.workloads,
    dnsAnswers: count('dns_answers'),
    skipped,
    convergence: graph.convergence,
  };
}

const summaryOf = (g: SummaryGraph): SnapshotSummary => ({ edges: g.edges.length, workloads: g.workloads, convergence: convergence(g.edges) });

type SummaryGraph = { readonly edges: readonly Pick<Edge, 'from' | 'to' | 'firstSeenMs' | 'lastSeenMs'>[]; readonly workloads: number };

/** The counts and convergence the snapshot was made with, when it is current and sound (its edges are not decoded). */
function summaryFromSnapshot(db: Db): SnapshotSummary | undefined {
  const core = readSnapshotParts(db, ['core'])?.get('core');
  if (core === undefined) return undefined;
  try {
    return snapshotSummary(core);
  } catch {
    return undefined;
  }
}

function resolveSummary(db: Db): SummaryGraph {
  // Ends, times and destination names only, row by row: at 60,000 edges the whole graph with its
  // evidence cost status ~1 GB and most of its time.
  // Workloads are counted, not described: no selectors.
  const workloads = resolveWorkloadPeers(readWorkloadRecords(db), EMPTY_WORKLOAD_CONFIG);
  const answers = indexAnswers(readDnsAnswers(db), workloads);
  const peer = peerParser();
  const rows = db.prepare(`SELECT src_key, dst_key, protocol, port, first_seen_ms, last_seen_ms, NULLIF(${SET_COLUMN.destinationNames}, '[]') FROM edges ORDER BY id`).raw();
  const outlines: EdgeOutline[] = [];
  // Arrays, not objects with named columns: one row object fewer per edge.
  for (const r of rows.iterate() as Iterable<[string, string, EdgeProtocol, number, number, number, string | null]>) {
    const names = r[6];
    outlines.push({
      from: peer(r[0], 'source'),
      to: peer(r[1], 'destination'),
      protocol: r[2],
      port: r[3],
      destinationNames: names === null ? EMPTY_VALUES : (JSON.parse(names) as string[]),
      firstSeenMs: r[4],
      lastSeenMs: r[5],
    });
  }
  // Every row's ends are at hand: the cluster-address index takes them instead of scanning again.
  return { edges: resolveOutlines(outlines, workloads, answers, clusterIpsOf(db, workloads, outlines)), workloads: workloads.count };
}
