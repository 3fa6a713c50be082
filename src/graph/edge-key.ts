import { ENTITIES, type EdgeProtocol, type EntityName, type Peer, type RawPeer } from './model.js';

/**
 * Canonical key strings. Kubernetes names and namespaces never contain `/` or `|`, IPs never contain
 * `|`, so the keys are unambiguous and parse back.
 * - raw workload `w:<ns>/<Kind>/<name>`, inferred workload `w:<ns>/~/<name>`
 * - entity `e:<entity>`, world IP `ip:<address>`
 * - resolved FQDN `f:<name>`, CIDR `c:<cidr>`
 */
export const INFERRED_KIND = '~';

export function workloadKey(namespace: string, kind: string | undefined, name: string): string {
  return `w:${namespace}/${kind ?? INFERRED_KIND}/${name}`;
}

export function rawPeerKey(p: RawPeer): string {
  switch (p.kind) {
    case 'workload':
      return workloadKey(p.namespace, p.workloadKind, p.name);
    case 'entity':
      return `e:${p.entity}`;
    case 'world-ip':
      return `ip:${p.ip}`;
    default: {
      const never: never = p;
      throw new Error(`unknown peer ${String(never)}`);
    }
  }
}

export function peerKey(p: Peer): string {
  switch (p.kind) {
    case 'workload':
      return workloadKey(p.namespace, p.workloadKind, p.name);
    case 'entity':
      return `e:${p.entity}`;
    case 'fqdn':
      return `f:${p.fqdn}`;
    case 'cidr':
      return `c:${p.cidr}`;
    default: {
      const never: never = p;
      throw new Error(`unknown peer ${String(never)}`);
    }
  }
}

const ENTITY_SET: ReadonlySet<string> = new Set(ENTITIES);

/** Parses a raw peer key; `undefined` for anything malformed. */
export function parseRawPeerKey(key: string): RawPeer | undefined {
  if (key.startsWith('w:')) {
    const parts = key.slice(2).split('/');
    if (parts.length !== 3) return undefined;
    const [namespace, kind, name] = parts as [string, string, string];
    return { kind: 'workload', namespace, workloadKind: kind === INFERRED_KIND ? undefined : kind, name };
  }
  if (key.startsWith('e:')) {
    const entity = key.slice(2);
    return ENTITY_SET.has(entity) ? { kind: 'entity', entity: entity as EntityName } : undefined;
  }
  if (key.startsWith('ip:')) return { kind: 'world-ip', ip: key.slice(3) };
  return undefined;
}

/** The aggregation key of an edge: `<from>|<to>|<protocol>|<port>`. */
export function edgeKey(fromKey: string, toKey: string, protocol: EdgeProtocol, port: number): string {
  return `${fromKey}|${toKey}|${protocol}|${port}`;
}

/** `ns/Kind/name`, `entity:world`, `fqdn:api.github.com`, `cidr:1.2.3.4/32`: for tables and notes. */
export function describePeer(p: Peer): string {
  switch (p.kind) {
    case 'workload':
      return `${p.namespace}/${p.workloadKind}/${p.name}`;
    case 'entity':
      return `entity:${p.entity}`;
    case 'fqdn':
      return `fqdn:${p.fqdn}`;
    case 'cidr':
      return `cidr:${p.cidr}`;
    default: {
      const never: never = p;
      throw new Error(`unknown peer ${String(never)}`);
    }
  }
}

/** The namespace of a workload peer, for `-n` filtering; undefined for everything else. */
export function peerNamespace(p: Peer | RawPeer): string | undefined {
  return p.kind === 'workload' ? p.namespace : undefined;
}
