/** Compiled rule peers (L3) and how they match a resolved peer identity. */
import { familyOf, parsePrefix, prefixContains, prefixContainsPrefix, type Prefix } from '../../net/cidr.js';
import type { Entity } from '../model/index.js';
import { fqdnSelectorText, type FqdnSpec } from './fqdn.js';
import { selectorMatches, type CompiledSelector } from './labels.js';
import { POD_NAMESPACE_LABEL, normaliseName, type ResolvedPeer } from './peer.js';

export type PeerMatcher =
  /** Every identity (`toEntities: all`, KNP rules without from/to, Cilium L4 rules without L3). */
  | { readonly kind: 'all' }
  /**
   * `localCluster`: the selector names no cluster, so with `policy-default-local-cluster`
   * (default since Cilium 1.19) it only selects endpoints of the local cluster.
   */
  | { readonly kind: 'endpoints'; readonly selector: CompiledSelector; readonly localCluster: boolean }
  | { readonly kind: 'entity'; readonly entity: Entity }
  | { readonly kind: 'cidr'; readonly prefix: Prefix; readonly except: readonly Prefix[] }
  | { readonly kind: 'fqdn'; readonly spec: FqdnSpec; readonly regex: RegExp }
  | { readonly kind: 'nodes'; readonly selector: CompiledSelector }
  /** Something offline evaluation cannot resolve (toServices, groups, CIDR groups): matches nothing. */
  | { readonly kind: 'unresolvable'; readonly what: string };

export interface PeerMatchContext {
  /** Local cluster name for the `cluster` entity. */
  readonly clusterName: string;
  /** `policy-cidr-match-mode=nodes`: CIDR rules may also match node IPs. */
  readonly cidrMatchNodes: boolean;
  /** `policy-default-local-cluster`: peer selectors without a cluster key select only the local cluster. */
  readonly defaultLocalCluster: boolean;
}

/** A peer outside the local cluster (ClusterMesh); peers without a cluster label count as local. */
const inOtherCluster = (p: ResolvedPeer, ctx: PeerMatchContext): boolean => p.cluster !== undefined && p.cluster !== ctx.clusterName;

/** The reserved identities the `cluster` entity selects besides local pods (Cilium pkg/policy/api/entity.go InitEntities). */
const CLUSTER_RESERVED = ['host', 'remote-node', 'init', 'ingress', 'health', 'unmanaged', 'kube-apiserver'];

const isPodIdentity = (p: ResolvedPeer): boolean => p.labels.some((l) => l.key === POD_NAMESPACE_LABEL && l.source !== 'reserved') || p.cluster !== undefined;

export function entityMatches(e: Entity, p: ResolvedPeer, ctx: PeerMatchContext): boolean {
  const r = (name: string): boolean => p.reserved.has(name);
  switch (e) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'world':
      return r('world') || r('world-ipv4') || r('world-ipv6');
    case 'cluster':
      // Every identity of this cluster's pods carries its policy.cluster label; a pod seen without
      // one (older Hubble, field masks) is taken to be local, as `inOtherCluster` does.
      return CLUSTER_RESERVED.some(r) || (isPodIdentity(p) && !inOtherCluster(p, ctx));
    case 'world-ipv4':
    case 'world-ipv6':
    case 'host':
    case 'remote-node':
    case 'kube-apiserver':
    case 'health':
    case 'init':
    case 'unmanaged':
    case 'ingress':
      return r(e);
    default: {
      const never: never = e;
      return never;
    }
  }
}

function cidrMatches(m: { prefix: Prefix; except: readonly Prefix[] }, p: ResolvedPeer, ctx: PeerMatchContext): boolean {
  // CIDR rules never match pods, and match nodes only in policy-cidr-match-mode=nodes.
  if (!(p.outsideCluster || (ctx.cidrMatchNodes && p.isNode))) return false;
  if (p.ip) return prefixContains(m.prefix, p.ip) && !m.except.some((e) => prefixContains(e, p.ip as NonNullable<typeof p.ip>));
  // No IP: use the identity's own cidr: labels, or the whole-world prefix for the world identity.
  const cidrs = p.labels.filter((l) => l.source === 'cidr').map((l) => parsePrefix(cidrLabelText(l.key), true));
  if (cidrs.length > 0) {
    return cidrs.some((c) => c && prefixContainsPrefix(m.prefix, c) && !m.except.some((e) => prefixContainsPrefix(e, c)));
  }
  if (m.prefix.length !== 0 || m.except.length > 0) return false;
  const fam = familyOf(m.prefix) === 4 ? 'world-ipv4' : 'world-ipv6';
  return p.reserved.has('world') || p.reserved.has(fam);
}

/** Cilium writes IPv6 CIDR labels with `-` for `:`; accept both. */
const cidrLabelText = (k: string): string => (k.includes(':') || !k.includes('-') ? k : k.replace(/-/g, ':'));

export function peerMatches(m: PeerMatcher, p: ResolvedPeer, ctx: PeerMatchContext): boolean {
  switch (m.kind) {
    case 'all':
      return true;
    case 'endpoints':
      if (m.localCluster && ctx.defaultLocalCluster && inOtherCluster(p, ctx)) return false;
      return selectorMatches(m.selector, p.labels);
    case 'entity':
      return entityMatches(m.entity, p, ctx);
    case 'cidr':
      return cidrMatches(m, p, ctx);
    case 'fqdn': {
      if (!p.outsideCluster) return false;
      const text = fqdnSelectorText(m.spec);
      return p.names.some((n) => m.regex.test(normaliseName(n))) || p.labels.some((l) => l.source === 'fqdn' && l.key === text);
    }
    case 'nodes':
      if (ctx.defaultLocalCluster && inOtherCluster(p, ctx)) return false;
      return p.reserved.has('remote-node') && selectorMatches(m.selector, p.labels);
    case 'unresolvable':
      return false;
    default: {
      const never: never = m;
      return never;
    }
  }
}
