import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEvent, type Flow, type HubbleEvent } from '../../src/flow/index.js';
import { REPO_ROOT, tempDir, type TempDir } from '../helpers/paths.js';
import type { PeerJson as TruthPeer } from '../helpers/peer-json.js';

const GENERATOR = join(REPO_ROOT, 'scripts/generate-recording.mjs');
const TOPOLOGY = join(REPO_ROOT, 'recordings/home-lab.topology.yaml');
const FLOWS = 6000;

interface Truth {
  rollout: string | null;
  edges: { from: TruthPeer; to: TruthPeer; protocol: string; port: number; forwarded: boolean; dropped: boolean }[];
  workloads: { namespace: string; kind: string; name: string; selector: Record<string, string> }[];
}

function generate(dir: TempDir, name: string, extra: string[] = []): { lines: string; truth: string } {
  const out = dir.file(`${name}.jsonl`);
  const truth = dir.file(`${name}.truth.json`);
  const r = spawnSync(
    process.execPath,
    [GENERATOR, '--topology', TOPOLOGY, '--flows', String(FLOWS), '--out', out, '--truth', truth, '--seed', 'unit', ...extra],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { lines: readFileSync(out, 'utf8'), truth: readFileSync(truth, 'utf8') };
}

describe('scripts/generate-recording.mjs', () => {
  let dir: TempDir;
  let first: { lines: string; truth: string };
  let events: HubbleEvent[];
  let flows: Flow[];
  let truth: Truth;

  beforeAll(() => {
    dir = tempDir('hubble-advisor-gen-');
    first = generate(dir, 'a');
    const lines = first.lines.split('\n').filter((l) => l !== '');
    events = lines.map((l, i) => {
      const r = decodeEvent(JSON.parse(l));
      if (!r.ok) throw new Error(`line ${i + 1}: ${r.error.message}`);
      return r.event;
    });
    flows = events.flatMap((e) => (e.kind === 'flow' ? [e.flow] : []));
    truth = JSON.parse(first.truth) as Truth;
  });
  afterAll(() => dir.remove());

  it('is deterministic for a seed and differs for another', () => {
    const again = generate(dir, 'b');
    expect(again.lines).toBe(first.lines);
    expect(again.truth).toBe(first.truth);
    const other = generate(dir, 'c', ['--seed', 'other']);
    expect(other.lines).not.toBe(first.lines);
  });

  it('writes exactly --flows flow lines, every line decodes, plus HUBBLE_RING_BUFFER lost events', () => {
    expect(flows).toHaveLength(FLOWS);
    const lost = events.flatMap((e) => (e.kind === 'lost' ? [e.lost] : []));
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect(lost.every((l) => l.source === 'HUBBLE_RING_BUFFER' && l.numEventsLost > 0)).toBe(true);
    expect(flows.every((f) => f.uuid !== undefined)).toBe(true);
    expect(new Set(flows.map((f) => f.uuid)).size).toBe(flows.length);
  });

  it('is in time order except for the relay merge jitter (< 1 s) and spans most of --hours', () => {
    let latest = 0;
    let worst = 0;
    for (const f of flows) {
      worst = Math.max(worst, latest - f.timeMs);
      latest = Math.max(latest, f.timeMs);
    }
    expect(worst).toBeLessThan(1000);
    const span = (latest - (flows[0] as Flow).timeMs) / 3.6e6;
    expect(span).toBeGreaterThan(36);
    expect(span).toBeLessThan(52);
  });

  it('has DNS L7 request/response with answers, and world egress named by the same pod\'s answers', () => {
    const answers = flows.filter((f) => f.eventType?.type === 129 && f.l7?.type === 'RESPONSE' && (f.l7.dns?.ips.length ?? 0) > 0);
    expect(answers.length).toBeGreaterThan(0);
    expect(flows.some((f) => f.l7?.type === 'REQUEST' && f.l7.dns?.query.endsWith('.') && f.l7.dns.observationSource === 'proxy')).toBe(true);
    const learned = new Set(answers.flatMap((f) => (f.l7?.dns?.ips ?? []).map((ip) => `${f.destination.podName}|${ip}|${f.l7?.dns?.query}`)));
    const named = flows.filter((f) => f.destinationNames.length > 0 && f.destination.labels.includes('reserved:world'));
    expect(named.length).toBeGreaterThan(0);
    for (const f of named) expect(learned.has(`${f.source.podName}|${f.ip?.destination}|${f.destinationNames[0]}.`)).toBe(true);
    // Some world flows carry the name, some do not; some have CIDR identities, some plain world.
    const world = flows.filter((f) => f.destination.labels.includes('reserved:world') && !f.isReply);
    expect(world.some((f) => f.destinationNames.length === 0)).toBe(true);
    expect(world.some((f) => (f.destination.identity ?? 0) >= 2 ** 24 && f.destination.labels.some((l) => l.startsWith('cidr:')))).toBe(true);
    expect(world.some((f) => f.destination.identity === 2)).toBe(true);
  });

  it('has kube-apiserver, host probes, remote-node and health peers', () => {
    expect(flows.some((f) => f.destination.identity === 7 && f.destination.labels.includes('reserved:kube-apiserver'))).toBe(true);
    expect(flows.some((f) => f.destination.labels.includes('reserved:kube-apiserver') && f.destination.labels.includes('reserved:world'))).toBe(true);
    expect(flows.some((f) => f.source.identity === 1 && f.trafficDirection === 'INGRESS' && f.destination.namespace !== undefined)).toBe(true);
    expect(flows.some((f) => f.destination.identity === 6 && f.destination.labels.includes('reserved:remote-node'))).toBe(true);
    expect(flows.some((f) => f.source.identity === 6)).toBe(true);
  });

  it('has trace and policy-verdict events, replies, and one connection seen on both nodes', () => {
    expect(flows.some((f) => f.eventType?.type === 4 && f.traceObservationPoint === 'TO_ENDPOINT')).toBe(true);
    expect(flows.some((f) => f.eventType?.type === 4 && f.traceObservationPoint === 'FROM_ENDPOINT' && f.traceReason === 'NEW' && f.isReply === false)).toBe(true);
    expect(flows.some((f) => f.eventType?.type === 5 && f.verdict === 'FORWARDED' && f.isReply === false)).toBe(true);
    expect(flows.some((f) => f.isReply === true && (f.traceReason === 'REPLY' || f.traceReason === 'ESTABLISHED'))).toBe(true);
    expect(flows.some((f) => f.l4?.protocol === 'TCP' && f.l4.flags?.SYN === true && f.l4.flags.ACK === true && f.isReply === true)).toBe(true);
    const nodesByTuple = new Map<string, Set<string>>();
    for (const f of flows) {
      if (f.l4?.protocol !== 'TCP' || f.traceReason !== 'NEW') continue;
      const key = `${f.ip?.source}:${f.l4.sourcePort}>${f.ip?.destination}:${f.l4.destinationPort}`;
      const s = nodesByTuple.get(key) ?? new Set();
      s.add(f.nodeName ?? '');
      nodesByTuple.set(key, s);
    }
    expect([...nodesByTuple.values()].some((s) => s.size === 2)).toBe(true);
    // Most endpoints name their workload; some (one node's events) carry labels only.
    const pods = flows.filter((f) => f.source.podName !== undefined);
    expect(pods.some((f) => f.source.workloads.length > 0)).toBe(true);
    expect(pods.some((f) => f.source.workloads.length === 0)).toBe(true);
  });

  it('has policy drops (133 and 181 with denied_by) after the rollout and a non-policy drop', () => {
    const rollout = Date.parse(truth.rollout ?? '');
    const drops = flows.filter((f) => f.verdict === 'DROPPED');
    expect(drops.every((f) => f.isReply === undefined)).toBe(true);
    expect(drops.filter((f) => f.dropReason?.startsWith('POLICY')).every((f) => f.timeMs >= rollout)).toBe(true);
    expect(drops.some((f) => f.eventType?.type === 1 && f.eventType.subType === 133 && f.dropReason === 'POLICY_DENIED')).toBe(true);
    expect(drops.some((f) => f.eventType?.type === 5 && f.dropReason === 'POLICY_DENIED' && f.ingressDeniedBy.length + f.egressDeniedBy.length === 0)).toBe(true);
    expect(drops.some((f) => f.eventType?.type === 1 && f.eventType.subType === 181 && f.dropReason === 'POLICY_DENY')).toBe(true);
    const denied = drops.find((f) => f.eventType?.type === 5 && f.dropReason === 'POLICY_DENY');
    expect(denied?.ingressDeniedBy[0]).toMatchObject({ name: 'deny-from-downloads', namespace: 'dbms', kind: 'CiliumNetworkPolicy' });
    expect(denied?.ingressDeniedBy[0]?.revision).toMatch(/^\d+$/);
    expect(drops.some((f) => f.dropReason !== undefined && !f.dropReason.startsWith('POLICY'))).toBe(true);
    // Retransmitted SYNs: the same 5-tuple dropped more than once.
    const tuples = drops.filter((f) => f.eventType?.type === 1).map((f) => `${f.ip?.source}:${f.l4 && 'sourcePort' in f.l4 ? f.l4.sourcePort : ''}`);
    expect(new Set(tuples).size).toBeLessThan(tuples.length);
  });

  it('has HTTP L7 flows carrying secrets for redaction to remove', () => {
    const http = flows.filter((f) => f.l7?.http !== undefined);
    expect(http.some((f) => f.l7?.http?.headers.some((h) => h.key === 'Authorization' && h.value.startsWith('Bearer ')))).toBe(true);
    expect(http.some((f) => f.l7?.http?.headers.some((h) => h.key === 'Cookie'))).toBe(true);
    expect(http.some((f) => /[?&]token=/.test(f.l7?.http?.url ?? ''))).toBe(true);
    expect(http.some((f) => f.l7?.type === 'RESPONSE' && f.l7.latencyNs !== undefined && f.isReply === true)).toBe(true);
  });

  it('writes a truth file whose edges and workloads match the recording', () => {
    const key = (p: TruthPeer) => JSON.stringify(p);
    const has = (from: TruthPeer, to: TruthPeer, port: number) => truth.edges.find((e) => key(e.from) === key(from) && key(e.to) === key(to) && e.port === port);
    const postgres = { kind: 'workload', namespace: 'dbms', workloadKind: 'Cluster', name: 'postgres' };
    expect(has({ kind: 'workload', namespace: 'cnpg-system', workloadKind: 'Deployment', name: 'cnpg-cloudnative-pg' }, postgres, 8000)).toMatchObject({ forwarded: true, dropped: true });
    expect(has({ kind: 'workload', namespace: 'downloads', workloadKind: 'Deployment', name: 'sonarr' }, postgres, 5432)).toMatchObject({ dropped: true });
    expect(has(postgres, { kind: 'entity', entity: 'kube-apiserver' }, 6443)).toMatchObject({ dropped: true });
    expect(has({ kind: 'workload', namespace: 'self-hosted', workloadKind: 'Deployment', name: 'immich-server' }, postgres, 5432)).toMatchObject({ forwarded: true, dropped: false });
    expect(truth.edges.some((e) => e.to.kind === 'fqdn')).toBe(true);
    expect(truth.edges.some((e) => e.from.kind === 'entity' && e.from.entity === 'host')).toBe(true);
    // No reply edges: nothing towards an ephemeral port (torrent peers listen on high ports, hence cidr aside).
    expect(truth.edges.filter((e) => e.to.kind !== 'cidr').every((e) => e.port < 32768)).toBe(true);
    const pg = truth.workloads.find((w) => w.name === 'postgres');
    expect(pg).toEqual({ namespace: 'dbms', kind: 'Cluster', name: 'postgres', selector: { 'cnpg.io/cluster': 'postgres', 'cnpg.io/podRole': 'instance' } });
    for (const w of truth.workloads) {
      for (const k of Object.keys(w.selector)) {
        expect(['pod-template-hash', 'controller-revision-hash', 'statefulset.kubernetes.io/pod-name', 'cnpg.io/instanceName', 'role']).not.toContain(k);
      }
    }
  });

  it('--no-drops produces no DROPPED flows and no rollout', () => {
    const r = generate(dir, 'd', ['--no-drops']);
    expect(r.lines).not.toContain('"verdict":"DROPPED"');
    expect((JSON.parse(r.truth) as Truth).rollout).toBeNull();
  });
});
