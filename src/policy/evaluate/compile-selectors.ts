/** Cilium's namespace handling for subjects and peers (pkg/k8s/apis/cilium.io/utils getEndpointSelector). */
import type { LabelSelector } from '../model/index.js';
import { compileSelector, requirement, selectorHasKey, selectorId, type CompiledSelector, type Requirement } from './labels.js';
import { CLUSTER_LABEL, NAMESPACE_LABELS_PREFIX, POD_NAMESPACE_LABEL } from './peer.js';
import type { PeerMatcher } from './peers.js';

/**
 * Endpoints peers are shared (never mutated): the same workload is a peer in the rules of every
 * workload that talks to it, thousands of times in a large policy set.
 */
const sharedPeers = new Map<string, PeerMatcher>();

/** An endpoints peer; it is cluster-local by default unless it names a cluster or a reserved label. */
export function endpointsPeer(selector: CompiledSelector): PeerMatcher {
  const id = selectorId(selector);
  const shared = id === undefined ? undefined : sharedPeers.get(id);
  if (shared !== undefined) return shared;
  const localCluster = !selector.some((r) => r.source === 'reserved') && !selectorHasKey(selector, CLUSTER_LABEL, 'k8s');
  const peer: PeerMatcher = { kind: 'endpoints', selector, localCluster };
  if (id !== undefined) {
    if (sharedPeers.size >= 200_000) sharedPeers.clear();
    sharedPeers.set(id, peer);
  }
  return peer;
}

const nsIs = (ns: string): Requirement => requirement('k8s', POD_NAMESPACE_LABEL, 'In', [ns]);
const nsExists: Requirement = requirement('k8s', POD_NAMESPACE_LABEL, 'Exists', []);

/**
 * CNP subject: always limited to the policy namespace. A `k8s:`-prefixed namespace match is
 * overwritten; an unprefixed one stays and is ANDed (so a foreign namespace selects nothing).
 */
export function cnpSubject(sel: LabelSelector, namespace: string): CompiledSelector {
  const reqs = compileSelector(sel).filter(
    (r) => !(r.source === 'k8s' && r.key === POD_NAMESPACE_LABEL && r.operator === 'In' && r.values.length === 1),
  );
  return [...reqs, nsIs(namespace)];
}

/**
 * CNP/CCNP peer selector (`fromEndpoints`/`toEndpoints`). Reserved-label selectors are left alone.
 * Without a namespace key: CNP adds its own namespace (unless namespace labels are used, v1.20),
 * CCNP adds "namespace exists" (pods only), unless the subject selects `reserved:init`.
 */
export function ciliumPeer(sel: LabelSelector, namespace: string | undefined, subjectSelectsInit: boolean): CompiledSelector {
  const reqs = compileSelector(sel);
  if (reqs.some((r) => r.source === 'reserved')) return reqs;
  if (selectorHasKey(reqs, POD_NAMESPACE_LABEL, 'k8s')) return reqs;
  if (namespace === undefined) return subjectSelectsInit ? reqs : [...reqs, nsExists];
  const usesNsLabels = reqs.some((r) => (r.source === undefined || r.source === 'k8s') && r.key.startsWith(NAMESPACE_LABELS_PREFIX));
  return usesNsLabels ? reqs : [...reqs, nsIs(namespace)];
}

export const selectsInit = (sel: LabelSelector | undefined): boolean =>
  sel !== undefined && compileSelector(sel).some((r) => r.source === 'reserved' && r.key === 'init');

/** KNP peer: podSelector (in the policy namespace unless namespaceSelector is given) AND namespace labels. */
export function knpPeer(
  podSelector: LabelSelector | undefined,
  namespaceSelector: LabelSelector | undefined,
  namespace: string,
): CompiledSelector {
  const pods = podSelector ? compileSelector(podSelector) : [];
  if (namespaceSelector === undefined) return [...pods, nsIs(namespace)];
  const ns = compileSelector(namespaceSelector).map((r) => requirement('k8s', NAMESPACE_LABELS_PREFIX + r.key, r.operator, r.values));
  return [...pods, ...ns, nsExists];
}

export const knpSubject = (sel: LabelSelector, namespace: string): CompiledSelector => [
  ...compileSelector(sel),
  nsIs(namespace),
];
