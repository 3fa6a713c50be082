import { DNS_PORT, dnsEgressRule, dnsServerIngressRules, isDnsPort } from './dns.js';
import { evidenceComment, evidenceOf } from './evidence.js';
import type { GeneratedPolicy, Note, ObservedEdge, Peer, RecommendOptions, WorkloadInfo } from './model.js';
import { describePeer, peerKey, policyName } from './naming.js';
import { groupByPeer } from './peer-groups.js';
import { MAX_PORTS_PER_ENTRY, type PortPlan, type PortSpec, chunk, planPorts, portsLabel } from './ports.js';
import { type WorkloadIndex, sortKeys, unwritablePeer, workloadPeerSelector } from './selectors.js';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'hubble-advisor' } as const;

interface Rule {
  readonly sortKey: string;
  readonly body: Record<string, unknown>;
  readonly comment: string;
}

export interface WorkloadTraffic {
  readonly workload: WorkloadInfo;
  /** Allowed (forwarded or audited) request edges into the workload. */
  readonly inbound: readonly ObservedEdge[];
  /** Allowed request edges out of the workload. */
  readonly outbound: readonly ObservedEdge[];
}

/** One CiliumNetworkPolicy for one workload, with an evidence comment above every rule. */
export function ciliumPolicyFor(
  t: WorkloadTraffic,
  name: string,
  index: WorkloadIndex,
  options: RecommendOptions,
  isDnsServer: (p: Peer) => boolean,
): { policy: GeneratedPolicy; notes: Note[] } {
  const w = t.workload;
  const notes: Note[] = [];
  const note = (kind: Note['kind'], message: string): void => {
    notes.push({ policy: name, namespace: w.namespace, kind, message });
  };
  const servesDns = isDnsServer({ kind: 'workload', namespace: w.namespace, workloadKind: w.kind, name: w.name });
  const ingress = ingressRules(t.inbound, w, index, options, note, servesDns);
  // The baseline CCNPs allow DNS (port 53 to the DNS server) and the API server; other ports to
  // those peers (the DNS server's metrics port) stay here.
  const coveredByBaseline = (e: ObservedEdge): boolean =>
    (isDnsServer(e.to) && isDnsPort(e)) || (e.to.kind === 'entity' && e.to.entity === 'kube-apiserver');
  const outbound = options.baseline ? t.outbound.filter((e) => !coveredByBaseline(e)) : t.outbound;
  const egress = egressRules(outbound, w, index, options, note, isDnsServer);
  const comments = new Map<string, string>();
  const spec: Record<string, unknown> = { endpointSelector: { matchLabels: sortKeys(w.selector) } };
  comments.set('spec.endpointSelector', ` pods of ${w.kind} ${w.namespace}/${w.name}`);
  if (ingress.length > 0) {
    spec['ingress'] = ingress.map((r) => r.body);
    ingress.forEach((r, i) => comments.set(rulePath('ingress', i), r.comment));
  } else {
    spec['ingress'] = [{}];
    comments.set('spec.ingress', ' no inbound connection was observed: default deny');
    note('default-deny', `no inbound traffic to ${w.namespace}/${w.name} was observed: ingress is denied`);
  }
  if (egress.length > 0) {
    spec['egress'] = egress.map((r) => r.body);
    egress.forEach((r, i) => comments.set(rulePath('egress', i), r.comment));
  } else if (options.baseline) {
    // Nothing but DNS / kube-apiserver (or nothing at all): the cluster-wide baseline allows those,
    // so egress stays unenforced here rather than denying the lookups of a restarted pod.
    comments.set('spec', ' egress: only DNS and kube-apiserver were observed; the cluster-wide baseline allows them');
    note('widening', `egress of ${w.namespace}/${w.name} is not enforced by this policy: nothing but DNS and kube-apiserver was observed, and the cluster-wide baseline allows those`);
  } else {
    spec['egress'] = [{}];
    comments.set('spec.egress', ' no outbound connection was observed: default deny');
    note('default-deny', `no outbound traffic from ${w.namespace}/${w.name} was observed: egress is denied`);
  }
  return {
    policy: {
      document: {
        apiVersion: 'cilium.io/v2',
        kind: 'CiliumNetworkPolicy',
        metadata: { name, namespace: w.namespace, labels: { ...MANAGED_BY } },
        spec,
      },
      comments,
    },
    notes,
  };
}

