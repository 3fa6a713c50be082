import { convergence } from './convergence.js';
import { deriveCounters } from './resolve.js';
import { COUNTER_FIELDS, type Edge, type EdgeProtocol, EVIDENCE_FIELDS, type EvidenceField, type NamespaceConvergence, type Peer, type Side, type SideCounters } from './model.js';

/**
 * The resolved edge graph as bytes, so that a read of an unchanged database decodes the edges
 * instead of resolving every stored row again (store/graph-snapshot.ts keeps them).
 *
 * Bump GRAPH_SNAPSHOT_FORMAT whenever this encoding or what resolution makes of the same rows
 * changes: a snapshot of another format is never read. test/unit/graph/snapshot-format.test.ts
 * fails when a fixture resolves differently and the format was not bumped.
 */
export const GRAPH_SNAPSHOT_FORMAT = 3;

/** The parts of a snapshot: `core` (ends, counters, times, addresses) and one per evidence list. */
export type SnapshotPart = 'core' | EvidenceField;
export const SNAPSHOT_PARTS: readonly SnapshotPart[] = ['core', ...EVIDENCE_FIELDS];

/** What the core part knows besides its edges (`status` counts workloads without resolving them). */
export interface SnapshotMeta {
  readonly workloads: number;
}

/** What `status` shows of the graph: read from the core part without decoding its edges. */
export interface SnapshotSummary extends SnapshotMeta {
  readonly edges: number;
  /** `convergence(edges)` of the encoded edges. */
  readonly convergence: readonly NamespaceConvergence[];
}

/** A part that cannot be trusted (truncated, corrupt, another format or byte order); the caller reads the normal way. */
export class SnapshotFormatError extends Error {
  constructor(reason: string) {
    super(`graph snapshot: ${reason}`);
    this.name = 'SnapshotFormatError';
  }
}

/*
 * A part is one byte string:
 *   u32 MAGIC | u32 format | u32 W | u32 J | W u32 words | J bytes of UTF-8 JSON
 * in the machine's byte order (another order reads MAGIC wrong, so the part is refused). The core's
 * numbers are words (times as two words), its peers sit in the JSON once and are named by index;
 * string lists are JSON arrays, one per edge (0 for an empty one): `JSON.stringify` and
 * `JSON.parse` make and read them many times faster than a string table walked in JavaScript.
 */
const MAGIC = 0x50534e47;
const HEADER_WORDS = 4;

const u32 = (x: number, what: string): number => {
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new SnapshotFormatError(`${what} ${x} is not a 32-bit count`);
  return x;
};
const TWO_32 = 0x100000000;

/** Interns values as indexes into one table. */
class Table<T> {
  readonly values: T[] = [];
  readonly #at = new Map<T, number>();
  of(v: T): number {
    let i = this.#at.get(v);
    if (i === undefined) {
      this.#at.set(v, (i = this.values.length));
      this.values.push(v);
    }
    return i;
  }
}

