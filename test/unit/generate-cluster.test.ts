import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEvent, type Flow, type HubbleEvent } from '../../src/flow/index.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, tempDir, type TempDir } from '../helpers/paths.js';
import type { PeerJson as Peer } from '../helpers/peer-json.js';

/**
 * scripts/generate-cluster.mjs: the high-cardinality, churning cluster other tests and the bench
 * use. Its truth file is checked against what replay + edges make of the same lines.
 */
const GENERATOR = join(REPO_ROOT, 'scripts/generate-cluster.mjs');
const WORKLOADS = 300;
const FLOWS = 20_000;

interface TruthEdge {
  from: Peer;
  to: Peer;
  protocol: string;
  port: number;
  forwarded: boolean;
  dropped: boolean;
  dropReasons?: Record<string, number>;
}
interface Truth {
  flows: number;
  lostEvents: number;
  edges: TruthEdge[];
  workloads: { namespace: string; kind: string; name: string; labels: Record<string, string> }[];
}
interface EdgeJson {
  from: Peer;
  to: Peer;
  protocol: string;
  port: number;
  forwarded: number;
  dropped: number;
  dropReasons: Record<string, number>;
}

function generate(dir: TempDir, name: string, extra: string[] = [], flows = FLOWS): { file: string; lines: string; truth: string } {
  const file = dir.file(`${name}.jsonl`);
  const truth = dir.file(`${name}.truth.json`);
  const r = spawnSync(
    process.execPath,
    [GENERATOR, '--workloads', String(WORKLOADS), '--flows', String(flows), '--seed', 'unit', '--out', file, '--truth', truth, ...extra],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { file, lines: readFileSync(file, 'utf8'), truth: readFileSync(truth, 'utf8') };
}

const peerKey = (p: Peer): string =>
  p.kind === 'workload' ? `${p.namespace}/${p.workloadKind}/${p.name}` : p.kind === 'entity' ? `entity:${p.entity}` : p.kind === 'fqdn' ? `fqdn:${p.fqdn}` : `cidr:${p.cidr}`;
const edgeKey = (e: { from: Peer; to: Peer; protocol: string; port: number }): string => `${peerKey(e.from)} -> ${peerKey(e.to)} ${e.protocol}/${e.port}`;
const workloadOf = (f: Flow, side: 'source' | 'destination'): string => {
  const ep = f[side];
  return `${ep.namespace}/${ep.workloads[0]?.kind}/${ep.workloads[0]?.name}`;
};

describe('scripts/generate-cluster.mjs', () => {
  let dir: TempDir;
  let first: { file: string; lines: string; truth: string };
  let events: HubbleEvent[];
  let flows: Flow[];
  let truth: Truth;

  beforeAll(() => {
    dir = tempDir('hubble-advisor-cluster-');
    first = generate(dir, 'a');
    events = first.lines
      .split('\n')
      .filter((l) => l !== '')
      .map((l, i) => {
        const r = decodeEvent(JSON.parse(l));
        if (!r.ok) throw new Error(`line ${i + 1}: ${r.error.message}`);
        return r.event;
      });
    flows = events.flatMap((e) => (e.kind === 'flow' ? [e.flow] : []));
    truth = JSON.parse(first.truth) as Truth;
  });
  afterAll(() => dir.remove());

  it('is deterministic for a seed and differs for another', () => {
    const small = generate(dir, 'b', [], 3000);
    const again = generate(dir, 'c', [], 3000);
    expect(again.lines).toBe(small.lines);
    expect(again.truth).toBe(small.truth);
    expect(generate(dir, 'd', ['--seed', 'other'], 3000).lines).not.toBe(small.lines);
  });

  it('writes exactly --flows flows with unique uuids, plus HUBBLE_RING_BUFFER lost events', () => {
    expect(flows).toHaveLength(FLOWS);
    expect(truth.flows).toBe(FLOWS);
    expect(new Set(flows.map((f) => f.uuid)).size).toBe(FLOWS);
    const lost = events.flatMap((e) => (e.kind === 'lost' ? [e.lost] : []));
    expect(lost.length).toBe(truth.lostEvents);
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.every((l) => l.source === 'HUBBLE_RING_BUFFER' && l.numEventsLost > 0)).toBe(true);
  });

  it('spreads --days over the file, nearly in time order', () => {
    let latest = 0;
    let worst = 0;
    for (const f of flows) {
      worst = Math.max(worst, latest - f.timeMs);
      latest = Math.max(latest, f.timeMs);
    }
    expect(worst).toBeLessThan(4000);
    expect((latest - (flows[0] as Flow).timeMs) / 86.4e6).toBeGreaterThan(6.9);
  });

  it('has the shape of a big cluster: namespaces, labels, CNPG, Envoy gateways, unlabelled pods', () => {
    const pods = flows.flatMap((f) => [f.source, f.destination]).filter((ep) => ep.podName !== undefined);
    const namespaces = new Set(pods.map((ep) => ep.namespace));
    expect(namespaces.size).toBeGreaterThanOrEqual(WORKLOADS / 20);
    expect(pods.every((ep) => ep.labels.includes('k8s:io.cilium.k8s.policy.cluster=default'))).toBe(true);
    expect(pods.every((ep) => ep.labels.includes(`k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${ep.namespace}`))).toBe(true);
    expect(pods.some((ep) => ep.labels.some((l) => l.startsWith('k8s:app.kubernetes.io/name=')) && ep.labels.some((l) => l.startsWith('k8s:app.kubernetes.io/instance=')))).toBe(true);
    expect(pods.some((ep) => ep.labels.some((l) => l.startsWith('k8s:cnpg.io/cluster=')) && ep.workloads[0]?.kind === 'Cluster')).toBe(true);
    expect(pods.some((ep) => ep.labels.some((l) => l.startsWith('k8s:gateway.envoyproxy.io/owning-gateway-name=')))).toBe(true);
    const unlabelled = pods.filter((ep) => ep.labels.every((l) => !l.startsWith('k8s:app') && !l.startsWith('k8s:cnpg') && !l.startsWith('k8s:k8s-app')));
    expect(unlabelled.length).toBeGreaterThan(0);
    const workloads = new Set(truth.workloads.map((w) => `${w.namespace}/${w.kind}/${w.name}`));
    expect(workloads.size).toBeGreaterThan(WORKLOADS * 0.9);
    expect(new Set(truth.workloads.map((w) => w.kind))).toEqual(new Set(['Deployment', 'StatefulSet', 'Cluster', 'CronJob', 'DaemonSet']));
  });

  it('churns pods: a workload has many more pod names and IPs over the week than replicas', () => {
    const names = new Map<string, Set<string>>();
    const ips = new Map<string, Set<string>>();
    const addTo = (m: Map<string, Set<string>>, k: string, v: string) => {
      const s = m.get(k) ?? new Set<string>();
      s.add(v);
      m.set(k, s);
    };
    for (const f of flows) {
      const pod = f.source.podName;
      const ip = f.ip?.source;
      if (pod === undefined || ip === undefined) continue;
      addTo(names, workloadOf(f, 'source'), pod);
      addTo(ips, workloadOf(f, 'source'), ip);
    }
    const coredns = 'kube-system/Deployment/coredns';
    expect(names.get(coredns)?.size).toBeGreaterThan(4);
    const churned = [...names.entries()].filter(([, s]) => s.size >= 10);
    expect(churned.length).toBeGreaterThan(20);
    expect([...ips.values()].filter((s) => s.size >= 10).length).toBeGreaterThan(20);
    // StatefulSet pods keep their names across restarts, but not their addresses.
    const sts = [...names.entries()].filter(([w]) => w.includes('/StatefulSet/redis'));
    expect(sts.length).toBeGreaterThan(0);
    for (const [w, s] of sts) {
      expect([...s].every((n) => /^redis-0$/.test(n))).toBe(true);
      expect(ips.get(w)?.size).toBeGreaterThan(1);
    }
  });

  it('has nodes as host / remote-node peers, the API server as remote-node and as host, probes and DNS over UDP and TCP with answers', () => {
    const labelsOf = (f: Flow) => f.destination.labels.join(',');
    expect(flows.some((f) => f.destination.identity === 6 && labelsOf(f) === 'reserved:remote-node' && f.l4?.protocol === 'TCP' && f.l4.destinationPort === 9100)).toBe(true);
    expect(flows.some((f) => f.destination.identity === 1 && labelsOf(f) === 'reserved:host' && f.l4?.protocol === 'TCP' && f.l4.destinationPort === 9100)).toBe(true);
    expect(flows.some((f) => f.destination.identity === 7 && labelsOf(f) === 'reserved:kube-apiserver,reserved:remote-node')).toBe(true);
    expect(flows.some((f) => f.destination.identity === 1 && labelsOf(f) === 'reserved:host,reserved:kube-apiserver')).toBe(true);
    expect(flows.some((f) => f.source.identity === 1 && f.trafficDirection === 'INGRESS' && f.destination.podName !== undefined && f.isReply === false)).toBe(true);
    const dns = flows.filter((f) => f.destination.labels.includes('k8s:k8s-app=kube-dns') && f.l4 !== undefined && 'destinationPort' in f.l4 && f.l4.destinationPort === 53);
    expect(new Set(dns.map((f) => f.l4?.protocol))).toEqual(new Set(['UDP', 'TCP']));
    const answers = flows.filter((f) => f.l7?.type === 'RESPONSE' && (f.l7.dns?.ips.length ?? 0) > 0);
    expect(answers.length).toBeGreaterThan(0);
    expect(flows.some((f) => f.l7?.dns?.rcode === 3)).toBe(true);
  });

  it('has FQDN egress, an ingress controller with many world clients, ~1% drops', () => {
    expect(flows.some((f) => f.destinationNames.length > 0 && f.destination.labels.includes('reserved:world'))).toBe(true);
    const clients = new Set(flows.filter((f) => f.source.identity === 2 && f.destination.labels.includes('k8s:app.kubernetes.io/name=ingress-nginx')).map((f) => f.ip?.source));
    expect(clients.size).toBeGreaterThan(50);
    const drops = flows.filter((f) => f.verdict === 'DROPPED');
    expect(drops.length / flows.length).toBeGreaterThan(0.004);
    expect(drops.length / flows.length).toBeLessThan(0.03);
    expect(drops.every((f) => f.dropReason === 'POLICY_DENIED')).toBe(true);
    const byKind = new Map<string, number>();
    for (const e of truth.edges) byKind.set(`${e.from.kind}>${e.to.kind}`, (byKind.get(`${e.from.kind}>${e.to.kind}`) ?? 0) + 1);
    for (const k of ['workload>workload', 'entity>workload', 'workload>entity', 'workload>fqdn', 'workload>cidr', 'cidr>workload']) expect(byKind.get(k), k).toBeGreaterThan(0);
    expect(truth.edges.length).toBeGreaterThan(WORKLOADS * 5);
  });

  it('replay + edges -A find exactly the truth file\'s edges, drops and forwarded edges', async () => {
    const db = dir.file('cluster.db');
    const r = await runCli(['--db', db, 'replay', first.file]);
    expect(r.code).toBe(0);
    const e = await runCli(['--db', db, 'edges', '-A', '-o', 'json']);
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
    const ours = JSON.parse(e.stdout) as EdgeJson[];
    const sorted = (xs: string[]) => [...xs].sort();
    expect(sorted(ours.map(edgeKey))).toEqual(sorted(truth.edges.map(edgeKey)));
    const dropped = (xs: { dropped: number | boolean; from: Peer; to: Peer; protocol: string; port: number }[]) => sorted(xs.filter((x) => Number(x.dropped) > 0).map(edgeKey));
    expect(dropped(ours)).toEqual(dropped(truth.edges));
    expect(dropped(truth.edges).length).toBeGreaterThan(5);
    // Where nothing was dropped, every edge got through.
    const clean = ours.filter((x) => x.dropped === 0);
    expect(clean.every((x) => x.forwarded > 0)).toBe(true);
    for (const x of ours.filter((o) => o.dropped > 0)) expect(Object.keys(x.dropReasons)).toEqual(['POLICY_DENIED']);
  });
});
