/**
 * Which world-labelled addresses are really cluster endpoints. Hubble shows a pod or a node as
 * world when the agent's IP cache did not know it yet (startup, another node's view, GKE node
 * addresses): a CIDR rule for such an address allows nothing, since Cilium matches pods, hosts and
 * remote nodes by identity only. Judged over the whole database, not per edge:
 * - an address any stored flow showed with one cluster identity is that peer (a workload, or the
 *   node entities `host`/`remote-node` it was seen as);
 * - an address shown with several cluster identities (a pod IP reused by another workload) cannot
 *   be named: it is left out, with a note;
 * - an address inside a pod block (the /24, or /64, of pod addresses the flows show) is a pod
 *   Hubble could not identify: left out, with a note;
 * - an address inside a node block (the /24 of an address seen as host or remote-node) that was
 *   reached on a port the nodes were reached on is probably a node: left out, with a note that
 *   suggests the entity. Other addresses of a node's LAN (printers, NAS, smart plugs) stay CIDR peers.
 */
import { blockOf } from '../net/cidr.js';
import { describePeer, parseRawPeerKey, peerKey, rawPeerKey } from './edge-key.js';
import type { ClusterIpRecord, EdgeRecord, EntityName, Peer, RawPeer } from './model.js';

export type ClusterIpVerdict =
  /** The cluster peer(s) the address is: one workload, or the entities it was seen as. */
  | { readonly kind: 'peers'; readonly peers: readonly Peer[] }
  /** A cluster endpoint no single identity explains: never a CIDR rule. */
  | { readonly kind: 'unidentified'; readonly reason: string; readonly suggest: string };