/**
 * `spec.ingress[3]`, made once per direction and index: every policy names the same few dozen
 * paths, and a recommendation keeps each policy's comment keys until it is written.
 */
const rulePaths = { ingress: [] as string[], egress: [] as string[] };
const rulePath = (direction: 'ingress' | 'egress', i: number): string => (rulePaths[direction][i] ??= `spec.${direction}[${i}]`);

type NoteFn = (kind: Note['kind'], message: string) => void;

function toPortsOf(plan: PortPlan): Record<string, unknown>[] {
  return chunk(plan.ports, MAX_PORTS_PER_ENTRY).map((ports) => ({ ports: ports.map(portEntry) }));
}

/** Two literals, not a spread of `{}` or `{ endPort }`: one object per port of every rule. */
const portEntry = (p: PortSpec): Record<string, unknown> =>
  p.endPort !== undefined ? { port: String(p.port), endPort: p.endPort, protocol: p.protocol } : { port: String(p.port), protocol: p.protocol };

/** Adds ports (and ICMP types) to an L3 rule; separate rules when both L4 and ICMP were seen. */
function withPorts(l3: Record<string, unknown>, plan: PortPlan): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (plan.ports.length > 0) out.push({ ...l3, toPorts: toPortsOf(plan) });
  if (plan.icmp.length > 0) out.push({ ...l3, icmps: [{ fields: plan.icmp.map((i) => ({ type: i.type, family: i.family })) }] });
  return out;
}

/** Port 53 seen over one of UDP/TCP allows both (clients retry over TCP); noted when TCP was not seen. */
function withDnsPortsBothWays(plan: PortPlan): PortPlan {
  let udp = false;
  let tcp = false;
  for (const p of plan.ports) {
    if (p.port !== DNS_PORT || p.endPort !== undefined) continue;
    if (p.protocol === 'UDP') udp = true;
    else if (p.protocol === 'TCP') tcp = true;
  }
  if (!udp && !tcp) return plan;
  const add: PortSpec[] = [];
  if (!udp) add.push({ protocol: 'UDP', port: DNS_PORT });
  if (!tcp) add.push({ protocol: 'TCP', port: DNS_PORT });
  const ports = [...plan.ports, ...add].sort((a, b) => (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : a.port - b.port));
  return { ...plan, ports };
}

function ingressRules(edges: readonly ObservedEdge[], w: WorkloadInfo, index: WorkloadIndex, o: RecommendOptions, note: NoteFn, servesDns: boolean): Rule[] {
  const rules: Rule[] = [];
  const cidrs: { peer: Peer; edges: ObservedEdge[] }[] = [];
  if (servesDns) {
    // The cluster DNS answers every pod, seen or not: a pod started tomorrow must resolve names.
    const dnsEdges = edges.filter(isDnsPort);
    const seen = new Set(dnsEdges.map((e) => peerKey(e.from))).size;
    const comment =
      dnsEdges.length > 0
        ? evidenceComment(`DNS from every pod and node (${seen} clients observed) on UDP/53, TCP/53`, evidenceOf(dnsEdges))
        : ' DNS from every pod and node on UDP/53, TCP/53 (cluster DNS)';
    const [fromPods, fromNodes] = dnsServerIngressRules();
    if (fromPods) rules.push({ sortKey: '', body: fromPods, comment });
    if (fromNodes) rules.push({ sortKey: '', body: fromNodes, comment: ' DNS from hostNetwork pods (host, remote-node) on UDP/53, TCP/53' });
    note('widening', `cluster DNS: every pod and node may query UDP/TCP 53, not only the ${seen} clients observed, so that new pods resolve names`);
    edges = edges.filter((e) => !isDnsPort(e));
  }
  for (const [key, g] of groupByPeer(edges, 'from')) {
    const why = unwritablePeer(g.peer, index);
    if (why !== undefined) {
      note('unsupported', `inbound from ${describePeer(g.peer)} is left out: ${why}`);
      continue;
    }
    const plan = withDnsPortsBothWays(planPorts(g.edges, o.portRangeMin));
    for (const r of plan.ranges) note('widening', `from ${describePeer(g.peer)}: ${r}`);
    const comment = evidenceComment(`from ${describePeer(g.peer)} on ${portsLabel(plan)}`, evidenceOf(g.edges));
    const p = g.peer;
    if (p.kind === 'workload') {
      const sel = workloadPeerSelector(p, w.namespace, index);
      if (sel.namespaceWide) note('widening', `${describePeer(p)} has no stable labels: every pod in namespace ${p.namespace} is allowed in`);
      for (const body of withPorts({ fromEndpoints: [{ matchLabels: sel.matchLabels }] }, plan)) rules.push({ sortKey: key, body, comment });
    } else if (p.kind === 'entity') {
      for (const body of withPorts({ fromEntities: [p.entity] }, plan)) rules.push({ sortKey: key, body, comment });
      if (p.entity === 'world') note('widening', 'inbound from entity world: any external address is allowed on these ports');
    } else {
      cidrs.push(g);
    }
  }
  rules.push(...cidrRules(cidrs, 'from', o, note));
  return rules;
}

