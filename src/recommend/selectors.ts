import { isFqdn, isNamespaceName, isSelectorLabels } from './k8s-names.js';
import type { Peer, WorkloadInfo } from './model.js';
import { workloadKey } from './naming.js';

export const NAMESPACE_LABEL = 'k8s:io.kubernetes.pod.namespace';

export type WorkloadIndex = ReadonlyMap<string, WorkloadInfo>;

export function indexWorkloads(ws: readonly WorkloadInfo[]): WorkloadIndex {
  return new Map(ws.map((w) => [workloadKey(w), w]));
}

export interface PeerSelector {
  readonly matchLabels: Record<string, string>;
  /** Set when we had no stable labels for the peer and fell back to its whole namespace. */
  readonly namespaceWide: boolean;
}

/**
 * The endpoint selector for a workload peer seen from a policy in `policyNamespace`. Cilium adds the
 * policy's namespace to peer selectors without one, so a cross-namespace peer must name its own.
 */
export function workloadPeerSelector(
  peer: Extract<Peer, { kind: 'workload' }>,
  policyNamespace: string | undefined,
  index: WorkloadIndex,
): PeerSelector {
  const crossNamespace = policyNamespace === undefined || peer.namespace !== policyNamespace;
  let mine = peerSelectors.get(index);
  if (mine === undefined) peerSelectors.set(index, (mine = new WeakMap()));
  let both = mine.get(peer);
  if (both === undefined) mine.set(peer, (both = {}));
  const made = (both[crossNamespace ? 'cross' : 'own'] ??= peerSelectorOnce(peer, crossNamespace, index));
  // A copy: each rule holds its own, as a document that held one object twice would be written with an alias.
  return { matchLabels: { ...made.matchLabels }, namespaceWide: made.namespaceWide };
}

/**
 * Selectors by index, then by peer object, seen from its own namespace or another: each workload's
 * policy asks for those of every peer it talks to, thousands of times the same few thousand.
 */
const peerSelectors = new WeakMap<WorkloadIndex, WeakMap<Peer, { own?: PeerSelector; cross?: PeerSelector }>>();

function peerSelectorOnce(peer: Extract<Peer, { kind: 'workload' }>, crossNamespace: boolean, index: WorkloadIndex): PeerSelector {
  const info = index.get(workloadKey({ namespace: peer.namespace, kind: peer.workloadKind, name: peer.name }));
  const labels: Record<string, string> = {};
  const selector = info?.selector ?? {};
  for (const k of Object.keys(selector).sort()) labels[k] = selector[k] as string;
  const namespaceWide = Object.keys(labels).length === 0;
  if (crossNamespace) labels[NAMESPACE_LABEL] = peer.namespace;
  return { matchLabels: sortKeys(labels), namespaceWide };
}

export function sortKeys(o: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k] as string;
  return out;
}

/**
 * Verdicts by index, then by peer object: a read shares one object per peer among its edges, and
 * each workload's policy asks about every peer it talks to (~160 ms of `recommend -A` at 3,000
 * workloads, asked again and again about the same few thousand peers).
 */
const peerVerdicts = new WeakMap<WorkloadIndex, WeakMap<Peer, string | null>>();

/**
 * Why a peer cannot be written into a policy (a namespace, label or DNS name Kubernetes or Cilium
 * would reject), or undefined. Such a peer is left out of the rules and named in a note.
 */
export function unwritablePeer(p: Peer, index: WorkloadIndex): string | undefined {
  let verdicts = peerVerdicts.get(index);
  if (verdicts === undefined) peerVerdicts.set(index, (verdicts = new WeakMap()));
  let why = verdicts.get(p);
  if (why === undefined) verdicts.set(p, (why = unwritablePeerOnce(p, index) ?? null));
  return why ?? undefined;
}

function unwritablePeerOnce(p: Peer, index: WorkloadIndex): string | undefined {
  if (p.kind === 'workload') {
    if (!isNamespaceName(p.namespace)) return 'its namespace is not a valid Kubernetes namespace name';
    const info = index.get(workloadKey({ namespace: p.namespace, kind: p.workloadKind, name: p.name }));
    if (info && !isSelectorLabels(info.selector)) return 'its labels are not valid Kubernetes label keys and values';
  }
  if (p.kind === 'fqdn' && !isFqdn(p.fqdn.replace(/\.$/, ''))) return 'it is not a DNS name toFQDNs accepts';
  return undefined;
}
