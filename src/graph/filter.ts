import { ENTITIES, type Edge, type EntityName, type EvidenceField, type Peer } from './model.js';
import { cidrContains, isIpOrCidr } from '../net/cidr.js';

/**
 * Peer patterns for `edges --from/--to`:
 * - `NS/` any workload of a namespace; `NS/NAME` a workload by name; `NS/KIND/NAME` exactly;
 * - an entity name (`kube-apiserver`, `host`, `remote-node`, ...) or `entity:NAME`; plain `world`
 *   matches everything outside the cluster (entity world, FQDNs and CIDRs);
 * - `fqdn:NAME` with `*` wildcards (`fqdn:*.github.com`);
 * - `cidr:CIDR`, or a bare IP or CIDR: world peers whose IPs lie inside.
 */
export type PeerPattern =
  | { readonly kind: 'namespace'; readonly namespace: string }
  | { readonly kind: 'workload'; readonly namespace: string; readonly workloadKind?: string; readonly name: string }
  | { readonly kind: 'entity'; readonly entity: EntityName; readonly external: boolean }
  | { readonly kind: 'fqdn'; readonly pattern: string; readonly regex: RegExp }
  | { readonly kind: 'cidr'; readonly cidr: string };

export class PeerPatternError extends Error {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`invalid peer "${pattern}": ${reason}`);
    this.name = 'PeerPatternError';
  }
}

const ENTITY_SET: ReadonlySet<string> = new Set(ENTITIES);

export function parsePeerPattern(text: string): PeerPattern {
  const t = text.trim();
  if (t === '') throw new PeerPatternError(text, 'empty');
  if (t.startsWith('entity:') || ENTITY_SET.has(t)) {
    const name = t.startsWith('entity:') ? t.slice(7) : t;
    if (!ENTITY_SET.has(name)) throw new PeerPatternError(text, `unknown entity (one of ${ENTITIES.join(', ')})`);
    return { kind: 'entity', entity: name as EntityName, external: t === 'world' };
  }
  if (t.startsWith('fqdn:')) {
    const pattern = t.slice(5).toLowerCase().replace(/\.$/, '');
    if (pattern === '') throw new PeerPatternError(text, 'empty name');
    const regex = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*')}$`);
    return { kind: 'fqdn', pattern, regex };
  }
  if (t.startsWith('cidr:') || isIpOrCidr(t)) {
    const cidr = t.startsWith('cidr:') ? t.slice(5) : t;
    if (!isIpOrCidr(cidr)) throw new PeerPatternError(text, 'expected an IP address or CIDR');
    return { kind: 'cidr', cidr };
  }
  const parts = t.split('/');
  if (parts.length === 2 && parts[0] && parts[1] === '') return { kind: 'namespace', namespace: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { kind: 'workload', namespace: parts[0], name: parts[1] };
  if (parts.length === 3 && parts.every((p) => p !== '')) {
    return { kind: 'workload', namespace: parts[0] as string, workloadKind: parts[1] as string, name: parts[2] as string };
  }
  throw new PeerPatternError(text, 'expected NS/, NS/NAME, NS/KIND/NAME, an entity, fqdn:NAME or cidr:CIDR');
}

/**
 * Whether one end of an edge is what the pattern names. `reserved` are the reserved-label sets of
 * that end's identities (`kube-apiserver+remote-node`): an entity pattern matches any end whose
 * identity carries that label, so `--from remote-node` finds the API server on control-plane nodes.
 */
export function matchesPeer(p: PeerPattern, peer: Peer, ips: readonly string[], reserved: readonly string[] = []): boolean {
  switch (p.kind) {
    case 'namespace':
      return peer.kind === 'workload' && peer.namespace === p.namespace;
    case 'workload':
      return (
        peer.kind === 'workload' &&
        peer.namespace === p.namespace &&
        peer.name === p.name &&
        (p.workloadKind === undefined || peer.workloadKind.toLowerCase() === p.workloadKind.toLowerCase())
      );
    case 'entity':
      if (peer.kind !== 'workload' && reserved.some((set) => set.split('+').includes(p.entity))) return true;
      if (peer.kind === 'entity') return peer.entity === p.entity;
      return p.external && (peer.kind === 'fqdn' || peer.kind === 'cidr');
    case 'fqdn':
      return peer.kind === 'fqdn' && p.regex.test(peer.fqdn);
    case 'cidr':
      if (peer.kind === 'cidr') return cidrContains(p.cidr, peer.cidr.split('/')[0] as string);
      return (peer.kind === 'fqdn' || (peer.kind === 'entity' && peer.entity === 'world')) && ips.some((ip) => cidrContains(p.cidr, ip));
    default: {
      const never: never = p;
      throw new Error(`unknown pattern ${String(never)}`);
    }
  }
}

/** Which edges a reader wants; every field narrows, absent fields do not. */
export interface EdgeFilter {
  /** Edges with either end in one of these namespaces; all namespaces when absent. */
  readonly namespaces?: readonly string[];
  /** Source matches any of these. */
  readonly from?: readonly PeerPattern[];
  /** Destination matches any of these. */
  readonly to?: readonly PeerPattern[];
  /** Only edges first seen at or after this time (ms). */
  readonly newSinceMs?: number;
}

/** What a filter reads of an edge; an edge read without its reserved-label sets has none to match. */
export type FilterableEdge = Pick<Edge, 'from' | 'to' | 'ips' | 'firstSeenMs'> & Partial<Pick<Edge, 'srcReserved' | 'dstReserved'>>;

export function edgeMatches(e: FilterableEdge, f: EdgeFilter): boolean {
  if (f.namespaces !== undefined) {
    const ns = f.namespaces;
    const inNs = (p: Peer): boolean => p.kind === 'workload' && ns.includes(p.namespace);
    if (!inNs(e.from) && !inNs(e.to)) return false;
  }
  if (f.from && f.from.length > 0 && !f.from.some((p) => matchesPeer(p, e.from, e.ips, e.srcReserved))) return false;
  if (f.to && f.to.length > 0 && !f.to.some((p) => matchesPeer(p, e.to, e.ips, e.dstReserved))) return false;
  if (f.newSinceMs !== undefined && e.firstSeenMs < f.newSinceMs) return false;
  return true;
}

/** The evidence a reader asked for, plus the reserved-label sets the filter's peer patterns match against. */
export function evidenceForFilter(evidence: readonly EvidenceField[], f: EdgeFilter | undefined): readonly EvidenceField[] {
  const patterns = (f?.from?.length ?? 0) + (f?.to?.length ?? 0) > 0;
  return patterns ? [...new Set<EvidenceField>([...evidence, 'srcReserved', 'dstReserved'])] : evidence;
}

export function filterEdges<E extends FilterableEdge>(edges: readonly E[], f: EdgeFilter): E[] {
  return edges.filter((e) => edgeMatches(e, f));
}
