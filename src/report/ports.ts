import type { DropGroup } from '../triage/index.js';
import { formatCount } from './table.js';

/** Ports merged the way people write them: `5432, 8000`, `53 UDP/TCP`, `7844 UDP`, `ICMPv4 8`. */
export interface PortRef {
  readonly protocol: string;
  readonly port: number;
}

/** Protocols named after a port, UDP before TCP as people write `53 UDP/TCP`; TCP alone goes unnamed. */
const PROTOCOL_ORDER = ['UDP', 'TCP', 'SCTP'];

export function formatPorts(ports: readonly PortRef[]): string {
  // Most cells name one edge: its text without the maps and sorts below.
  if (ports.length === 1) {
    const { protocol, port } = ports[0] as PortRef;
    return protocol === 'ICMPv4' || protocol === 'ICMPv6' ? `${protocol} ${port}` : protocol === 'TCP' ? String(port) : `${port} ${protocol}`;
  }
  const byPort = new Map<number, Set<string>>();
  const icmp = new Map<string, Set<number>>();
  for (const p of ports) {
    if (p.protocol === 'ICMPv4' || p.protocol === 'ICMPv6') {
      let types = icmp.get(p.protocol);
      if (!types) icmp.set(p.protocol, (types = new Set()));
      types.add(p.port);
      continue;
    }
    let set = byPort.get(p.port);
    if (!set) byPort.set(p.port, (set = new Set()));
    set.add(p.protocol);
  }
  const parts = [...byPort.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, protocols]) => {
      if (protocols.size === 1 && protocols.has('TCP')) return String(port);
      const names = [...protocols].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
      return `${port} ${names.join('/')}`;
    });
  for (const [protocol, types] of [...icmp.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    parts.push(`${protocol} ${[...types].sort((a, b) => a - b).join('/')}`);
  }
  return parts.join(', ');
}

function rank(protocol: string): number {
  const i = PROTOCOL_ORDER.indexOf(protocol);
  return i === -1 ? PROTOCOL_ORDER.length : i;
}

/**
 * A drop group's destination ports for a table cell: `80`; for a many-port group `1-65535` when
 * they are one range, else first to last and how many (`22-8080 (40 ports)`); undefined without a port.
 */
export function dropPortsText(g: Pick<DropGroup, 'port' | 'ports'>): string | undefined {
  if (g.ports === undefined) return g.port === undefined ? undefined : `${g.port}`;
  const first = g.ports.ranges[0]?.port;
  const last = g.ports.ranges[g.ports.ranges.length - 1]?.endPort;
  return g.ports.ranges.length === 1 ? `${first}-${last}` : `${first}-${last} (${formatCount(g.ports.count)} ports)`;
}

/** `TCP/80`, `TCP/1-65535`, `ICMPv4/8`, or the protocol alone. */
export function protocolPorts(g: Pick<DropGroup, 'protocol' | 'port' | 'ports'>): string {
  const ports = dropPortsText(g);
  return ports === undefined ? g.protocol : `${g.protocol}/${ports}`;
}

/** A dropped row's port as the report's tables write ports: `80/TCP`, `1-65535/TCP`, or the protocol alone. */
export function droppedPort(g: Pick<DropGroup, 'protocol' | 'port' | 'ports'>): string {
  const ports = dropPortsText(g);
  return ports === undefined ? g.protocol : `${ports}/${g.protocol}`;
}

