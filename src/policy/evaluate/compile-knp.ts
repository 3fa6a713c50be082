/** Kubernetes NetworkPolicy → compiled rules, the way Cilium reads it (pkg/k8s/network_policy.go). */
import { parsePrefix, type Prefix } from '../../net/cidr.js';
import type { KnpPeer, KnpPolicyType, KnpPort, NetworkPolicy } from '../model/index.js';
import { endpointsPeer, knpPeer, knpSubject } from './compile-selectors.js';
import { ownString, ruleRef, type CompiledEntry, type CompiledRule, type Direction, type DirectionPart, type PolicyRef } from './compiled.js';
import type { PeerMatcher } from './peers.js';
import type { L4Spec } from './ports.js';

/** The API server's defaulting: Ingress always, Egress when egress rules exist. */
export function effectivePolicyTypes(p: NetworkPolicy): readonly KnpPolicyType[] {
  if (p.spec.policyTypes !== undefined) return p.spec.policyTypes;
  return (p.spec.egress?.length ?? 0) > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

export function compileKnp(p: NetworkPolicy): CompiledRule {
  const policy: PolicyRef = { kind: 'NetworkPolicy', namespace: ownString(p.namespace), name: ownString(p.name), origin: p.origin };
  const types = effectivePolicyTypes(p);
  const part = (dir: Direction): DirectionPart => {
    if (!types.includes(dir === 'ingress' ? 'Ingress' : 'Egress')) return { present: false, defaultDeny: false, entries: [] };
    const rules =
      dir === 'ingress'
        ? (p.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
        : (p.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
    const entries = rules.map(
      (r, i): CompiledEntry => ({
        ref: ruleRef(policy, dir, dir, i, `spec.${dir}[${i}]`),
        deny: false,
        peers: peersOf(r.peers, p.namespace),
        ...portsOf(r.ports),
      }),
    );
    // Every KNP direction it enables is default deny (no enableDefaultDeny in KNP).
    return { present: true, defaultDeny: true, entries };
  };
  return {
    policy,
    subject: { kind: 'endpoint', selector: knpSubject(p.spec.podSelector, p.namespace) },
    ingress: part('ingress'),
    egress: part('egress'),
  };
}

/** Missing or empty from/to = every identity (world, host and nodes included, as Cilium reads it). */
function peersOf(peers: readonly KnpPeer[] | undefined, namespace: string): PeerMatcher[] {
  if (peers === undefined || peers.length === 0) return [{ kind: 'all' }];
  return peers.map((peer): PeerMatcher => {
    if (peer.ipBlock) {
      const prefix = parsePrefix(peer.ipBlock.cidr) as Prefix;
      const except = (peer.ipBlock.except ?? []).map((e) => parsePrefix(e)).filter((e): e is Prefix => e !== undefined);
      return { kind: 'cidr', prefix, except };
    }
    return endpointsPeer(knpPeer(peer.podSelector, peer.namespaceSelector, namespace));
  });
}

/** Missing or empty ports = all ports and protocols; a port entry defaults to TCP and all ports. */
function portsOf(ports: readonly KnpPort[] | undefined): { l4?: L4Spec[] } {
  if (ports === undefined || ports.length === 0) return {};
  return {
    l4: ports.map((pt): L4Spec => {
      const protocol = pt.protocol ?? 'TCP';
      if (typeof pt.port === 'string') return { kind: 'named', protocol, name: pt.port.toLowerCase() };
      return pt.endPort === undefined ? { kind: 'port', protocol, port: pt.port ?? 0 } : { kind: 'port', protocol, port: pt.port ?? 0, endPort: pt.endPort };
    }),
  };
}
