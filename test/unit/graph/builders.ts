import type { Endpoint, Flow } from '../../../src/flow/index.js';

export const T0 = Date.parse('2026-11-20T10:00:00Z');
export const HOUR = 3_600_000;

/** A pod endpoint; `owner` fills workloads[] like Cilium >= 1.11 does. */
export function pod(namespace: string, podName: string, labels: Record<string, string>, owner?: { kind: string; name: string }, identity?: number): Endpoint {
  return {
    namespace,
    podName,
    ...(identity !== undefined ? { identity } : {}),
    labels: [...Object.entries(labels).map(([k, v]) => `k8s:${k}=${v}`), `k8s:io.kubernetes.pod.namespace=${namespace}`].sort(),
    workloads: owner ? [owner] : [],
  };
}

export function reserved(identity: number, ...labels: string[]): Endpoint {
  return { identity, labels, workloads: [] };
}

export const world: Endpoint = reserved(2, 'reserved:world');

export interface FlowSpec {
  src: Endpoint;
  dst: Endpoint;
  srcIp?: string;
  dstIp?: string;
  proto?: 'TCP' | 'UDP';
  sport?: number;
  dport?: number;
  flags?: { SYN?: boolean; ACK?: boolean; FIN?: boolean; PSH?: boolean };
  t?: number;
  verdict?: Flow['verdict'];
  dir?: Flow['trafficDirection'];
  isReply?: boolean;
  eventType?: number;
  traceReason?: string;
  dropReason?: string;
  destinationNames?: readonly string[];
  l7?: Flow['l7'];
  type?: Flow['type'];
}

/** A normalised flow, as decode produces it, with request-direction defaults. */
export function flow(s: FlowSpec): Flow {
  const t = s.t ?? T0;
  const proto = s.proto ?? 'TCP';
  const l4: Flow['l4'] =
    proto === 'TCP'
      ? { protocol: 'TCP', sourcePort: s.sport ?? 40000, destinationPort: s.dport ?? 5432, ...(s.flags ? { flags: s.flags } : {}) }
      : { protocol: 'UDP', sourcePort: s.sport ?? 40000, destinationPort: s.dport ?? 53 };
  return {
    time: new Date(t).toISOString(),
    timeMs: t,
    verdict: s.verdict ?? 'FORWARDED',
    ...(s.dropReason ? { dropReason: s.dropReason } : {}),
    ip: { source: s.srcIp ?? '10.0.1.5', destination: s.dstIp ?? '10.0.2.7', ipVersion: 'IPv4' },
    l4,
    source: s.src,
    destination: s.dst,
    type: s.type ?? (s.l7 ? 'L7' : 'L3_L4'),
    sourceNames: [],
    destinationNames: s.destinationNames ?? [],
    ...(s.l7 ? { l7: s.l7 } : {}),
    ...(s.isReply === undefined && s.verdict === 'DROPPED' ? {} : { isReply: s.isReply ?? false }),
    eventType: { type: s.eventType ?? 4, subType: 0 },
    trafficDirection: s.dir ?? 'EGRESS',
    ...(s.traceReason ? { traceReason: s.traceReason } : {}),
    egressAllowedBy: [],
    ingressAllowedBy: [],
    egressDeniedBy: [],
    ingressDeniedBy: [],
  };
}

/** A DNS response from `server` to `client`: `query` answered with `ips`. */
export function dnsResponse(client: Endpoint, server: Endpoint, query: string, ips: string[], t = T0): Flow {
  return flow({
    src: server,
    dst: client,
    proto: 'UDP',
    sport: 53,
    dport: 45000,
    t,
    isReply: true,
    eventType: 129,
    l7: { type: 'RESPONSE', dns: { query: `${query}.`, ips, cnames: [], qtypes: ['A'], rrtypes: ['A'] } },
  });
}

export const immich = pod('self-hosted', 'immich-server-7d9c9b7c4d-x2x9z', { 'app.kubernetes.io/name': 'immich', 'app.kubernetes.io/component': 'server', 'pod-template-hash': '7d9c9b7c4d' }, { kind: 'Deployment', name: 'immich-server' }, 4242);
export const postgres1 = pod('dbms', 'postgres-1', { 'cnpg.io/cluster': 'postgres', 'cnpg.io/instanceName': 'postgres-1', 'cnpg.io/instanceRole': 'primary', role: 'primary', 'cnpg.io/podRole': 'instance' }, undefined, 777);
export const postgres2 = pod('dbms', 'postgres-2', { 'cnpg.io/cluster': 'postgres', 'cnpg.io/instanceName': 'postgres-2', 'cnpg.io/instanceRole': 'replica', role: 'replica', 'cnpg.io/podRole': 'instance' }, undefined, 778);
export const coredns = pod('kube-system', 'coredns-789c5fbdb4-vb8r9', { 'k8s-app': 'kube-dns' }, { kind: 'Deployment', name: 'coredns' }, 80806);

import {
  EMPTY_WORKLOAD_CONFIG,
  EdgeAggregator,
  type Edge,
  type GraphDelta,
  type WorkloadConfig,
  type WorkloadInfo,
  describePeer,
  indexAnswers,
  indexClusterIps,
  resolveEdges,
  resolveEnd,
  resolveWorkloads,
} from '../../../src/graph/index.js';

/** The pure pipeline without SQLite: aggregate one batch, then resolve it. */
export function graphOf(flows: readonly Flow[], config: WorkloadConfig = EMPTY_WORKLOAD_CONFIG): { edges: Edge[]; workloads: readonly WorkloadInfo[]; delta: GraphDelta } {
  const agg = new EdgeAggregator();
  for (const f of flows) agg.add(f);
  const delta = agg.take();
  const records = [...delta.edges.values()];
  const workloads = resolveWorkloads([...delta.workloads.values()], config, [...(delta.namespaces?.values() ?? [])]);
  const answers = indexAnswers(delta.dnsAnswers, workloads);
  // The store's read path: cluster addresses judged over the whole graph.
  const cluster = indexClusterIps([...(delta.clusterIps?.values() ?? [])], records, (p) => resolveEnd(p, workloads));
  const edges = resolveEdges(
    records.map((record, id) => ({ id, record, hoursSeen: record.hours.length })),
    workloads,
    answers,
    (ids) => new Set(ids.flatMap((i) => records[i]?.hours ?? [])).size,
    cluster,
  );
  return { edges, workloads: workloads.workloads, delta };
}

/** `from -> to proto/port` lines, for compact assertions. */
export function lines(edges: readonly Edge[]): string[] {
  return edges.map((e) => `${describePeer(e.from)} -> ${describePeer(e.to)} ${e.protocol}/${e.port}`);
}
