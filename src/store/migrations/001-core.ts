// Migration 1: sources, verdict counts, triage flows, lost events, node status, bad lines.
export const sql = `
-- Ingested sources: one row per replayed file or relay session.
CREATE TABLE sources (
  id            INTEGER PRIMARY KEY,
  kind          TEXT    NOT NULL CHECK (kind IN ('file', 'relay')),
  name          TEXT    NOT NULL,
  started_at    TEXT    NOT NULL,
  ended_at      TEXT,
  -- running: still open (or killed); completed; partial: bad lines skipped; failed; interrupted.
  status        TEXT    NOT NULL DEFAULT 'running',
  lines         INTEGER NOT NULL DEFAULT 0,
  events        INTEGER NOT NULL DEFAULT 0,
  flows         INTEGER NOT NULL DEFAULT 0,
  bad_lines     INTEGER NOT NULL DEFAULT 0,
  duplicates    INTEGER NOT NULL DEFAULT 0,
  lost_events   INTEGER NOT NULL DEFAULT 0,
  first_flow_ms INTEGER,
  last_flow_ms  INTEGER,
  -- RFC 3339 time of the newest flow committed: where observe resumes.
  last_flow_time TEXT
);

CREATE TABLE verdict_counts (
  source_id INTEGER NOT NULL REFERENCES sources(id),
  verdict   TEXT    NOT NULL,
  flows     INTEGER NOT NULL,
  PRIMARY KEY (source_id, verdict)
) WITHOUT ROWID;

-- Flows that triage needs whole (DROPPED, AUDIT, ERROR), redacted, as normalised JSON.
CREATE TABLE triage_flows (
  id            INTEGER PRIMARY KEY,
  source_id     INTEGER NOT NULL REFERENCES sources(id),
  time          TEXT    NOT NULL,
  time_ms       INTEGER NOT NULL,
  uuid          TEXT,
  verdict       TEXT    NOT NULL,
  drop_reason   TEXT,
  direction     TEXT    NOT NULL,
  src_namespace TEXT,
  src_pod       TEXT,
  dst_namespace TEXT,
  dst_pod       TEXT,
  protocol      TEXT,
  dst_port      INTEGER,
  node_name     TEXT,
  flow_json     TEXT    NOT NULL
);
CREATE INDEX triage_flows_time ON triage_flows (time_ms);
-- The same event replayed twice (or resent after a relay reconnect) is stored once.
CREATE UNIQUE INDEX triage_flows_uuid ON triage_flows (uuid) WHERE uuid IS NOT NULL;

CREATE TABLE lost_events (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL REFERENCES sources(id),
  time        TEXT,
  time_ms     INTEGER,
  node_name   TEXT,
  lost_source TEXT    NOT NULL,
  num_lost    INTEGER NOT NULL,
  cpu         INTEGER
);

CREATE TABLE node_status (
  id         INTEGER PRIMARY KEY,
  source_id  INTEGER NOT NULL REFERENCES sources(id),
  time       TEXT,
  time_ms    INTEGER,
  state      TEXT    NOT NULL,
  node_names TEXT    NOT NULL, -- JSON array
  message    TEXT
);

-- The first bad lines of each source, for status (all are counted in sources.bad_lines).
CREATE TABLE bad_lines (
  source_id INTEGER NOT NULL REFERENCES sources(id),
  line      INTEGER NOT NULL,
  field     TEXT    NOT NULL,
  reason    TEXT    NOT NULL
);
`;
