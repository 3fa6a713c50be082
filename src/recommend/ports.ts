import { portSpans } from '../net/ports.js';
import type { ObservedEdge, Protocol } from './model.js';

export interface PortSpec {
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly port: number;
  /** Inclusive end of a range; absent for a single port. */
  readonly endPort?: number;
}

export interface PortPlan {
  readonly ports: readonly PortSpec[];
  readonly icmp: readonly { readonly family: 'IPv4' | 'IPv6'; readonly type: number }[];
  /** Human notes for each range made from many observed ports. */
  readonly ranges: readonly string[];
}

/** Cilium accepts at most 40 ports in one toPorts entry. */
export const MAX_PORTS_PER_ENTRY = 40;

/**
 * Exact ports per protocol, sorted. A run of at least `rangeMin` contiguous observed ports becomes
 * one range (nothing unobserved is inside it, but later ports in it would be allowed: noted).
 */
export function planPorts(edges: readonly ObservedEdge[], rangeMin: number): PortPlan {
  // One edge (most peers of most workloads, 60,000 times at 3,000 workloads): one port or ICMP
  // type, without the sets and sorted spans below.
  const only = edges.length === 1 ? edges[0] : undefined;
  if (only !== undefined && Number.isInteger(only.port) && rangeMin > 1) {
    if (only.protocol === 'ICMPv4' || only.protocol === 'ICMPv6') return { ports: [], icmp: [{ family: only.protocol === 'ICMPv4' ? 'IPv4' : 'IPv6', type: only.port }], ranges: [] };
    return { ports: [{ protocol: only.protocol, port: only.port }], icmp: [], ranges: [] };
  }
  const byProto = new Map<Protocol, Set<number>>();
  for (const e of edges) {
    let set = byProto.get(e.protocol);
    if (!set) byProto.set(e.protocol, (set = new Set()));
    set.add(e.port);
  }
  const ports: PortSpec[] = [];
  const icmp: { family: 'IPv4' | 'IPv6'; type: number }[] = [];
  const ranges: string[] = [];
  for (const proto of ['TCP', 'UDP', 'SCTP', 'ICMPv4', 'ICMPv6'] as const) {
    const set = byProto.get(proto);
    if (!set) continue;
    if (proto === 'ICMPv4' || proto === 'ICMPv6') {
      for (const t of [...set].sort((a, b) => a - b)) icmp.push({ family: proto === 'ICMPv4' ? 'IPv4' : 'IPv6', type: t });
      continue;
    }
    for (const { port: first, endPort: last } of portSpans(set)) {
      const length = last - first + 1;
      if (length >= rangeMin) {
        ports.push({ protocol: proto, port: first, endPort: last });
        ranges.push(`${proto} ports ${first}-${last} (${length} contiguous ports observed) allowed as one range`);
      } else {
        for (let p = first; p <= last; p++) ports.push({ protocol: proto, port: p });
      }
    }
  }
  return { ports, icmp, ranges };
}

export function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export function portsLabel(plan: PortPlan): string {
  const parts = plan.ports.map((p) => `${p.protocol}/${p.port}${p.endPort !== undefined ? `-${p.endPort}` : ''}`);
  for (const i of plan.icmp) parts.push(`ICMP${i.family === 'IPv4' ? 'v4' : 'v6'} type ${i.type}`);
  return parts.join(', ');
}
