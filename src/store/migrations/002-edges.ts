// Migration 2: the edge graph (issue 4): edges with per-side counters, distinct hours, workloads
// and their pod label sets, DNS answers, and counts of flows that made no edge.
// Designed once for recommend, triage and coverage; never edit it after release, add a migration.
export const sql = `
-- One row per raw edge: (source peer, destination peer, protocol, destination port) as ingest keys
-- them. Peer keys: 'w:<ns>/<Kind>/<name>' (owner known), 'w:<ns>/~/<name>' (inferred, kind chosen at
-- read time), 'e:<entity>', 'ip:<address>' (world; resolved to FQDN or CIDR at read time).
CREATE TABLE edges (
  id             INTEGER PRIMARY KEY,
  src_key        TEXT    NOT NULL,
  dst_key        TEXT    NOT NULL,
  protocol       TEXT    NOT NULL,
  -- destination port; the ICMP type for ICMP
  port           INTEGER NOT NULL,
  -- namespaces of workload ends (NULL otherwise), for -n
  src_ns         TEXT,
  dst_ns         TEXT,
  -- Request-direction counters per observation side: eg_ = egress (the source's node),
  -- in_ = ingress (the destination's node), un_ = direction unknown. Readers take the max over
  -- sides for flows/connections/forwarded and the sum for dropped/errors (one connection is seen
  -- on both nodes; a drop happens on one).
  eg_flows       INTEGER NOT NULL DEFAULT 0,
  eg_connections INTEGER NOT NULL DEFAULT 0,
  eg_verdicts    INTEGER NOT NULL DEFAULT 0,
  eg_forwarded   INTEGER NOT NULL DEFAULT 0,
  eg_dropped     INTEGER NOT NULL DEFAULT 0,
  eg_audit       INTEGER NOT NULL DEFAULT 0,
  eg_redirected  INTEGER NOT NULL DEFAULT 0,
  eg_errors      INTEGER NOT NULL DEFAULT 0,
  in_flows       INTEGER NOT NULL DEFAULT 0,
  in_connections INTEGER NOT NULL DEFAULT 0,
  in_verdicts    INTEGER NOT NULL DEFAULT 0,
  in_forwarded   INTEGER NOT NULL DEFAULT 0,
  in_dropped     INTEGER NOT NULL DEFAULT 0,
  in_audit       INTEGER NOT NULL DEFAULT 0,
  in_redirected  INTEGER NOT NULL DEFAULT 0,
  in_errors      INTEGER NOT NULL DEFAULT 0,
  un_flows       INTEGER NOT NULL DEFAULT 0,
  un_connections INTEGER NOT NULL DEFAULT 0,
  un_verdicts    INTEGER NOT NULL DEFAULT 0,
  un_forwarded   INTEGER NOT NULL DEFAULT 0,
  un_dropped     INTEGER NOT NULL DEFAULT 0,
  un_audit       INTEGER NOT NULL DEFAULT 0,
  un_redirected  INTEGER NOT NULL DEFAULT 0,
  un_errors      INTEGER NOT NULL DEFAULT 0,
  l7_requests    INTEGER NOT NULL DEFAULT 0,
  first_seen_ms  INTEGER NOT NULL,
  last_seen_ms   INTEGER NOT NULL,
  -- JSON arrays, each the K smallest distinct values seen (see graph SET_LIMITS)
  dns_names         TEXT NOT NULL DEFAULT '[]',
  http_requests     TEXT NOT NULL DEFAULT '[]',
  destination_names TEXT NOT NULL DEFAULT '[]',
  l7_protocols      TEXT NOT NULL DEFAULT '[]',
  allowed_by        TEXT NOT NULL DEFAULT '[]',
  denied_by         TEXT NOT NULL DEFAULT '[]',
  services          TEXT NOT NULL DEFAULT '[]',
  src_pods          TEXT NOT NULL DEFAULT '[]',
  dst_pods          TEXT NOT NULL DEFAULT '[]',
  -- JSON array of the set columns above that had more values than they keep
  truncated         TEXT NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX edges_key ON edges (src_key, dst_key, protocol, port);
CREATE INDEX edges_src_ns ON edges (src_ns);
CREATE INDEX edges_dst_ns ON edges (dst_ns);

-- Drop reasons per edge (drop_reason_desc names, or L7_DENIED / UNKNOWN), summed over sides.
CREATE TABLE edge_drop_reasons (
  edge_id INTEGER NOT NULL REFERENCES edges(id),
  reason  TEXT    NOT NULL,
  flows   INTEGER NOT NULL,
  PRIMARY KEY (edge_id, reason)
) WITHOUT ROWID;

-- Distinct hours (floor(time_ms / 3600000)) in which each edge carried a request.
CREATE TABLE edge_hours (
  edge_id INTEGER NOT NULL REFERENCES edges(id),
  hour    INTEGER NOT NULL,
  PRIMARY KEY (edge_id, hour)
) WITHOUT ROWID;

-- Raw workload keys seen on either end of any flow.
CREATE TABLE workloads (
  key           TEXT PRIMARY KEY,
  namespace     TEXT NOT NULL,
  -- NULL for inferred workloads (no owner reference in the flows)
  kind          TEXT,
  name          TEXT NOT NULL,
  -- JSON array of owner kinds suggested by pod-name shapes
  kind_hints    TEXT NOT NULL DEFAULT '[]',
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms  INTEGER NOT NULL
) WITHOUT ROWID;

-- Distinct pod identity label sets per raw workload: JSON array of 'key=value' (k8s: labels,
-- prefix removed, namespace labels left out), sorted. Selectors are chosen from these at read time.
CREATE TABLE workload_label_sets (
  workload_key TEXT NOT NULL REFERENCES workloads(key),
  labels       TEXT NOT NULL,
  PRIMARY KEY (workload_key, labels)
) WITHOUT ROWID;

-- DNS answers from L7 DNS responses: client (raw peer key) asked query, got ip.
CREATE TABLE dns_answers (
  client_key    TEXT    NOT NULL,
  ip            TEXT    NOT NULL,
  query         TEXT    NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms  INTEGER NOT NULL,
  responses     INTEGER NOT NULL,
  PRIMARY KEY (client_key, ip, query)
) WITHOUT ROWID;

-- Flows that made no edge, by reason (reply, related, translation, no-port, unidentified).
CREATE TABLE edge_skips (
  reason TEXT PRIMARY KEY,
  flows  INTEGER NOT NULL
) WITHOUT ROWID;
`;
