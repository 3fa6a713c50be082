import type { Statement } from 'better-sqlite3';
import {
  type CappedSet,
  type ClusterIpRecord,
  type EdgeRecord,
  type GraphDelta,
  SET_FIELDS,
  SET_LIMITS,
  type SetField,
  type WorkloadRecord,
  rawPeerKey,
  unionCapped,
} from '../graph/index.js';
import { SET_COLUMN, SIDE_COLUMNS } from './edge-columns.js';
import type { Db } from './open.js';
import { EdgeSlots } from './edge-slots.js';
import { RowBatch } from './row-batch.js';

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
   * for it (most batches add no new hour) and its sets (`encodeSets`) as this writer last read or
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
    const cols = ['src_key', 'dst_key', 'protocol', 'port', 'src_ns', 'dst_ns', ...COUNTER_COLUMNS, 'first_seen_ms', 'last_seen_ms', ...setCols, 'truncated'];
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
    const text = stored === undefined ? this.#slots.sets(slot) : undefined;
    let merged: Record<SetField, CappedSet> | undefined;
    if (text !== undefined) {
      const known = decodeSets(text);
      if (bringsNewValues(known, e.sets)) merged = mergeSets(known, e.sets);
    } else {
      const storedSets = setColumns(stored ?? (this.#selectSets.get(id) as Record<string, unknown>));
      // Forgotten sets (another edge took the slot) often hold everything the delta brings already.
      if (bringsNewValues(storedSets, e.sets)) merged = mergeSets(storedSets, e.sets);
      else this.#rememberSets(slot, storedSets);
    }
    // Counters and new sets in one UPDATE: the row (its sets are most of it) is rewritten once.
    if (!counted) this.#addCounters(id, e, merged);
    else if (merged !== undefined) this.#updateSets.run(pushSetValues(merged, []), id);
    if (merged !== undefined) this.#rememberSets(slot, merged);
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
  #rememberSets(slot: number, sets: Readonly<Record<SetField, CappedSet>>): void {
    // Exact only if this writer's view was current when it read or wrote them (else this forgets all).
    this.#checkOthers();
    const text = encodeSets(sets);
    // An edge whose sets hold megabytes is read and merged each time instead.
    this.#slots.setSets(slot, text.length > MAX_REMEMBERED_CHARS ? undefined : text);
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
    const sets = SET_FIELDS.map((f) => setText(e.sets[f].values));
    const result = this.#insert.run(rawPeerKey(e.from), rawPeerKey(e.to), e.protocol, e.port, srcNs, dstNs, ...counterValues(e), e.firstSeenMs, e.lastSeenMs, ...sets, truncatedColumn(e.sets));
    if (result.changes === 0) return undefined;
    const id = Number(result.lastInsertRowid);
    this.#slots.remember(slot, key, id);
    this.#rememberSets(slot, e.sets);
    return id;
  }

  /** Adds the counters (only the non-zero ones) to a stored edge's row, and writes `sets` when given. */
  #addCounters(id: number, e: EdgeRecord, sets: Readonly<Record<SetField, CappedSet>> | undefined): void {
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
    if (sets !== undefined) pushSetValues(sets, args);
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

/**
 * Whether a delta's sets hold a value not in `known` (sets stored for the edge). A value known to
 * be stored may since have been evicted by smaller ones (another writer); then the stored set is
 * already truncated and that value would not enter it again, so skipping is still exact.
 */
function bringsNewValues(known: Readonly<Record<SetField, CappedSet>>, sets: Readonly<Record<SetField, CappedSet>>): boolean {
  for (const f of SET_FIELDS) {
    const s = sets[f];
    if (s.values.length === 0 && !s.truncated) continue;
    const k = known[f];
    if (k.values.length === 0) return true;
    // A truncated set that is full keeps its K smallest values: nothing above its largest enters.
    // Churning pods bring new names all the time; most sort above it and would not enter.
    const ceiling = k.truncated && k.values.length === SET_LIMITS[f] ? k.values[k.values.length - 1] : undefined;
    // A truncated delta that is full kept its K smallest: what it dropped sorts above all it kept.
    // If all it kept is known or above the ceiling, a dropped value below the ceiling would make
    // K + 1 known values up to it; so against a full truncated set it brings nothing new.
    if (s.truncated && (ceiling === undefined || s.values.length < SET_LIMITS[f])) return true;
    for (const v of s.values) if ((ceiling === undefined || v < ceiling) && !hasSorted(k.values, v)) return true;
  }
  return false;
}

/**
 * An edge's sets as one JSON text: `[truncated fields as a bit mask, field index, values, ...]`,
 * non-empty fields only. One string per edge instead of an object and an array per field.
 */
function encodeSets(sets: Readonly<Record<SetField, CappedSet>>): string {
  const out: (number | readonly string[])[] = [0];
  let mask = 0;
  for (let i = 0; i < SET_FIELDS.length; i++) {
    const s = sets[SET_FIELDS[i] as SetField];
    if (s.truncated) mask |= 1 << i;
    if (s.values.length > 0) out.push(i, s.values);
  }
  out[0] = mask;
  return JSON.stringify(out);
}

const NO_VALUES: CappedSet = Object.freeze({ values: Object.freeze([]) as readonly string[], truncated: false });

function decodeSets(text: string): Record<SetField, CappedSet> {
  const parts = JSON.parse(text) as [number, ...(number | string[])[]];
  const mask = parts[0];
  const sets = {} as Record<SetField, CappedSet>;
  for (let i = 0; i < SET_FIELDS.length; i++) sets[SET_FIELDS[i] as SetField] = mask & (1 << i) ? { values: [], truncated: true } : NO_VALUES;
  for (let j = 1; j < parts.length; j += 2) {
    const f = SET_FIELDS[parts[j] as number] as SetField;
    sets[f] = { values: parts[j + 1] as string[], truncated: (mask & (1 << (parts[j] as number))) !== 0 };
  }
  return sets;
}

/** EdgeWriter writes per connection, so that a writer sees when another one wrote on its connection. */
const connectionWrites = new WeakMap<Db, number>();

/** Binary search in a sorted array of distinct strings. */
function hasSorted(values: readonly string[], v: string): boolean {
  let lo = 0;
  let hi = values.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const m = values[mid] as string;
    if (m === v) return true;
    if (m < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** The `truncated` column: the set fields that had more values than they keep, in SET_FIELDS order. */
function truncatedColumn(sets: Readonly<Record<SetField, CappedSet>>): string {
  return SET_FIELDS.some((f) => sets[f].truncated) ? JSON.stringify(SET_FIELDS.filter((f) => sets[f].truncated)) : '[]';
}

/**
 * A set column's text. Most of an edge's eleven sets are empty, and each write stringified every
 * one: the shared '[]' spares a string for each.
 */
function setText(values: readonly string[]): string {
  return values.length === 0 ? '[]' : JSON.stringify(values);
}

/** The set columns' assignments of an UPDATE, by position (`pushSetValues`). */
const SET_ASSIGNMENTS = ['truncated = ?', ...SET_FIELDS.map((f) => `${SET_COLUMN[f]} = ?`)].join(', ');

/** Appends the set columns' values of `sets` to `args`, in SET_ASSIGNMENTS' order; returns `args`. */
function pushSetValues(sets: Readonly<Record<SetField, CappedSet>>, args: (string | number)[]): (string | number)[] {
  args.push(truncatedColumn(sets));
  for (const f of SET_FIELDS) args.push(setText(sets[f].values));
  return args;
}

function mergeSets(stored: Readonly<Record<SetField, CappedSet>>, delta: Readonly<Record<SetField, CappedSet>>): Record<SetField, CappedSet> {
  const merged = {} as Record<SetField, CappedSet>;
  for (const f of SET_FIELDS) merged[f] = unionCapped(stored[f], delta[f], SET_LIMITS[f]);
  return merged;
}

export function setColumns(row: Record<string, unknown>): Record<SetField, CappedSet> {
  const truncatedText = String(row['truncated'] ?? '[]');
  const truncated = truncatedText === '[]' ? NO_FIELDS : new Set(JSON.parse(truncatedText) as string[]);
  const sets = {} as Record<SetField, CappedSet>;
  for (const f of SET_FIELDS) {
    const text = String(row[SET_COLUMN[f]] ?? '[]');
    // Most of an edge's columns are empty: none is parsed into an array of its own (sets are never changed in place).
    sets[f] = text === '[]' && !truncated.has(f) ? NO_VALUES : { values: JSON.parse(text) as string[], truncated: truncated.has(f) };
  }
  return sets;
}

const NO_FIELDS: ReadonlySet<string> = new Set();

