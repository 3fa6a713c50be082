// Migration 5 (issue 12): every address a flow showed with a cluster identity (a pod, host,
// remote-node, kube-apiserver, health, ingress...), with the raw peer key behind it. Read time turns
// a world-labelled address into that peer, or leaves it out with a note, so no CIDR rule is ever
// aimed at a cluster endpoint. A database migrated from 4 starts with an empty table (its older
// flows taught nothing here) and reads exactly as before until new flows come in.
export const sql = `
CREATE TABLE cluster_ips (
  ip            TEXT    NOT NULL,
  -- raw peer key, as in edges.src_key / dst_key ('w:...' or 'e:<entity>'), never world
  peer_key      TEXT    NOT NULL,
  flows         INTEGER NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms  INTEGER NOT NULL,
  PRIMARY KEY (ip, peer_key)
) WITHOUT ROWID;
`;
