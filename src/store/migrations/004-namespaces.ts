// Migration 4 (issue 16): what Cilium matches on that migration 2 left out.
// - Namespace labels: Cilium puts them on every identity of the namespace
//   (`k8s:io.cilium.k8s.namespace.labels.*`) and matches namespaceSelector against them; workload
//   label sets leave them out, so they are kept once per namespace.
// - The reserved-label sets of the identities at each non-pod end of an edge
//   (`kube-apiserver+remote-node`, `world-ipv4`): entities select by each label.
export const sql = `
CREATE TABLE namespaces (
  namespace TEXT PRIMARY KEY,
  -- JSON array of 'key=value' (prefix removed), sorted, as on the newest identity seen
  labels    TEXT    NOT NULL,
  -- time of the newest flow that carried them; the newest wins (ties: the larger labels text)
  seen_ms   INTEGER NOT NULL
) WITHOUT ROWID;

-- JSON arrays like the other set columns (graph SET_LIMITS srcReserved / dstReserved)
ALTER TABLE edges ADD COLUMN src_reserved TEXT NOT NULL DEFAULT '[]';
ALTER TABLE edges ADD COLUMN dst_reserved TEXT NOT NULL DEFAULT '[]';
`;
