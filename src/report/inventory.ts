/**
 * The network inventory people keep by hand next to their policies (per-namespace
 * `Component | Ingress | Egress`, cross-namespace and external tables, entities, coverage, health),
 * built from the observed edge graph in one pass over the edges. Pure: renderers (Markdown, HTML)
 * turn an `Inventory` into text; nothing here formats a time relative to the clock.
 */
import type { Edge, EdgeProtocol, NamespaceConvergence, Peer, ProjectedEdge, WorkloadInfo } from '../graph/index.js';
import type { DropGroup } from '../triage/index.js';
import { formatPorts } from './ports.js';

export { formatPorts, type PortRef } from './ports.js';

/**
 * What the inventory and its Markdown read of an edge: ends, ports, counters and times, and of
 * the evidence only the Services and HTTP requests (the HTML's map reads more: it takes `Edge`).
 */
export type InventoryEdge = ProjectedEdge<'services' | 'httpRequests'>;

/** What the baseline is made of: where the flows came from and where it has holes. */
export interface BaselineHealth {
  readonly firstFlowMs: number | null;
  readonly lastFlowMs: number | null;
  readonly flows: number;
  readonly sources: readonly { readonly name: string; readonly kind: string; readonly status: string; readonly flows: number; readonly lostEvents: number }[];
  readonly lostEvents: readonly { readonly source: string; readonly reports: number; readonly lost: number; readonly firstMs: number | null; readonly lastMs: number | null }[];
  readonly verdicts: Readonly<Record<string, number>>;
  readonly dropReasons: Readonly<Record<string, number>>;
}

/** How the loaded policies treat one workload, per direction. */
export interface SideCoverage {
  /** Policies selecting it for this direction (`Kind ns/name`). */
  readonly selectedBy: readonly string[];
  /** Default deny is on: only what a rule allows gets through. */
  readonly enforced: boolean;
}

export interface WorkloadCoverage {
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  readonly ingress: SideCoverage;
  readonly egress: SideCoverage;
}

/** What the policies do to one observed edge (the service map colours edges by it). */
export type EdgeStatus = 'allowed' | 'would-drop' | 'dropped' | 'no-policy';

export interface WouldDropRow {
  readonly edge: Edge;
  readonly side: string;
  readonly reason: string;
  readonly policies: readonly string[];
}

export interface DroppedRow {
  readonly from: Peer;
  readonly to: Peer;
  readonly protocol: string;
  readonly port?: number;
  /** A many-port drop group's ports (a port scan): `port` is then absent. */
  readonly ports?: DropGroup['ports'];
  readonly reason: string;
  readonly attempts: number;
  readonly flows: number;
  readonly lastSeenMs: number;
  readonly policies: readonly string[];
  readonly summary: string;
}

export interface PolicyFindings {
  /** Policy documents loaded and the files they came from. */
  readonly policies: number;
  readonly files: readonly string[];
  readonly coverage: readonly WorkloadCoverage[];
  readonly wouldDrop: readonly WouldDropRow[];
  readonly dropped: readonly DroppedRow[];
  readonly unusedRules: readonly { readonly policy: string; readonly path: string; readonly file?: string }[];
  readonly lints: readonly { readonly policy: string; readonly message: string }[];
  /** Status per edge, keyed by `edgeId`. */
  readonly edgeStatus: ReadonlyMap<string, EdgeStatus>;
}

export interface InventoryInput<E extends InventoryEdge = Edge> {
  readonly edges: readonly E[];
  readonly workloads: readonly WorkloadInfo[];
  readonly convergence: readonly NamespaceConvergence[];
  readonly health: BaselineHealth;
  /** Only these namespaces (all when absent or empty). */
  readonly namespaces?: readonly string[];
  readonly policies?: PolicyFindings;
}

/** One line of a component's Ingress or Egress cell. */
export interface Clause<E extends InventoryEdge = Edge> {
  readonly text: string;
  /** The edges behind it (for the HTML's evidence). */
  readonly edges: readonly E[];
}

export interface ComponentRow<E extends InventoryEdge = Edge> {
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  /** Kubernetes Services it was reached through (names in its namespace), when they differ from its name. */
  readonly services: readonly string[];
  readonly ingress: readonly Clause<E>[];
  readonly egress: readonly Clause<E>[];
  readonly coverage?: WorkloadCoverage;
}

