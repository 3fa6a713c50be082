/**
 * Explains one request rule by rule (what `cilium policy trace` did): for each side, every policy
 * selecting the endpoint, each rule of theirs with whether its peers and its ports match and why,
 * the verdict, and near misses (the peer matches but not the port, or the port but not the peer).
 */
import type { Prefix } from '../../net/cidr.js';
import type { EvaluationRequest } from '../evaluate.js';
import { evaluate } from '../evaluate.js';
import type { CompiledEntry, Direction, PolicySet, RuleRef } from './compiled.js';
import { policyLabel } from './compiled.js';
import type { Decision, SideDecision } from './decision.js';
import { formatLabel, requirementMatches, type CompiledSelector, type Label, type Requirement } from './labels.js';
import { resolveOptions, type EvaluateOptions } from './options.js';
import { resolvePeer, type ResolvedPeer } from './peer.js';
import { peerMatches, type PeerMatchContext, type PeerMatcher } from './peers.js';
import { describeL4, l4Matches, type L4Request } from './ports.js';
import { selects } from './side.js';

export interface RuleExplanation {
  /** `CiliumNetworkPolicy x/a spec.egress[0]`. */
  readonly rule: string;
  readonly ref: RuleRef;
  readonly deny: boolean;
  readonly peerMatches: boolean;
  readonly portMatches: boolean;
  /** Peer and port both match: the rule applies to this request. */
  readonly matches: boolean;
  /** What the rule selects: `toEndpoints app=db, k8s:io.kubernetes.pod.namespace=x`, `any peer`. */
  readonly peers: readonly string[];
  /** `443/TCP`, or `all ports` for an L3-only rule. */
  readonly ports: readonly string[];
  /** One line: why it matched or not. */
  readonly why: string;
}

export interface SideExplanation {
  readonly direction: Direction;
  readonly decision: SideDecision;
  /** Each rule of each policy selecting the endpoint for this direction, in policy then document order. */
  readonly rules: readonly RuleExplanation[];
  /** "you allow 443, the traffic is 6443"; "443/TCP is allowed from toEndpoints app=web, not from this peer". */
  readonly nearMisses: readonly string[];
}

export interface RequestExplanation {
  readonly decision: Decision;
  readonly egress: SideExplanation;
  readonly ingress: SideExplanation;
}

export function explainRequest(set: PolicySet, request: EvaluationRequest, options?: EvaluateOptions): RequestExplanation {
  const decision = evaluate(set, request, options);
  const opts = resolveOptions(options);
  const ctx: PeerMatchContext = { clusterName: opts.clusterName, cidrMatchNodes: opts.cidrMatchNodes, defaultLocalCluster: opts.defaultLocalCluster };
  const source = resolvePeer(request.source);
  const destination = resolvePeer(request.destination);
  const l4: L4Request = {
    protocol: request.protocol,
    ...(request.port !== undefined && { port: request.port }),
    ...(request.icmpType !== undefined && { icmpType: request.icmpType }),
  };
  const side = (direction: Direction, subject: ResolvedPeer, peer: ResolvedPeer): SideExplanation => {
    const d = decision[direction];
    // A side Cilium does not enforce has no rules to show (host without host firewall, not an endpoint, mode never).
    const considered = d.enforced || d.selectedBy.length > 0 ? set.rules.filter((r) => r[direction].present && selects(r, subject)) : [];
    const rules = considered.flatMap((r) => r[direction].entries.map((e) => explainEntry(e, peer, destination, l4, ctx, direction)));
    return { direction, decision: d, rules, nearMisses: nearMisses(rules, l4, direction) };
  };
  return { decision, egress: side('egress', source, destination), ingress: side('ingress', destination, source) };
}

function explainEntry(e: CompiledEntry, peer: ResolvedPeer, receiver: ResolvedPeer, l4: L4Request, ctx: PeerMatchContext, direction: Direction): RuleExplanation {
  const field = direction === 'ingress' ? 'from' : 'to';
  const peers = e.peers.map((m) => describeMatcher(m, field));
  const hit = e.peers.find((m) => peerMatches(m, peer, ctx));
  const ports = e.l4 === undefined ? ['all ports'] : e.l4.map(describeL4);
  const portHits = e.l4 === undefined ? [] : e.l4.filter((s) => l4Matches(s, l4, receiver.namedPorts));
  const portMatches = e.l4 === undefined || portHits.length > 0;
  const traffic = trafficText(l4);
  const peerWhy =
    e.peers.length === 0
      ? 'selects no peer (an empty rule only turns default deny on)'
      : hit !== undefined
        ? `peer matches ${describeMatcher(hit, field)}`
        : `peer matches none of ${peers.join('; ')}: ${e.peers.map((m) => missReason(m, peer)).filter((x, i, a) => a.indexOf(x) === i).join('; ')}`;
  const portWhy = e.l4 === undefined ? 'all ports' : portMatches ? `port matches ${portHits.map(describeL4).join(', ')}` : `port does not match: allows ${ports.join(', ')}, the traffic is ${traffic}`;
  const matches = hit !== undefined && portMatches;
  return {
    rule: `${policyLabel(e.ref)} ${e.ref.path}`,
    ref: e.ref,
    deny: e.deny,
    peerMatches: hit !== undefined,
    portMatches,
    matches,
    peers,
    ports,
    why: `${matches ? (e.deny ? 'DENIES' : 'ALLOWS') : 'no match'}: ${peerWhy}; ${portWhy}`,
  };
}