function egressRules(
  edges: readonly ObservedEdge[],
  w: WorkloadInfo,
  index: WorkloadIndex,
  o: RecommendOptions,
  note: NoteFn,
  isDnsServer: (p: Peer) => boolean,
): Rule[] {
  const rules: Rule[] = [];
  const fqdns: { peer: Peer; edges: ObservedEdge[] }[] = [];
  const cidrs: { peer: Peer; edges: ObservedEdge[] }[] = [];
  if (!o.baseline) {
    // One DNS rule, on port 53 only, UDP and TCP, through the DNS proxy; also when no lookup was
    // seen, so that a restarted pod (empty DNS cache) still resolves names.
    const lookups = edges.filter((e) => isDnsServer(e.to) && isDnsPort(e));
    const comment =
      lookups.length > 0
        ? evidenceComment('DNS to the cluster DNS on UDP/53, TCP/53', evidenceOf(lookups))
        : ' DNS to the cluster DNS on UDP/53, TCP/53 (no lookup observed; allowed so a restarted pod can resolve names)';
    rules.push({ sortKey: '', body: dnsEgressRule(o), comment });
    if (edges.some((e) => e.to.kind === 'fqdn')) note('info', 'the DNS rule carries `dns: matchPattern "*"` so that the DNS proxy learns the IPs of the toFQDNs names');
  }
  // Lookups are covered by the DNS rule above (or by the baseline); other ports to the DNS server are plain L4.
  edges = edges.filter((e) => !(isDnsServer(e.to) && isDnsPort(e)));
  for (const [key, g] of groupByPeer(edges, 'to')) {
    const why = unwritablePeer(g.peer, index);
    if (why !== undefined) {
      note('unsupported', `outbound to ${describePeer(g.peer)} is left out: ${why}`);
      continue;
    }
    const plan = withDnsPortsBothWays(planPorts(g.edges, o.portRangeMin));
    for (const r of plan.ranges) note('widening', `to ${describePeer(g.peer)}: ${r}`);
    const comment = evidenceComment(`to ${describePeer(g.peer)} on ${portsLabel(plan)}`, evidenceOf(g.edges));
    const p = g.peer;
    if (p.kind === 'workload') {
      const sel = workloadPeerSelector(p, w.namespace, index);
      if (sel.namespaceWide) note('widening', `${describePeer(p)} has no stable labels: every pod in namespace ${p.namespace} is allowed out`);
      for (const body of withPorts({ toEndpoints: [{ matchLabels: sel.matchLabels }] }, plan)) rules.push({ sortKey: key, body, comment });
    } else if (p.kind === 'entity') {
      for (const body of withPorts({ toEntities: [p.entity] }, plan)) rules.push({ sortKey: key, body, comment });
      if (p.entity === 'world') note('widening', 'egress to entity world: any external address is allowed on these ports (no DNS name or IP was learned)');
    } else if (p.kind === 'fqdn') {
      fqdns.push(g);
    } else {
      cidrs.push(g);
    }
  }
  rules.push(...fqdnRules(fqdns, o, note));
  rules.push(...cidrRules(cidrs, 'to', o, note));
  return rules;
}

