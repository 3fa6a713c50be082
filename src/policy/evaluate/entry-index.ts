/**
 * Which entries of a rule could match a peer, without matching every entry's peers: hub policies
 * (a DNS server, an ingress controller, a shared database, a scraper) list thousands of peers,
 * and `check` asks about each of them for every edge into or out of the hub. Each peer of an
 * entry is filed under index keys one of which every identity it can match carries: a selector
 * under its rarest required `key=value` (`In`), an entity under its reserved labels (`host`:
 * `reserved:host`), a CIDR or FQDN under the reserved labels of the identities outside the
 * cluster (world, unmanaged; CIDRs also under the nodes', for `policy-cidr-match-mode=nodes`).
 * A peer identity lacking all of an entry's keys cannot match it. Entries some peer of which has
 * no such key (`all`, the `cluster` entity, selectors without an `In` label) are candidates for
 * every peer. Callers still match each candidate in full: this only skips entries that cannot
 * match, so verdicts are exactly those of the full scan.
 */
import type { CompiledEntry, DirectionPart } from './compiled.js';
import type { CompiledSelector, Requirement } from './labels.js';
import type { ResolvedPeer } from './peer.js';
import type { PeerMatcher } from './peers.js';
import type { Entity } from '../model/index.js';

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

/** The index key of a reserved label (`reserved:host`): every identity with that label carries it (`labelKeysOf`). */
const reservedKey = (name: string): string => labelKey(name, '');
const keysOfReserved = (names: readonly string[]): readonly string[] => names.map(reservedKey);
/**
 * Identities outside the cluster (peer.ts `outsideCluster`) all carry one of these: world, CIDR
 * and FQDN identities a world label (one is added where their labels lack it), and unmanaged
 * endpoints their own.
 */
const OUTSIDE_KEYS = keysOfReserved(['world', 'world-ipv4', 'world-ipv6', 'unmanaged']);
/** What CIDR peers may match: identities outside the cluster, and nodes (host, remote-node) where CIDR rules match them. */
const CIDR_KEYS = [...OUTSIDE_KEYS, ...keysOfReserved(['host', 'remote-node'])];
/** The entities matched by reserved labels alone (peers.ts `entityMatches`), by the keys those labels give. */
const ENTITY_KEYS: ReadonlyMap<Entity, readonly string[]> = new Map<Entity, readonly string[]>([
  ['world', keysOfReserved(['world', 'world-ipv4', 'world-ipv6'])],
  ...(['world-ipv4', 'world-ipv6', 'host', 'remote-node', 'kube-apiserver', 'health', 'init', 'unmanaged', 'ingress'] as const).map((e): [Entity, readonly string[]] => [e, keysOfReserved([e])]),
]);
const NO_KEYS: readonly string[] = [];

/**
 * The keys a peer is filed under, made from `cost` (key → how many peers of the rule name it);
 * `NO_KEYS` for one that matches nothing, undefined for one that may match without any key.
 */
function pivotOf(m: PeerMatcher, cost: (keys: readonly string[]) => number): readonly string[] | undefined {
  switch (m.kind) {
    case 'unresolvable':
      return NO_KEYS;
    case 'entity':
      return m.entity === 'none' ? NO_KEYS : ENTITY_KEYS.get(m.entity);
    case 'cidr':
      return CIDR_KEYS;
    case 'fqdn':
      return OUTSIDE_KEYS;
    case 'all':
      return undefined;
    case 'endpoints':
    case 'nodes': {
      // The rarest required label among this rule's peers (the workload's own label rather than
      // the namespace most peers of a namespace-scoped rule share).
      let best: readonly string[] | undefined;
      let bestCost = Infinity;
      for (const q of m.selector) {
        if (q.operator !== 'In' || q.values.length === 0) continue;
        const keys = keysOf(q);
        const c = cost(keys);
        if (c < bestCost) [best, bestCost] = [keys, c];
      }
      return best;
    }
    default: {
      const never: never = m;
      return never;
    }
  }
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
  const uses = new Map<string, number>();
  for (const e of entries) {
    for (const m of e.peers) {
      for (const q of labelSelector(m) ?? NO_REQUIREMENTS) {
        if (q.operator === 'In') for (const k of keysOf(q)) uses.set(k, (uses.get(k) ?? 0) + 1);
      }
    }
  }
  const cost = (keys: readonly string[]): number => {
    let n = 0;
    for (const k of keys) n += uses.get(k) ?? 0;
    return n;
  };
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
      const keys = pivotOf(m, cost);
      if (keys === undefined) {
        unindexed.push(i);
        return;
      }
      // A peer that matches nothing adds no candidate.
      if (keys.length > 0) pivots.push(keys);
    }
    // An entry without peers matches nothing and is filed nowhere.
    for (const keys of pivots) for (const k of keys) file(k, i);
  });
  return { byLabel, unindexed, listEntries: new Map() };
}

const NO_REQUIREMENTS: CompiledSelector = [];

/**
 * The index keys of a peer's labels, made once per (never mutated) label list: the peers of one
 * identity share theirs. A reserved label gives its value-less key too: entities are filed under
 * it, and `reserved.has` ignores values.
 */
export function labelKeysOf(peer: ResolvedPeer): readonly string[] {
  let keys = peerKeys.get(peer.labels);
  if (keys === undefined) {
    const set = new Set<string>();
    for (const l of peer.labels) {
      set.add(labelKey(l.key, l.value));
      if (l.source === 'reserved') set.add(reservedKey(l.key));
    }
    peerKeys.set(peer.labels, (keys = [...set]));
  }
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
