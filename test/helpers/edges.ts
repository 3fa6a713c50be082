import type { EntityName } from '../../src/graph/index.js';
import type { ObservedEdge, Peer, RecommendOptions, WorkloadInfo } from '../../src/recommend/index.js';
import { DEFAULT_OPTIONS } from '../../src/recommend/index.js';

export const T0 = Date.parse('2026-11-10T00:00:00Z');
export const T1 = Date.parse('2026-11-20T00:00:00Z');

export function wl(namespace: string, kind: string, name: string): Extract<Peer, { kind: 'workload' }> {
  return { kind: 'workload', namespace, workloadKind: kind, name };
}
export const entity = (e: EntityName): Peer => ({ kind: 'entity', entity: e });
export const fqdn = (f: string): Peer => ({ kind: 'fqdn', fqdn: f });
export const cidr = (c: string): Peer => ({ kind: 'cidr', cidr: c });

/** An observed edge with plausible counters; override what the test is about. */
export function edge(from: Peer, to: Peer, protocol: ObservedEdge['protocol'], port: number, extra: Partial<ObservedEdge> = {}): ObservedEdge {
  return {
    from,
    to,
    protocol,
    port,
    flows: 120,
    connections: 40,
    forwarded: 120,
    dropped: 0,
    audit: 0,
    firstSeenMs: T0,
    lastSeenMs: T1,
    hoursSeen: 200,
    dropReasons: {},
    dnsNames: [],
    httpRequests: [],
    ...extra,
  };
}

export function workload(namespace: string, kind: string, name: string, selector: Record<string, string>): WorkloadInfo {
  return { namespace, kind, name, selector };
}

export function options(extra: Partial<RecommendOptions> = {}): RecommendOptions {
  return { ...DEFAULT_OPTIONS, namespaces: 'all', ...extra };
}