/** FQDN peers that share the same ports go into one rule. */
function fqdnRules(groups: { peer: Peer; edges: ObservedEdge[] }[], o: RecommendOptions, note: NoteFn): Rule[] {
  const byPorts = new Map<string, { names: string[]; edges: ObservedEdge[]; plan: PortPlan }>();
  for (const g of groups) {
    if (g.peer.kind !== 'fqdn') continue;
    const plan = planPorts(g.edges, o.portRangeMin);
    for (const r of plan.ranges) note('widening', `to ${g.peer.fqdn}: ${r}`);
    const key = portsLabel(plan);
    const entry = byPorts.get(key) ?? { names: [], edges: [], plan };
    entry.names.push(g.peer.fqdn);
    for (const e of g.edges) entry.edges.push(e);
    byPorts.set(key, entry);
  }
  return [...byPorts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([ports, e]) => {
      const names = [...new Set(e.names)].sort();
      const comment = evidenceComment(`to ${names.join(', ')} on ${ports}`, evidenceOf(e.edges));
      return withPorts({ toFQDNs: names.map((n) => ({ matchName: n.replace(/\.$/, '') })) }, e.plan).map((body) => ({
        sortKey: `fqdn:${names[0]}`,
        body,
        comment,
      }));
    });
}

/** More distinct external addresses than this in one direction become one `world` rule, noted. */
export const MAX_WORLD_ADDRESSES = 8;

/**
 * External (world) peers by address. Few addresses: one /32 (/128) per address, grouped by ports.
 * Many (an internet-facing ingress, a BitTorrent client): one reviewable `world` entity rule on
 * the observed ports instead of thousands of /32s, and a note that says it allows any address.
 */
function cidrRules(groups: { peer: Peer; edges: ObservedEdge[] }[], side: 'from' | 'to', o: RecommendOptions, note: NoteFn): Rule[] {
  const field = side === 'to' ? 'toCIDRSet' : 'fromCIDRSet';
  const peers = groups.filter((g) => g.peer.kind === 'cidr');
  const addresses = new Set(peers.map((g) => (g.peer.kind === 'cidr' ? g.peer.cidr : '')));
  if (addresses.size > MAX_WORLD_ADDRESSES) {
    const all = peers.flatMap((g) => g.edges);
    const plan = withDnsPortsBothWays(planPorts(all, o.portRangeMin));
    for (const r of plan.ranges) note('widening', `${side} world: ${r}`);
    note(
      'widening',
      `${addresses.size} external addresses were observed ${side === 'to' ? 'as destinations' : 'as clients'} on ${portsLabel(plan)}: ` +
        `allowed ${side} entity world (any external address) on those ports instead of ${addresses.size} /32 rules; ` +
        `list them with \`hubble-advisor edges\` to pin known ranges`,
    );
    const entities = side === 'to' ? 'toEntities' : 'fromEntities';
    const comment = evidenceComment(`${side} ${addresses.size} external addresses on ${portsLabel(plan)}`, evidenceOf(all));
    return withPorts({ [entities]: ['world'] }, plan).map((body) => ({ sortKey: 'entity:world', body, comment }));
  }
  const byPorts = new Map<string, { cidrs: string[]; edges: ObservedEdge[]; plan: PortPlan }>();
  for (const g of peers) {
    if (g.peer.kind !== 'cidr') continue;
    const plan = withDnsPortsBothWays(planPorts(g.edges, o.portRangeMin));
    const key = portsLabel(plan);
    const entry = byPorts.get(key) ?? { cidrs: [], edges: [], plan };
    entry.cidrs.push(g.peer.cidr);
    for (const e of g.edges) entry.edges.push(e);
    byPorts.set(key, entry);
  }
  return [...byPorts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([ports, e]) => {
      const cidrs = [...new Set(e.cidrs)].sort();
      for (const c of cidrs) if (!/\/(32|128)$/.test(c)) note('widening', `${c} is a range, not a single observed address`);
      for (const c of cidrs.filter(isPrivateAddress)) {
        note('info', `${c} is a private address that Hubble saw as world: if it is a node, Cilium gives it the host or remote-node identity and this CIDR rule will not match (use ${side === 'to' ? 'toEntities' : 'fromEntities'}: [remote-node])`);
      }
      const comment = evidenceComment(`${side} ${cidrs.join(', ')} on ${ports}`, evidenceOf(e.edges));
      return withPorts({ [field]: cidrs.map((cidr) => ({ cidr })) }, e.plan).map((body) => ({ sortKey: `cidr:${cidrs[0]}`, body, comment }));
    });
}

/** RFC 1918, CGNAT, link-local and IPv6 unique-local ranges: where nodes and pods live. */
function isPrivateAddress(cidr: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|169\.254\.|f[cd][0-9a-f]{2}:|fe80:)/i.test(cidr);
}

export function cnpName(w: WorkloadInfo, clash: boolean): string {
  return policyName(clash ? `${w.name}-${w.kind}` : w.name);
}
