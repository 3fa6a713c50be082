/**
 * Drops the events that a resumed GetFlows stream sends again.
 *
 * `since` is inclusive and the relay's merge order is only approximate (flows can arrive ~1 s late,
 * hubble-api.md §5), so we resume a little before the newest flow seen and drop what we already
 * have: by uuid (Cilium 1.14+) or by a content key (time, node, 5-tuple, event type, verdict) for
 * older agents.
 *
 * Cost while nothing breaks is one array push per flow: keys are kept in 100 ms buckets covering
 * the last `overlapMs` (plus one bucket), at most about `maxKeys` of them. Only when a resume is
 * prepared (`resumeSince()`) are they put in a Set, which answers for the flows up to the newest
 * time seen before the break and is dropped once the stream is past it. `resumeSince()` never asks
 * for anything older than the oldest bucket still held, so every re-sent flow is recognised.
 *
 * Only flow times move the resume point: lost-event markers are deduped here too, but whatever time
 * they carry (or the receive time they were stamped with) says nothing about which flows we have.
 *
 * Across runs: with `persist`, the keys admitted since the last `takePending()` are handed out per
 * committed batch, and the next run starts from them (`resume`): it asks `overlapMs` before the
 * newest stored flow and drops exactly the re-sent flows it holds keys for, so ties and flows that
 * arrive out of order across nodes are neither lost nor stored twice. A `floor` (a database from
 * before the keys were kept: only the newest flow time is known) drops every flow at or before it.
 */
import type { Flow, LostEvent } from '../../flow/index.js';

export interface DedupeOptions {
  /** How far before the newest flow a resume starts (the relay's sort buffer drains within 1 s). */
  readonly overlapMs?: number;
  /** Soft bound on the keys held; whole buckets are evicted, never the newest one. */
  readonly maxKeys?: number;
  /** RFC 3339 (9 fraction digits, as the decoder normalises): flows at or before it are duplicates. */
  readonly floor?: string;
  /** Keys stored by earlier runs up to their newest flow: resume before it and drop exactly these. */
  readonly resume?: StoredResumeState;
  /** Collect the keys of admitted events for `takePending()` (to be stored with each batch). */
  readonly persist?: boolean;
}

/** What earlier runs stored: the newest flow time and the keys of the events before it. */
export interface StoredResumeState {
  readonly newestTime: string;
  readonly newestMs: number;
  readonly keys: readonly PackedKeys[];
}

/** Keys in storable form: canonical uuids as 4 little-endian 32-bit words each, the rest as strings. */
export interface PackedKeys {
  readonly uuidWords: Uint32Array;
  readonly others: readonly string[];
}

/** Keys admitted since the previous take, with the newest event time among them. */
export interface PendingKeys extends PackedKeys {
  readonly newestMs: number;
}

export const DEFAULT_OVERLAP_MS = 2000;
export const DEFAULT_MAX_KEYS = 200_000;
const BUCKET_MS = 100;

export class DedupeWindow {
  readonly #overlapMs: number;
  readonly #maxKeys: number;
  readonly #floor: string | undefined;
  /** Bucket id (floor(timeMs / BUCKET_MS)) → keys seen in it. */
  readonly #buckets = new Map<number, KeyBucket>();
  #keyCount = 0;
  #lastBucketId = Number.NaN;
  #lastBucket: KeyBucket | undefined;
  #oldestBucket = Infinity;
  #newestTime: string | undefined;
  #newestMs = -Infinity;
  /** Buckets before this one were evicted: a resume must not start earlier. */
  #evictedBefore = -Infinity;
  /** Set while a resumed stream replays what we may have: keys, and the newest time before the break. */
  #resumeKeys: Set<string> | undefined;
  #resumeUpTo = '';
  #resumeUpToMs = 0;
  /** Keys admitted since the last takePending() (only with `persist`). */
  #pending: KeyBucket | undefined;
  #pendingNewestMs = -Infinity;
  /** Newest lost-event marker: its key answers after a resume, but it does not move the resume point. */
  #newestOther = '';
  #newestOtherMs = -Infinity;
  duplicates = 0;

