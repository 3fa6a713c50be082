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
