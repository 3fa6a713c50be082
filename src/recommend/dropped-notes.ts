/**
 * `recommend`'s notes on dropped edges: one per edge, except where one peer was dropped on many
 * ports of another (a port scan leaves one edge per port: 131,070 notes, a 26 MB policy file).
 */
import { describePeer } from './naming.js';
import { MANY_PORTS, PORT_PROTOCOLS, portRangesText, portSpans } from '../net/ports.js';
import type { ObservedEdge } from './model.js';

type DroppedEdge = Pick<ObservedEdge, 'from' | 'to' | 'protocol' | 'port' | 'dropped' | 'dropReasons'>;

/** The note text for each dropped edge, or for each peer pair and protocol dropped on more than `MANY_PORTS` ports. */
export function droppedEdgeNotes<E extends DroppedEdge>(edges: readonly E[], wasAllowed: (e: E) => boolean): string[] {
  const families = new Map<string, E[]>();
  const single: E[] = [];
  for (const e of edges) {
    if (!PORT_PROTOCOLS.has(e.protocol)) {
      single.push(e);
      continue;
    }
    const key = `${describePeer(e.from)}|${describePeer(e.to)}|${e.protocol}`;
    const family = families.get(key);
    if (family === undefined) families.set(key, [e]);
    else family.push(e);
  }
  const notes = single.map((e) => edgeNote(e, wasAllowed(e)));
  for (const family of families.values()) {
    if (family.length <= MANY_PORTS) {
      for (const e of family) notes.push(edgeNote(e, wasAllowed(e)));
      continue;
    }
    notes.push(manyPortsNote(family, family.filter(wasAllowed).length));
  }
  return notes;
}

function edgeNote(e: DroppedEdge, allowed: boolean): string {
  return (
    `${describePeer(e.from)} -> ${describePeer(e.to)} ${e.protocol}/${e.port} was dropped ${e.dropped} times (${reasonsText(Object.entries(e.dropReasons))})` +
    (allowed ? '; it was also forwarded, so it is allowed above' : '; not allowed: if it is legitimate, run `hubble-advisor drops` for the fix')
  );
}

function manyPortsNote(family: readonly DroppedEdge[], allowed: number): string {
  const [first] = family;
  if (first === undefined) return '';
  let dropped = 0;
  const reasons = new Map<string, number>();
  for (const e of family) {
    dropped += e.dropped;
    for (const [r, n] of Object.entries(e.dropReasons)) reasons.set(r, (reasons.get(r) ?? 0) + n);
  }
  const ranges = portSpans(family.map((e) => e.port));
  return (
    `${describePeer(first.from)} -> ${describePeer(first.to)} ${first.protocol} on ${family.length} ports (${portRangesText(ranges)}) was dropped ${dropped} times ` +
    `(${reasonsText([...reasons])}): a port scan, or an app on dynamic ports; ` +
    (allowed === 0
      ? 'none of them allowed: `hubble-advisor drops` shows them as one group'
      : `${allowed} of those ports ${allowed === 1 ? 'was' : 'were'} also forwarded and ${allowed === 1 ? 'is' : 'are'} allowed above; the others are not`)
  );
}

const reasonsText = (reasons: readonly (readonly [string, number])[]): string => reasons.map(([r, n]) => `${r} ×${n}`).join(', ') || 'no reason recorded';
