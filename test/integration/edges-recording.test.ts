import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, tempDir } from '../helpers/paths.js';
import type { PeerJson } from '../helpers/peer-json.js';
import { readHomeLabTruth, type TruthEdge } from '../helpers/truth.js';

/**
 * The bundled home-lab recording against the generator's ground truth
 * (recordings/home-lab.truth.json, written by scripts/generate-recording.mjs).
 */
const RECORDING = join(REPO_ROOT, 'recordings/home-lab.jsonl.gz');
const truth = readHomeLabTruth();

interface EdgeJson {
  from: PeerJson;
  to: PeerJson;
  protocol: string;
  port: number;
  flows: number;
  connections: number;
  forwarded: number;
  dropped: number;
  dropReasons: Record<string, number>;
  firstSeen: string;
  lastSeen: string;
  dstPods: string[];
  sides: Record<'egress' | 'ingress' | 'unknown', { connections: number; verdicts: number; flows: number }>;
}

function peerKey(p: PeerJson): string {
  switch (p.kind) {
    case 'workload':
      return `${p.namespace}/${p.workloadKind}/${p.name}`;
    case 'entity':
      return `entity:${p.entity}`;
    case 'fqdn':
      return `fqdn:${p.fqdn}`;
    case 'cidr':
      return `cidr:${p.cidr}`;
    default:
      throw new Error(`unexpected peer kind ${p.kind}`);
  }
}
const key = (e: { from: PeerJson; to: PeerJson; protocol: string; port: number }): string => `${peerKey(e.from)} -> ${peerKey(e.to)} ${e.protocol}/${e.port}`;
/** What the truth states about an edge: its key and whether it was forwarded and dropped (and why). */
const truthView = (e: TruthEdge) => ({ key: key(e), forwarded: e.forwarded, dropped: e.dropped, dropReasons: Object.keys(e.dropReasons ?? {}).sort() });
const ourView = (e: EdgeJson) => ({ key: key(e), forwarded: e.forwarded > 0, dropped: e.dropped > 0, dropReasons: Object.keys(e.dropReasons).sort() });
const byKey = <T extends { key: string }>(xs: T[]): T[] => [...xs].sort((a, b) => (a.key < b.key ? -1 : 1));
const inNs = (ns: string) => (e: { from: PeerJson; to: PeerJson }) => e.from.namespace === ns || e.to.namespace === ns;

