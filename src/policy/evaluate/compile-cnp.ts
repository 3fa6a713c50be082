/** CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy → compiled rules. */
import { parsePrefix, type Prefix } from '../../net/cidr.js';
import {
  ciliumRules,
  type CidrRule,
  type CiliumClusterwideNetworkPolicy,
  type CiliumNetworkPolicy,
  type EgressRule,
  type IcmpRule,
  type IngressRule,
  type L7Rules,
  type PortProtocol,
  type PortRule,
} from '../model/index.js';
import { l7Type } from '../parse/decode-ports.js';
import { compileSelector } from './labels.js';
import { ciliumPeer, cnpSubject, endpointsPeer, selectsInit } from './compile-selectors.js';
import { ownString, ruleRef, type CompiledEntry, type CompiledRule, type Direction, type DirectionPart, type PolicyRef, type Section } from './compiled.js';
import { fqdnRegex } from './fqdn.js';
import { icmpTypeNumber } from './icmp.js';
import type { PeerMatcher } from './peers.js';
import type { L4Spec, L7Spec } from './ports.js';

type AnyEntry = IngressRule & EgressRule;

export function compileCilium(
  p: CiliumNetworkPolicy | CiliumClusterwideNetworkPolicy,
  notes: string[],
): CompiledRule[] {
  const ns = p.kind === 'CiliumNetworkPolicy' ? ownString(p.namespace) : undefined;
  const policy: PolicyRef = ns !== undefined ? { kind: p.kind, namespace: ns, name: ownString(p.name), origin: p.origin } : { kind: p.kind, name: ownString(p.name), origin: p.origin };
  return ciliumRules(p).map((rule, i) => {
    const base = p.spec !== undefined ? (i === 0 ? 'spec' : `specs[${i - 1}]`) : `specs[${i}]`;
    const subjectSel = rule.endpointSelector ?? rule.nodeSelector ?? {};
    const init = selectsInit(rule.endpointSelector);
    const part = (dir: Direction): DirectionPart => {
      const allow: Section = dir;
      const deny: Section = dir === 'ingress' ? 'ingressDeny' : 'egressDeny';
      const entries = [
        ...(rule[allow] ?? []).map((e, j) => entry(e as AnyEntry, allow, j, false)),
        ...(rule[deny] ?? []).map((e, j) => entry(e as AnyEntry, deny, j, true)),
      ];
      const present = entries.length > 0;
      const explicit = rule.enableDefaultDeny?.[dir];
      return { present, defaultDeny: present && (explicit ?? true), entries };
    };
    const entry = (e: AnyEntry, section: Section, j: number, deny: boolean): CompiledEntry => {
      const path = sharedPath(`${base}.${section}[${j}]`);
      const ref = ruleRef(policy, section.startsWith('ingress') ? 'ingress' : 'egress', section, j, path);
      const peers = peersOf(e, ns, init, notes, () => `${policyName(policy)} ${path}`);
      // Two literals, not a spread: a spread made each entry by V8's slow copying path.
      const l4 = l4Of(e.toPorts, e.icmps);
      return l4 === undefined ? { ref, deny, peers } : { ref, deny, peers, l4 };
    };
    return {
      policy,
      subject:
        rule.nodeSelector !== undefined
          ? { kind: 'node', selector: compileSelector(subjectSel) }
          : { kind: 'endpoint', selector: ns === undefined ? compileSelector(subjectSel) : cnpSubject(subjectSel, ns) },
      ingress: part('ingress'),
      egress: part('egress'),
    };
  });
}

const policyName = (p: PolicyRef): string => `${p.namespace === undefined ? '' : `${p.namespace}/`}${p.name}`;

/** Rule paths (`spec.egress[3]`) recur in every policy: one flat string each. */
const paths = new Map<string, string>();

function sharedPath(path: string): string {
  let p = paths.get(path);
  if (p === undefined) {
    if (paths.size >= 100_000) paths.clear();
    paths.set((p = ownString(path)), p);
  }
  return p;
}

const NO_PEERS: readonly PeerMatcher[] = [];
const NONE: readonly never[] = [];
const ALL_PEERS: readonly PeerMatcher[] = [{ kind: 'all' }];

/**
 * Union of the rule's peers. No peer field at all = any peer if L4 is given, else nothing. Never
 * mutated. Each field read by name, once (a large policy set has 100,000+ entries, and a loop
 * over the field names made every read a slow keyed one); no lists joined to be walked.
 */
