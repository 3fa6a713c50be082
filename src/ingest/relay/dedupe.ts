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
 * A `floor` (the newest flow time stored by a previous run, whose keys we do not have) drops every
 * flow at or before it: the next run resumes exactly at the floor.
 */
import type { Flow, LostEvent } from '../../flow/index.js';

export interface DedupeOptions {
  /** How far before the newest flow a resume starts (the relay's sort buffer drains within 1 s). */
  readonly overlapMs?: number;
  /** Soft bound on the keys held; whole buckets are evicted, never the newest one. */
  readonly maxKeys?: number;
  /** RFC 3339 (9 fraction digits, as the decoder normalises): flows at or before it are duplicates. */
  readonly floor?: string;
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
  duplicates = 0;

  constructor(options: DedupeOptions = {}) {
    this.#overlapMs = options.overlapMs ?? DEFAULT_OVERLAP_MS;
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.#floor = options.floor;
  }

  /** True the first time a flow is seen; records it. Meant as IngestSession's `isNew`. */
  readonly isNew = (flow: Flow): boolean => {
    if (this.#floor !== undefined && flow.time <= this.#floor) {
      this.duplicates++;
      return false;
    }
    if (!this.#admit(flow.uuid ?? contentKey(flow), flow.time, flow.timeMs)) {
      this.duplicates++;
      return false;
    }
    return true;
  };

  /** The same for lost-event markers, which a rewound ring also sends again (those with a time only). */
  isNewLost(lost: LostEvent): boolean {
    if (lost.time === undefined || lost.timeMs === undefined) return true;
    if (this.#floor !== undefined && lost.time <= this.#floor) return false;
    const key = `lost|${lost.time}|${lost.nodeName ?? ''}|${lost.source}|${lost.numEventsLost}|${lost.cpu ?? ''}`;
    return this.#admit(key, lost.time, lost.timeMs);
  }

  #admit(key: string, time: string, timeMs: number): boolean {
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
    if (this.#newestTime === undefined) return this.#floor === undefined ? undefined : parseIso(this.#floor);
    const keys = new Set<string>();
    for (const bucket of this.#buckets.values()) bucket.addTo(keys);
    this.#resumeKeys = keys;
    this.#resumeUpTo = this.#newestTime;
    this.#resumeUpToMs = this.#newestMs;
    const startMs = Math.max(this.#evictedBefore * BUCKET_MS, Math.floor(this.#newestMs) - this.#overlapMs);
    return { seconds: Math.floor(startMs / 1000), nanos: (((startMs % 1000) + 1000) % 1000) * 1_000_000 };
  }
}

/** The keys of one bucket: canonical uuids as 4 × 32 bits each, anything else as strings. */
class KeyBucket {
  #words = new Uint32Array(64);
  #uuids = 0;
  #strings: string[] | undefined;

  get size(): number {
    return this.#uuids + (this.#strings?.length ?? 0);
  }

  add(key: string): void {
    const at = this.#uuids * 4;
    if (at + 4 > this.#words.length) {
      const grown = new Uint32Array(this.#words.length * 2);
      grown.set(this.#words);
      this.#words = grown;
    }
    if (packUuid(key, this.#words, at)) this.#uuids++;
    else (this.#strings ??= []).push(key);
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
