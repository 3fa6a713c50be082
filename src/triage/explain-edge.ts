/**
 * `check --explain FROM TO PORT[/PROTO]`: one edge, observed or not, explained rule by rule against
 * a policy set. Peers are written as `edges --from/--to` take them; they are judged with what the
 * graph knows about them (a workload's identity and namespace labels, the reserved-label sets an
 * entity's identities carried), exactly as `check` judges observed edges.
 */
import {
  type Edge,
  type EdgeProtocol,
  type Peer as GraphPeer,
  type PeerPattern,
  type WorkloadInfo,
  describePeer,
  matchesPeer,
  parsePeerPattern,
} from '../graph/index.js';
import { explainRequest, peerLabels, type EvaluateOptions, type EvaluationRequest, type PolicySet, type RequestExplanation } from '../policy/index.js';
import { hostCidr } from '../net/cidr.js';
import { evaluatorPeer, inferClusterName } from './check.js';

export interface ExplainTarget {
  readonly from: string;
  readonly to: string;
  /** `443`, `443/TCP`, `53/UDP`, `8/ICMPv4` (the ICMP type). */
  readonly port: string;
}

export interface ExplainedIdentity {
  /** The reserved-label set judged (`kube-apiserver+remote-node`), when the end had several. */
  readonly fromReserved?: string;
  readonly toReserved?: string;
  readonly sourceLabels: readonly string[];
  readonly destinationLabels: readonly string[];
  readonly explanation: RequestExplanation;
}

export interface EdgeExplanation {
  readonly from: string;
  readonly to: string;
  readonly protocol: EdgeProtocol;
  readonly port: number;
  readonly clusterName?: string;
  /** The observed edge's counters, or undefined when this edge was never observed. */
  readonly observed?: { readonly flows: number; readonly forwarded: number; readonly dropped: number };
  /** Allowed only when every identity pair is. */
  readonly allowed: boolean;
  readonly identities: readonly ExplainedIdentity[];
  /** How the peers were read (a workload never seen is judged by its namespace alone, ...). */
  readonly notes: readonly string[];
}

export class ExplainInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExplainInputError';
  }
}

const PROTOCOLS: readonly EdgeProtocol[] = ['TCP', 'UDP', 'SCTP', 'ICMPv4', 'ICMPv6'];

export function parsePortProto(text: string): { protocol: EdgeProtocol; port: number } {
  const m = /^(\d{1,5})(?:\/([A-Za-z0-9]+))?$/.exec(text.trim());
  const proto = (m?.[2] ?? 'TCP').toUpperCase();
  const protocol = PROTOCOLS.find((p) => p.toUpperCase() === proto);
  const port = Number(m?.[1]);
  if (!m || protocol === undefined) throw new ExplainInputError(`invalid port "${text}": expected PORT or PORT/PROTO (TCP, UDP, SCTP, ICMPv4, ICMPv6)`);
  const max = protocol.startsWith('ICMP') ? 255 : 65535;
  if (port > max || (port === 0 && !protocol.startsWith('ICMP'))) throw new ExplainInputError(`invalid port "${text}": out of range 1-${max}`);
  return { protocol, port };
}

interface End {
  readonly peer: GraphPeer;
  readonly ips: readonly string[];
  readonly reserved: readonly (string | undefined)[];
}

