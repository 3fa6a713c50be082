import { parsePrefix, prefixContainsPrefix } from '../../net/cidr.js';
import { ENTITIES, type CidrRule, type CiliumRule, type Entity } from '../model/index.js';
import { decodeSelector } from './decode-selector.js';
import { decodeFqdnLike, decodeIcmpRule, decodePortRule, type PortRuleContext } from './decode-ports.js';
import { join, rejectUnknownKeys, readBool, readList, readObject, readRequiredObject, readString, type Rec, type Reader } from './reader.js';

type Section = 'ingress' | 'ingressDeny' | 'egress' | 'egressDeny';
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const INGRESS_PEERS = ['fromEndpoints', 'fromCIDR', 'fromCIDRSet', 'fromEntities', 'fromNodes', 'fromGroups'] as const;
const EGRESS_PEERS = [
  'toEndpoints',
  'toCIDR',
  'toCIDRSet',
  'toEntities',
  'toNodes',
  'toServices',
  'toGroups',
  'toFQDNs',
] as const;

/** Decodes and validates one Cilium rule the way Cilium's `Rule.Validate` would. */
export function decodeCiliumRule(r: Reader, v: unknown, path: string, clusterwide: boolean): CiliumRule | undefined {
  const o = readRequiredObject(r, v, path, 'a rule object');
  if (o === undefined) return undefined;
  rejectUnknownKeys(r, o, path, [
    'endpointSelector',
    'nodeSelector',
    'ingress',
    'ingressDeny',
    'egress',
    'egressDeny',
    'enableDefaultDeny',
    'description',
    'labels',
    'log',
  ]);
  const endpointSelector = decodeSelector(r, o['endpointSelector'], join(path, 'endpointSelector'));
  const nodeSelector = decodeSelector(r, o['nodeSelector'], join(path, 'nodeSelector'));
  if (endpointSelector === undefined && nodeSelector === undefined) {
    r.fail(path, 'rule must have one of EndpointSelector or NodeSelector');
  }
  if (endpointSelector !== undefined && nodeSelector !== undefined) {
    r.fail(path, 'rule cannot have both EndpointSelector and NodeSelector');
  }
  if (nodeSelector !== undefined && !clusterwide) {
    r.fail(join(path, 'nodeSelector'), 'host policies (nodeSelector) are only supported in CiliumClusterwideNetworkPolicy');
  }
  const out: Mutable<CiliumRule> = {};
  if (endpointSelector) out.endpointSelector = endpointSelector;
  if (nodeSelector) out.nodeSelector = nodeSelector;
  for (const section of ['ingress', 'ingressDeny', 'egress', 'egressDeny'] as const) {
    const list = readList(r, o[section], join(path, section), (x, p) => decodeEntry(r, x, p, section));
    if (list !== undefined) (out as Record<Section, unknown>)[section] = list;
  }
  if ([out.ingress, out.ingressDeny, out.egress, out.egressDeny].every((l) => (l?.length ?? 0) === 0)) {
    r.fail(path, 'rule must have at least one of Ingress, IngressDeny, Egress, EgressDeny');
  }
  const dd = readObject(r, o['enableDefaultDeny'], join(path, 'enableDefaultDeny'));
  if (dd !== undefined) {
    rejectUnknownKeys(r, dd, join(path, 'enableDefaultDeny'), ['ingress', 'egress']);
    const ingress = readBool(r, dd['ingress'], join(path, 'enableDefaultDeny.ingress'));
    const egress = readBool(r, dd['egress'], join(path, 'enableDefaultDeny.egress'));
    out.enableDefaultDeny = { ...(ingress !== undefined && { ingress }), ...(egress !== undefined && { egress }) };
  }
  const description = readString(r, o['description'], join(path, 'description'));
  if (description !== undefined) out.description = description;
  return out;
}

/** What an entry of each section may hold, worked out once: entries are the most numerous objects of a policy tree. */
interface EntryShape {
  readonly ingress: boolean;
  readonly deny: boolean;
  readonly peerKeys: readonly string[];
  readonly known: readonly string[];
  readonly ports: PortRuleContext;
}

function entryShape(section: Section): EntryShape {
  const ingress = section === 'ingress' || section === 'ingressDeny';
  const deny = section === 'ingressDeny' || section === 'egressDeny';
  const peerKeys: readonly string[] = ingress ? INGRESS_PEERS : EGRESS_PEERS.filter((k) => !deny || k !== 'toFQDNs');
  const known = [...peerKeys, ...(deny && !ingress ? ['toFQDNs'] : []), 'toPorts', 'icmps', 'authentication', 'fromRequires', 'toRequires'];
  return { ingress, deny, peerKeys, known, ports: { ingress, deny } };
}

const ENTRY_SHAPES: Readonly<Record<Section, EntryShape>> = {
  ingress: entryShape('ingress'),
  ingressDeny: entryShape('ingressDeny'),
  egress: entryShape('egress'),
  egressDeny: entryShape('egressDeny'),
};

const REMOVED_KEYS = ['fromRequires', 'toRequires'] as const;