/** A growable u32 buffer (made as big as it will be where that is known: no copies as it grows). */
class Words {
  #a: Uint32Array;
  length = 0;
  constructor(capacity = 1 << 16) {
    this.#a = new Uint32Array(capacity);
  }
  push(x: number): void {
    if (this.length === this.#a.length) {
      const b = new Uint32Array(Math.max(16, this.#a.length * 2));
      b.set(this.#a);
      this.#a = b;
    }
    this.#a[this.length++] = x;
  }
  time(ms: number, what: string): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new SnapshotFormatError(`${what} ${ms} is not a time in ms`);
    this.push(Math.floor(ms / TWO_32));
    this.push(ms % TWO_32);
  }
  get words(): Uint32Array {
    return this.#a.subarray(0, this.length);
  }
}

/**
 * The part's bytes. The JSON is encoded straight into them when it is ASCII (as names and
 * addresses almost always are: then its UTF-8 is as long as the string), not into bytes of its
 * own first: at thousands of workloads a part's JSON is MBs.
 */
function partBytes(words: Words, json: unknown): Uint8Array {
  const text = JSON.stringify(json);
  const w = words.words;
  const at = 4 * (HEADER_WORDS + w.length);
  let out = new Uint8Array(at + text.length);
  const { read, written } = new TextEncoder().encodeInto(text, out.subarray(at));
  let length = written;
  if (read !== text.length) {
    const utf8 = new TextEncoder().encode(text);
    out = new Uint8Array(at + utf8.length);
    out.set(utf8, at);
    length = utf8.length;
  }
  const head = new Uint32Array(out.buffer, 0, HEADER_WORDS + w.length);
  head[0] = MAGIC;
  head[1] = GRAPH_SNAPSHOT_FORMAT;
  head[2] = w.length;
  head[3] = length;
  head.set(w, HEADER_WORDS);
  return out;
}

const bitCount = (mask: number): number => {
  let n = 0;
  for (let m = mask; m !== 0; m &= m - 1) n++;
  return n;
};

/**
 * A side's counters that are all zero are left out (a bit per side says which are there). Fields
 * named, not looped over by name: this runs for every side of every edge a cold read encodes.
 */
function sideMask(sides: Edge['sides']): number {
  return (seen(sides.egress) ? 1 : 0) | (seen(sides.ingress) ? 2 : 0) | (seen(sides.unknown) ? 4 : 0);
}
const seen = (c: Readonly<SideCounters>): boolean =>
  c.flows !== 0 || c.connections !== 0 || c.verdicts !== 0 || c.forwarded !== 0 || c.dropped !== 0 || c.audit !== 0 || c.redirected !== 0 || c.errors !== 0;

/** A side's counters in COUNTER_FIELDS order (`Cursor.counters` reads them back). */
function pushCounters(core: Words, c: Readonly<SideCounters>): void {
  core.push(u32(c.flows, 'flows'));
  core.push(u32(c.connections, 'connections'));
  core.push(u32(c.verdicts, 'verdicts'));
  core.push(u32(c.forwarded, 'forwarded'));
  core.push(u32(c.dropped, 'dropped'));
  core.push(u32(c.audit, 'audit'));
  core.push(u32(c.redirected, 'redirected'));
  core.push(u32(c.errors, 'errors'));
}

/** Each evidence list read by a property access of its own (one keyed access for all ten was a slow, megamorphic one). */
const LIST_OF: Readonly<Record<EvidenceField, (e: Edge) => readonly string[] | undefined>> = {
  dnsNames: (e) => e.dnsNames,
  httpRequests: (e) => e.httpRequests,
  l7Protocols: (e) => e.l7Protocols,
  allowedBy: (e) => e.allowedBy,
  deniedBy: (e) => e.deniedBy,
  services: (e) => e.services,
  srcPods: (e) => e.srcPods,
  dstPods: (e) => e.dstPods,
  srcReserved: (e) => e.srcReserved,
  dstReserved: (e) => e.dstReserved,
};

/**
 * Encodes resolved edges: the core part and the evidence lists `fields` (the ones the edges were
 * read with; a list not read must not be written, it would read as empty). Throws
 * SnapshotFormatError for a value the encoding cannot hold exactly.
 */
export function encodeGraphSnapshot(edges: readonly Edge[], fields: readonly EvidenceField[], meta: SnapshotMeta): Map<SnapshotPart, Uint8Array> {
  const peers = new Table<Peer>();
  const protocols = new Table<EdgeProtocol>();
  // Drop reasons by object first (most edges share one empty object), then by content.
  const dropAt = new Map<object, number>();
  const drops = new Table<string>();
  // Eleven words an edge, and the counters of each side that has any.
  const masks = new Uint8Array(edges.length);
  let size = 0;
  for (let i = 0; i < edges.length; i++) {
    const mask = sideMask((edges[i] as Edge).sides);
    masks[i] = mask;
    size += 11 + COUNTER_FIELDS.length * bitCount(mask);
  }
  const core = new Words(size);
  // Edges come sorted by source: runs of one source peer, looked up once a run.
  let from: Peer | undefined;
  let fromAt = 0;
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i] as Edge;
    if (e.from !== from) {
      from = e.from;
      fromAt = peers.of(from);
    }
    core.push(fromAt);
    core.push(peers.of(e.to));
    core.push(protocols.of(e.protocol));
    core.push(u32(e.port, 'port'));
    core.push(u32(e.hoursSeen, 'hours'));
    let d = dropAt.get(e.dropReasons);
    if (d === undefined) dropAt.set(e.dropReasons, (d = drops.of(JSON.stringify(e.dropReasons))));
    core.push(d);
    core.time(e.firstSeenMs, 'first seen');
    core.time(e.lastSeenMs, 'last seen');
    const mask = masks[i] as number;
    core.push(mask);
    if ((mask & 1) !== 0) pushCounters(core, e.sides.egress);
    if ((mask & 2) !== 0) pushCounters(core, e.sides.ingress);
    if ((mask & 4) !== 0) pushCounters(core, e.sides.unknown);
  }
  const out = new Map<SnapshotPart, Uint8Array>();
  const coreJson: CoreJson = {
    n: edges.length,
    workloads: meta.workloads,
    convergence: convergence(edges),
    peers: peers.values,
    protocols: protocols.values,
    drops: drops.values.map((d) => JSON.parse(d) as Readonly<Record<string, number>>),
    ips: edges.map((e) => listJson(e.ips)),
    sharedIpWith: edges.map((e) => listJson(e.sharedIpWith)),
  };
  out.set('core', partBytes(core, coreJson));
  for (const f of fields) {
    const listOf = LIST_OF[f];
    out.set(f, partBytes(new Words(0), { n: edges.length, lists: edges.map((e) => listJson(listOf(e) ?? NO_STRINGS)) } satisfies ListJson));
  }
  return out;
}

