/**
 * The service map as a graph to lay out: namespaces as groups, workloads and external peers as
 * nodes, one edge per pair of nodes (ports merged) coloured by what the policies do. Pure; the
 * layout (elkjs) happens in app/, the drawing in inventory-html.ts.
 */
import type { Edge, Peer } from '../graph/index.js';
import { cidrName, type EdgeStatus, type Inventory, type InventoryEdge, peerId } from './inventory.js';
import type { EdgeStatusOf } from './policy-findings.js';
import { formatPorts } from './ports.js';
import { formatCount, formatTime } from './table.js';

export interface MapNode {
  readonly id: string;
  readonly label: string;
  /** Full name and what it is, for the tooltip. */
  readonly title: string;
  readonly kind: 'workload' | 'namespace' | 'entity' | 'fqdn' | 'cidr' | 'ips';
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
  /** The observed edges behind it (drawn as their `edgeId`s, which are not kept: 60,000 ids are MBs). */
  readonly edges: readonly Pick<Edge, 'from' | 'to' | 'protocol' | 'port'>[];
}

export interface ServiceMapGraph {
  readonly groups: readonly MapGroup[];
  readonly nodes: readonly MapNode[];
  readonly edges: readonly MapEdge[];
  /**
   * `namespaces` when the scope had too many workloads for one readable map: one node per
   * namespace, the edges between namespaces merged (see `namespaceMapGraph`).
   */
  readonly level: 'workloads' | 'namespaces';
  /** Workloads in scope (what a namespace-level map stands for). */
  readonly workloads: number;
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

/**
 * Above this many workloads in scope one map of workloads is no longer readable (at 150 it is
 * 33,000 px tall) and elkjs's recursion overflows the stack near 3,000: the map shows namespaces.
 */
export const MAP_WORKLOAD_LIMIT = 200;
/** Above this many namespaces even the namespace map is left out (with a note). */
export const MAP_NAMESPACE_LIMIT = 600;

/** The map the report draws for this scope: workloads, or namespaces when there are too many. */
export function reportMapGraph(inv: Inventory, status: EdgeStatusOf): ServiceMapGraph | undefined {
  return mapsWorkloads(inv) ? serviceMapGraph(inv, status) : scopeMapGraph(inv, status);
}

/**
 * Whether the report's map draws each workload, with every edge's evidence (pods, DNS names,
 * HTTP requests, policies Hubble named). A map of namespaces prints none of those lists: a reader
 * that knows the scope is this big need not read them.
 */
export const mapsWorkloads = (inv: Pick<Inventory<InventoryEdge>, 'workloads'>): boolean => inv.workloads.length <= MAP_WORKLOAD_LIMIT;

/** `reportMapGraph` for a scope too big for a map of workloads: namespaces, or none when there are too many. */
export function scopeMapGraph<E extends InventoryEdge>(inv: Inventory<E>, status: EdgeStatusOf): ServiceMapGraph | undefined {
  const namespaces = new Set(inv.workloads.map((w) => w.namespace));
  return namespaces.size <= MAP_NAMESPACE_LIMIT ? namespaceMapGraph(inv, status) : undefined;
}

export function serviceMapGraph(inv: Inventory, status: EdgeStatusOf): ServiceMapGraph {
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
  const isHub = markHubs(pairs.values(), nodes);
  const edges = [...pairs.values()].map((p, i): MapEdge => {
    const st = p.edges.map(status).reduce((a, b) => (STATUS_RANK[b] > STATUS_RANK[a] ? b : a));
    return {
      id: `e${i}`,
      from: p.from,
      to: p.to,
      status: st,
      ports: formatPorts(p.edges),
      hub: isHub(p.from) || isHub(p.to) || p.edges.every((e) => e.port === 53 && (e.protocol === 'UDP' || e.protocol === 'TCP')),
      evidence: evidence(p.edges, status),
      edges: p.edges,
    };
  });
  const sortedGroups = [...groups.values()].sort((a, b) => groupRank(a) - groupRank(b) || (a.label < b.label ? -1 : 1));
  return { groups: sortedGroups, nodes: [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : 1)), edges, level: 'workloads', workloads: inv.workloads.length };
}

/** Example edges an edge of the namespace map lists in its evidence before "… and N more". */
const EXAMPLES = 8;
/** Distinct ports an edge of the namespace map names before it only counts them. */
const PORTS_NAMED = 6;

