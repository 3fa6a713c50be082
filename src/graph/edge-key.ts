import { ENTITIES, type EdgeProtocol, type EntityName, type Peer, type RawPeer } from './model.js';

/**
 * Canonical key strings, unambiguous and parsed back whatever a flow carries:
 * - raw workload `w:<ns>/<Kind>/<name>`, inferred workload `w:<ns>/~/<name>`
 * - entity `e:<entity>`, world IP `ip:<address>`
 * - resolved FQDN `f:<name>`, CIDR `c:<cidr>`
 * Each part has `%`, `/`, `|` and `~` percent-encoded (`keyPart`). Kubernetes names never hold
 * them, so real keys read as before; a hostile `/` or `|` in a name cannot split or merge keys.
 */
export const INFERRED_KIND = '~';

const KEY_SPECIAL = /[%/|~]/g;
const HAS_KEY_SPECIAL = /[%/|~]/;

/** A name as one part of a key: `%`, `/`, `|`, `~` percent-encoded (UTF-16 code units kept). */
export function keyPart(s: string): string {
  return HAS_KEY_SPECIAL.test(s) ? s.replace(KEY_SPECIAL, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`) : s;
}

/** The inverse of keyPart; undefined when `s` is not one (a malformed escape). */
export function parseKeyPart(s: string): string | undefined {
  if (s.indexOf('%') < 0) return s;
  let bad = false;
  const out = s.replace(/%(..)?/g, (_, hex: string | undefined) => {
    const c = hex !== undefined && /^[0-9A-F]{2}$/.test(hex) ? String.fromCharCode(parseInt(hex, 16)) : undefined;
    if (c === undefined || !'%/|~'.includes(c)) bad = true;
    return c ?? '';
  });
  return bad ? undefined : out;
}

export function workloadKey(namespace: string, kind: string | undefined, name: string): string {
  return `w:${keyPart(namespace)}/${kind === undefined ? INFERRED_KIND : keyPart(kind)}/${keyPart(name)}`;
}

export function rawPeerKey(p: RawPeer): string {
  switch (p.kind) {
    case 'workload':
      return workloadKey(p.namespace, p.workloadKind, p.name);
    case 'entity':
      return `e:${p.entity}`;
    case 'world-ip':
      return `ip:${keyPart(p.ip)}`;
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
      return `f:${keyPart(p.fqdn)}`;
    case 'cidr':
      return `c:${keyPart(p.cidr)}`;
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
    const [namespace, kind, name] = parts.map(parseKeyPart);
    if (namespace === undefined || kind === undefined || name === undefined) return undefined;
    return { kind: 'workload', namespace, workloadKind: parts[1] === INFERRED_KIND ? undefined : kind, name };
  }
  if (key.startsWith('e:')) {
    const entity = key.slice(2);
    return ENTITY_SET.has(entity) ? { kind: 'entity', entity: entity as EntityName } : undefined;
  }
  if (key.startsWith('ip:')) {
    const ip = parseKeyPart(key.slice(3));
    return ip === undefined ? undefined : { kind: 'world-ip', ip };
  }
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
