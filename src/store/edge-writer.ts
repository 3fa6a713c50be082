import type { Statement } from 'better-sqlite3';
import {
  type ClusterIpRecord,
  type EdgeRecord,
  type GraphDelta,
  SET_FIELDS,
  type WorkloadRecord,
  rawPeerKey,
} from '../graph/index.js';
import { SET_COLUMN, SIDE_COLUMNS } from './edge-columns.js';
import type { Db } from './open.js';
import { EdgeSlots } from './edge-slots.js';
import { RowBatch } from './row-batch.js';
import { SET_ASSIGNMENTS, type SetTexts, joinSetTexts, mergeSetTexts, setTextsOf, setTextsOfRow, splitSetTexts } from './set-texts.js';

/**
 * Edges whose row id, last hour and stored sets a writer remembers (EdgeSlots). The sets let most
 * flushes skip the JSON read-modify-write, and while no other writer wrote, the read. They used
 * to be kept parsed, an object and an array per field: ~900 bytes an edge before any value, so a
 * bound of 100,000 values held ~13 MB yet only ~15,000 of the 60,000 edges of a 3,000-workload
 * cluster, and three writes in four found their edge forgotten.
 */
export const EDGE_SLOTS = 65_536;
/**
 * observe's (its flat 200 MB holds ~6 MB of slots): at 3,000 workloads 16,384 slots find 33% of
 * edges in their slot against 83% for a map of all 66,000; the rest are looked up by key. Replay
 * keeps EDGE_SLOTS: fewer slots cost it 10% of its CPU at 750 workloads.
 */
export const OBSERVE_EDGE_SLOTS = 16_384;
/** Characters of set texts the slots hold at most (a safety bound: ~300 an edge fill ~5M). */
export const KNOWN_SETS_CHARS = 8 * 1024 * 1024;
/**
 * Characters of label sets remembered per writer: counts alone let 40 flows with megabytes of
 * labels and URL each keep hundreds of MB alive. A label set (or an edge's sets) longer than
 * MAX_REMEMBERED_CHARS is written every time (INSERT OR IGNORE), never remembered.
 */
const KNOWN_CHARS_MAX = 16 * 1024 * 1024;
const MAX_REMEMBERED_CHARS = 64 * 1024;
/** Label sets remembered per writer. */
const LABEL_SETS_MAX = 500_000;
/** Counter columns in a fixed order: the per-side counters, then l7_requests. */
const COUNTER_COLUMNS = [...SIDE_COLUMNS.map((c) => c.column), 'l7_requests'];
/** The bit of an UPDATE's mask (`#addCounters`) that says it writes the sets, above the counters' bits. */
const SETS_BIT = 1 << COUNTER_COLUMNS.length;

function counterValues(e: EdgeRecord): number[] {
  const out = SIDE_COLUMNS.map((c) => e.sides[c.side][c.field]);
  out.push(e.l7Requests);
  return out;
}

/**
 * Merges graph deltas into the database. `write` must run inside the caller's transaction (the
 * ingest batch commit), so a batch's flows, counts and edges are committed together or not at all.
 * Counters are added in one UPSERT per edge, hours and drop reasons by their own additive UPSERTs;
 * the capped JSON sets (pods, names, paths) are read, merged with graph/merge.ts and written back
 * only when the delta brings a value not known to be stored already; they are not even read while
 * this writer knows them exactly (no other writer wrote since: PRAGMA data_version for other
 * connections, a per-connection count for other writers on this one).
 */