function resolveEnd(text: string, side: 'from' | 'to', edges: readonly Edge[], workloads: readonly WorkloadInfo[], notes: string[]): End {
  let pattern: PeerPattern;
  try {
    pattern = parsePeerPattern(text);
  } catch (e) {
    throw new ExplainInputError((e as Error).message);
  }
  const ends = edges.flatMap((e) => [
    { peer: e.from, ips: e.ips, reserved: e.srcReserved ?? [] },
    { peer: e.to, ips: e.ips, reserved: e.dstReserved ?? [] },
  ]);
  const seen = (p: GraphPeer): typeof ends => ends.filter((x) => describePeer(x.peer) === describePeer(p));
  switch (pattern.kind) {
    case 'workload':
    case 'namespace': {
      const name = pattern.kind === 'workload' ? pattern.name : undefined;
      const kind = pattern.kind === 'workload' ? pattern.workloadKind : undefined;
      const found = workloads.filter(
        (w) => w.namespace === pattern.namespace && (name === undefined || w.name === name) && (kind === undefined || w.kind.toLowerCase() === kind.toLowerCase()),
      );
      const w = found[0];
      if (w !== undefined) {
        if (found.length > 1) notes.push(`${text} matches ${found.length} workloads; judging ${w.namespace}/${w.kind}/${w.name}`);
        return { peer: { kind: 'workload', namespace: w.namespace, workloadKind: w.kind, name: w.name }, ips: [], reserved: [undefined] };
      }
      notes.push(`${text} was never observed: its pod labels are unknown, so it is judged by its namespace (and namespace labels, if seen) only`);
      return { peer: { kind: 'workload', namespace: pattern.namespace, workloadKind: kind ?? 'Workload', name: name ?? '(any pod)' }, ips: [], reserved: [undefined] };
    }
    case 'entity': {
      const peer: GraphPeer = pattern.entity === 'world' ? { kind: 'entity', entity: 'world' } : { kind: 'entity', entity: pattern.entity };
      const sets = [...new Set(seen(peer).flatMap((x) => x.reserved))].sort();
      if (sets.length > 1) notes.push(`${side === 'from' ? 'the source' : 'the destination'} ${pattern.entity} was seen as ${sets.length} identities (${sets.join(', ')}): each is judged`);
      return { peer, ips: [], reserved: sets.length > 0 ? sets : [undefined] };
    }
    case 'fqdn': {
      if (/[*]/.test(pattern.pattern)) throw new ExplainInputError(`explain needs one name, not a pattern: "${text}"`);
      const peer: GraphPeer = { kind: 'fqdn', fqdn: pattern.pattern };
      const known = seen(peer);
      const ips = [...new Set(known.flatMap((x) => x.ips))].sort();
      const sets = [...new Set(known.flatMap((x) => x.reserved))].sort();
      return { peer, ips, reserved: sets.length > 0 ? sets : [undefined] };
    }
    case 'cidr': {
      const peer: GraphPeer = { kind: 'cidr', cidr: hostCidr(pattern.cidr) ?? pattern.cidr };
      const sets = [...new Set(ends.filter((x) => matchesPeer(pattern, x.peer, x.ips)).flatMap((x) => x.reserved))].sort();
      return { peer, ips: [], reserved: sets.length > 0 ? sets : [undefined] };
    }
    default: {
      const never: never = pattern;
      return never;
    }
  }
}

export function explainEdge(target: ExplainTarget, edges: readonly Edge[], workloads: readonly WorkloadInfo[], set: PolicySet, options: EvaluateOptions = {}): EdgeExplanation {
  const { protocol, port } = parsePortProto(target.port);
  const notes: string[] = [];
  const from = resolveEnd(target.from, 'from', edges, workloads, notes);
  const to = resolveEnd(target.to, 'to', edges, workloads, notes);
  const clusterName = options.clusterName ?? inferClusterName(workloads);
  const opts: EvaluateOptions = { ...options, ...(clusterName !== undefined && { clusterName }) };
  const byKey = new Map(workloads.map((w) => [`${w.namespace}/${w.kind}/${w.name}`, w]));
  const identities: ExplainedIdentity[] = [];
  for (const fr of from.reserved) {
    for (const tr of to.reserved) {
      const source = evaluatorPeer(from.peer, byKey, from.ips, fr);
      const destination = evaluatorPeer(to.peer, byKey, to.ips, tr);
      const request: EvaluationRequest = protocol === 'ICMPv4' || protocol === 'ICMPv6' ? { source, destination, protocol, icmpType: port } : { source, destination, protocol, port };
      identities.push({
        ...(from.reserved.length > 1 && fr !== undefined && { fromReserved: fr }),
        ...(to.reserved.length > 1 && tr !== undefined && { toReserved: tr }),
        sourceLabels: peerLabels(source),
        destinationLabels: peerLabels(destination),
        explanation: explainRequest(set, request, opts),
      });
    }
  }
  const key = (p: GraphPeer): string => describePeer(p);
  const observed = edges.filter((e) => key(e.from) === key(from.peer) && key(e.to) === key(to.peer) && e.protocol === protocol && e.port === port);
  const obs = observed.length === 0 ? undefined : observed.reduce((a, e) => ({ flows: a.flows + e.flows, forwarded: a.forwarded + e.forwarded, dropped: a.dropped + e.dropped }), { flows: 0, forwarded: 0, dropped: 0 });
  if (obs === undefined) notes.push('this edge was never observed: judged from the policies alone');
  return {
    from: describePeer(from.peer),
    to: describePeer(to.peer),
    protocol,
    port,
    ...(clusterName !== undefined && { clusterName }),
    ...(obs !== undefined && { observed: obs }),
    allowed: identities.every((i) => i.explanation.decision.allowed),
    identities,
    notes,
  };
}
