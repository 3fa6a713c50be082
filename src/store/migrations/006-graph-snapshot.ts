// Migration 6 (issue 17): a snapshot of the resolved edge graph, so that a read of an unchanged
// database decodes its edges instead of resolving every stored row again (store/graph-snapshot.ts).
// A snapshot is read only at the generation it was made at; every change to a table the graph is
// read from moves the generation, by trigger, whatever wrote it (replay, observe, a sqlite3 shell).

/** The tables the resolved graph and `status`'s graph summary are made of. */
export const GRAPH_INPUT_TABLES = ['edges', 'edge_hours', 'edge_drop_reasons', 'workloads', 'workload_label_sets', 'dns_answers', 'namespaces', 'cluster_ips'] as const;
const OPERATIONS = ['insert', 'update', 'delete'] as const;

/** Trigger names; a reader trusts a snapshot only while every one of them is there. */
export const GENERATION_TRIGGERS: readonly string[] = GRAPH_INPUT_TABLES.flatMap((t) => OPERATIONS.map((op) => `graph_generation_${t}_${op}`));

export const sql = `
-- One row: bumped by every row written to a graph input table (triggers below).
CREATE TABLE graph_generation (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL
);
INSERT INTO graph_generation (id, generation) VALUES (1, 0);

-- The resolved graph in parts ('core', one per evidence list, 'workloads'), each valid only while
-- its generation is graph_generation's and its format this build's (graph/snapshot-codec.ts).
CREATE TABLE graph_snapshot (
  part       TEXT    PRIMARY KEY,
  format     INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  -- sha1 of data, hex: a part that does not match is not read
  checksum   TEXT    NOT NULL,
  data       BLOB    NOT NULL
);
${GRAPH_INPUT_TABLES.flatMap((t) =>
  OPERATIONS.map(
    (op) => `CREATE TRIGGER graph_generation_${t}_${op} AFTER ${op.toUpperCase()} ON ${t} BEGIN UPDATE graph_generation SET generation = generation + 1; END;`,
  ),
).join('\n')}
`;