/**
 * The map of a scope too big to draw workload by workload: one node per namespace (titled with its
 * workload count and the edges inside it), entities as they are, FQDNs and world IPs as one node
 * each; the observed edges between two nodes merged into one, coloured by the worst status among
 * them, with counts per status and example workload pairs as evidence. Hub and DNS edges are hidden
 * until asked for, as on the workload map.
 */
export function namespaceMapGraph<E extends InventoryEdge>(inv: Inventory<E>, status: EdgeStatusOf): ServiceMapGraph {
  const namespaces: MapGroup = { id: 'namespaces:', label: 'namespaces', kind: 'namespace' };
  const external: MapGroup = { id: EXTERNAL_GROUP, label: 'outside the cluster', kind: 'external' };
  const entities: MapGroup = { id: ENTITY_GROUP, label: 'entities', kind: 'entities' };
  const workloadsIn = new Map<string, number>();
  for (const w of inv.workloads) workloadsIn.set(w.namespace, (workloadsIn.get(w.namespace) ?? 0) + 1);
  const inside = new Map<string, number>();
  const fqdns = new Set<string>();
  const ips = new Set<string>();
  for (const e of inv.edges) {
    if (e.to.kind === 'fqdn') fqdns.add(e.to.fqdn);
    if (e.to.kind === 'cidr') ips.add(e.to.cidr);
    if (e.from.kind === 'cidr') ips.add(e.from.cidr);
  }
  // Per peer object, as the edges share them: the ids are map keys, built and hashed once.
  const ids = new Map<Peer, string>();
  const idOf = (p: Peer): string => {
    let id = ids.get(p);
    if (id === undefined) ids.set(p, (id = nodeIdOf(p)));
    return id;
  };
  const nodeIdOf = (p: Peer): string => {
    switch (p.kind) {
      case 'workload':
        return `ns:${p.namespace}`;
      case 'entity':
        return peerId(p);
      case 'fqdn':
        return 'fqdns:';
      case 'cidr':
        return 'ips:';
      default: {
        const never: never = p;
        return never;
      }
    }
  };
  const pairs = new Map<string, { from: string; to: string; edges: E[] }>();
  for (const e of inv.edges) {
    const from = idOf(e.from);
    const to = idOf(e.to);
    if (from === to && e.from.kind === 'workload') {
      inside.set(from, (inside.get(from) ?? 0) + 1);
      continue;
    }
    const k = `${from}\n${to}`;
    const pair = pairs.get(k);
    if (pair) pair.edges.push(e);
    else pairs.set(k, { from, to, edges: [e] });
  }
  const nodes = new Map<string, MapNode>();
  const add = (id: string, label: string, title: string, kind: MapNode['kind'], group: MapGroup): void => {
    const text = cutLabel(label);
    nodes.set(id, { id, label: text, title, kind, group: group.id, width: Math.max(48, text.length * CHAR_WIDTH + 18), height: NODE_HEIGHT });
  };
  for (const [ns, n] of workloadsIn) {
    const id = `ns:${ns}`;
    add(id, `${ns} (${formatCount(n)})`, `namespace ${ns}: ${formatCount(n)} workload${n === 1 ? '' : 's'}, ${formatCount(inside.get(id) ?? 0)} edges between them`, 'namespace', namespaces);
  }
  for (const p of pairs.values()) {
    const first = p.edges[0] as E;
    for (const [id, peer] of [[p.from, first.from], [p.to, first.to]] as const) {
      if (nodes.has(id)) continue;
      if (peer.kind === 'workload') add(id, peer.namespace, `namespace ${peer.namespace} (outside the scope)`, 'namespace', namespaces);
      else if (peer.kind === 'entity') add(id, peer.entity, `entity ${peer.entity}`, 'entity', entities);
      else if (peer.kind === 'fqdn') add(id, `${formatCount(fqdns.size)} FQDNs`, [...fqdns].sort().slice(0, 50).join(', ') + (fqdns.size > 50 ? ', …' : ''), 'fqdn', external);
      else add(id, `${formatCount(ips.size)} world IPs`, [...ips].sort().slice(0, 50).map(cidrName).join(', ') + (ips.size > 50 ? ', …' : ''), 'ips', external);
    }
  }
  const isHub = markHubs(pairs.values(), nodes);
  const edges = [...pairs.values()].map((p, i): MapEdge => {
    const statuses = p.edges.map(status);
    const ports = new Set(p.edges.map((e) => `${e.protocol}/${e.port}`));
    return {
      id: `e${i}`,
      from: p.from,
      to: p.to,
      status: statuses.reduce((a, b) => (STATUS_RANK[b] > STATUS_RANK[a] ? b : a)),
      ports: ports.size <= PORTS_NAMED ? formatPorts(p.edges) : `${formatCount(ports.size)} ports`,
      hub: isHub(p.from) || isHub(p.to) || p.edges.every((e) => e.port === 53 && (e.protocol === 'UDP' || e.protocol === 'TCP')),
      evidence: mergedEvidence(p.edges, statuses),
      edges: p.edges,
    };
  });
  const groups = [entities, namespaces, external].filter((g) => [...nodes.values()].some((n) => n.group === g.id));
  return { groups, nodes: [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : 1)), edges, level: 'namespaces', workloads: inv.workloads.length };
}

