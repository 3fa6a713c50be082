import { COUNTER_FIELDS, type Edge, type EdgeProtocol, EVIDENCE_FIELDS, type EvidenceField, type Peer, type Side, SIDES, type SideCounters } from './model.js';

/**
 * The resolved edge graph as bytes, so that a read of an unchanged database decodes the edges
 * instead of resolving every stored row again (store/graph-snapshot.ts keeps them).
 *
 * Bump GRAPH_SNAPSHOT_FORMAT whenever this encoding or what resolution makes of the same rows
 * changes: a snapshot of another format is never read. test/unit/graph/snapshot-format.test.ts
 * fails when a fixture resolves differently and the format was not bumped.
 */
export const GRAPH_SNAPSHOT_FORMAT = 1;

/** The parts of a snapshot: `core` (ends, counters, times, addresses) and one per evidence list. */
export type SnapshotPart = 'core' | EvidenceField;
export const SNAPSHOT_PARTS: readonly SnapshotPart[] = ['core', ...EVIDENCE_FIELDS];

/** What the core part knows besides its edges (`status` counts workloads without resolving them). */
export interface SnapshotMeta {
  readonly workloads: number;
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
 * in the machine's byte order (another order reads MAGIC wrong, so the part is refused). Numbers
 * are words (times as two words), strings and peers sit in the JSON once and are named by index.
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

/** A growable u32 buffer. */
class Words {
  #a = new Uint32Array(1 << 16);
  length = 0;
  push(x: number): void {
    if (this.length === this.#a.length) {
      const b = new Uint32Array(this.#a.length * 2);
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
  list(values: readonly string[], strings: Table<string>): void {
    this.push(values.length);
    for (const v of values) this.push(strings.of(v));
  }
  get words(): Uint32Array {
    return this.#a.subarray(0, this.length);
  }
}

function partBytes(words: Words, json: unknown): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(json));
  const w = words.words;
  const out = new Uint8Array(4 * (HEADER_WORDS + w.length) + text.length);
  const head = new Uint32Array(out.buffer, 0, HEADER_WORDS + w.length);
  head[0] = MAGIC;
  head[1] = GRAPH_SNAPSHOT_FORMAT;
  head[2] = w.length;
  head[3] = text.length;
  head.set(w, HEADER_WORDS);
  out.set(text, 4 * (HEADER_WORDS + w.length));
  return out;
}

/** A side's counters that are all zero are left out (a bit per side says which are there). */
function sideMask(sides: Edge['sides']): number {
  let mask = 0;
  SIDES.forEach((s, bit) => {
    const c = sides[s];
    if (COUNTER_FIELDS.some((f) => c[f] !== 0)) mask |= 1 << bit;
  });
  return mask;
}

/**
 * Encodes resolved edges: the core part and the evidence lists `fields` (the ones the edges were
 * read with; a list not read must not be written, it would read as empty). Throws
 * SnapshotFormatError for a value the encoding cannot hold exactly.
 */
export function encodeGraphSnapshot(edges: readonly Edge[], fields: readonly EvidenceField[], meta: SnapshotMeta): Map<SnapshotPart, Uint8Array> {
  const peers = new Table<Peer>();
  const protocols = new Table<EdgeProtocol>();
  const drops = new Table<string>();
  const strings = new Table<string>();
  const core = new Words();
  for (const e of edges) {
    core.push(peers.of(e.from));
    core.push(peers.of(e.to));
    core.push(protocols.of(e.protocol));
    core.push(u32(e.port, 'port'));
    core.push(u32(e.hoursSeen, 'hours'));
    core.push(drops.of(JSON.stringify(e.dropReasons)));
    core.time(e.firstSeenMs, 'first seen');
    core.time(e.lastSeenMs, 'last seen');
    const mask = sideMask(e.sides);
    core.push(mask);
    SIDES.forEach((s, bit) => {
      if ((mask & (1 << bit)) === 0) return;
      for (const f of COUNTER_FIELDS) core.push(u32(e.sides[s][f], f));
    });
    core.list(e.ips, strings);
    core.list(e.sharedIpWith, strings);
  }
  // Peers by content too: the same peer may be two objects (a workload and an inferred one mapped on it).
  const out = new Map<SnapshotPart, Uint8Array>();
  out.set('core', partBytes(core, { n: edges.length, workloads: meta.workloads, peers: peers.values, protocols: protocols.values, drops: drops.values.map((d) => JSON.parse(d) as unknown), strings: strings.values }));
  for (const f of fields) {
    const values = new Table<string>();
    const words = new Words();
    for (const e of edges) words.list(e[f] ?? NO_STRINGS, values);
    out.set(f, partBytes(words, { n: edges.length, strings: values.values }));
  }
  return out;
}

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
  readonly peers: readonly Peer[];
  readonly protocols: readonly EdgeProtocol[];
  readonly drops: readonly Readonly<Record<string, number>>[];
  readonly strings: readonly string[];
}
interface ListJson {
  readonly n: number;
  readonly strings: readonly string[];
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
  list(strings: readonly string[]): readonly string[] {
    const n = this.next();
    if (n === 0) return NO_STRINGS;
    const out = new Array<string>(n);
    for (let k = 0; k < n; k++) out[k] = this.of(strings);
    return out;
  }
  counters(): SideCounters {
    return { flows: this.next(), connections: this.next(), verdicts: this.next(), forwarded: this.next(), dropped: this.next(), audit: this.next(), redirected: this.next(), errors: this.next() };
  }
  end(): void {
    if (this.#at !== this.words.length) throw new SnapshotFormatError(`${this.what}: ${this.words.length - this.#at} words left over`);
  }
}

interface Lists {
  readonly cursor: Cursor;
  readonly strings: readonly string[];
}
type EvidenceLists = Readonly<Record<EvidenceField, Lists | undefined>>;
type CoreTables = Pick<CoreJson, 'peers' | 'protocols' | 'drops' | 'strings'>;

const listOf = (l: Lists | undefined): readonly string[] => (l === undefined ? NO_STRINGS : l.cursor.list(l.strings));
const sideOf = (at: Cursor, mask: number, bit: number): Readonly<SideCounters> => ((mask & (1 << bit)) === 0 ? NO_COUNTERS : at.counters());

function decodeEdge(at: Cursor, t: CoreTables, l: EvidenceLists): Edge {
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
  const ips = at.list(t.strings);
  const sharedIpWith = at.list(t.strings);
  const { egress: e, ingress: g, unknown: u } = sides;
  // resolve.ts `edgeOf`'s fields, in its order (JSON output follows key order).
  return {
    from,
    to,
    protocol,
    port,
    flows: Math.max(e.flows, g.flows, u.flows),
    connections: Math.max(e.connections, e.verdicts, g.connections, g.verdicts, u.connections, u.verdicts),
    forwarded: Math.max(g.forwarded, e.forwarded - g.dropped, u.forwarded, 0),
    dropped: e.dropped + g.dropped + u.dropped,
    audit: Math.max(e.audit, g.audit, u.audit),
    redirected: Math.max(e.redirected, g.redirected, u.redirected),
    errors: e.errors + g.errors + u.errors,
    firstSeenMs,
    lastSeenMs,
    hoursSeen,
    dropReasons,
    dnsNames: listOf(l.dnsNames),
    httpRequests: listOf(l.httpRequests),
    l7Protocols: listOf(l.l7Protocols),
    ips,
    sharedIpWith,
    allowedBy: listOf(l.allowedBy),
    deniedBy: listOf(l.deniedBy),
    services: listOf(l.services),
    srcPods: listOf(l.srcPods),
    dstPods: listOf(l.dstPods),
    srcReserved: listOf(l.srcReserved),
    dstReserved: listOf(l.dstReserved),
    sides,
  };
}

/** The workload count the core part was written with (`status`), after checking the part. */
export function snapshotMeta(core: Uint8Array): SnapshotMeta {
  const { json } = readPart<CoreJson>(core, 'core');
  if (!Number.isInteger(json.workloads)) throw new SnapshotFormatError('core: no workload count');
  return { workloads: json.workloads };
}

/**
 * Decodes the edges of a snapshot: the core part and the evidence parts given (lists not given
 * are empty, as a read that did not ask for them leaves them). Edges equal the normal read's,
 * field for field and in the same key order; peers are shared between edges as there.
 */
export function decodeGraphSnapshot(core: Uint8Array, evidence: ReadonlyMap<EvidenceField, Uint8Array>): Edge[] {
  const c = readPart<CoreJson>(core, 'core');
  const { n, peers, protocols, drops, strings } = c.json;
  if (![peers, protocols, drops, strings].every(Array.isArray)) throw new SnapshotFormatError('core: tables missing');
  const at = new Cursor(c.words, 'core');
  const lists = new Map<EvidenceField, Lists>();
  for (const [f, bytes] of evidence) {
    const p = readPart<ListJson>(bytes, f);
    if (p.json.n !== n || !Array.isArray(p.json.strings)) throw new SnapshotFormatError(`${f}: ${p.json.n} edges, core has ${n}`);
    lists.set(f, { cursor: new Cursor(p.words, f), strings: p.json.strings });
  }
  const list = (f: EvidenceField): Lists | undefined => lists.get(f);
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
  const tables: CoreTables = { peers, protocols, drops, strings };
  const edges = new Array<Edge>(n);
  // One call per edge (not one long loop): V8 optimises a function called often sooner than a loop.
  for (let i = 0; i < n; i++) edges[i] = decodeEdge(at, tables, evidenceLists);
  at.end();
  for (const l of lists.values()) l.cursor.end();
  return edges;
}