describe('edges on the bundled home-lab recording', () => {
  const tmp = tempDir();
  const db = tmp.file('home-lab.db');
  beforeAll(async () => {
    const r = await runCli(['--db', db, 'replay', RECORDING]);
    expect(r.code).toBe(0);
  });
  afterAll(() => tmp.remove());

  const edges = async (...args: string[]): Promise<EdgeJson[]> => {
    const r = await runCli(['--db', db, 'edges', '-o', 'json', ...args]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as EdgeJson[];
  };

  it('edges -n dbms lists exactly the topology\'s edges into and out of dbms', async () => {
    const ours = await edges('-n', 'dbms');
    const expected = truth.edges.filter(inNs('dbms'));
    expect(expected.length).toBeGreaterThan(20);
    expect(byKey(ours.map(ourView))).toEqual(byKey(expected.map(truthView)));
  });

  it('the whole graph matches the truth, edge for edge', async () => {
    const ours = await edges();
    expect(byKey(ours.map(ourView))).toEqual(byKey(truth.edges.map(truthView)));
  });

  it('no reply edge, no duplicate from double observation, no pod-name workload', async () => {
    const ours = await edges();
    const keys = ours.map(key);
    expect(new Set(keys).size).toBe(keys.length);
    // Replies would show up as edges to ephemeral ports; the only ones are torrent peers in the world.
    const ephemeral = ours.filter((e) => e.port >= 32768);
    expect(ephemeral.filter((e) => e.to.kind === 'workload' || e.from.kind !== 'workload').map(key)).toEqual([]);
    expect(ephemeral.every((e) => e.from.name === 'qbittorrent' && e.to.kind === 'cidr')).toBe(true);
    const podNames = new Set(ours.flatMap((e) => e.dstPods));
    expect(podNames.size).toBeGreaterThan(10);
    const workloadNames = ours.flatMap((e) => [e.from, e.to]).filter((p) => p.kind === 'workload').map((p) => p.name as string);
    expect(workloadNames.filter((n) => podNames.has(n))).toEqual([]);
    expect(workloadNames.filter((n) => /-[bcdfghjklmnpqrstvwxz2456789]{5}$|-\d+$/.test(n))).toEqual([]);
  });

  it('a connection seen on both nodes counts once', async () => {
    const [e] = await edges('--from', 'self-hosted/immich-server', '--to', 'dbms/Cluster/postgres');
    // Each connection has a NEW trace at the client's node and a TO_ENDPOINT SYN at the server's.
    const { egress, ingress } = e!.sides;
    expect(egress.connections).toBeGreaterThan(10);
    expect(ingress.connections).toBeGreaterThan(10);
    expect(e!.connections).toBe(Math.max(egress.connections, egress.verdicts, ingress.connections, ingress.verdicts));
    expect(e!.connections).toBeLessThan(egress.connections + ingress.connections);
  });

  it('workloads: every truth workload, with a selector that picks its pods and no other workload\'s', async () => {
    const r = await runCli(['--db', db, 'edges', '--workloads', '-o', 'json']);
    const ours = JSON.parse(r.stdout) as { namespace: string; kind: string; name: string; selector: Record<string, string>; unique: boolean }[];
    const id = (w: { namespace: string; kind: string; name: string }) => `${w.namespace}/${w.kind}/${w.name}`;
    expect(ours.map(id).sort()).toEqual(truth.workloads.map(id).sort());
    // The home lab's truth gives every workload its stable labels as `selector`.
    const matches = (sel: Record<string, string>, labels: Record<string, string> | undefined) => labels !== undefined && Object.entries(sel).every(([k, v]) => labels[k] === v);
    for (const w of ours) {
      const t = truth.workloads.find((x) => id(x) === id(w))!;
      expect(Object.keys(w.selector).length, id(w)).toBeGreaterThan(0);
      expect(matches(w.selector, t.selector), `${id(w)} selector ${JSON.stringify(w.selector)} ⊆ stable labels`).toBe(true);
      const others = truth.workloads.filter((x) => x.namespace === w.namespace && id(x) !== id(w) && matches(w.selector, x.selector));
      expect(others.map(id), id(w)).toEqual([]);
      expect(w.unique).toBe(true);
    }
    expect(ours.find((w) => w.name === 'postgres')).toMatchObject({ kind: 'Cluster', selector: { 'cnpg.io/cluster': 'postgres' } });
  });

  it('batch boundaries do not change the edges (tiny batches vs one big one)', async () => {
    const small = tmp.file('small-batches.db');
    expect((await runCli(['--db', small, 'replay', '--batch-size', '997', RECORDING])).code).toBe(0);
    const a = await runCli(['--db', small, 'edges', '-o', 'json']);
    const b = await runCli(['--db', db, 'edges', '-o', 'json']);
    expect(a.stdout).toBe(b.stdout);
  });

  it('status shows baseline convergence per namespace; --new-since lists only newer edges', async () => {
    const s = await runCli(['--db', db, 'status']);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/Baseline convergence/);
    expect(s.stdout).toMatch(/\n\s+dbms\s+\d+\s+2026-11-1\dT/);
    const json = JSON.parse((await runCli(['--db', db, 'status', '-o', 'json'])).stdout) as { graph: { convergence: { namespace: string; edges: number; lastNewEdgeMs: number }[] } };
    const dbms = json.graph.convergence.find((c) => c.namespace === 'dbms')!;
    expect(dbms.edges).toBe(truth.edges.filter(inNs('dbms')).length);
    const all = await edges('-n', 'dbms');
    expect(Math.max(...all.map((e) => Date.parse(e.firstSeen)))).toBe(dbms.lastNewEdgeMs);
    const since = new Date(dbms.lastNewEdgeMs).toISOString();
    const fresh = await edges('-n', 'dbms', '--new-since', since);
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.every((e) => Date.parse(e.firstSeen) >= dbms.lastNewEdgeMs)).toBe(true);
    expect(fresh.length).toBeLessThan(all.length);
  });

  it('a relative --new-since is judged against the newest flow, and old data says so', async () => {
    const status = JSON.parse((await runCli(['--db', db, 'status', '-o', 'json'])).stdout) as { sources: { lastFlowMs: number }[] };
    const newest = Math.max(...status.sources.map((s) => s.lastFlowMs));
    const relative = await runCli(['--db', db, 'edges', '-A', '--new-since', '24h', '-o', 'json']);
    const absolute = await runCli(['--db', db, 'edges', '-A', '--new-since', new Date(newest - 24 * 3_600_000).toISOString(), '-o', 'json']);
    // The recording is weeks old: against the wall clock the last 24 hours would hold no edge.
    expect((JSON.parse(relative.stdout) as unknown[]).length).toBeGreaterThan(0);
    expect(relative.stdout).toBe(absolute.stdout);
    expect((await runCli(['--db', db, 'status'])).stdout).toMatch(/\nNewest flow \d+d\S* ago: QUIET FOR and --new-since are judged against it, not the clock\n/);
    expect(relative.stderr).toMatch(/^Note: newest flow \S+ ago \(2026-11-\d\dT[^)]*\); --new-since and QUIET FOR are judged against it$/m);
  });
});
