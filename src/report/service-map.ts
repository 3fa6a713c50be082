/**
 * The service map as a graph to lay out: namespaces as groups, workloads and external peers as
 * nodes, one edge per pair of nodes (ports merged) coloured by what the policies do. Pure; the
 * layout (elkjs) happens in app/, the drawing in inventory-html.ts.
 */
import type { Edge, Peer } from '../graph/index.js';
import { cidrName, edgeId, type EdgeStatus, type Inventory, peerId } from './inventory.js';
import { formatPorts } from './ports.js';
import { formatCount, formatTime } from './table.js';

export interface MapNode {
  readonly id: string;
  readonly label: string;
  /** Full name and what it is, for the tooltip. */
  readonly title: string;
  readonly kind: 'workload' | 'entity' | 'fqdn' | 'cidr' | 'ips';
  readonly group: string;
  readonly width: number;
  readonly height: number;
}

export interface MapGroup {
  readonly id: string;
  readonly label: string;
  readonly kind: 'namespace' | 'external' | 'entities';
}

export interface MapEdge {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly status: EdgeStatus;
  readonly ports: string;
  /**
   * DNS (port 53), or an edge of a hub (a node talking to more than HUB_PEERS nodes, like a
   * Prometheus scraping everything): left out of the layout, drawn straight and hidden until asked.
   */
  readonly hub: boolean;
  /** Evidence lines: counts, times, L7, pods, policies. */
  readonly evidence: readonly string[];
  /** The observed edges behind it (`edgeId`). */
  readonly edgeIds: readonly string[];
}

export interface ServiceMapGraph {
  readonly groups: readonly MapGroup[];
  readonly nodes: readonly MapNode[];
  readonly edges: readonly MapEdge[];
}

/** Positions from the layout, absolute, in SVG user units. */
export interface MapLayout {
  readonly graph: ServiceMapGraph;
  readonly width: number;
  readonly height: number;
  readonly groups: ReadonlyMap<string, Box>;
  readonly nodes: ReadonlyMap<string, Box>;
  readonly edges: ReadonlyMap<string, readonly (readonly [number, number])[]>;
}

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export const EXTERNAL_GROUP = 'external:';
export const ENTITY_GROUP = 'entities:';
/** Longest node label drawn; the tooltip has the whole name. */
const LABEL_MAX = 36;
/** Above this many world IPs a workload's IPs become one node. */
const IPS_AS_ONE = 4;
const CHAR_WIDTH = 7;
/** Nodes with more peers than this are hubs: their edges would dominate the picture. */
const HUB_PEERS = 12;
export const NODE_HEIGHT = 26;

const STATUS_RANK: Readonly<Record<EdgeStatus, number>> = { 'would-drop': 3, dropped: 2, allowed: 1, 'no-policy': 0 };