function peersOf(e: AnyEntry, ns: string | undefined, init: boolean, notes: string[], where: () => string): readonly PeerMatcher[] {
  const { fromEndpoints, toEndpoints, fromNodes, toNodes, fromCIDR, toCIDR, fromCIDRSet, toCIDRSet, fromEntities, toEntities, toFQDNs, toServices, fromGroups, toGroups } = e;
  // Cilium's mergeEndpointSelectors ignores an empty toFQDNs list, so it does not count as a peer here.
  const anyPeerField =
    fromEndpoints !== undefined || toEndpoints !== undefined || fromCIDR !== undefined || toCIDR !== undefined || fromCIDRSet !== undefined ||
    toCIDRSet !== undefined || fromEntities !== undefined || toEntities !== undefined || fromNodes !== undefined || toNodes !== undefined ||
    (toFQDNs?.length ?? 0) > 0 || toServices !== undefined || fromGroups !== undefined || toGroups !== undefined;
  if (!anyPeerField) {
    const hasL4 = (e.toPorts?.length ?? 0) > 0 || (e.icmps?.length ?? 0) > 0;
    return hasL4 ? ALL_PEERS : NO_PEERS;
  }
  // Any explicitly empty list selects nothing, whatever the other fields say (mergeEndpointSelectors).
  if (
    fromEndpoints?.length === 0 || toEndpoints?.length === 0 || fromNodes?.length === 0 || toNodes?.length === 0 || fromEntities?.length === 0 ||
    toEntities?.length === 0 || fromCIDR?.length === 0 || toCIDR?.length === 0 || fromCIDRSet?.length === 0 || toCIDRSet?.length === 0
  ) {
    return NO_PEERS;
  }
  const out: PeerMatcher[] = [];
  for (const s of fromEndpoints ?? NONE) out.push(endpointsPeer(ciliumPeer(s, ns, init)));
  for (const s of toEndpoints ?? NONE) out.push(endpointsPeer(ciliumPeer(s, ns, init)));
  for (const s of fromNodes ?? NONE) out.push({ kind: 'nodes', selector: compileSelector(s) });
  for (const s of toNodes ?? NONE) out.push({ kind: 'nodes', selector: compileSelector(s) });
  for (const c of fromCIDR ?? NONE) pushCidr(out, { cidr: c }, true);
  for (const c of toCIDR ?? NONE) pushCidr(out, { cidr: c }, true);
  for (const c of fromCIDRSet ?? NONE) pushCidrSet(out, c, notes, where);
  for (const c of toCIDRSet ?? NONE) pushCidrSet(out, c, notes, where);
  for (const x of fromEntities ?? NONE) out.push({ kind: 'entity', entity: x });
  for (const x of toEntities ?? NONE) out.push({ kind: 'entity', entity: x });
  for (const f of toFQDNs ?? NONE) {
    const spec = f.matchName !== undefined ? { matchName: ownString(f.matchName) } : f.matchPattern !== undefined ? { matchPattern: ownString(f.matchPattern) } : {};
    out.push({ kind: 'fqdn', spec, regex: fqdnRegex(spec) });
  }
  unresolvable(out, 'toServices', toServices, notes, where);
  unresolvable(out, 'fromGroups', fromGroups, notes, where);
  unresolvable(out, 'toGroups', toGroups, notes, where);
  // Exactly as long as it is: a list grown by push keeps room for 16 more peers.
  return out.length === 1 ? [out[0] as PeerMatcher] : out.slice();
}

function pushCidrSet(out: PeerMatcher[], c: CidrRule, notes: string[], where: () => string): void {
  if (c.cidr !== undefined) return pushCidr(out, c, false);
  notes.push(`${where()}: CIDR group ${c.cidrGroupRef ?? '(selector)'} cannot be resolved offline; it matches nothing here`);
  out.push({ kind: 'unresolvable', what: 'cidrGroup' });
}

function unresolvable(out: PeerMatcher[], what: 'toServices' | 'fromGroups' | 'toGroups', list: readonly unknown[] | undefined, notes: string[], where: () => string): void {
  if ((list?.length ?? 0) === 0) return;
  notes.push(`${where()}: ${what} cannot be resolved offline; it matches nothing here`);
  out.push({ kind: 'unresolvable', what });
}

