import { evidenceComment, evidenceOf } from './evidence.js';
import type { GeneratedPolicy, Note, ObservedEdge, Peer, RecommendOptions, WorkloadInfo } from './model.js';
import { describePeer, peerKey, policyName } from './naming.js';
import { MAX_PORTS_PER_ENTRY, type PortPlan, chunk, planPorts, portsLabel } from './ports.js';
import { type WorkloadIndex, sortKeys, workloadPeerSelector } from './selectors.js';

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
  const ingress = ingressRules(t.inbound, w, index, options, note);
  const outbound = options.baseline
    ? t.outbound.filter((e) => !isDnsServer(e.to) && !(e.to.kind === 'entity' && e.to.entity === 'kube-apiserver'))
    : t.outbound;
  const egress = egressRules(outbound, w, index, options, note, isDnsServer);
  const comments = new Map<string, string>();
  const spec: Record<string, unknown> = { endpointSelector: { matchLabels: sortKeys(w.selector) } };
  if (Object.keys(w.selector).length === 0) {
    note('widening', `no stable labels known for ${w.namespace}/${w.name}: the policy selects every pod in the namespace`);
  }
  comments.set('spec.endpointSelector', ` pods of ${w.kind} ${w.namespace}/${w.name}`);
  if (ingress.length > 0) {
    spec['ingress'] = ingress.map((r) => r.body);
    ingress.forEach((r, i) => comments.set(`spec.ingress[${i}]`, r.comment));
  } else {
    spec['ingress'] = [{}];
    comments.set('spec.ingress', ' no inbound connection was observed: default deny');
    note('default-deny', `no inbound traffic to ${w.namespace}/${w.name} was observed: ingress is denied`);
  }
  if (egress.length > 0) {
    spec['egress'] = egress.map((r) => r.body);
    egress.forEach((r, i) => comments.set(`spec.egress[${i}]`, r.comment));
  } else if (options.baseline && outbound.length < t.outbound.length) {
    // Only DNS / kube-apiserver, which the cluster-wide baseline allows: leave egress unenforced here.
    comments.set('spec', ' egress: only DNS and kube-apiserver were observed; the cluster-wide baseline allows them');
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

type NoteFn = (kind: Note['kind'], message: string) => void;

function groupByPeer(edges: readonly ObservedEdge[], side: 'from' | 'to'): Map<string, { peer: Peer; edges: ObservedEdge[] }> {
  const groups = new Map<string, { peer: Peer; edges: ObservedEdge[] }>();
  for (const e of edges) {
    const peer = e[side];
    const key = peerKey(peer);
    const g = groups.get(key);
    if (g) g.edges.push(e);
    else groups.set(key, { peer, edges: [e] });
  }
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function toPortsOf(plan: PortPlan, extra?: Record<string, unknown>): Record<string, unknown>[] {
  return chunk(plan.ports, MAX_PORTS_PER_ENTRY).map((ports) => ({
    ports: ports.map((p) => ({ port: String(p.port), ...(p.endPort !== undefined ? { endPort: p.endPort } : {}), protocol: p.protocol })),
    ...(extra ?? {}),
  }));
}

/** Adds ports (and ICMP types) to an L3 rule; separate rules when both L4 and ICMP were seen. */
function withPorts(l3: Record<string, unknown>, plan: PortPlan, extra?: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (plan.ports.length > 0) out.push({ ...l3, toPorts: toPortsOf(plan, extra) });
  if (plan.icmp.length > 0) out.push({ ...l3, icmps: [{ fields: plan.icmp.map((i) => ({ type: i.type, family: i.family })) }] });
  return out;
}

function ingressRules(edges: readonly ObservedEdge[], w: WorkloadInfo, index: WorkloadIndex, o: RecommendOptions, note: NoteFn): Rule[] {
  const rules: Rule[] = [];
  const cidrs: { peer: Peer; edges: ObservedEdge[] }[] = [];
  for (const [key, g] of groupByPeer(edges, 'from')) {
    const plan = planPorts(g.edges, o.portRangeMin);
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
  rules.push(...cidrRules(cidrs, 'fromCIDRSet', o, note));
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
  const needsDnsVisibility = edges.some((e) => e.to.kind === 'fqdn');
  for (const [key, g] of groupByPeer(edges, 'to')) {
    const plan = planPorts(g.edges, o.portRangeMin);
    for (const r of plan.ranges) note('widening', `to ${describePeer(g.peer)}: ${r}`);
    const comment = evidenceComment(`to ${describePeer(g.peer)} on ${portsLabel(plan)}`, evidenceOf(g.edges));
    const p = g.peer;
    if (p.kind === 'workload') {
      const sel = workloadPeerSelector(p, w.namespace, index);
      if (sel.namespaceWide) note('widening', `${describePeer(p)} has no stable labels: every pod in namespace ${p.namespace} is allowed out`);
      // The DNS proxy must see the lookups for toFQDNs to learn IPs; an L7 dns rule puts them through it.
      const dns = isDnsServer(p) ? { rules: { dns: [{ matchPattern: '*' }] } } : undefined;
      if (dns && needsDnsVisibility) note('info', 'DNS rule carries `dns: matchPattern "*"` so the DNS proxy learns the FQDN IPs');
      const dnsPlan = dns ? { ...plan, ports: plan.ports.filter((x) => x.endPort === undefined) } : plan;
      for (const body of withPorts({ toEndpoints: [{ matchLabels: sel.matchLabels }] }, dnsPlan, dns)) rules.push({ sortKey: key, body, comment });
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
  rules.push(...cidrRules(cidrs, 'toCIDRSet', o, note));
  if (fqdns.length > 0 && !o.baseline && !edges.some((e) => isDnsServer(e.to))) {
    note('info', 'toFQDNs rules need DNS to go through the DNS proxy, but no DNS traffic from this workload was observed');
  }
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
    entry.edges.push(...g.edges);
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

/** CIDR peers sharing ports form one rule; each observed address stays a /32 (or /128). */
function cidrRules(
  groups: { peer: Peer; edges: ObservedEdge[] }[],
  field: 'fromCIDRSet' | 'toCIDRSet',
  o: RecommendOptions,
  note: NoteFn,
): Rule[] {
  const byPorts = new Map<string, { cidrs: string[]; edges: ObservedEdge[]; plan: PortPlan }>();
  for (const g of groups) {
    if (g.peer.kind !== 'cidr') continue;
    const plan = planPorts(g.edges, o.portRangeMin);
    const key = portsLabel(plan);
    const entry = byPorts.get(key) ?? { cidrs: [], edges: [], plan };
    entry.cidrs.push(g.peer.cidr);
    entry.edges.push(...g.edges);
    byPorts.set(key, entry);
  }
  return [...byPorts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([ports, e]) => {
      const cidrs = [...new Set(e.cidrs)].sort();
      for (const c of cidrs) if (!/\/(32|128)$/.test(c)) note('widening', `${c} is a range, not a single observed address`);
      const comment = evidenceComment(`${field === 'toCIDRSet' ? 'to' : 'from'} ${cidrs.join(', ')} on ${ports}`, evidenceOf(e.edges));
      return withPorts({ [field]: cidrs.map((cidr) => ({ cidr })) }, e.plan).map((body) => ({ sortKey: `cidr:${cidrs[0]}`, body, comment }));
    });
}

export function cnpName(w: WorkloadInfo, clash: boolean): string {
  return policyName(clash ? `${w.name}-${w.kind}` : w.name);
}
