import type { Endpoint } from '../flow/index.js';
import type { EntityName, RawPeer } from './model.js';
import { podWorkload } from './workload-rules.js';

/** Identities from 2^24 up are local-scope CIDR/FQDN identities: world peers (hubble-api.md §2.3). */
const LOCAL_SCOPE_MIN = 1 << 24;

/** Reserved numeric identities (cilium pkg/identity/numericidentity.go) as policy entities. */
const RESERVED_BY_ID: Readonly<Record<number, EntityName>> = {
  1: 'host',
  2: 'world',
  3: 'unmanaged',
  4: 'health',
  5: 'init',
  6: 'remote-node',
  7: 'kube-apiserver',
  8: 'ingress',
  9: 'world',
  10: 'world',
  11: 'encrypted-overlay',
};

const RESERVED_BY_LABEL: Readonly<Record<string, EntityName>> = {
  'reserved:host': 'host',
  'reserved:world': 'world',
  'reserved:world-ipv4': 'world',
  'reserved:world-ipv6': 'world',
  'reserved:unmanaged': 'unmanaged',
  'reserved:health': 'health',
  'reserved:init': 'init',
  'reserved:remote-node': 'remote-node',
  'reserved:kube-apiserver': 'kube-apiserver',
  'reserved:ingress': 'ingress',
  'reserved:encrypted-overlay': 'encrypted-overlay',
};

/** The reserved entity an endpoint's labels name; kube-apiserver wins over world and host. */
function reservedFromLabels(labels: readonly string[]): EntityName | undefined {
  let found: EntityName | undefined;
  for (const l of labels) {
    if (!l.startsWith('reserved:')) continue;
    const e = RESERVED_BY_LABEL[l];
    if (e === 'kube-apiserver') return e;
    // A host or node label is more specific than world; keep the first non-world one.
    if (e !== undefined && (found === undefined || found === 'world')) found = e;
  }
  return found;
}

/**
 * Classifies one end of a flow as ingest keys it.
 * - kube-apiserver (identity 7 or label `reserved:kube-apiserver`, also with `reserved:world`) is an
 *   entity, never a CIDR: an ipBlock to API server IPs never matches on Cilium (peers.md).
 * - other reserved identities become their entity; world, CIDR identities (>= 2^24) and
 *   `reserved:world` become a world IP when the address is known, else entity world;
 * - pods become workloads (see workload-rules.ts); an endpoint with nothing to go on is undefined.
 *
 * `ip` is the endpoint's address from the flow's IP header.
 */
export function classifyEndpoint(ep: Endpoint, ip: string | undefined): RawPeer | undefined {
  const reserved = reservedPeer(ep, ip);
  if (reserved !== undefined) return reserved;
  const w = podWorkload(ep);
  if (w === undefined) return undefined;
  return { kind: 'workload', namespace: w.namespace, workloadKind: w.kind, name: w.name };
}

/** The entity or world-IP peer of a reserved or CIDR identity; undefined for pods. */
export function reservedPeer(ep: Endpoint, ip: string | undefined): RawPeer | undefined {
  const id = ep.identity;
  const byLabel = ep.labels.length > 0 ? reservedFromLabels(ep.labels) : undefined;
  let entity: EntityName | undefined = byLabel === 'kube-apiserver' || id === 7 ? 'kube-apiserver' : undefined;
  if (entity === undefined && id !== undefined && id > 0) {
    entity = RESERVED_BY_ID[id] ?? (id >= LOCAL_SCOPE_MIN ? byLabel ?? 'world' : undefined);
  }
  entity ??= byLabel;
  if (entity === 'world') return ip ? { kind: 'world-ip', ip } : { kind: 'entity', entity };
  if (entity !== undefined) return { kind: 'entity', entity };
  return undefined;
}