function pushCidr(out: PeerMatcher[], c: CidrRule, bare: boolean): void {
  const prefix = parsePrefix(c.cidr ?? '', bare);
  if (!prefix) return;
  const except = (c.except ?? []).map((x) => parsePrefix(x)).filter((x): x is Prefix => x !== undefined);
  out.push({ kind: 'cidr', prefix, except });
}

/** toPorts/icmps → L4 specs. Both missing or empty = L3 only (undefined). */
export function l4Of(toPorts: readonly PortRule[] | undefined, icmps: readonly IcmpRule[] | undefined): readonly L4Spec[] | undefined {
  if ((toPorts?.length ?? 0) === 0 && (icmps?.length ?? 0) === 0) return undefined;
  const l4: L4Spec[] = [];
  // Lists of shared specs only (no L7 rules, no ICMP) are shared too: most rules name the same few ports.
  let id: string | undefined = (icmps?.length ?? 0) === 0 ? '' : undefined;
  for (const pr of toPorts ?? []) {
    const l7 = l7Of(pr.rules);
    if (l7 !== undefined) id = undefined;
    for (const pp of pr.ports ?? []) {
      l4.push(portSpec(pp.protocol, pp.port, pp.endPort, l7));
      if (id !== undefined) id += `${portSpecId(pp.protocol, pp.port, pp.endPort)};`;
    }
  }
  if (id !== undefined) {
    let shared = portLists.get(id);
    if (shared === undefined) {
      if (portLists.size >= 100_000) portLists.clear();
      portLists.set(id, (shared = l4.slice()));
    }
    return shared;
  }
  for (const ir of icmps ?? []) {
    for (const f of ir.fields) {
      const type = icmpTypeNumber(f.family, f.type);
      if (type !== undefined) l4.push({ kind: 'icmp', family: f.family, type });
    }
  }
  return l4;
}

/**
 * Literals for each shape (key order as before): V8 (Node 20) gives every object spread and then
 * extended its own hidden class, and a large policy set has tens of thousands of port specs.
 */
function portSpec(protocol: PortProtocol['protocol'], port: string, endPort: number | undefined, l7: L7Spec | undefined): L4Spec {
  if (l7 === undefined) return sharedPortSpec(protocol, port, endPort);
  if (!/^\d+$/.test(port)) return l7 === undefined ? { kind: 'named', protocol, name: port } : { kind: 'named', protocol, name: port, l7 };
  const n = Number(port);
  if (endPort === undefined) return l7 === undefined ? { kind: 'port', protocol, port: n } : { kind: 'port', protocol, port: n, l7 };
  return l7 === undefined ? { kind: 'port', protocol, port: n, endPort } : { kind: 'port', protocol, port: n, endPort, l7 };
}

/** Port specs without L7 rules are shared: tens of thousands of rules name a few dozen ports. Never mutated. */
const portSpecs = new Map<string, L4Spec>();
const portLists = new Map<string, readonly L4Spec[]>();
const portSpecId = (protocol: PortProtocol['protocol'], port: string, endPort: number | undefined): string => `${protocol}/${port}/${endPort ?? ''}`;

function sharedPortSpec(protocol: PortProtocol['protocol'], port: string, endPort: number | undefined): L4Spec {
  const id = portSpecId(protocol, port, endPort);
  let spec = portSpecs.get(id);
  if (spec === undefined) {
    if (portSpecs.size >= 100_000) portSpecs.clear();
    const n = Number(port);
    spec = !/^\d+$/.test(port) ? { kind: 'named', protocol, name: port } : endPort === undefined ? { kind: 'port', protocol, port: n } : { kind: 'port', protocol, port: n, endPort };
    portSpecs.set(id, spec);
  }
  return spec;
}

function l7Of(rules: L7Rules | undefined): L7Spec | undefined {
  if (rules === undefined) return undefined;
  const t = l7Type(rules);
  switch (t) {
    case undefined:
      return undefined;
    case 'http':
      return { type: 'http', rules: rules.http ?? [] };
    case 'dns':
      return { type: 'dns', rules: rules.dns ?? [] };
    case 'kafka':
      return { type: 'kafka', rules: rules.kafka ?? [] };
    case 'l7proto':
      return { type: 'l7proto', proto: rules.l7proto ?? '' };
    default: {
      const never: never = t;
      return never;
    }
  }
}