/** When an edge carried its traffic (ms since the epoch). */
export interface SeenWindow {
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

export interface ClusterIps {
  /**
   * What a world-labelled address is, seen at the `side` end of an edge during `when`; undefined
   * for a world address.
   */
  classify(ip: string, side: 'from' | 'to', when?: SeenWindow): ClusterIpVerdict | undefined;
}

/** Slack around a holder's observed window: the events naming the pod may come a little later or earlier. */
const HOLD_SLACK_MS = 60_000;

const NODE_ENTITIES: ReadonlySet<EntityName> = new Set<EntityName>(['host', 'remote-node']);
/** The raw keys of the node entities, for stores that look up their edges. */
export const NODE_ENTITY_KEYS: readonly string[] = [...NODE_ENTITIES].map((entity) => rawPeerKey({ kind: 'entity', entity }));
const POD_ENTITIES: ReadonlySet<string> = new Set(['health', 'ingress']);
const EXAMPLES = 3;

export const NO_CLUSTER_IPS: ClusterIps = { classify: () => undefined };

/**
 * Where the index reads the stored cluster addresses: by block, so a reader that asks about a few
 * thousand world addresses never loads the hundreds of thousands a churning cluster stores.
 */
export interface ClusterIpLookup {
  /**
   * By block (as `blockOf` names them), the records of every address in it, ordered by address,
   * then peer key; a block without any is left out. Asked for many blocks at once so a store can
   * answer in one query.
   */
  inBlocks(blocks: readonly string[]): ReadonlyMap<string, readonly ClusterIpRecord[]>;
  /** The records of exactly `ip` (an address `blockOf` cannot place), ordered by peer key. */
  at(ip: string): readonly ClusterIpRecord[];
}

/** A lookup over records in memory (ordered by address, then peer key, as the store reads them). */
export function clusterIpLookupOf(records: readonly ClusterIpRecord[]): ClusterIpLookup {
  const byBlock = new Map<string, ClusterIpRecord[]>();
  const byIp = new Map<string, ClusterIpRecord[]>();
  const add = (m: Map<string, ClusterIpRecord[]>, k: string, r: ClusterIpRecord): void => {
    const list = m.get(k);
    if (list === undefined) m.set(k, [r]);
    else list.push(r);
  };
  for (const r of records) {
    const block = blockOf(r.ip);
    if (block !== undefined) add(byBlock, block, r);
    add(byIp, r.ip, r);
  }
  return { inBlocks: (blocks) => new Map(blocks.flatMap((b) => (byBlock.has(b) ? [[b, byBlock.get(b) ?? []]] : []))), at: (ip) => byIp.get(ip) ?? [] };
}

/**
 * Builds the index from the stored cluster addresses and the raw edge rows (for the ports that
 * tell a node from another host of its LAN). `resolve` maps a raw peer to the resolved one.
 */
export function indexClusterIps(records: readonly ClusterIpRecord[], rows: Iterable<Pick<EdgeRecord, 'from' | 'to' | 'protocol' | 'port'>>, resolve: (p: RawPeer) => Peer): ClusterIps {
  if (records.length === 0) return NO_CLUSTER_IPS;
  return clusterIpIndex(clusterIpLookupOf(records), rows, resolve);
}

interface Holder {
  readonly peer: Peer;
  first: number;
  last: number;
}

/** What the stored records of one block say: who held each address, and the pods and nodes seen in it. */
interface BlockView {
  readonly byIp: ReadonlyMap<string, ReadonlyMap<string, Holder>>;
  /** Pods (described) or node addresses seen in the block; empty when none. */
  readonly pods: ReadonlySet<string>;
  readonly nodes: ReadonlySet<string>;
}

const EMPTY_VIEW: BlockView = { byIp: new Map(), pods: new Set(), nodes: new Set() };

/** Where an address lies and who held it (`reused`: several identities, judged by window). */
interface Placed {
  readonly block: string | undefined;
  readonly view: BlockView;
  readonly holders: readonly Holder[] | undefined;
  readonly reused: boolean;
  /** The verdict at each end once judged (whatever the window, unless `reused`). */
  from: ClusterIpVerdict | undefined | typeof UNJUDGED;
  to: ClusterIpVerdict | undefined | typeof UNJUDGED;
}

const UNJUDGED = Symbol('unjudged');

/**
 * What tells a node's address from another host of its LAN: the ports the edges' ends were seen
 * on, as `endPort` names them (`to TCP/10250`: an end reached on it; `from UDP/53`: an end that
 * came from it).
 */
export interface EndPorts {
  /** The ports of the edges with a node entity (host, remote-node) at an end. */
  nodePorts(): ReadonlySet<string>;
  /** The ports of the edges with the world address `ip` at an end. */
  worldPorts(ip: string): ReadonlySet<string>;
}

/** How `EndPorts` names the port of an edge's end. */
export const endPort = (side: 'from' | 'to', protocol: string, port: number): string => `${side} ${protocol}/${port}`;

const NO_PORTS: ReadonlySet<string> = new Set();

/**
 * The index over a lookup: each block (and each address outside any block) is read once, and
 * judged the way a scan of every stored address would judge it. The blocks of the rows' world
 * ends (what graph readers ask about) are read together up front, any other on the first
 * question about it.
 */
export function clusterIpIndex(lookup: ClusterIpLookup, rows: Iterable<Pick<EdgeRecord, 'from' | 'to' | 'protocol' | 'port'>>, resolve: (p: RawPeer) => Peer): ClusterIps {
  // Ports the nodes were reached on (to) or came from (from), and the ports of each world address.
  const nodePorts = new Set<string>();
  const worldPorts = new Map<string, Set<string>>();
  const isNode = (p: RawPeer): boolean => p.kind === 'entity' && NODE_ENTITIES.has(p.entity);
  const addWorld = (ip: string, port: string): void => {
    let s = worldPorts.get(ip);
    if (s === undefined) worldPorts.set(ip, (s = new Set()));
    s.add(port);
  };
  for (const r of rows) {
    const to = endPort('to', r.protocol, r.port);
    const from = endPort('from', r.protocol, r.port);
    if (isNode(r.to)) nodePorts.add(to);
    if (isNode(r.from)) nodePorts.add(from);
    if (r.to.kind === 'world-ip') addWorld(r.to.ip, to);
    if (r.from.kind === 'world-ip') addWorld(r.from.ip, from);
  }
  return indexOver(lookup, { nodePorts: () => nodePorts, worldPorts: (ip) => worldPorts.get(ip) ?? NO_PORTS }, resolve, worldPorts.keys());
}

/**
 * The index for a reader that asks about a few addresses (`drops` judges a few hundred flows):
 * nothing is read up front, each block when an address in it is first asked about, and the ports
 * only when a verdict needs them. Its verdicts are `clusterIpIndex`'s over the same edges.
 */
export function clusterIpIndexOnDemand(lookup: ClusterIpLookup, ports: EndPorts, resolve: (p: RawPeer) => Peer): ClusterIps {
  return indexOver(lookup, ports, resolve, []);
}

/** The index; the blocks of the addresses `prefetch` are read together up front. */
function indexOver(lookup: ClusterIpLookup, ports: EndPorts, resolve: (p: RawPeer) => Peer, prefetch: Iterable<string>): ClusterIps {
  const view = (records: readonly ClusterIpRecord[], block: string | undefined): BlockView => {
    // Most blocks a read asks about hold no cluster address (public ones): they share one view.
    if (records.length === 0) return EMPTY_VIEW;
    const v = { byIp: new Map<string, Map<string, Holder>>(), pods: new Set<string>(), nodes: new Set<string>() };
    for (const r of records) {
      const raw = parseRawPeerKey(r.peer);
      if (raw === undefined || raw.kind === 'world-ip') continue;
      const peer = resolve(raw);
      let peers = v.byIp.get(r.ip);
      if (peers === undefined) v.byIp.set(r.ip, (peers = new Map()));
      const k = peerKey(peer);
      const held = peers.get(k);
      if (held === undefined) peers.set(k, { peer, first: r.firstSeenMs, last: r.lastSeenMs });
      else {
        held.first = Math.min(held.first, r.firstSeenMs);
        held.last = Math.max(held.last, r.lastSeenMs);
      }
      if (block === undefined) continue;
      if (peer.kind === 'workload' || (peer.kind === 'entity' && POD_ENTITIES.has(peer.entity))) v.pods.add(describePeer(peer));
      else if (peer.kind === 'entity' && NODE_ENTITIES.has(peer.entity)) v.nodes.add(r.ip);
    }
    return v;
  };
  const blocks = new Map<string, BlockView>();
  // Each address's block, worked out once (the world ends are placed up front and asked about again).
  const blockOfIp = new Map<string, string | undefined>();
  const blockAt = (ip: string): string | undefined => {
    if (blockOfIp.has(ip)) return blockOfIp.get(ip);
    const b = blockOf(ip);
    blockOfIp.set(ip, b);
    return b;
  };
  const viewOf = (ip: string): Placed => {
    const block = blockAt(ip);
    const key = block ?? `ip ${ip}`;
    let v = blocks.get(key);
    if (v === undefined) blocks.set(key, (v = block === undefined ? view(lookup.at(ip), undefined) : view(lookup.inBlocks([block]).get(block) ?? [], block)));
    const held = v.byIp.get(ip);
    const holders = held === undefined ? undefined : [...held.values()];
    return { block, view: v, holders, reused: holders !== undefined && !single(holders.map((h) => h.peer)), from: UNJUDGED, to: UNJUDGED };
  };
  // Per address, parsed and placed once however many rows name it.
  const placed = new Map<string, Placed>();
  const placeOf = (ip: string): Placed => {
    let p = placed.get(ip);
    if (p === undefined) placed.set(ip, (p = viewOf(ip)));
    return p;
  };
  const worldBlocks = [...new Set([...prefetch].flatMap((ip) => blockAt(ip) ?? []))];
  if (worldBlocks.length > 0) {
    const found = lookup.inBlocks(worldBlocks);
    for (const block of worldBlocks) blocks.set(block, view(found.get(block) ?? [], block));
  }
  const reachedLikeANode = (ip: string): boolean => {
    const nodePorts = ports.nodePorts();
    for (const p of ports.worldPorts(ip)) if (nodePorts.has(p)) return true;
    return false;
  };
  // Only a reused address's verdict depends on the window: every other is judged once per side
  // and address (world ends of tens of thousands of rows each carry a window of their own).
  const windowed = new Map<string, ClusterIpVerdict | undefined>();
  const classify = (ip: string, side: 'from' | 'to', when?: SeenWindow): ClusterIpVerdict | undefined => {
    const place = placeOf(ip);
    if (place.reused && when !== undefined) {
      const key = `${side} ${ip} ${when.firstSeenMs} ${when.lastSeenMs}`;
      if (windowed.has(key)) return windowed.get(key);
      const v = judge(ip, side, place, when);
      windowed.set(key, v);
      return v;
    }
    const judged = place[side];
    if (judged !== UNJUDGED) return judged;
    return (place[side] = judge(ip, side, place, when));
  };
  const judge = (ip: string, side: 'from' | 'to', place: Placed, when: SeenWindow | undefined): ClusterIpVerdict | undefined => {
    const entitiesField = side === 'to' ? 'toEntities' : 'fromEntities';
    const endpointsField = side === 'to' ? 'toEndpoints' : 'fromEndpoints';
    const { block, view: seen, holders } = place;
    if (holders !== undefined) {
      const all = holders.map((h) => h.peer);
      if (!place.reused) return { kind: 'peers', peers: all };
      // A reused pod address: the one identity that held it while the edge carried traffic.
      if (when !== undefined) {
        const then = holders.filter((h) => h.first - HOLD_SLACK_MS <= when.lastSeenMs && when.firstSeenMs <= h.last + HOLD_SLACK_MS).map((h) => h.peer);
        if (single(then)) return { kind: 'peers', peers: then };
      }
      return {
        kind: 'unidentified',
        reason: `${ip} was seen as world, and in other flows as ${examples(new Set(all.map(describePeer)))}, not one of them alone while it was: no single identity to allow`,
        suggest: `allow the workload that holds it now by its labels (${endpointsField}), never by CIDR`,
      };
    }
    if (block === undefined) return undefined;
    const pods = seen.pods;
    if (pods.size > 0) {
      return {
        kind: 'unidentified',
        reason: `${ip} was seen as world but lies in ${block}, where the flows show pods (${examples(pods)}): a pod Hubble could not identify`,
        suggest: `allow its workload by labels (${endpointsField}) once it is seen; a CIDR rule never matches a pod`,
      };
    }
    const nodes = seen.nodes;
    if (nodes.size > 0 && reachedLikeANode(ip)) {
      return {
        kind: 'unidentified',
        reason: `${ip} was seen as world but lies in ${block} with the nodes ${examples(nodes)} and was reached on the ports they were: probably a node`,
        suggest: `if it is a node, allow ${entitiesField}: [remote-node] (and host for its own node); a CIDR rule never matches a node`,
      };
    }
    return undefined;
  };
  return { classify };
}

/** Whether the holders of an address name one identity: one workload alone, or entities only. */
function single(peers: readonly Peer[]): boolean {
  const workloads = peers.filter((p) => p.kind === 'workload').length;
  return peers.length > 0 && (workloads === 0 || (workloads === 1 && peers.length === 1));
}

function examples(values: ReadonlySet<string>): string {
  const sorted = [...values].sort();
  return sorted.slice(0, EXAMPLES).join(', ') + (sorted.length > EXAMPLES ? `, ... ${sorted.length} in all` : '');
}
