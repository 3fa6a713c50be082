/** Destination ports as people and Cilium write many of them: sorted inclusive ranges. */

/** An inclusive range of destination ports, spelled as Cilium spells one in `toPorts`. */
export interface PortSpan {
  readonly port: number;
  readonly endPort: number;
}

/**
 * Past this many destination ports between the same two peers (one protocol), traffic is a port
 * scan or an app on dynamic ports: `drops` shows it as one group and `recommend` as one note.
 */
export const MANY_PORTS = 16;

/** The protocols with destination ports (a scan walks them; ICMP has types, not ports). */
export const PORT_PROTOCOLS: ReadonlySet<string> = new Set(['TCP', 'UDP', 'SCTP']);

/** Distinct ports as sorted inclusive ranges (duplicates count once). */
export function portSpans(ports: Iterable<number>): PortSpan[] {
  const sorted = Float64Array.from(new Set(ports)).sort();
  const spans: PortSpan[] = [];
  let start = sorted[0];
  let end = start;
  for (let i = 1; i <= sorted.length; i++) {
    const p = sorted[i];
    if (p !== undefined && end !== undefined && p === end + 1) {
      end = p;
      continue;
    }
    if (start !== undefined && end !== undefined) spans.push({ port: start, endPort: end });
    start = p;
    end = p;
  }
  return spans;
}

/** `1-1024, 8080, 9000-9100`; past the first ten ranges, how many more. */
export function portRangesText(ranges: readonly PortSpan[]): string {
  const shown = ranges.slice(0, 10).map((r) => (r.port === r.endPort ? `${r.port}` : `${r.port}-${r.endPort}`));
  return ranges.length > shown.length ? `${shown.join(', ')} and ${ranges.length - shown.length} more ranges` : shown.join(', ');
}