/** A list as stored: 0 when empty (most are). */
const listJson = (values: readonly string[]): StoredList => (values.length === 0 ? 0 : values);
type StoredList = 0 | readonly string[];

interface Decoded<J> {
  readonly words: Uint32Array;
  readonly json: J;
}

function readPart<J extends { n: number }>(bytes: Uint8Array, what: string): Decoded<J> {
  if (bytes.length < 4 * HEADER_WORDS) throw new SnapshotFormatError(`${what}: ${bytes.length} bytes, no header`);
  // A typed view needs 4-byte alignment; SQLite's buffers are not always aligned.
  const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const head = new Uint32Array(b.buffer, b.byteOffset, HEADER_WORDS);
  if (head[0] !== MAGIC) throw new SnapshotFormatError(`${what}: not a snapshot part (or another byte order)`);
  if (head[1] !== GRAPH_SNAPSHOT_FORMAT) throw new SnapshotFormatError(`${what}: format ${head[1]}, this build reads ${GRAPH_SNAPSHOT_FORMAT}`);
  const w = head[2] as number;
  const j = head[3] as number;
  if (b.length !== 4 * (HEADER_WORDS + w) + j) throw new SnapshotFormatError(`${what}: ${b.length} bytes, the header says ${4 * (HEADER_WORDS + w) + j}`);
  let json: J;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(4 * (HEADER_WORDS + w)))) as J;
  } catch (e) {
    throw new SnapshotFormatError(`${what}: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || !Number.isInteger(json.n)) throw new SnapshotFormatError(`${what}: no edge count`);
  return { words: new Uint32Array(b.buffer, b.byteOffset + 4 * HEADER_WORDS, w), json };
}

interface CoreJson {
  readonly n: number;
  readonly workloads: number;
  readonly convergence: readonly NamespaceConvergence[];
  readonly peers: readonly Peer[];
  readonly protocols: readonly EdgeProtocol[];
  readonly drops: readonly Readonly<Record<string, number>>[];
  readonly ips: readonly StoredList[];
  readonly sharedIpWith: readonly StoredList[];
}
interface ListJson {
  readonly n: number;
  readonly lists: readonly StoredList[];
}

const NO_STRINGS: readonly string[] = [];
/** One object for every side that saw nothing, as the normal read shares one. */
const NO_COUNTERS: Readonly<SideCounters> = Object.freeze({ flows: 0, connections: 0, verdicts: 0, forwarded: 0, dropped: 0, audit: 0, redirected: 0, errors: 0 });

/** Reads words in order, every index checked against its table. */
class Cursor {
  #at = 0;
  constructor(
    readonly words: Uint32Array,
    readonly what: string,
  ) {}
  next(): number {
    if (this.#at >= this.words.length) throw new SnapshotFormatError(`${this.what}: ends early`);
    return this.words[this.#at++] as number;
  }
  of<T>(table: readonly T[]): T {
    const i = this.next();
    if (i >= table.length) throw new SnapshotFormatError(`${this.what}: index ${i} past its table of ${table.length}`);
    return table[i] as T;
  }
  time(): number {
    const hi = this.next();
    return hi * TWO_32 + this.next();
  }
  counters(): SideCounters {
    return { flows: this.next(), connections: this.next(), verdicts: this.next(), forwarded: this.next(), dropped: this.next(), audit: this.next(), redirected: this.next(), errors: this.next() };
  }
  end(): void {
    if (this.#at !== this.words.length) throw new SnapshotFormatError(`${this.what}: ${this.words.length - this.#at} words left over`);
  }
}

/** A part's lists, checked: each 0 or an array of strings. */
function listsOf(lists: unknown, n: number, what: string): readonly StoredList[] {
  if (!Array.isArray(lists) || lists.length !== n) throw new SnapshotFormatError(`${what}: not ${n} lists`);
  for (const l of lists as unknown[]) {
    if (l === 0) continue;
    if (!Array.isArray(l) || l.length === 0) throw new SnapshotFormatError(`${what}: a list is neither 0 nor strings`);
    for (const v of l as unknown[]) if (typeof v !== 'string') throw new SnapshotFormatError(`${what}: a list is neither 0 nor strings`);
  }
  return lists as readonly StoredList[];
}

type EvidenceLists = Readonly<Record<EvidenceField, readonly StoredList[] | undefined>>;
type CoreTables = Pick<CoreJson, 'peers' | 'protocols' | 'drops' | 'ips' | 'sharedIpWith'>;

const valuesOf = (l: StoredList | undefined): readonly string[] => (l === undefined || l === 0 ? NO_STRINGS : l);
const sideOf = (at: Cursor, mask: number, bit: number): Readonly<SideCounters> => ((mask & (1 << bit)) === 0 ? NO_COUNTERS : at.counters());

function decodeEdge(i: number, at: Cursor, t: CoreTables, l: EvidenceLists): Edge {
  const from = at.of(t.peers);
  const to = at.of(t.peers);
  const protocol = at.of(t.protocols);
  const port = at.next();
  const hoursSeen = at.next();
  const dropReasons = at.of(t.drops);
  const firstSeenMs = at.time();
  const lastSeenMs = at.time();
  const mask = at.next();
  if (mask > 7) throw new SnapshotFormatError(`core: side mask ${mask}`);
  const sides: Record<Side, Readonly<SideCounters>> = { egress: sideOf(at, mask, 0), ingress: sideOf(at, mask, 1), unknown: sideOf(at, mask, 2) };
  const ips = valuesOf(t.ips[i]);
  const sharedIpWith = valuesOf(t.sharedIpWith[i]);
  const c = deriveCounters(sides);
  // resolve.ts `edgeOf`'s fields, in its order (JSON output follows key order).
  return {
    from,
    to,
    protocol,
    port,
    flows: c.flows,
    connections: c.connections,
    forwarded: c.forwarded,
    dropped: c.dropped,
    audit: c.audit,
    redirected: c.redirected,
    errors: c.errors,
    firstSeenMs,
    lastSeenMs,
    hoursSeen,
    dropReasons,
    dnsNames: valuesOf(l.dnsNames?.[i]),
    httpRequests: valuesOf(l.httpRequests?.[i]),
    l7Protocols: valuesOf(l.l7Protocols?.[i]),
    ips,
    sharedIpWith,
    allowedBy: valuesOf(l.allowedBy?.[i]),
    deniedBy: valuesOf(l.deniedBy?.[i]),
    services: valuesOf(l.services?.[i]),
    srcPods: valuesOf(l.srcPods?.[i]),
    dstPods: valuesOf(l.dstPods?.[i]),
    srcReserved: valuesOf(l.srcReserved?.[i]),
    dstReserved: valuesOf(l.dstReserved?.[i]),
    sides,
  };
}

/** The edge and workload counts and the convergence the core part was written with (`status`), after checking the part. */
export function snapshotSummary(core: Uint8Array): SnapshotSummary {
  const { json } = readPart<CoreJson>(core, 'core');
  if (!Number.isInteger(json.workloads) || !Array.isArray(json.convergence)) throw new SnapshotFormatError('core: no workload count or convergence');
  return { edges: json.n, workloads: json.workloads, convergence: json.convergence };
}

/**
 * Decodes the edges of a snapshot: the core part and the evidence parts given (lists not given
 * are empty, as a read that did not ask for them leaves them). Edges equal the normal read's,
 * field for field and in the same key order; peers are shared between edges as there.
 */
export function decodeGraphSnapshot(core: Uint8Array, evidence: ReadonlyMap<EvidenceField, Uint8Array>): Edge[] {
  const c = readPart<CoreJson>(core, 'core');
  const { n, peers, protocols, drops } = c.json;
  if (![peers, protocols, drops].every(Array.isArray)) throw new SnapshotFormatError('core: tables missing');
  const tables: CoreTables = { peers, protocols, drops, ips: listsOf(c.json.ips, n, 'core ips'), sharedIpWith: listsOf(c.json.sharedIpWith, n, 'core shared names') };
  const at = new Cursor(c.words, 'core');
  const lists = new Map<EvidenceField, readonly StoredList[]>();
  for (const [f, bytes] of evidence) {
    const p = readPart<ListJson>(bytes, f);
    if (p.words.length !== 0) throw new SnapshotFormatError(`${f}: words in a list part`);
    lists.set(f, listsOf(p.json.lists, n, f));
  }
  const list = (f: EvidenceField): readonly StoredList[] | undefined => lists.get(f);
  const evidenceLists: EvidenceLists = {
    dnsNames: list('dnsNames'),
    httpRequests: list('httpRequests'),
    l7Protocols: list('l7Protocols'),
    allowedBy: list('allowedBy'),
    deniedBy: list('deniedBy'),
    services: list('services'),
    srcPods: list('srcPods'),
    dstPods: list('dstPods'),
    srcReserved: list('srcReserved'),
    dstReserved: list('dstReserved'),
  };
  const edges = new Array<Edge>(n);
  // One call per edge (not one long loop): V8 optimises a function called often sooner than a loop.
  for (let i = 0; i < n; i++) edges[i] = decodeEdge(i, at, tables, evidenceLists);
  at.end();
  return edges;
}
