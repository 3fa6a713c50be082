import { type Endpoint, RESERVED_IDENTITIES } from '../flow/index.js';
import { ENTITIES, type EntityName, type RawPeer, reservedSetText } from './model.js';
import { podWorkload } from './workload-rules.js';

/** Identities from 2^24 up are local-scope CIDR/FQDN identities: world peers (hubble-api.md §2.3). */
const LOCAL_SCOPE_MIN = 1 << 24;

/** A reserved identity's name as a policy entity: `toEntities: world` covers world-ipv4/-ipv6 too. */
function entityOf(name: string): EntityName | undefined {
  const entity = name === 'world-ipv4' || name === 'world-ipv6' ? 'world' : name;
  return ENTITIES.find((e) => e === entity);
}

/** Reserved identities (flow's table of numeric identities) by number and by `reserved:` label. */
const RESERVED_BY_ID = new Map<number, EntityName>();
const RESERVED_BY_LABEL = new Map<string, EntityName>();
for (const [id, name] of Object.entries(RESERVED_IDENTITIES)) {
  const entity = entityOf(name);
  if (entity === undefined) continue;
  RESERVED_BY_ID.set(Number(id), entity);
  RESERVED_BY_LABEL.set(`reserved:${name}`, entity);
}

/** The reserved entity an endpoint's labels name; kube-apiserver wins over world and host. */
function reservedFromLabels(labels: readonly string[]): EntityName | undefined {
  let found: EntityName | undefined;
  for (const l of labels) {
    if (!l.startsWith('reserved:')) continue;
    const e = RESERVED_BY_LABEL.get(l);
    if (e === 'kube-apiserver') return e;
    // A host or node label is more specific than world; keep the first non-world one.
    if (e !== undefined && (found === undefined || found === 'world')) found = e;
  }
  return found;
}

/**
 * The reserved labels of a non-pod endpoint's identity as one `+`-joined text
 * (`kube-apiserver+remote-node`); undefined for pods. Without labels (field masks) the number
 * says it: identity 7 is kube-apiserver + remote-node (policy-semantics.md §2.3), local-scope
 * CIDR/FQDN identities carry world.
 */
export function reservedLabelsText(ep: Endpoint): string | undefined {
  const labels = ep.labels;
  // Fast path: one reserved label, the common shape (`reserved:host`, `reserved:world`).
  if (labels.length === 1 && labels[0]?.startsWith('reserved:')) return labels[0].slice(9);
  const names: string[] = [];
  for (const l of labels) if (l.startsWith('reserved:')) names.push(l.slice(9));
  if (names.length > 0) return reservedSetText(names);
  const id = ep.identity;
  if (id === 7) return 'kube-apiserver+remote-node';
  if (id !== undefined && id >= LOCAL_SCOPE_MIN) return 'world';
  const name = id === undefined ? undefined : RESERVED_IDENTITIES[id];
  return name;
}

/**
 * Classifies one end of a flow as ingest keys it.
 * - kube-apiserver (identity 7 or label `reserved:kube-apiserver`, also with `reserved:world`) is an
 *   entity, never a CIDR: an ipBlock to API server IPs never matches on Cilium (peers.md).
 * - other reserved identities become their entity; world, CIDR identities (>= 2^24) and
 *   `reserved:world` become a world IP when the address is known, else entity world, unless the
 *   flow names the pod behind the address (then it is that pod's workload);
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
    entity = RESERVED_BY_ID.get(id) ?? (id >= LOCAL_SCOPE_MIN ? byLabel ?? 'world' : undefined);
  }
  entity ??= byLabel;
  if (entity === 'world') {
    // Hubble names a pod behind a world identity when the flow was seen before the IP cache knew
    // the pod (startup, another node's view): a cluster endpoint, never a CIDR peer (CIDR rules never
    // match pods), so it is classified by its pod like any other.
    if (ep.podName && ep.namespace) return undefined;
    return ip ? { kind: 'world-ip', ip } : { kind: 'entity', entity };
  }
  if (entity !== undefined) return { kind: 'entity', entity };
  return undefined;
}