export interface NamespaceSection<E extends InventoryEdge = Edge> {
  readonly namespace: string;
  readonly components: readonly ComponentRow<E>[];
  readonly convergence?: NamespaceConvergence;
}

export interface CrossNamespaceRow {
  readonly from: string;
  readonly fromNamespace: string;
  readonly to: string;
  readonly toNamespace: string;
  readonly ports: string;
  readonly purpose: string;
}

export interface ExternalRow {
  readonly namespace: string;
  readonly component: string;
  /** `api.themoviedb.org + image.tmdb.org:443` clauses. */
  readonly fqdns: readonly string[];
  readonly cidrs: readonly string[];
}

export interface EntityRow {
  readonly entity: string;
  readonly role: string;
  /** `paperless-ngx (self-hosted), postgres (dbms) → 8000`: components with the same ports share a line. */
  readonly members: readonly string[];
}

export interface Inventory<E extends InventoryEdge = Edge> {
  readonly namespaces: readonly NamespaceSection<E>[];
  readonly crossNamespace: readonly CrossNamespaceRow[];
  readonly external: readonly ExternalRow[];
  readonly entities: readonly EntityRow[];
  readonly health: BaselineHealth;
  readonly convergence: readonly NamespaceConvergence[];
  /** Edges in scope (an end in a selected namespace), forwarded or dropped. */
  readonly edges: readonly E[];
  readonly workloads: readonly WorkloadInfo[];
  readonly policies?: PolicyFindings;
  /** Forwarded edges in scope. */
  readonly observedEdges: number;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Stable id of an edge (the map and the policy findings key edges by it). */
export function edgeId(e: Pick<Edge, 'from' | 'to' | 'protocol' | 'port'>): string {
  return `${peerId(e.from)}>${peerId(e.to)}>${e.protocol}>${e.port}`;
}

/**
 * Ids of the peers already named: the graph's edges share one object per peer, and at tens of
 * thousands of edges building and hashing the same id string again per edge was most of the
 * inventory's own work.
 */
const PEER_IDS = new WeakMap<Peer, string>();

export function peerId(p: Peer): string {
  let id = PEER_IDS.get(p);
  if (id === undefined) PEER_IDS.set(p, (id = newPeerId(p)));
  return id;
}

function newPeerId(p: Peer): string {
  switch (p.kind) {
    case 'workload':
      return `w:${p.namespace}/${p.workloadKind}/${p.name}`;
    case 'entity':
      return `e:${p.entity}`;
    case 'fqdn':
      return `f:${p.fqdn}`;
    case 'cidr':
      return `c:${p.cidr}`;
    default: {
      const never: never = p;
      return never;
    }
  }
}

/** Host part of a /32 or /128, the CIDR otherwise. */
export function cidrName(cidr: string): string {
  return cidr.replace(/\/(32|128)$/, '');
}

/** Ports of the Kubernetes API server: clients of `kube-apiserver` on these need no port in the text. */
const API_PORTS = new Set([443, 6443]);

const NO_SERVICES: readonly string[] = [];

/** Peers named as people name them: the workload (with its namespace when another), the entity, the FQDN, the IP. */
export class PeerNamer {
  private readonly services = new Map<string, Set<string>>();

  /** Services per destination workload, from the edges that reached it through one. */
  constructor(edges: readonly InventoryEdge[]) {
    for (const e of edges) {
      if (e.to.kind !== 'workload' || e.services.length === 0) continue;
      const id = peerId(e.to);
      let set = this.services.get(id);
      if (!set) this.services.set(id, (set = new Set()));
      for (const s of e.services) {
        const [ns, name] = s.split('/');
        if (ns === e.to.namespace && name !== undefined && name !== e.to.name) set.add(name);
      }
    }
  }

  /** Sorted once per peer: a name is asked for per clause and per entity edge. */
  private readonly sorted = new Map<string, readonly string[]>();

  servicesOf(p: Peer): readonly string[] {
    const id = peerId(p);
    let list = this.sorted.get(id);
    if (list === undefined) this.sorted.set(id, (list = [...(this.services.get(id) ?? [])].sort(cmp)));
    return list;
  }