function decodeEntry(r: Reader, v: unknown, path: string, section: Section): Rec | undefined {
  const o = readRequiredObject(r, v, path, 'a rule object (use {} for an empty rule)');
  if (o === undefined) return undefined;
  const { deny, peerKeys, known } = ENTRY_SHAPES[section];
  if (deny && o['toFQDNs'] !== undefined) r.fail(join(path, 'toFQDNs'), 'toFQDNs is not supported in deny rules');
  rejectUnknownKeys(r, o, path, known);
  for (const k of REMOVED_KEYS) {
    if (o[k] !== undefined) r.fail(join(path, k), `${k} was removed in Cilium 1.19`);
  }
  const out: Record<string, unknown> = {};
  let first: string | undefined;
  let second: string | undefined;
  for (const key of peerKeys) {
    const value = o[key];
    // readList reads a missing list as no list: most entries name one peer kind of eight.
    if (value === undefined || value === null) continue;
    const list = readList(r, value, join(path, key), (x, ip) => decodePeerItem(r, key, x, ip));
    if (list === undefined) continue;
    out[key] = list;
    if (list.length === 0) continue;
    if (first === undefined) first = key;
    else second ??= key;
  }
  if (second !== undefined) {
    r.fail(path, `combining ${first ?? ''} and ${second} is not supported yet`);
  }
  const toPorts = readList(r, o['toPorts'], join(path, 'toPorts'), (x, p) => decodePortRule(r, x, p, ENTRY_SHAPES[section].ports));
  if (toPorts !== undefined) out['toPorts'] = toPorts;
  const icmps = readList(r, o['icmps'], join(path, 'icmps'), (x, p) => decodeIcmpRule(r, x, p));
  if (icmps !== undefined) out['icmps'] = icmps;
  if ((icmps?.length ?? 0) > 0 && (toPorts?.length ?? 0) > 0) {
    r.fail(path, 'the icmps block may only be present without toPorts; define a separate rule to use toPorts');
  }
  if ((toPorts?.length ?? 0) > 0 && ((out['toServices'] as unknown[] | undefined)?.length ?? 0) > 0) {
    r.fail(path, 'combining toServices and toPorts is not supported yet');
  }
  return out;
}

function decodePeerItem(r: Reader, key: string, v: unknown, path: string): unknown {
  switch (key) {
    case 'fromEndpoints':
    case 'toEndpoints':
    case 'fromNodes':
    case 'toNodes':
      return decodeSelector(r, v, path) ?? r.fail(path, 'expected a label selector ({} selects all)');
    case 'fromCIDR':
    case 'toCIDR': {
      const s = readString(r, v, path);
      if (s === undefined || !parsePrefix(s, true)) return r.fail(path, `unable to parse CIDR: ${String(v)}`);
      return s;
    }
    case 'fromCIDRSet':
    case 'toCIDRSet':
      return decodeCidrRule(r, v, path);
    case 'fromEntities':
    case 'toEntities': {
      const s = readString(r, v, path);
      return isEntity(s) ? s : r.fail(path, `unsupported entity: ${String(v)}`);
    }
    case 'toFQDNs':
      return decodeFqdnLike(r, v, path);
    default:
      // toServices, fromGroups, toGroups: kept as written; the evaluator cannot resolve them offline.
      return readObject(r, v, path) ?? r.fail(path, 'expected an object');
  }
}

function decodeCidrRule(r: Reader, v: unknown, path: string): CidrRule | undefined {
  const o = readRequiredObject(r, v, path, '{cidr, except}');
  if (o === undefined) return undefined;
  rejectUnknownKeys(r, o, path, ['cidr', 'except', 'cidrGroupRef', 'cidrGroupSelector']);
  const cidr = readString(r, o['cidr'], join(path, 'cidr'));
  const ref = readString(r, o['cidrGroupRef'], join(path, 'cidrGroupRef'));
  const except = readList(r, o['except'], join(path, 'except'), (x, p) => readString(r, x, p));
  const set = [cidr, ref, o['cidrGroupSelector']].filter((x) => x !== undefined && x !== '').length;
  if (set === 0) return r.fail(path, 'one of cidr, cidrGroupRef, or cidrGroupSelector is required');
  if (set > 1) return r.fail(path, 'more than one of cidr, cidrGroupRef, or cidrGroupSelector may not be set');
  if (cidr === undefined || cidr === '') return { ...(ref && { cidrGroupRef: ref }) };
  const prefix = parsePrefix(cidr);
  if (!prefix) return r.fail(join(path, 'cidr'), `unable to parse CIDRRule "${cidr}"`);
  (except ?? []).forEach((e, i) => {
    const ep = parsePrefix(e);
    if (!ep) r.fail(join(path, `except[${i}]`), `unable to parse "${e}"`);
    else if (!prefixContainsPrefix(prefix, ep)) {
      r.fail(join(path, `except[${i}]`), `allow CIDR prefix ${cidr} does not contain exclude CIDR prefix ${e}`);
    }
  });
  return { cidr, ...(except !== undefined && { except }) };
}

function isEntity(s: string | undefined): s is Entity {
  return (ENTITIES as readonly string[]).includes(s ?? '');
}

