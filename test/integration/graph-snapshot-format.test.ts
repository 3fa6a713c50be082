import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVIDENCE_FIELDS, GRAPH_SNAPSHOT_FORMAT, encodeGraphSnapshot } from '../../src/graph/index.js';
import { loadGraph, openDatabase } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

/**
 * A stored snapshot is read only by a build of the same GRAPH_SNAPSHOT_FORMAT
 * (src/graph/snapshot-codec.ts). When what the public samples resolve to, or the bytes they encode
 * to, change, snapshots made by the previous build would be read as if they were this build's: this
 * test fails until the format is bumped and the new digests are recorded here together with it.
 */
const RECORDED = {
  format: 3,
  resolved: 'cceb1b65e70ef1a591deae18bb10ed5c03c0c6b7410a334e39b8d9d4691a28c9',
  encoded: '058467a7e8cf99dc23c142966e2c11b10106482fcbeccf865e476b8bb51211cf',
};

const tmp = tempDir();
afterAll(() => tmp.remove());
const db = tmp.file('samples.db');

beforeAll(async () => {
  const files = readdirSync(SAMPLES_DIR).sort().map((f) => join(SAMPLES_DIR, f));
  expect((await runCli(['--db', db, 'replay', ...files])).code).toBe(0);
}, 60_000);

describe('the snapshot format', () => {
  it('changes whenever resolution or the encoding does (bump GRAPH_SNAPSHOT_FORMAT, then record the digests below it)', () => {
    const conn = openDatabase(db, { readonly: true });
    try {
      const graph = loadGraph(conn, { snapshot: false });
      const resolved = createHash('sha256').update(JSON.stringify(graph.edges)).update(JSON.stringify(graph.workloads)).digest('hex');
      const encoded = createHash('sha256');
      for (const [part, bytes] of encodeGraphSnapshot(graph.edges, EVIDENCE_FIELDS, { workloads: graph.workloads.length })) encoded.update(part).update(bytes);
      expect({ format: GRAPH_SNAPSHOT_FORMAT, resolved, encoded: encoded.digest('hex') }).toEqual(RECORDED);
    } finally {
      conn.close();
    }
  });
});