  constructor(options: DedupeOptions = {}) {
    this.#overlapMs = options.overlapMs ?? DEFAULT_OVERLAP_MS;
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.#floor = options.resume ? undefined : options.floor;
    if (options.persist) this.#pending = new KeyBucket();
    const r = options.resume;
    if (r) {
      const keys = new Set<string>();
      for (const k of r.keys) KeyBucket.fromPacked(k).addTo(keys);
      this.#resumeKeys = keys;
      this.#resumeUpTo = r.newestTime;
      this.#resumeUpToMs = r.newestMs;
      this.#newestTime = r.newestTime;
      this.#newestMs = r.newestMs;
    }
  }

  /** True the first time a flow is seen; records it. Meant as IngestSession's `isNew`. */
  readonly isNew = (flow: Flow): boolean => {
    if (this.#floor !== undefined && flow.time <= this.#floor) {
      this.duplicates++;
      return false;
    }
    if (!this.#admit(flow.uuid ?? contentKey(flow), flow.time, flow.timeMs, true)) {
      this.duplicates++;
      return false;
    }
    return true;
  };

  /**
   * The same for lost-event markers, which a rewound ring also sends again (those with a time from
   * the server only: pass them before stamping a receive time). They never move the resume point.
   */
  isNewLost(lost: LostEvent): boolean {
    if (lost.time === undefined || lost.timeMs === undefined) return true;
    if (this.#floor !== undefined && lost.time <= this.#floor) return false;
    const key = `lost|${lost.time}|${lost.nodeName ?? ''}|${lost.source}|${lost.numEventsLost}|${lost.cpu ?? ''}`;
    return this.#admit(key, lost.time, lost.timeMs, false);
  }

  /** `isFlow`: a flow time, which alone moves the newest time (and so the resume point). */
  #admit(key: string, time: string, timeMs: number, isFlow: boolean): boolean {
    const resumeKeys = this.#resumeKeys;
    if (resumeKeys !== undefined) {
      if (time <= this.#resumeUpTo) {
        if (resumeKeys.has(key)) return false;
      } else if (timeMs > this.#resumeUpToMs + this.#overlapMs + 1000) {
        this.#resumeKeys = undefined; // past the replayed range, even allowing for late flows
      }
    }
    const bucket = Math.floor(timeMs / BUCKET_MS);
    if (bucket < this.#evictedBefore) return true; // older than anything a resume asks for again
    // Consecutive flows mostly share a bucket.
    let keys = bucket === this.#lastBucketId ? this.#lastBucket : this.#buckets.get(bucket);
    if (keys === undefined) {
      keys = new KeyBucket();
      this.#buckets.set(bucket, keys);
      if (bucket < this.#oldestBucket) this.#oldestBucket = bucket;
    }
    this.#lastBucketId = bucket;
    this.#lastBucket = keys;
    keys.add(key);
    this.#keyCount++;
    const pending = this.#pending;
    if (pending !== undefined) {
      pending.copyLastOf(keys, key);
      if (timeMs > this.#pendingNewestMs) this.#pendingNewestMs = timeMs;
    }
    if (!isFlow) {
      if (time > this.#newestOther) this.#newestOther = time;
      if (timeMs > this.#newestOtherMs) this.#newestOtherMs = timeMs;
      return true;
    }
    // Milliseconds decide unless equal: one number compare instead of a 30-character one per flow.
    if (timeMs > this.#newestMs || (timeMs === this.#newestMs && (this.#newestTime === undefined || time > this.#newestTime))) {
      this.#newestTime = time;
      if (timeMs > this.#newestMs) {
        const advanced = bucket !== Math.floor(this.#newestMs / BUCKET_MS);
        this.#newestMs = timeMs;
        if (advanced) this.#prune();
      }
    }
    if (this.#keyCount > this.#maxKeys) this.#prune();
    return true;
  }

  #prune(): void {
    const keep = Math.floor((this.#newestMs - this.#overlapMs) / BUCKET_MS) - 1;
    const newest = Math.floor(this.#newestMs / BUCKET_MS);
    while (this.#oldestBucket < newest && (this.#oldestBucket < keep || this.#keyCount > this.#maxKeys)) {
      const oldest = this.#oldestBucket;
      this.#keyCount -= this.#buckets.get(oldest)?.size ?? 0;
      this.#buckets.delete(oldest);
      if (oldest === this.#lastBucketId) this.#lastBucket = undefined;
      this.#evictedBefore = Math.max(this.#evictedBefore, oldest + 1);
      let next = Infinity;
      for (const b of this.#buckets.keys()) if (b < next) next = b;
      this.#oldestBucket = next;
    }
  }

  /** Hands out the keys admitted since the previous call (with `persist`); undefined when none. */
  takePending(): PendingKeys | undefined {
    const pending = this.#pending;
    if (pending === undefined || pending.size === 0) return undefined;
    this.#pending = new KeyBucket();
    const newestMs = this.#pendingNewestMs;
    this.#pendingNewestMs = -Infinity;
    return { ...pending.packed(), newestMs };
  }

  /** The newest flow time seen in ms (or resumed from), -Infinity before any. */
  get newestMs(): number {
    return this.#newestMs;
  }

  /** The newest flow time seen (RFC 3339), if any. */
  get newestTime(): string | undefined {
    return this.#newestTime;
  }

  /** Keys held for a possible resume. */
  get size(): number {
    return this.#keyCount;
  }

  /**
   * Prepares a resume and says where it should start: `overlapMs` before the newest flow (whole
   * milliseconds), but never before the oldest bucket held; the floor when nothing was seen yet;
   * undefined when there is neither.
   */
  resumeSince(): { readonly seconds: number; readonly nanos: number } | undefined {
    // Keys of an earlier resume (or of earlier runs) still answer for their range.
    // (Bounded: a marker timed far ahead must not keep them growing over many reconnects.)
    const held = this.#resumeKeys;
    const keys = held !== undefined && held.size <= 4 * this.#maxKeys ? held : new Set<string>();
    for (const bucket of this.#buckets.values()) bucket.addTo(keys);
    this.#resumeKeys = keys;
    const upTo = this.#newestTime !== undefined && this.#newestTime > this.#newestOther ? this.#newestTime : this.#newestOther;
    if (upTo > this.#resumeUpTo) this.#resumeUpTo = upTo;
    this.#resumeUpToMs = Math.max(this.#resumeUpToMs, this.#newestMs, this.#newestOtherMs);
    if (this.#newestTime === undefined) return this.#floor === undefined ? undefined : parseIso(this.#floor);
    const startMs = Math.max(this.#evictedBefore * BUCKET_MS, Math.floor(this.#newestMs) - this.#overlapMs);
    return { seconds: Math.floor(startMs / 1000), nanos: (((startMs % 1000) + 1000) % 1000) * 1_000_000 };
  }
}

/** The keys of one bucket: canonical uuids as 4 × 32 bits each, anything else as strings. */
class KeyBucket {
  #words = new Uint32Array(64);
  #uuids = 0;
  #strings: string[] | undefined;
  /** Whether the last add() kept a uuid (as bits) rather than a string. */
  #lastWasUuid = false;

  static fromPacked(p: PackedKeys): KeyBucket {
    const b = new KeyBucket();
    b.#words = p.uuidWords.slice();
    b.#uuids = Math.floor(p.uuidWords.length / 4);
    b.#strings = [...p.others];
    return b;
  }

  get size(): number {
    return this.#uuids + (this.#strings?.length ?? 0);
  }

  add(key: string): void {
    const at = this.#grow();
    this.#lastWasUuid = packUuid(key, this.#words, at);
    if (this.#lastWasUuid) this.#uuids++;
    else (this.#strings ??= []).push(key);
  }

  /** Adds `key`, which was just added to `other`, reusing its packed bits. */
  copyLastOf(other: KeyBucket, key: string): void {
    if (!other.#lastWasUuid) {
      (this.#strings ??= []).push(key);
      return;
    }
    const at = this.#grow();
    const from = (other.#uuids - 1) * 4;
    const w = other.#words;
    this.#words[at] = w[from] as number;
    this.#words[at + 1] = w[from + 1] as number;
    this.#words[at + 2] = w[from + 2] as number;
    this.#words[at + 3] = w[from + 3] as number;
    this.#uuids++;
  }

  packed(): PackedKeys {
    return { uuidWords: this.#words.slice(0, this.#uuids * 4), others: this.#strings ?? [] };
  }

  #grow(): number {
    const at = this.#uuids * 4;
    if (at + 4 > this.#words.length) {
      const grown = new Uint32Array(this.#words.length * 2);
      grown.set(this.#words);
      this.#words = grown;
    }
    return at;
  }

  addTo(set: Set<string>): void {
    for (let i = 0; i < this.#uuids; i++) set.add(unpackUuid(this.#words, i * 4));
    if (this.#strings) for (const k of this.#strings) set.add(k);
  }
}

const HEX = '0123456789abcdef';
const DASHES = [8, 13, 18, 23];
/** Value of a lowercase hex digit by character code, -1 for anything else. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE[HEX.charCodeAt(i)] = i;

/** Writes a canonical lowercase uuid's 128 bits to words[at..at+3]; false for any other string. */
function packUuid(s: string, words: Uint32Array, at: number): boolean {
  if (s.length !== 36 || s.charCodeAt(8) !== 0x2d || s.charCodeAt(13) !== 0x2d || s.charCodeAt(18) !== 0x2d || s.charCodeAt(23) !== 0x2d) return false;
  const a = hex8(s, 0, 4);
  const b = hex8(s, 9, 14);
  const c = hex8(s, 19, 24);
  const d = hex8(s, 28, 32);
  if (a < 0 || b < 0 || c < 0 || d < 0) return false;
  words[at] = a;
  words[at + 1] = b;
  words[at + 2] = c;
  words[at + 3] = d;
  return true;
}

/** The 32 bits of the hex digits s[i..i+3] and s[j..j+3]; -1 if one is not a lowercase hex digit. */
function hex8(s: string, i: number, j: number): number {
  let word = 0;
  let bad = 0;
  for (let k = 0; k < 4; k++) {
    const ch = s.charCodeAt(i + k);
    const v = ch < 128 ? (HEX_VALUE[ch] as number) : -1;
    bad |= v;
    word = (word << 4) | (v & 15);
  }
  for (let k = 0; k < 4; k++) {
    const ch = s.charCodeAt(j + k);
    const v = ch < 128 ? (HEX_VALUE[ch] as number) : -1;
    bad |= v;
    word = (word << 4) | (v & 15);
  }
  return bad < 0 ? -1 : word >>> 0;
}

function unpackUuid(words: Uint32Array, at: number): string {
  let s = '';
  for (let n = 0; n < 32; n++) {
    if (DASHES.includes(s.length)) s += '-';
    s += HEX[((words[at + (n >> 3)] as number) >>> (28 - 4 * (n & 7))) & 15];
  }
  return s;
}

/** The dedupe key of a flow without uuid (agents before Cilium 1.14). */
export function contentKey(f: Flow): string {
  const l4 = f.l4;
  let tuple: string;
  if (!l4) tuple = '-';
  else if ('destinationPort' in l4) tuple = `${l4.protocol}:${l4.sourcePort}:${l4.destinationPort}`;
  else if ('icmpType' in l4) tuple = `${l4.protocol}:${l4.icmpType}:${l4.icmpCode}`;
  else tuple = l4.protocol;
  const et = f.eventType ? `${f.eventType.type}:${f.eventType.subType}` : '-';
  return `${f.time}|${f.nodeName ?? ''}|${f.ip?.source ?? ''}|${f.ip?.destination ?? ''}|${tuple}|${et}|${f.verdict}`;
}

/** `2026-01-02T03:04:05.123456789Z` → protobuf Timestamp parts. */
export function parseIso(iso: string): { seconds: number; nanos: number } {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(iso);
  if (!m) {
    const ms = Date.parse(iso);
    return { seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1_000_000 };
  }
  return { seconds: Math.floor(Date.parse(`${m[1]}Z`) / 1000), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}
