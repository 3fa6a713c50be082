import type { Db } from './open.js';
import type { SourceKind } from './ingest-writer.js';

/**
 * The newest committed flow time (RFC 3339, nine fraction digits) over all sources of this kind
 * and name: where `observe` resumes against the same relay.
 */
export function lastFlowTimeOf(db: Db, kind: SourceKind, name: string): string | undefined {
  const row = db.prepare('SELECT max(last_flow_time) AS t FROM sources WHERE kind = ? AND name = ?').get(kind, name) as
    | { t: string | null }
    | undefined;
  return row?.t ?? undefined;
}

/** Dedupe keys as stored per batch: uuids as 4 little-endian 32-bit words each, the rest as strings. */
export interface StoredKeys {
  readonly uuidWords: Uint32Array;
  readonly others: readonly string[];
}

export interface RelayResumeState {
  /** Newest flow stored from this server. */
  readonly newestTime: string;
  readonly newestMs: number;
  /** Keys of the events stored from `sinceMs` on; empty for a database from before they were kept. */
  readonly keys: readonly StoredKeys[];
}

/**
 * Where `observe` resumes against `server`: the newest stored flow and the keys of every event
 * stored within `overlapMs` (plus a margin) before it.
 */
export function readRelayResumeState(db: Db, server: string, overlapMs: number): RelayResumeState | undefined {
  const newest = db
    .prepare(
      `SELECT last_flow_time AS t, last_flow_ms AS ms FROM sources
       WHERE kind = 'relay' AND name = ? AND last_flow_time IS NOT NULL
       ORDER BY last_flow_time DESC LIMIT 1`,
    )
    .get(server) as { t: string; ms: number } | undefined;
  if (!newest) return undefined;
  const rows = db
    .prepare('SELECT uuids, others FROM relay_resume_keys WHERE server = ? AND newest_ms >= ?')
    .all(server, newest.ms - overlapMs - KEEP_MARGIN_MS) as { uuids: Buffer; others: string }[];
  return {
    newestTime: newest.t,
    newestMs: newest.ms,
    keys: rows.map((r) => ({ uuidWords: wordsOf(r.uuids), others: JSON.parse(r.others) as string[] })),
  };
}

/** Kept beyond the overlap, so that a resume never misses a key it may need. */
const KEEP_MARGIN_MS = 2000;

/** Stores each batch's keys (inside the batch transaction) and forgets those no resume can need. */
export class RelayResumeWriter {
  readonly #insert;
  readonly #prune;

  constructor(
    db: Db,
    readonly server: string,
    readonly overlapMs: number,
  ) {
    this.#insert = db.prepare('INSERT INTO relay_resume_keys (server, newest_ms, uuids, others) VALUES (?, ?, ?, ?)');
    this.#prune = db.prepare('DELETE FROM relay_resume_keys WHERE server = ? AND newest_ms < ?');
  }

  /** `newestFlowMs`: the newest flow time so far (stored or in this batch). */
  save(keys: (StoredKeys & { readonly newestMs: number }) | undefined, newestFlowMs: number): void {
    if (keys !== undefined) {
      const w = keys.uuidWords;
      const bytes = Buffer.from(w.buffer, w.byteOffset, w.byteLength);
      this.#insert.run(this.server, keys.newestMs, LITTLE_ENDIAN ? bytes : swapWords(bytes), JSON.stringify(keys.others));
    }
    if (Number.isFinite(newestFlowMs)) this.#prune.run(this.server, newestFlowMs - this.overlapMs - KEEP_MARGIN_MS);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function swapWords(b: Buffer): Buffer {
  return Buffer.from(b).swap32();
}

function wordsOf(blob: Buffer): Uint32Array {
  // A fresh, aligned copy (small Buffers share a pool at any offset).
  const bytes = new Uint8Array(blob.byteLength - (blob.byteLength % 4));
  bytes.set(LITTLE_ENDIAN ? blob.subarray(0, bytes.length) : swapWords(blob).subarray(0, bytes.length));
  return new Uint32Array(bytes.buffer);
}