export class EdgeWriter {
  readonly #db: Db;
  readonly #insert;
  /** An edge's row id and stored sets by its key: one statement for an edge its slot forgot. */
  readonly #selectStored;
  /** UPDATE statements by the counter columns a delta changes and whether it writes sets (SETS_BIT); a handful in practice. */
  readonly #updates = new Map<number, Statement>();
  /**
   * Edge key → row id (ids never change; rows are never deleted), the last hour this writer stored
   * for it (most batches add no new hour) and its set columns' texts (SetTexts, joined) as this writer last read or
   * wrote them: exactly what is stored, since they are all forgotten whenever another writer may
   * have written.
   */
  readonly #slots: EdgeSlots;
  readonly #selectSets;
  readonly #updateSets;
  readonly #insertHour;
  readonly #addDropReason;
  readonly #upsertWorkload;
  readonly #selectHints;
  readonly #updateHints;
  readonly #insertLabelSet;
  readonly #upsertAnswer;
  readonly #addSkip;
  readonly #upsertNamespace;
  readonly #upsertClusterIp;
  readonly #knownLabelSets = new Set<string>();
  /**
   * A frozen label set (the aggregator hands out one per label list, batch after batch) → the
   * workload this writer stored it for: ~2,800 workloads a batch at 3,000 workloads were each
   * stringified and keyed again only to find them in #knownLabelSets. Weak: held while the list is.
   */
  readonly #storedLabelSets = new WeakMap<readonly string[], string>();
  #knownLabelSetChars = 0;
  /** The database's data_version (other connections' commits) and this connection's write count, as of this writer's last write. */
  #dataVersion: number | undefined;
  #connectionWrites: number | undefined;
  /** Whether other connections were checked during the current write (after its first write: the lock is held). */
  #checkedOthers = false;
  readonly #selectDataVersion;