function nearMisses(rules: readonly RuleExplanation[], l4: L4Request, direction: Direction): string[] {
  const out: string[] = [];
  const traffic = trafficText(l4);
  const other = direction === 'ingress' ? 'from' : 'to';
  for (const r of rules) {
    if (r.deny || r.matches || r.peers.length === 0) continue;
    if (r.peerMatches && !r.portMatches) out.push(`${r.rule} allows this peer on ${r.ports.join(', ')}; the traffic is ${traffic}`);
    else if (!r.peerMatches && r.portMatches) out.push(`${r.rule} allows ${r.ports[0] === 'all ports' ? 'all ports' : traffic} ${other} ${r.peers.join('; ')}, not ${other} this peer`);
  }
  return out;
}

const trafficText = (l4: L4Request): string =>
  l4.protocol === 'ICMPv4' || l4.protocol === 'ICMPv6' ? `${l4.protocol} type ${l4.icmpType ?? '?'}` : `${l4.port ?? '?'}/${l4.protocol}`;

export function describeSelector(sel: CompiledSelector): string {
  if (sel.length === 0) return '{} (everything)';
  return sel.map(describeRequirement).join(', ');
}

function describeRequirement(r: Requirement): string {
  const key = r.source === undefined ? r.key : `${r.source}:${r.key}`;
  switch (r.operator) {
    case 'In':
      return r.values.length === 1 ? `${key}=${r.values[0]}` : `${key} in (${r.values.join(', ')})`;
    case 'NotIn':
      return `${key} notin (${r.values.join(', ')})`;
    case 'Exists':
      return `${key} exists`;
    case 'DoesNotExist':
      return `!${key}`;
    default: {
      const never: never = r.operator;
      return never;
    }
  }
}

function describeMatcher(m: PeerMatcher, field: 'from' | 'to'): string {
  const F = field === 'from' ? 'from' : 'to';
  switch (m.kind) {
    case 'all':
      return 'any peer';
    case 'endpoints':
      return `${F}Endpoints ${describeSelector(m.selector)}`;
    case 'entity':
      return `${F}Entities ${m.entity}`;
    case 'cidr':
      return `${F}CIDR ${formatPrefix(m.prefix)}${m.except.length > 0 ? ` except ${m.except.map(formatPrefix).join(', ')}` : ''}`;
    case 'fqdn':
      return `toFQDNs ${m.spec.matchName !== undefined ? `matchName ${m.spec.matchName}` : `matchPattern ${m.spec.matchPattern ?? ''}`}`;
    case 'nodes':
      return `${F}Nodes ${describeSelector(m.selector)}`;
    case 'unresolvable':
      return `${m.what} (cannot be resolved offline)`;
    default: {
      const never: never = m;
      return never;
    }
  }
}

const formatPrefix = (p: Prefix): string => p.text;

const reservedOf = (p: ResolvedPeer): string[] => p.labels.filter((l) => l.source === 'reserved').map((l) => l.key);

function missReason(m: PeerMatcher, p: ResolvedPeer): string {
  switch (m.kind) {
    case 'endpoints': {
      const failing = m.selector.find((r) => !requirementMatches(r, p.labels));
      if (failing === undefined) return 'the peer is in another cluster';
      const have = p.labels.filter((l) => l.key === failing.key).map(formatLabel);
      return `needs ${describeRequirement(failing)}, the peer has ${have.length > 0 ? have.join(', ') : `no ${failing.key}`}`;
    }
    case 'entity':
    case 'nodes': {
      const r = reservedOf(p);
      return `the peer is ${r.length > 0 ? `reserved:${r.join('+reserved:')}` : 'a pod'}`;
    }
    case 'cidr':
      return p.ip === undefined || !p.outsideCluster ? 'CIDR rules match only peers outside the cluster' : 'the peer IP is outside the CIDR';
    case 'fqdn':
      return p.names.length > 0 ? `the peer's names are ${p.names.join(', ')}` : 'no DNS name is known for the peer';
    case 'unresolvable':
      return 'cannot be judged offline';
    case 'all':
      return '';
    default: {
      const never: never = m;
      return never;
    }
  }
}

/** The peer's labels as Hubble would print them, for the explanation's header. */
export const peerLabels = (p: EvaluationRequest['source']): string[] => resolvePeer(p).labels.map((l: Label) => formatLabel(l)).sort();