  /**
   * `postgres`, `postgres (dbms)`, `postgres (dbms, svc postgres-rw)`, `kube-apiserver`, `1.1.1.1`.
   * Services only name destinations (`asClient` leaves them out).
   */
  name(p: Peer, viewNamespace?: string, asClient = false): string {
    switch (p.kind) {
      case 'workload': {
        const services = asClient ? NO_SERVICES : this.servicesOf(p);
        // The common case (a peer of its own namespace, no Service) without the arrays below: names are asked per edge.
        if (p.namespace === viewNamespace && services.length === 0) return p.name;
        const notes = [...(p.namespace === viewNamespace ? [] : [p.namespace]), ...services.map((s) => `svc ${s}`)];
        return `${p.name} (${notes.join(', ')})`;
      }
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
}

const PEER_ORDER: Readonly<Record<Peer['kind'], number>> = { workload: 0, entity: 1, fqdn: 2, cidr: 3 };


/** Workloads in the selected namespaces plus every namespace an edge in scope touches. */
function inScope(namespaces: readonly string[] | undefined): (p: Peer) => boolean {
  if (!namespaces || namespaces.length === 0) return (p) => p.kind === 'workload';
  const set = new Set(namespaces);
  return (p) => p.kind === 'workload' && set.has(p.namespace);
}

interface Accumulator<E> {
  readonly row: { namespace: string; kind: string; name: string };
  /** Inbound edges by source peer id. */
  readonly ingress: Map<string, E[]>;
  readonly egress: Map<string, E[]>;
}

/** Adds `value` to the list under `key` (in place: a list of thousands grows by one, not by a copy). */
function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Builds the whole inventory in one pass over the edges (then sorts and groups per component). */
export function buildInventory<E extends InventoryEdge = Edge>(input: InventoryInput<E>): Inventory<E> {
  const selected = inScope(input.namespaces);
  // Without -n every edge is in scope, entity to entity too (remote-node → health).
  const scoped = input.namespaces && input.namespaces.length > 0 ? input.edges.filter((e) => selected(e.from) || selected(e.to)) : input.edges;
  const namer = new PeerNamer(input.edges);
  const components = new Map<string, Accumulator<E>>();
  const component = (p: Extract<Peer, { kind: 'workload' }>): Accumulator<E> => {
    const id = peerId(p);
    let acc = components.get(id);
    if (!acc) components.set(id, (acc = { row: { namespace: p.namespace, kind: p.workloadKind, name: p.name }, ingress: new Map(), egress: new Map() }));
    return acc;
  };
  for (const w of input.workloads) {
    const p: Peer = { kind: 'workload', namespace: w.namespace, workloadKind: w.kind, name: w.name };
    if (selected(p)) component(p);
  }
  let observed = 0;
  for (const e of scoped) {
    if (e.forwarded <= 0) continue;
    observed++;
    if (e.from.kind === 'workload' && selected(e.from)) append(component(e.from).egress, peerId(e.to), e);
    if (e.to.kind === 'workload' && selected(e.to)) append(component(e.to).ingress, peerId(e.from), e);
  }

  const coverage = new Map((input.policies?.coverage ?? []).map((c) => [`w:${c.namespace}/${c.kind}/${c.name}`, c]));
  const byNamespace = new Map<string, ComponentRow<E>[]>();
  for (const [id, acc] of [...components.entries()].sort(([a], [b]) => cmp(a, b))) {
    const ns = acc.row.namespace;
    const self: Peer = { kind: 'workload', namespace: ns, workloadKind: acc.row.kind, name: acc.row.name };
    const cov = coverage.get(id);
    const row: ComponentRow<E> = {
      ...acc.row,
      services: namer.servicesOf(self),
      ingress: ingressClauses(acc.ingress, id, ns, namer),
      egress: egressClauses(acc.egress, id, ns, namer),
      ...(cov && { coverage: cov }),
    };
    append(byNamespace, ns, row);
  }
  const convergence = new Map(input.convergence.map((c) => [c.namespace, c]));
  const namespaces = [...byNamespace.entries()]
    .sort(([a], [b]) => cmp(a, b))
    .map(([namespace, rows]): NamespaceSection<E> => {
      const c = convergence.get(namespace);
      return { namespace, components: rows.sort((a, b) => cmp(a.name, b.name) || cmp(a.kind, b.kind)), ...(c && { convergence: c }) };
    });

  return {
    namespaces,
    crossNamespace: crossNamespaceRows(scoped, namer),
    external: externalRows(scoped, selected, namer),
    entities: entityRows(scoped, namer),
    health: input.health,
    convergence: input.convergence.filter((c) => !input.namespaces?.length || input.namespaces.includes(c.namespace)),
    edges: scoped,
    workloads: input.workloads.filter((w) => selected({ kind: 'workload', namespace: w.namespace, workloadKind: w.kind, name: w.name })),
    ...(input.policies && { policies: input.policies }),
    observedEdges: observed,
  };
}

const sortPeers = (a: Peer, b: Peer): number => PEER_ORDER[a.kind] - PEER_ORDER[b.kind] || cmp(peerId(a), peerId(b));

/** `server, app-controller → 8081`: sources with the same ports share a line. */
function ingressClauses<E extends InventoryEdge>(bySource: ReadonlyMap<string, E[]>, selfId: string, ns: string, namer: PeerNamer): Clause<E>[] {
  const groups = new Map<string, { names: { peer: Peer; name: string }[]; edges: E[] }>();
  for (const [sourceId, edges] of bySource) {
    const peer = (edges[0] as E).from;
    const ports = formatPorts(edges);
    const name = sourceId === selfId ? 'self' : namer.name(peer, ns, true);
    let g = groups.get(ports);
    if (!g) groups.set(ports, (g = { names: [], edges: [] }));
    g.names.push({ peer, name });
    for (const e of edges) g.edges.push(e);
  }
  return [...groups.entries()]
    .map(([ports, g]) => {
      const names = g.names.sort((a, b) => (a.name === 'self' ? -1 : b.name === 'self' ? 1 : PEER_ORDER[a.peer.kind] - PEER_ORDER[b.peer.kind] || cmp(a.name, b.name)));
      return { text: `${names.map((n) => n.name).join(', ')} → ${ports}`, edges: g.edges, first: names[0] as { peer: Peer; name: string } };
    })
    .sort((a, b) => Number(b.first.name === 'self') - Number(a.first.name === 'self') || PEER_ORDER[a.first.peer.kind] - PEER_ORDER[b.first.peer.kind] || cmp(a.text, b.text))
    .map(({ text, edges }) => ({ text, edges }));
}

/** Most world IPs a component cell lists before it points to the external egress table. */
const CIDRS_IN_CELL = 4;

/**
 * `repo-server:8081`, `kube-apiserver`, `github.com + api.github.com:443`: one line per workload or
 * entity peer, FQDNs (and IPs) with the same ports share a line.
 */
function egressClauses<E extends InventoryEdge>(byTarget: ReadonlyMap<string, E[]>, selfId: string, ns: string, namer: PeerNamer): Clause<E>[] {
  const single: { peer: Peer; clause: Clause<E> }[] = [];
  const shared = new Map<string, { kind: 'fqdn' | 'cidr'; names: string[]; edges: E[] }>();
  const cidrs = [...byTarget.values()].filter((es) => (es[0] as E).to.kind === 'cidr');
  for (const [targetId, edges] of byTarget) {
    const peer = (edges[0] as E).to;
    const ports = formatPorts(edges);
    if (peer.kind === 'fqdn' || (peer.kind === 'cidr' && cidrs.length <= CIDRS_IN_CELL)) {
      const key = `${peer.kind}|${ports}`;
      let g = shared.get(key);
      if (!g) shared.set(key, (g = { kind: peer.kind, names: [], edges: [] }));
      g.names.push(namer.name(peer, ns));
      for (const e of edges) g.edges.push(e);
      continue;
    }
    if (peer.kind === 'cidr') continue;
    const name = targetId === selfId ? 'self' : namer.name(peer, ns);
    const apiOnly = peer.kind === 'entity' && peer.entity === 'kube-apiserver' && edges.every((e) => e.protocol === 'TCP' && API_PORTS.has(e.port));
    single.push({ peer, clause: { text: apiOnly ? name : `${name}:${ports}`, edges } });
  }
  const out = single.sort((a, b) => sortPeers(a.peer, b.peer)).map((s) => s.clause);
  for (const kind of ['fqdn', 'cidr'] as const) {
    const lines = [...shared.entries()]
      .filter(([, g]) => g.kind === kind)
      .map(([key, g]) => ({ text: `${g.names.sort(cmp).join(' + ')}:${key.slice(key.indexOf('|') + 1)}`, edges: g.edges }))
      .sort((a, b) => cmp(a.text, b.text));
    out.push(...lines);
  }
  if (cidrs.length > CIDRS_IN_CELL) {
    const edges = cidrs.flat();
    const ports = new Set(edges.map((e) => `${e.protocol}/${e.port}`));
    out.push({ text: `${cidrs.length} world IPs on ${ports.size} port${ports.size === 1 ? '' : 's'} (see External egress)`, edges });
  }
  return out;
}

/** Well-known ports: what people write in the Purpose column when nothing better is known. */
const PORT_PURPOSE: Readonly<Record<string, string>> = {
  'UDP/53': 'DNS',
  'TCP/53': 'DNS',
  'TCP/80': 'HTTP',
  'TCP/443': 'HTTPS',
  'TCP/1883': 'MQTT',
  'TCP/8883': 'MQTT (TLS)',
  'TCP/3306': 'MySQL',
  'TCP/5432': 'PostgreSQL',
  'TCP/6379': 'Redis',
  'TCP/4222': 'NATS',
  'TCP/9092': 'Kafka',
  'TCP/27017': 'MongoDB',
  'TCP/6443': 'Kubernetes API',
  'TCP/10250': 'kubelet',
  'TCP/9443': 'webhook',
  'TCP/9100': 'node metrics',
  'TCP/9153': 'CoreDNS metrics',
  'TCP/4317': 'OTLP traces',
  'TCP/8000': 'HTTP',
  'TCP/8080': 'HTTP',
};

/** A short, honest guess from L7 evidence, the client's name and the port. */
export function guessPurpose(edges: readonly InventoryEdge[], clientName: string): string {
  const cnpg = edges.every((e) => e.to.kind === 'workload' && e.to.workloadKind === 'Cluster' && e.protocol === 'TCP' && e.port === 8000);
  if (cnpg) return 'CNPG instance manager (status, failover)';
  const http = edges.flatMap((e) => e.httpRequests);
  if (http.some((r) => /\s\/metrics\b/.test(r))) return 'Metrics scrape';
  if (/prometheus|vmagent|victoria-?metrics|alloy|otel-collector/i.test(clientName) && edges.every((e) => e.protocol === 'TCP' && e.port !== 53)) return 'Metrics scrape';
  const known = [...new Set(edges.map((e) => PORT_PURPOSE[`${e.protocol}/${e.port}`]).filter((p): p is string => p !== undefined))];
  if (http.length > 0) return `HTTP (${http.slice(0, 2).join(', ')}${http.length > 2 ? ', …' : ''})`;
  return known.join(', ');
}

/** Cross-namespace workload edges: sources of one namespace with the same target and ports share a row. */
function crossNamespaceRows(edges: readonly InventoryEdge[], namer: PeerNamer): CrossNamespaceRow[] {
  const byPair = new Map<string, InventoryEdge[]>();
  for (const e of edges) {
    if (e.forwarded <= 0 || e.from.kind !== 'workload' || e.to.kind !== 'workload' || e.from.namespace === e.to.namespace) continue;
    append(byPair, `${peerId(e.from)}|${peerId(e.to)}`, e);
  }
  const rows = new Map<string, { from: Set<string>; fromNs: string; to: Peer; toNs: string; ports: string; edges: InventoryEdge[] }>();
  for (const es of byPair.values()) {
    const first = es[0] as InventoryEdge;
    if (first.from.kind !== 'workload' || first.to.kind !== 'workload') continue;
    const ports = formatPorts(es);
    const key = `${first.from.namespace}|${peerId(first.to)}|${ports}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { from: new Set(), fromNs: first.from.namespace, to: first.to, toNs: first.to.namespace, ports, edges: [] }));
    r.from.add(first.from.name);
    for (const e of es) r.edges.push(e);
  }
  return [...rows.values()]
    .map((r) => {
      const from = [...r.from].sort(cmp);
      return {
        from: from.join(', '),
        fromNamespace: r.fromNs,
        /** Named as seen from the client's namespace: `postgres (dbms, svc postgres-rw)`. */
        to: namer.name(r.to, r.fromNs),
        toNamespace: r.toNs,
        ports: r.ports,
        purpose: guessPurpose(r.edges, from.join(' ')),
      };
    })
    .sort((a, b) => cmp(a.fromNamespace, b.fromNamespace) || cmp(a.toNamespace, b.toNamespace) || cmp(a.to, b.to) || cmp(a.from, b.from) || cmp(a.ports, b.ports));
}

/** Per workload, its FQDNs and world IPs (grouped by ports), in full. */
function externalRows(edges: readonly InventoryEdge[], selected: (p: Peer) => boolean, namer: PeerNamer): ExternalRow[] {
  const byWorkload = new Map<string, { ns: string; name: string; fqdn: Map<string, InventoryEdge[]>; cidr: Map<string, InventoryEdge[]> }>();
  for (const e of edges) {
    if (e.forwarded <= 0 || e.from.kind !== 'workload' || !selected(e.from)) continue;
    const external = e.to.kind === 'fqdn' || e.to.kind === 'cidr' || (e.to.kind === 'entity' && e.to.entity === 'world');
    if (!external) continue;
    const id = peerId(e.from);
    let w = byWorkload.get(id);
    if (!w) byWorkload.set(id, (w = { ns: e.from.namespace, name: e.from.name, fqdn: new Map(), cidr: new Map() }));
    const target = e.to.kind === 'fqdn' ? w.fqdn : w.cidr;
    append(target, peerId(e.to), e);
  }
  const clauses = (byPeer: Map<string, InventoryEdge[]>): string[] => {
    const byPorts = new Map<string, string[]>();
    for (const es of byPeer.values()) {
      const ports = formatPorts(es);
      const first = es[0] as InventoryEdge;
      const name = first.to.kind === 'entity' ? `world (${es.flatMap((e) => e.ips).slice(0, 3).join(', ') || 'no IP'})` : namer.name(first.to);
      append(byPorts, ports, name);
    }
    return [...byPorts.entries()].map(([ports, names]) => `${names.sort(cmp).join(' + ')}:${ports}`).sort(cmp);
  };
  return [...byWorkload.values()]
    .map((w) => ({ namespace: w.ns, component: w.name, fqdns: clauses(w.fqdn), cidrs: clauses(w.cidr) }))
    .sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.component, b.component));
}

/** What an entity peer means to the people reading the table. */
function entityRole(entity: string, outbound: boolean): string {
  switch (entity) {
    case 'kube-apiserver':
      return outbound ? 'API server clients' : 'API server calls in (webhooks, aggregated APIs)';
    case 'host':
      return outbound ? 'to the local node (host ports, hostNetwork pods)' : 'from the local node (kubelet probes, hostNetwork pods)';
    case 'remote-node':
      return outbound ? 'to other nodes (node ports, hostNetwork pods)' : 'from other nodes (hostNetwork pods, probes via other nodes)';
    case 'health':
      return outbound ? 'to Cilium health endpoints' : 'Cilium health checks';
    case 'world':
      return outbound ? 'to unnamed world addresses' : 'from the internet';
    default:
      return outbound ? `to ${entity}` : `from ${entity}`;
  }
}

const ENTITY_ORDER = ['kube-apiserver', 'host', 'remote-node', 'health', 'ingress', 'world'];

/** Entities as peers: one row per entity and direction, components with the same ports on one line. */
function entityRows(edges: readonly InventoryEdge[], namer: PeerNamer): EntityRow[] {
  const groups = new Map<string, { entity: string; outbound: boolean; peers: Map<string, InventoryEdge[]> }>();
  const add = (entity: string, outbound: boolean, other: Peer, e: InventoryEdge): void => {
    const key = `${entity}|${outbound}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { entity, outbound, peers: new Map() }));
    const name = namer.name(other, undefined, outbound);
    append(g.peers, name, e);
  };
  for (const e of edges) {
    if (e.forwarded <= 0) continue;
    if (e.to.kind === 'entity' && e.to.entity !== 'world') add(e.to.entity, true, e.from, e);
    if (e.from.kind === 'entity' && e.from.entity !== 'world') add(e.from.entity, false, e.to, e);
  }
  const order = (e: string): number => (ENTITY_ORDER.includes(e) ? ENTITY_ORDER.indexOf(e) : ENTITY_ORDER.length);
  return [...groups.values()]
    .sort((a, b) => order(a.entity) - order(b.entity) || cmp(a.entity, b.entity) || Number(b.outbound) - Number(a.outbound))
    .map((g) => {
      const byPorts = new Map<string, string[]>();
      for (const [name, es] of g.peers) {
        const ports = formatPorts(es);
        append(byPorts, ports, name);
      }
      const members = [...byPorts.entries()]
        .map(([ports, names]) => `${names.sort(cmp).join(', ')} → ${ports}`)
        .sort(cmp);
      return { entity: g.entity, role: entityRole(g.entity, g.outbound), members };
    });
}

export type { EdgeProtocol };
