import { copyFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFromDatabase, loadPolicies, queryEdges } from '../../src/app/index.js';
import { buildPolicySet } from '../../src/policy/index.js';
import { type Db, openDatabase } from '../../src/store/index.js';
import { readSnapshotParts } from '../../src/store/graph-snapshot.js';
import { checkJson } from '../../src/report/index.js';
import { checkBaseline } from '../../src/triage/index.js';
import { runCli } from '../helpers/cli.js';
import { isFile, REPO_ROOT, SAMPLES_DIR, tempDir } from '../helpers/paths.js';

/**
 * `check` judges edges read without their evidence lists and reads the graph again, in full, only
 * for the edges it lists: its result equals judging the full graph, listed edges' pods, HTTP
 * requests and DNS names included. Data we did not make: the bundled home-lab recording with the
 * example policies (would-drops) and a public GKE sample whose node addresses Hubble showed as
 * world (unjudged edges).
 */
const HOME_LAB = join(REPO_ROOT, 'recordings/home-lab.jsonl.gz');
const haveHomeLab = isFile(HOME_LAB);

const tmp = tempDir();
afterAll(() => tmp.remove());

async function sameAsFullRead(db: string, policies: string, afterCheck?: (conn: Db) => void): Promise<{ wouldDrop: number; unjudged: number }> {
  const set = buildPolicySet((await loadPolicies([policies])).policies);
  const conn = openDatabase(db, { readonly: true });
  try {
    const projected = checkFromDatabase(conn, { set });
    afterCheck?.(conn);
    const { edges, workloads } = queryEdges(conn);
    expect(projected).toEqual({ ...checkBaseline(edges, workloads, set), policyNotes: set.notes });
    // The listed edges carry their evidence (the full read), not the empty lists of the projection.
    for (const w of [...projected.wouldDrop, ...projected.unjudged]) expect(w.edge.srcPods.length + w.edge.dstPods.length).toBeGreaterThan(0);
    return { wouldDrop: projected.wouldDrop.length, unjudged: projected.unjudged.length };
  } finally {
    conn.close();
  }
}

describe('check reads the evidence it lists only', () => {
  const homeLab = tmp.file('home-lab.db');
  const gke = tmp.file('gke.db');
  beforeAll(async () => {
    if (haveHomeLab) expect((await runCli(['--db', homeLab, 'replay', HOME_LAB])).code).toBe(0);
    expect((await runCli(['--db', gke, 'replay', join(SAMPLES_DIR, 'hubble-otel__basic-sample-348-http-flows.json')])).code).toBe(0);
  }, 120_000);

  it.skipIf(!haveHomeLab)('would-drops of the home lab under the example policies', async () => {
    const r = await sameAsFullRead(homeLab, join(REPO_ROOT, 'examples/policies'));
    expect(r.wouldDrop).toBeGreaterThan(0);
  });

  it('unjudged edges (cluster endpoints seen as world) and would-drops of the GKE sample', async () => {
    const policy = tmp.file('deny-all.yaml');
    writeFileSync(policy, 'apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: default-deny}\nspec: {endpointSelector: {}, ingress: [{}], egress: [{}]}\n');
    const r = await sameAsFullRead(gke, policy);
    expect(r.unjudged).toBeGreaterThan(0);
    expect(r.wouldDrop).toBeGreaterThan(0);
  });

  /*
   * On a database whose graph is not stored resolved (as after `observe`), the listed edges are
   * read again from their namespaces' rows only: a read of the whole graph with every evidence
   * list, for a few edges, cost a cold `check` at 3,000 workloads half again its time and 180 MB.
   * Such a whole read would also have stored every list's snapshot part; the judging read stores
   * its own lists only.
   */
  it.skipIf(!haveHomeLab)('a cold check reads its listed edges again from their namespaces only, with the same result', async () => {
    const cold = tmp.file('home-lab-cold.db');
    copyFileSync(homeLab, cold);
    const raw = new Database(cold);
    raw.exec('DELETE FROM graph_snapshot');
    raw.close();
    const r = await sameAsFullRead(cold, join(REPO_ROOT, 'examples/policies'), (conn) => {
      expect(readSnapshotParts(conn, ['core', 'srcReserved', 'dstReserved'])).toBeDefined();
      expect(readSnapshotParts(conn, ['srcPods'])).toBeUndefined();
    });
    expect(r.wouldDrop).toBeGreaterThan(0);
  });

  /*
   * The CLI makes the requests it judges while the policy files are still being read, before it
   * has the policies: the namespaces and cluster asked for must reach that plan, not only the judging.
   */
  it.skipIf(!haveHomeLab)('the CLI judges the namespace and cluster asked for, as the library does', async () => {
    const policies = join(REPO_ROOT, 'examples/policies');
    const set = buildPolicySet((await loadPolicies([policies])).policies);
    const conn = openDatabase(homeLab, { readonly: true });
    try {
      const all = checkFromDatabase(conn, { set });
      const namespace = all.coverage[0]?.namespace as string;
      for (const scope of [{ namespaces: [namespace] }, { evaluate: { clusterName: 'elsewhere' } }]) {
        const flags = scope.namespaces ? ['--namespace', namespace] : ['--cluster-name', 'elsewhere'];
        const r = await runCli(['--db', homeLab, 'check', '--policies', policies, ...flags, '-o', 'json']);
        const library = checkFromDatabase(conn, { set, ...scope });
        expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(checkJson(library))));
        // The scope changes what a user sees: fewer edges checked, or pods of another cluster.
        expect(JSON.parse(r.stdout)).not.toEqual(JSON.parse(JSON.stringify(checkJson(all))));
      }
    } finally {
      conn.close();
    }
  });
});
