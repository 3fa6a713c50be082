// Migration 3 (issue 15): exact resume for observe, idempotent replay, and who runs a source.
export const sql = `
-- observe: the dedupe keys of the events each committed batch of a relay source stored, kept for
-- the last seconds before the newest flow. A new run asks the relay for a little before that flow
-- and drops exactly the re-sent events these hold: ties and late flows are neither lost nor doubled.
CREATE TABLE relay_resume_keys (
  server     TEXT    NOT NULL,
  -- newest event time in the batch (epoch ms); rows far older than the newest flow are deleted
  newest_ms  REAL    NOT NULL,
  -- canonical uuids, 16 bytes each (four little-endian 32-bit words)
  uuids      BLOB    NOT NULL,
  -- JSON array of the other keys (content keys of flows without uuid, lost-event markers)
  others     TEXT    NOT NULL
);
CREATE INDEX relay_resume_keys_server ON relay_resume_keys (server, newest_ms);

-- replay: a file is recognised by its content (sha256 of its size and first bytes), so the same
-- recording is not counted twice and a killed replay resumes where its last batch committed.
ALTER TABLE sources ADD COLUMN fingerprint TEXT;
-- The process that runs the source: a 'running' source whose process is gone was interrupted.
ALTER TABLE sources ADD COLUMN pid INTEGER;
ALTER TABLE sources ADD COLUMN host TEXT;
CREATE INDEX sources_fingerprint ON sources (fingerprint) WHERE fingerprint IS NOT NULL;

-- replay with workers: byte ranges (lines starting in [start, end)) whose events are committed.
CREATE TABLE replay_ranges (
  source_id INTEGER NOT NULL REFERENCES sources(id),
  start     INTEGER NOT NULL,
  end       INTEGER NOT NULL,
  lines     INTEGER NOT NULL,
  PRIMARY KEY (source_id, start)
) WITHOUT ROWID;
`;