/** Counts per status and the first few workload pairs of a merged edge, busiest and worst first. */
function mergedEvidence(edges: readonly InventoryEdge[], statuses: readonly EdgeStatus[]): string[] {
  const byStatus = new Map<EdgeStatus, number>();
  for (const s of statuses) byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
  const flows = edges.reduce((n, e) => n + e.flows, 0);
  const out = [
    `${formatCount(edges.length)} observed edge${edges.length === 1 ? '' : 's'}, ${formatCount(flows)} flows: ` +
      [...byStatus.entries()].sort(([a], [b]) => STATUS_RANK[b] - STATUS_RANK[a]).map(([s, n]) => `${formatCount(n)} ${s.replace('-', ' ')}`).join(', '),
  ];
  const examples = firstSorted(
    edges.map((e, i) => ({ e, s: statuses[i] ?? 'no-policy' })),
    EXAMPLES,
    (a, b) => STATUS_RANK[b.s] - STATUS_RANK[a.s] || b.e.flows - a.e.flows,
  );
  for (const { e, s } of examples) out.push(`  ${endName(e.from)} → ${endName(e.to)} ${e.port}/${e.protocol}: ${formatCount(e.flows)} flows, ${s.replace('-', ' ')}`);
  if (edges.length > EXAMPLES) out.push(`  … and ${formatCount(edges.length - EXAMPLES)} more (report -o html -n NAMESPACE draws them one by one)`);
  return out;
}

/**
 * The first `k` of `items` as a stable sort by `compare` would order them, without sorting them
 * all: a namespace pair merges thousands of edges and shows eight.
 */
function firstSorted<T>(items: readonly T[], k: number, compare: (a: T, b: T) => number): T[] {
  const top: T[] = [];
  if (k <= 0) return top;
  for (const x of items) {
    if (top.length === k && compare(x, top[k - 1] as T) >= 0) continue;
    let i = top.length;
    while (i > 0 && compare(x, top[i - 1] as T) < 0) i--;
    top.splice(i, 0, x);
    if (top.length > k) top.pop();
  }
  return top;
}

function endName(p: Peer): string {
  switch (p.kind) {
    case 'workload':
      return `${p.namespace}/${p.name}`;
    case 'entity':
      return p.entity;
    case 'fqdn':
      return p.fqdn;
    case 'cidr':
      return cidrName(p.cidr);
    default: {
      const never: never = p;
      return never;
    }
  }
}

/**
 * Nodes with more than HUB_PEERS peers are hubs (a scraper, the DNS server): their edges would
 * dominate the picture, so they are hidden by default and the hub's label says how many peers it
 * has. Relabels the hubs in `nodes`; returns the test.
 */
function markHubs(pairs: Iterable<{ readonly from: string; readonly to: string }>, nodes: Map<string, MapNode>): (id: string) => boolean {
  const degree = new Map<string, number>();
  for (const p of pairs) {
    if (p.from === p.to) continue;
    degree.set(p.from, (degree.get(p.from) ?? 0) + 1);
    degree.set(p.to, (degree.get(p.to) ?? 0) + 1);
  }
  const isHub = (id: string): boolean => (degree.get(id) ?? 0) > HUB_PEERS;
  for (const [id, n] of nodes) {
    if (!isHub(id)) continue;
    const label = `${cutLabel(n.label, LABEL_MAX - 12)} (${degree.get(id)} peers)`;
    nodes.set(id, { ...n, label, title: `${n.title}: ${degree.get(id)} peers (hub edges are hidden until shown)`, width: Math.max(48, label.length * CHAR_WIDTH + 18) });
  }
  return isHub;
}

const groupRank = (g: MapGroup): number => (g.kind === 'entities' ? 0 : g.kind === 'namespace' ? 1 : 2);

function evidence(edges: readonly Edge[], status: EdgeStatusOf): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const st = status(e);
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