export function cutLabel(s: string, max = LABEL_MAX): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export function serviceMapGraph(inv: Inventory, status: ReadonlyMap<string, EdgeStatus>): ServiceMapGraph {
  const groups = new Map<string, MapGroup>();
  const nodes = new Map<string, MapNode>();
  const node = (id: string, label: string, title: string, kind: MapNode['kind'], group: MapGroup): string => {
    if (!groups.has(group.id)) groups.set(group.id, group);
    if (!nodes.has(id)) {
      const text = cutLabel(label);
      nodes.set(id, { id, label: text, title, kind, group: group.id, width: Math.max(48, text.length * CHAR_WIDTH + 18), height: NODE_HEIGHT });
    }
    return id;
  };
  const external: MapGroup = { id: EXTERNAL_GROUP, label: 'outside the cluster', kind: 'external' };
  const entities: MapGroup = { id: ENTITY_GROUP, label: 'entities', kind: 'entities' };
  // Every workload in scope gets a node, with or without edges.
  for (const w of inv.workloads) {
    const p: Peer = { kind: 'workload', namespace: w.namespace, workloadKind: w.kind, name: w.name };
    node(peerId(p), w.name, `${w.namespace}/${w.kind}/${w.name}`, 'workload', { id: `ns:${w.namespace}`, label: w.namespace, kind: 'namespace' });
  }
  const cidrTargets = new Map<string, Set<string>>();
  for (const e of inv.edges) {
    if (e.to.kind !== 'cidr') continue;
    const s = cidrTargets.get(peerId(e.from)) ?? new Set<string>();
    cidrTargets.set(peerId(e.from), s.add(e.to.cidr));
  }
  const nodeOf = (p: Peer, other: Peer): string => {
    switch (p.kind) {
      case 'workload':
        return node(peerId(p), p.name, `${p.namespace}/${p.workloadKind}/${p.name}`, 'workload', { id: `ns:${p.namespace}`, label: p.namespace, kind: 'namespace' });
      case 'entity': {
        // Hubs (host probes, API server clients) get a copy in each namespace: lines stay short.
        if (other.kind === 'workload') {
          const ns: MapGroup = { id: `ns:${other.namespace}`, label: other.namespace, kind: 'namespace' };
          return node(`${peerId(p)}@${other.namespace}`, p.entity, `entity ${p.entity} (as seen from namespace ${other.namespace})`, 'entity', ns);
        }
        return node(peerId(p), p.entity, `entity ${p.entity}`, 'entity', entities);
      }
      case 'fqdn':
        return node(peerId(p), p.fqdn, p.fqdn, 'fqdn', external);
      case 'cidr': {
        const many = cidrTargets.get(peerId(other));
        if (many && many.size > IPS_AS_ONE) {
          return node(`ips:${peerId(other)}`, `${many.size} world IPs`, [...many].sort().map(cidrName).join(', '), 'ips', external);
        }
        const range = p.enclosing?.[p.enclosing.length - 1];
        return node(peerId(p), cidrName(p.cidr), range ? `${p.cidr} (${range.name})` : p.cidr, 'cidr', external);
      }
      default: {
        const never: never = p;
        return never;
      }
    }
  };
  const pairs = new Map<string, { from: string; to: string; edges: Edge[] }>();
  for (const e of inv.edges) {
    const from = nodeOf(e.from, e.to);
    const to = nodeOf(e.to, e.from);
    const k = `${from}\n${to}`;
    const pair = pairs.get(k);
    if (pair) pair.edges.push(e);
    else pairs.set(k, { from, to, edges: [e] });
  }
  const degree = new Map<string, number>();
  for (const p of pairs.values()) {
    if (p.from === p.to) continue;
    degree.set(p.from, (degree.get(p.from) ?? 0) + 1);
    degree.set(p.to, (degree.get(p.to) ?? 0) + 1);
  }
  const isHub = (id: string): boolean => (degree.get(id) ?? 0) > HUB_PEERS;
  const edges = [...pairs.values()].map((p, i): MapEdge => {
    const st = p.edges.map((e) => status.get(edgeId(e)) ?? 'no-policy').reduce((a, b) => (STATUS_RANK[b] > STATUS_RANK[a] ? b : a));
    return {
      id: `e${i}`,
      from: p.from,
      to: p.to,
      status: st,
      ports: formatPorts(p.edges.map((e) => ({ protocol: e.protocol, port: e.port }))),
      hub: isHub(p.from) || isHub(p.to) || p.edges.every((e) => e.port === 53 && (e.protocol === 'UDP' || e.protocol === 'TCP')),
      evidence: evidence(p.edges, status),
      edgeIds: p.edges.map(edgeId),
    };
  });
  // A hub's edges are hidden by default: its label says how many peers it has.
  for (const [id, n] of nodes) {
    if (!isHub(id)) continue;
    const label = `${cutLabel(n.label, LABEL_MAX - 12)} (${degree.get(id)} peers)`;
    nodes.set(id, { ...n, label, title: `${n.title}: ${degree.get(id)} peers (hub edges are hidden until shown)`, width: Math.max(48, label.length * CHAR_WIDTH + 18) });
  }
  const sortedGroups = [...groups.values()].sort((a, b) => groupRank(a) - groupRank(b) || (a.label < b.label ? -1 : 1));
  return { groups: sortedGroups, nodes: [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : 1)), edges };
}

const groupRank = (g: MapGroup): number => (g.kind === 'entities' ? 0 : g.kind === 'namespace' ? 1 : 2);

function evidence(edges: readonly Edge[], status: ReadonlyMap<string, EdgeStatus>): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const st = status.get(edgeId(e)) ?? 'no-policy';
    out.push(
      `${e.port}/${e.protocol}: ${formatCount(e.flows)} flows, ${formatCount(e.connections)} connections, ${formatCount(e.forwarded)} forwarded` +
        (e.dropped > 0 ? `, ${formatCount(e.dropped)} dropped (${Object.keys(e.dropReasons).join(', ')})` : '') +
        `; ${st.replace('-', ' ')}; seen ${formatTime(e.firstSeenMs)} to ${formatTime(e.lastSeenMs)} in ${e.hoursSeen} hours`,
    );
    if (e.httpRequests.length > 0) out.push(`  HTTP: ${e.httpRequests.slice(0, 5).join(', ')}${e.httpRequests.length > 5 ? ', …' : ''}`);
    if (e.dnsNames.length > 0) out.push(`  DNS: ${e.dnsNames.slice(0, 5).join(', ')}${e.dnsNames.length > 5 ? ', …' : ''}`);
    if (e.ips.length > 0 && e.to.kind !== 'workload') out.push(`  IPs: ${e.ips.slice(0, 5).join(', ')}${e.ips.length > 5 ? ', …' : ''}`);
    if (e.services.length > 0) out.push(`  via Service ${e.services.join(', ')}`);
    if (e.srcPods.length > 0 || e.dstPods.length > 0) out.push(`  pods: ${[...e.srcPods.slice(0, 2), '→', ...e.dstPods.slice(0, 2)].join(' ')}`);
    if (e.allowedBy.length > 0) out.push(`  allowed by (Hubble): ${e.allowedBy.join(', ')}`);
    if (e.deniedBy.length > 0) out.push(`  denied by (Hubble): ${e.deniedBy.join(', ')}`);
  }
  return out;
}