  constructor(db: Db, bounds: EdgeWriterBounds = {}) {
    this.#db = db;
    this.#slots = new EdgeSlots(bounds.edgeSlots ?? EDGE_SLOTS, bounds.knownSetsChars ?? KNOWN_SETS_CHARS);
    const setCols = SET_FIELDS.map((f) => SET_COLUMN[f]);
    // A new edge is inserted whole, its sets too: no read-back and rewrite of the row it just wrote.
    const cols = ['src_key', 'dst_key', 'protocol', 'port', 'src_ns', 'dst_ns', ...COUNTER_COLUMNS, 'first_seen_ms', 'last_seen_ms', 'truncated', ...setCols];
    // An edge this writer has not seen is tried as new first: most are (one statement, not a look-up and an insert).
    this.#insert = db.prepare(
      `INSERT INTO edges (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ON CONFLICT (src_key, dst_key, protocol, port) DO NOTHING`,
    );
    this.#selectStored = db.prepare(`SELECT id, truncated, ${setCols.join(', ')} FROM edges WHERE src_key = ? AND dst_key = ? AND protocol = ? AND port = ?`);
    this.#selectSets = db.prepare(`SELECT truncated, ${setCols.join(', ')} FROM edges WHERE id = ?`);
    this.#selectDataVersion = db.prepare('PRAGMA data_version').pluck();
    this.#updateSets = db.prepare(`UPDATE edges SET ${SET_ASSIGNMENTS} WHERE id = ?`);
    this.#insertHour = new RowBatch(db, 'INSERT OR IGNORE INTO edge_hours (edge_id, hour) VALUES', 2);
    this.#addDropReason = db.prepare(`INSERT INTO edge_drop_reasons (edge_id, reason, flows) VALUES (?, ?, ?)
      ON CONFLICT (edge_id, reason) DO UPDATE SET flows = flows + excluded.flows`);
    // ~2,800 workloads a batch at 3,000 workloads: 64 to a statement (a delta holds each key once).
    this.#upsertWorkload = new RowBatch(
      db,
      'INSERT INTO workloads (key, namespace, kind, name, first_seen_ms, last_seen_ms) VALUES',
      6,
      `ON CONFLICT (key) DO UPDATE SET first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),
        last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)`,
    );
    this.#selectHints = db.prepare('SELECT kind_hints FROM workloads WHERE key = ?');
    this.#updateHints = db.prepare('UPDATE workloads SET kind_hints = ? WHERE key = ?');
    this.#insertLabelSet = db.prepare('INSERT OR IGNORE INTO workload_label_sets (workload_key, labels) VALUES (?, ?)');
    this.#upsertAnswer = db.prepare(`INSERT INTO dns_answers (client_key, ip, query, first_seen_ms, last_seen_ms, responses)
      VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (client_key, ip, query) DO UPDATE SET first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),
        last_seen_ms = max(last_seen_ms, excluded.last_seen_ms), responses = responses + excluded.responses`);
    this.#addSkip = db.prepare(`INSERT INTO edge_skips (reason, flows) VALUES (?, ?)
      ON CONFLICT (reason) DO UPDATE SET flows = flows + excluded.flows`);
    // The same rule as graph mergeNamespaceRecords: newest wins, ties go to the larger text.
    this.#upsertNamespace = db.prepare(`INSERT INTO namespaces (namespace, labels, seen_ms) VALUES (?, ?, ?)
      ON CONFLICT (namespace) DO UPDATE SET labels = excluded.labels, seen_ms = excluded.seen_ms
      WHERE excluded.seen_ms > namespaces.seen_ms OR (excluded.seen_ms = namespaces.seen_ms AND excluded.labels > namespaces.labels)`);
    this.#upsertClusterIp = new RowBatch(
      db,
      'INSERT INTO cluster_ips (ip, peer_key, flows, first_seen_ms, last_seen_ms) VALUES',
      5,
      `ON CONFLICT (ip, peer_key) DO UPDATE SET flows = flows + excluded.flows,
        first_seen_ms = min(first_seen_ms, excluded.first_seen_ms), last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)`,
    );
  }

  write(delta: GraphDelta): void {
    // Another EdgeWriter on this connection (a new sink, a resumed run) may have written since.
    if (connectionWrites.get(this.#db) !== this.#connectionWrites) this.#forgetSets();
    this.#checkedOthers = false;
    try {
      for (const w of delta.workloads.values()) this.#upsertWorkload.add(w.key, w.namespace, w.kind ?? null, w.name, w.firstSeenMs, w.lastSeenMs);
      this.#upsertWorkload.flush();
      // Hints and label sets once every workload's row is stored (label sets reference it).
      for (const w of delta.workloads.values()) this.#writeWorkloadFacts(w);
      // Their upserts took the write lock: other connections' commits are looked for once, now.
      if (delta.workloads.size > 0) this.#checkOthers();
      this.#writeEdges(delta.edges);
      this.#insertHour.flush();
      for (const a of delta.dnsAnswers) this.#upsertAnswer.run(a.client, a.ip, a.query, a.firstSeenMs, a.lastSeenMs, a.responses);
      for (const [reason, n] of Object.entries(delta.skipped)) if (n) this.#addSkip.run(reason, n);
      for (const ns of delta.namespaces?.values() ?? []) this.#upsertNamespace.run(ns.namespace, JSON.stringify(ns.labels), ns.seenMs);
      // In key order: a churning cluster brings thousands of new addresses a batch, and inserted in
      // order they fill neighbouring B-tree pages instead of touching a random page each.
      for (const c of [...(delta.clusterIps?.values() ?? [])].sort(byClusterIpKey)) this.#upsertClusterIp.add(c.ip, c.peer, c.flows, c.firstSeenMs, c.lastSeenMs);
      this.#upsertClusterIp.flush();
      const n = (connectionWrites.get(this.#db) ?? 0) + 1;
      connectionWrites.set(this.#db, n);
      this.#connectionWrites = n;
    } catch (e) {
      // The caller's transaction rolls back: rows not written yet must not enter the next one.
      this.#upsertWorkload.discard();
      this.#insertHour.discard();
      this.#upsertClusterIp.discard();
      throw e;
    }
  }

  /**
   * Edges this writer holds the row id of first, in row-id order: a batch touches ~17,000 of the
   * 68,000 rows of a 3,000-workload cluster, and in id order the UPDATEs (and their hours, keyed by
   * edge id) walk the B-trees' pages in order instead of seeking a random page each (~30% less
   * time in SQLite for them). The others follow in the delta's order, so new edges get the row ids
   * they would get in any order.
   */
  #writeEdges(edges: ReadonlyMap<string, EdgeRecord>): void {
    const known: KnownEdge[] = [];
    const others: KnownEdge[] = [];
    for (const [key, e] of edges) {
      const slot = this.#slots.slot(key);
      const id = this.#slots.id(slot, key);
      (id === undefined ? others : known).push({ key, e, slot, id });
    }
    known.sort(byId);
    for (const k of known) this.#writeEdge(k);
    for (const k of others) this.#writeEdge(k);
  }

  #writeEdge({ key, e, slot, id: knownId }: KnownEdge): void {
    let id = knownId;
    let inserted = false;
    /** The row of an edge its slot did not hold, read by key with its sets (its slot knows none of them). */
    let stored: StoredRow | undefined;
    if (id === undefined) {
      // A forgotten edge is looked up first, one never seen is tried as new first.
      if (this.#slots.seenBefore(key)) stored = this.#readStored(slot, key, e);
      if (stored === undefined) {
        id = this.#insertEdge(slot, key, e);
        inserted = id !== undefined;
        if (!inserted) stored = this.#readStored(slot, key, e) as StoredRow;
      }
      id ??= (stored as StoredRow).id;
    }
    // Unless a write came first, the first stored edge adds its counters on their own: that UPDATE
    // takes the write lock, after which no other connection commits, and what this writer knows of
    // sets is checked against their commits once; every edge's sets are then exact as remembered.
    let counted = inserted;
    if (!counted && !this.#checkedOthers) {
      this.#addCounters(id, e, undefined);
      this.#checkOthers();
      counted = true;
    }
    const hours = e.hours;
    if (!(hours.length === 1 && this.#slots.lastHour(slot) === hours[0])) {
      for (const h of hours) this.#insertHour.add(id, h);
      this.#slots.setLastHour(slot, hours[hours.length - 1] as number);
    }
    for (const [reason, n] of Object.entries(e.dropReasons)) this.#addDropReason.run(id, reason, n);
    if (inserted) return;
    // Forgotten sets (another edge took the slot) often hold everything the delta brings already.
    const remembered = stored === undefined ? this.#slots.sets(slot) : undefined;
    const known = stored === undefined ? (remembered !== undefined ? splitSetTexts(remembered) : setTextsOfRow(this.#selectSets.get(id) as Record<string, unknown>)) : setTextsOfRow(stored);
    const merged = mergeSetTexts(known, e.sets);
    // Counters and new sets in one UPDATE: the row (its sets are most of it) is rewritten once.
    if (!counted) this.#addCounters(id, e, merged);
    else if (merged !== undefined) this.#updateSets.run([...merged, id]);
    if (merged !== undefined || remembered === undefined) this.#rememberSets(slot, merged ?? known);
  }

  /**
   * Forgets the known sets if other connections committed since this writer last looked: what it knew
   * is then only a subset. Once per write, after its first write statement (the lock is held).
   */
  #checkOthers(): void {
    if (!this.#checkedOthers) {
      this.#checkedOthers = true;
      const version = this.#selectDataVersion.get() as number;
      if (version !== this.#dataVersion) {
        this.#forgetSets();
        this.#dataVersion = version;
      }
    }
  }

  /** Another writer may have written: what this one remembers of sets is no longer exact. */
  #forgetSets(): void {
    this.#slots.forgetSets();
  }

  /** Remembers the sets now stored for the edge in `slot`, within the writer's bounds. */
  #rememberSets(slot: number, texts: SetTexts): void {
    // Exact only if this writer's view was current when it read or wrote them (else this forgets all).
    this.#checkOthers();
    const joined = joinSetTexts(texts);
    // An edge whose sets hold megabytes is read and merged each time instead.
    this.#slots.setSets(slot, joined !== undefined && joined.length > MAX_REMEMBERED_CHARS ? undefined : joined);
  }

  /** The row of an edge stored before (by another writer, or forgotten by this one), its sets included; undefined if none is. */
  #readStored(slot: number, key: string, e: EdgeRecord): StoredRow | undefined {
    const row = this.#selectStored.get(rawPeerKey(e.from), rawPeerKey(e.to), e.protocol, e.port) as StoredRow | undefined;
    if (row !== undefined) this.#slots.remember(slot, key, row.id);
    return row;
  }

  /** Inserts the edge with its counters and sets if it is new (its id); undefined when it is stored already. */
  #insertEdge(slot: number, key: string, e: EdgeRecord): number | undefined {
    const srcNs = e.from.kind === 'workload' ? e.from.namespace : null;
    const dstNs = e.to.kind === 'workload' ? e.to.namespace : null;
    const texts = setTextsOf(e.sets);
    const result = this.#insert.run(rawPeerKey(e.from), rawPeerKey(e.to), e.protocol, e.port, srcNs, dstNs, ...counterValues(e), e.firstSeenMs, e.lastSeenMs, ...texts);
    if (result.changes === 0) return undefined;
    const id = Number(result.lastInsertRowid);
    this.#slots.remember(slot, key, id);
    this.#rememberSets(slot, texts);
    return id;
  }

  /** Adds the counters (only the non-zero ones) to a stored edge's row, and writes `sets` when given. */
  #addCounters(id: number, e: EdgeRecord, sets: SetTexts | undefined): void {
    const values = counterValues(e);
    // By position, and the statement by a bit mask of what it writes: named parameters and a mask
    // built as text cost ~1 µs more an edge, a tenth of the UPDATE itself.
    const args: (string | number)[] = [];
    let mask = sets === undefined ? 0 : SETS_BIT;
    for (let i = 0; i < values.length; i++) {
      if (values[i] !== 0) {
        args.push(values[i] as number);
        mask |= 1 << i;
      }
    }
    let stmt = this.#updates.get(mask);
    if (stmt === undefined) {
      const assignments = COUNTER_COLUMNS.flatMap((c, i) => (mask & (1 << i) ? [`${c} = ${c} + ?`] : []));
      assignments.push('first_seen_ms = min(first_seen_ms, ?)', 'last_seen_ms = max(last_seen_ms, ?)');
      if (sets !== undefined) assignments.push(SET_ASSIGNMENTS);
      stmt = this.#db.prepare(`UPDATE edges SET ${assignments.join(', ')} WHERE id = ?`);
      this.#updates.set(mask, stmt);
    }
    args.push(e.firstSeenMs, e.lastSeenMs);
    if (sets !== undefined) for (const t of sets) args.push(t);
    args.push(id);
    stmt.run(args);
  }

  /** A stored workload's kind hints and label sets. */
  #writeWorkloadFacts(w: WorkloadRecord): void {
    if (w.kindHints.length > 0) {
      const stored = JSON.parse((this.#selectHints.get(w.key) as { kind_hints: string }).kind_hints) as string[];
      const merged = [...new Set([...stored, ...w.kindHints])].sort();
      if (merged.length !== stored.length) this.#updateHints.run(JSON.stringify(merged), w.key);
    }
    for (const s of w.labelSets) {
      if (this.#storedLabelSets.get(s) === w.key) continue;
      const json = JSON.stringify(s);
      const k = `${w.key}|${json}`;
      if (!this.#knownLabelSets.has(k)) this.#insertLabelSet.run(w.key, json);
      if (Object.isFrozen(s)) this.#storedLabelSets.set(s, w.key);
      if (k.length > MAX_REMEMBERED_CHARS || this.#knownLabelSets.has(k)) continue;
      if (this.#knownLabelSets.size >= LABEL_SETS_MAX || this.#knownLabelSetChars + k.length > KNOWN_CHARS_MAX) {
        this.#knownLabelSets.clear();
        this.#knownLabelSetChars = 0;
      }
      this.#knownLabelSets.add(k);
      this.#knownLabelSetChars += k.length;
    }
  }
}

/** A stored edge's row id and its set columns (`setColumns` reads them). */
interface StoredRow extends Record<string, unknown> {
  readonly id: number;
}

/** An edge of a delta, its slot, and its row id if this writer held it when the delta came. */
interface KnownEdge {
  readonly key: string;
  readonly e: EdgeRecord;
  readonly slot: number;
  readonly id: number | undefined;
}

function byId(a: KnownEdge, b: KnownEdge): number {
  return (a.id as number) - (b.id as number);
}

function byClusterIpKey(a: ClusterIpRecord, b: ClusterIpRecord): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  return a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0;
}

export interface EdgeWriterBounds {
  /** Edges remembered (a power of two, default EDGE_SLOTS); tests make it tiny. */
  readonly edgeSlots?: number;
  /** Characters of edge sets remembered (default KNOWN_SETS_CHARS); tests make it tiny. */
  readonly knownSetsChars?: number;
}

/** EdgeWriter writes per connection, so that a writer sees when another one wrote on its connection. */
const connectionWrites = new WeakMap<Db, number>();

