import type { ObservedEdge, Peer } from './model.js';
import { peerKey } from './naming.js';

/** The edges of one peer at one end, with that peer. */
export interface PeerGroup {
  readonly peer: Peer;
  readonly edges: ObservedEdge[];
}

/**
 * The edges grouped by the peer at their `side` end, by peer key, sorted by key; each group keeps
 * its edges in order and the first edge's peer object. By peer object first, each keyed once (a
 * read shares one object per peer among its edges); by key per edge only where two objects of one
 * peer would have to be merged.
 */
export function groupByPeer(edges: readonly ObservedEdge[], side: 'from' | 'to'): Map<string, PeerGroup> {
  const byObject = new Map<Peer, ObservedEdge[]>();
  for (const e of edges) {
    const list = byObject.get(e[side]);
    if (list === undefined) byObject.set(e[side], [e]);
    else list.push(e);
  }
  const keyed: [string, PeerGroup][] = [];
  const keys = new Set<string>();
  for (const [peer, list] of byObject) {
    const key = peerKey(peer);
    if (keys.has(key)) return groupByPeerKey(edges, side);
    keys.add(key);
    keyed.push([key, { peer, edges: list }]);
  }
  return sortedByKey(keyed);
}

function groupByPeerKey(edges: readonly ObservedEdge[], side: 'from' | 'to'): Map<string, PeerGroup> {
  const groups = new Map<string, { peer: Peer; edges: ObservedEdge[] }>();
  for (const e of edges) {
    const peer = e[side];
    const key = peerKey(peer);
    const g = groups.get(key);
    if (g) g.edges.push(e);
    else groups.set(key, { peer, edges: [e] });
  }
  return sortedByKey([...groups]);
}

const sortedByKey = (entries: [string, PeerGroup][]): Map<string, PeerGroup> => new Map(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
