/**
 * Which entries of a rule could match a peer, without matching every entry's peers: hub policies
 * (a DNS server, an ingress controller, a shared database, a scraper) list thousands of peers,
 * and `check` asks about each of them for every edge into or out of the hub. An entry whose every
 * peer selects endpoints (or nodes) through a required `key=value` (`In`) is filed under the
 * rarest such label of each peer; a peer identity lacking all of an entry's filed labels cannot
 * match it. Every other entry (entities, CIDRs, FQDNs, `all`, selectors without an `In` label) is
 * a candidate for every peer. Callers still match each candidate in full: this only skips entries
 * that cannot match, so verdicts are exactly those of the full scan.
 */
import type { CompiledEntry, DirectionPart } from './compiled.js';
import type { CompiledSelector, Requirement } from './labels.js';
import type { ResolvedPeer } from './peer.js';
import type { PeerMatcher } from './peers.js';

/** Rules with fewer entries are scanned: indexing them costs more than it saves. */
export const MIN_INDEXED_ENTRIES = 8;
/** A rule is indexed once it has been scanned this many times: most rules are asked about a few times only. */
export const SCANS_BEFORE_INDEX = 8;

interface EntryIndex {
  /** Entry positions by the pivot label of one of their peers. */
  readonly byLabel: ReadonlyMap<string, readonly number[]>;
  /** Entries some peer of which may match without a pivot label. */
  readonly unindexed: readonly number[];
  /**
   * The entries of a position list, made when a peer's candidates are that list alone (most
   * are): `check` asks a rule about each of its peers, and a new list each time was a quarter of
   * its judging once warm.
   */
  readonly listEntries: Map<readonly number[], readonly CompiledEntry[]>;
}

function entriesOfList(index: EntryIndex, entries: readonly CompiledEntry[], list: readonly number[]): readonly CompiledEntry[] {
  let out = index.listEntries.get(list);
  if (out === undefined) index.listEntries.set(list, (out = list.map((i) => entries[i] as CompiledEntry)));
  return out;
}

/** Compiled rules are never changed, and derived policy sets share them: one index per rule direction. */
const indexes = new WeakMap<DirectionPart, EntryIndex | { scans: number }>();
const NONE: readonly CompiledEntry[] = [];
const peerKeys = new WeakMap<ResolvedPeer['labels'], readonly string[]>();

/** A label's index key (`key=value`, any source): what the entry and subject indexes file under. */
const labelKey = (key: string, value: string): string => `${key}\u0000${value}`;

/** The selector a peer is matched with, when it must match the peer's labels to match at all. */
function labelSelector(m: PeerMatcher): CompiledSelector | undefined {
  return m.kind === 'endpoints' || m.kind === 'nodes' ? m.selector : undefined;
}

/**
 * The `key=value` index keys an `In` requirement names, made once per (shared, never mutated)
 * requirement: a set of thousands of rules indexes each requirement in hundreds of rules.
 */
const requirementKeys = new WeakMap<Requirement, readonly string[]>();

export function keysOf(q: Requirement): readonly string[] {
  let keys = requirementKeys.get(q);
  if (keys === undefined) requirementKeys.set(q, (keys = q.values.map((v) => labelKey(q.key, v))));
  return keys;
}

function buildIndex(entries: readonly CompiledEntry[]): EntryIndex {
  // The pivot of a peer is its rarest required label among this rule's peers (the workload's own
  // label rather than the namespace most peers of a namespace-scoped rule share).
  const uses = new Map<string, number>();
  for (const e of entries) {
    for (const m of e.peers) {
      for (const q of labelSelector(m) ?? NO_REQUIREMENTS) {
        if (q.operator === 'In') for (const k of keysOf(q)) uses.set(k, (uses.get(k) ?? 0) + 1);
      }
    }
  }
  const byLabel = new Map<string, number[]>();
  const unindexed: number[] = [];
  const file = (k: string, i: number): void => {
    const list = byLabel.get(k);
    if (list === undefined) byLabel.set(k, [i]);
    else if (list[list.length - 1] !== i) list.push(i);
  };
  entries.forEach((e, i) => {
    const pivots: (readonly string[])[] = [];
    for (const m of e.peers) {
      // An unresolvable peer matches nothing: it adds no candidate.
      if (m.kind === 'unresolvable') continue;
      let best: readonly string[] | undefined;
      let bestCost = Infinity;
      for (const q of labelSelector(m) ?? NO_REQUIREMENTS) {
        if (q.operator !== 'In' || q.values.length === 0) continue;
        const keys = keysOf(q);
        let cost = 0;
        for (const k of keys) cost += uses.get(k) ?? 0;
        if (cost < bestCost) [best, bestCost] = [keys, cost];
      }
      if (best === undefined) {
        unindexed.push(i);
        return;
      }
      pivots.push(best);
    }
    // An entry without peers matches nothing and is filed nowhere.
    for (const keys of pivots) for (const k of keys) file(k, i);
  });
  return { byLabel, unindexed, listEntries: new Map() };
}

const NO_REQUIREMENTS: CompiledSelector = [];

/** The index keys of a peer's labels, made once per (never mutated) label list: the peers of one identity share theirs. */
export function labelKeysOf(peer: ResolvedPeer): readonly string[] {
  let keys = peerKeys.get(peer.labels);
  if (keys === undefined) peerKeys.set(peer.labels, (keys = [...new Set(peer.labels.map((l) => labelKey(l.key, l.value)))]));
  return keys;
}

/** The entries of `part` that could match `peer`, in rule order (a subset of `part.entries`). */
export function candidateEntries(part: DirectionPart, peer: ResolvedPeer): readonly CompiledEntry[] {
  const { entries } = part;
  if (entries.length < MIN_INDEXED_ENTRIES) return entries;
  const state = indexes.get(part);
  let index: EntryIndex;
  if (state === undefined || 'scans' in state) {
    const scans = (state?.scans ?? 0) + 1;
    if (scans < SCANS_BEFORE_INDEX) {
      if (state === undefined) indexes.set(part, { scans });
      else state.scans = scans;
      return entries;
    }
    indexes.set(part, (index = buildIndex(entries)));
  } else index = state;
  // The first list found is merged with others only if there are any.
  let first: readonly number[] | undefined;
  let hits: number[] | undefined;
  const take = (list: readonly number[]): void => {
    if (first === undefined) first = list;
    else {
      hits ??= first.slice();
      for (const i of list) hits.push(i);
    }
  };
  for (const k of labelKeysOf(peer)) {
    const list = index.byLabel.get(k);
    if (list !== undefined) take(list);
  }
  if (index.unindexed.length > 0) take(index.unindexed);
  if (first === undefined) return NONE;
  // One list is already in order without repeats: its entries, made once, are the answer.
  if (hits === undefined) return entriesOfList(index, entries, first);
  hits.sort((a, b) => a - b);
  const out: CompiledEntry[] = [];
  let last = -1;
  for (const i of hits) {
    if (i !== last) out.push(entries[i] as CompiledEntry);
    last = i;
  }
  return out;
}
