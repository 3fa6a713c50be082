/** One side of a request: the source's egress or the destination's ingress. */
import { selectorMatches } from './labels.js';
import { candidateRules } from './subject-index.js';
import { candidateEntries } from './entry-index.js';
import type { CompiledEntry, CompiledRule, Direction, DirectionPart, PolicyRef, PolicySet, RuleRef } from './compiled.js';
import { policyLabel } from './compiled.js';
import type { SideDecision, SideVerdict } from './decision.js';
import { l7Allows, type L7Request } from './l7.js';
import type { ResolvedPeer } from './peer.js';
import { peerMatches, type PeerMatchContext } from './peers.js';
import { isSpecificPort, l4Matches, type L4Request, type L4Spec, type L7Spec } from './ports.js';
import type { ResolvedOptions } from './options.js';

export interface SideInput {
  readonly direction: Direction;
  /** The endpoint whose policy is judged (source for egress, destination for ingress). */
  readonly subject: ResolvedPeer;
  /** The other side. */
  readonly peer: ResolvedPeer;
  /** The receiver (always the destination): named ports resolve against it. */
  readonly receiver: ResolvedPeer;
  readonly l4: L4Request;
  readonly l7?: L7Request;
}

interface Match {
  readonly entry: CompiledEntry;
  /** Matching L4 specs; empty for an L3-only entry. */
  readonly specs: readonly L4Spec[];
}

type Base = Pick<SideDecision, 'direction' | 'enforced' | 'defaultDeny' | 'selectedBy'>;

const NONE: readonly never[] = [];

/**
 * Object literals, not `{ ...base, verdict }`: V8 (Node 20) gives every object spread and then
 * extended its own hidden class, and `check` makes two side decisions per edge.
 */
const side = (base: Base, verdict: SideVerdict, reason: string, rules: readonly RuleRef[] = NONE): SideDecision => ({
  selectedBy: base.selectedBy,
  rules,
  direction: base.direction,
  enforced: base.enforced,
  defaultDeny: base.defaultDeny,
  verdict,
  reason,
});

/**
 * How a side finds its rules and entries. The indexed lookup (the default) and the plain scan
 * give the same rules and a superset of the matching entries in the same order, so the same
 * decisions; the scan is the reference the indexes are tested against.
 */
export interface SideLookup {
  /** The rules selecting the subject for the direction, in set order. */
  readonly selecting: (set: PolicySet, direction: Direction, subject: ResolvedPeer) => readonly CompiledRule[];
  /** The entries of a selecting rule's direction that could match the peer, in rule order. */
  readonly entries: (part: DirectionPart, peer: ResolvedPeer) => readonly CompiledEntry[];
}

export const SCAN: SideLookup = {
  selecting: (set, direction, subject) => selectingAmong(set.rules, direction, subject),
  entries: (part) => part.entries,
};

export const INDEXED: SideLookup = { selecting: selectingRules, entries: candidateEntries };

export function evaluateSide(set: PolicySet, input: SideInput, opts: ResolvedOptions, lookup: SideLookup = INDEXED): SideDecision {
  const { direction, subject } = input;
  if (opts.enforcementMode === 'never') return off(direction, 'policy enforcement mode is never');
  if (subject.isHost && !opts.hostFirewall) return off(direction, `${who(direction)} is the host and the host firewall is off`);
  if (!subject.isHost && !subject.managed) return off(direction, `${who(direction)} is not a Cilium endpoint`);

  const selecting = lookup.selecting(set, direction, subject);
  const { selectedBy, anyDefaultDeny } = selectingFacts(selecting, direction);
  const init = subject.reserved.has('init');
  const forced = opts.enforcementMode === 'always' || init;
  if (selecting.length === 0 && !forced) return off(direction, `no policy selects the ${who(direction)} for ${direction}`);

  const defaultDeny = forced || anyDefaultDeny || (!opts.nonDefaultDenyPolicies && selecting.length > 0);
  // The resolved options carry the peer-matching settings: no context object per side.
  const ctx: PeerMatchContext = opts;
  // One pass over the candidates, no lists for the common sides (no deny matched); allows after
  // a deny are not kept, since a deny decides the side.
  let denies: RuleRef[] | undefined;
  let allows: Match[] | undefined;
  for (const r of selecting) {
    for (const e of lookup.entries(r[direction], input.peer)) {
      const m = matchEntry(e, input, ctx);
      if (m === undefined) continue;
      if (e.deny) (denies ??= []).push(e.ref);
      else if (denies === undefined) (allows ??= []).push(m);
    }
  }
  const base: Base = { direction, enforced: true, defaultDeny, selectedBy };
  if (denies !== undefined) {
    return side(base, 'explicit-deny', `denied by ${refList(denies)}`, sortRefs(denies));
  }
  if (allows === undefined) {
    if (direction === 'ingress' && opts.allowLocalhost === 'always' && input.peer.isHost && !subject.isHost && defaultDeny) {
      return {
        selectedBy: base.selectedBy,
        rules: NONE,
        direction: base.direction,
        enforced: base.enforced,
        defaultDeny: base.defaultDeny,
        verdict: 'allowed',
        implicit: 'local-host',
        reason: 'local host to endpoint is always allowed (allow-localhost)',
      };
    }
    if (!defaultDeny) {
      return side(base, 'allowed', `selected only by non-default-deny policies (${policyList(selectedBy)}); no deny rule matches`);
    }
    const by = selectedBy.length > 0 ? `selected by ${policyList(selectedBy)}` : forced ? (init ? 'init endpoint' : 'enforcement mode always') : '';
    return side(base, 'default-deny', `default deny: ${by}, no rule allows`);
  }
  return judgeL7(base, allows, input.l7);
}

const who = (direction: Direction): string => (direction === 'egress' ? 'source' : 'destination');
const off = (direction: Direction, reason: string): SideDecision => side({ direction, enforced: false, defaultDeny: false, selectedBy: NONE }, 'not-enforced', reason);

/**
 * Loops rather than `some`/`filter`: this runs for every candidate entry of every edge side. The
 * ports first: comparing them costs less than matching the peers' selectors, and most entries of
 * a rule allow another port. An entry all of whose specs match shares its own list as `specs`.
 */
function matchEntry(e: CompiledEntry, input: SideInput, ctx: PeerMatchContext): Match | undefined {
  const l4 = e.l4;
  let matching = 0;
  if (l4 !== undefined) {
    for (const spec of l4) if (l4Matches(spec, input.l4, input.receiver.namedPorts)) matching++;
    if (matching === 0) return undefined;
  }
  let peerMatched = false;
  for (const p of e.peers) {
    if (peerMatches(p, input.peer, ctx)) {
      peerMatched = true;
      break;
    }
  }
  if (!peerMatched) return undefined;
  if (l4 === undefined) return { entry: e, specs: NONE };
  if (matching === l4.length) return { entry: e, specs: l4 };
  const specs: L4Spec[] = [];
  for (const spec of l4) if (l4Matches(spec, input.l4, input.receiver.namedPorts)) specs.push(spec);
  return { entry: e, specs };
}

function judgeL7(base: Base, allows: readonly Match[], l7: L7Request | undefined): SideDecision {
  // Most allowed sides: one matching rule and no L7 rules.
  const only = allows.length === 1 ? (allows[0] as Match) : undefined;
  if (only !== undefined && !anyL7(only.specs)) return side(base, 'allowed', `allowed by ${refLabel(only.entry.ref)}`, [only.entry.ref]);
  const rules = sortRefs(allows.map((m) => m.entry.ref));
  const proxied = allows.filter((m) => m.specs.some((s) => l7Of(s) !== undefined));
  const allowedBy = `allowed by ${refList(rules)}`;
  if (proxied.length === 0) return side(base, 'allowed', allowedBy, rules);
  // An L4-only allow on the same specific port voids the L7 restriction (Cilium docs, layer7).
  const voiding = allows.filter((m) => m.specs.some((s) => isSpecificPort(s) && l7Of(s) === undefined));
  if (voiding.length > 0) {
    return side(base, 'allowed', `${allowedBy}; L7 rules voided by the L4-only allow ${refList(voiding.map((m) => m.entry.ref))}`, rules);
  }
  const specs = proxied.flatMap((m) => m.specs.map(l7Of).filter((s): s is L7Spec => s !== undefined));
  const verdicts = l7 === undefined ? [] : specs.map((s) => l7Allows(s, l7));
  if (verdicts.some((v) => v === true) || verdicts.length === 0 || verdicts.some((v) => v === undefined)) {
    const judged = verdicts.some((v) => v === true) ? 'request matches an L7 rule' : 'request not judged at L7';
    return side(base, 'allowed-l7-proxied', `${allowedBy}; redirected to the L7 proxy, ${judged}`, rules);
  }
  const l7Rules = sortRefs(proxied.map((m) => m.entry.ref));
  return side(base, 'l7-denied', `L3/L4 allowed, but the request matches no L7 rule of ${refList(l7Rules)}`, l7Rules);
}

const l7Of = (s: L4Spec): L7Spec | undefined => (s.kind === 'icmp' ? undefined : s.l7);

function anyL7(specs: readonly L4Spec[]): boolean {
  for (const s of specs) if (l7Of(s) !== undefined) return true;
  return false;
}

/** Sets with at least this many rules remember which rules select a subject. */
const MEMO_MIN_RULES = 32;
interface SelectingMemo {
  /** By resolved peer object (callers resolve a workload's peer once), then by label set. */
  readonly byPeer: { readonly ingress: WeakMap<ResolvedPeer, readonly CompiledRule[]>; readonly egress: WeakMap<ResolvedPeer, readonly CompiledRule[]> };
  readonly byKey: { readonly ingress: Map<string, readonly CompiledRule[]>; readonly egress: Map<string, readonly CompiledRule[]> };
}
const selectingMemo = new WeakMap<PolicySet, SelectingMemo>();

/**
 * The rules selecting `subject` for `direction`. `check` and `drops` judge tens of thousands of
 * edges against thousands of rules, but only a few thousand distinct subjects: a subject is
 * matched only against the rules that could select it (see subject-index.ts), once per subject
 * and set (sets are never changed once built).
 */
function selectingRules(set: PolicySet, direction: Direction, subject: ResolvedPeer): readonly CompiledRule[] {
  if (set.rules.length < MEMO_MIN_RULES) return selectingAmong(set.rules, direction, subject);
  let memo = selectingMemo.get(set);
  if (memo === undefined) {
    memo = { byPeer: { ingress: new WeakMap(), egress: new WeakMap() }, byKey: { ingress: new Map(), egress: new Map() } };
    selectingMemo.set(set, memo);
  }
  let rules = memo.byPeer[direction].get(subject);
  if (rules !== undefined) return rules;
  const key = subjectKey(subject);
  rules = memo.byKey[direction].get(key);
  if (rules === undefined) memo.byKey[direction].set(key, (rules = selectingAmong(candidateRules(set, subject), direction, subject)));
  memo.byPeer[direction].set(subject, rules);
  return rules;
}

const facts = new WeakMap<readonly CompiledRule[], { readonly selectedBy: readonly PolicyRef[]; readonly anyDefaultDeny: boolean }>();

/** The policies of the selecting rules and whether one is default deny; remembered per memoised rule list. */
function selectingFacts(selecting: readonly CompiledRule[], direction: Direction): { readonly selectedBy: readonly PolicyRef[]; readonly anyDefaultDeny: boolean } {
  let f = facts.get(selecting);
  if (f === undefined) {
    f = { selectedBy: uniquePolicies(selecting.map((r) => r.policy)), anyDefaultDeny: selecting.some((r) => r[direction].defaultDeny) };
    // Lists of small sets are built afresh per call; only memoised lists come back.
    if (selecting.length > 0) facts.set(selecting, f);
  }
  return f;
}

const subjectKeys = new WeakMap<ResolvedPeer, string>();
const subjectKey = (subject: ResolvedPeer): string => {
  let k = subjectKeys.get(subject);
  if (k === undefined) subjectKeys.set(subject, (k = `${subject.isHost ? 1 : 0}|${JSON.stringify(subject.labels.map((l) => [l.source, l.key, l.value]))}`));
  return k;
};

/** The rules of `rules` that have a `direction` section and select `subject`, in their order. */
function selectingAmong(rules: readonly CompiledRule[], direction: Direction, subject: ResolvedPeer): CompiledRule[] {
  return rules.filter((r) => r[direction].present && selects(r, subject));
}

export function selects(r: CompiledRule, subject: ResolvedPeer): boolean {
  // The host endpoint is selected only by host policies (nodeSelector), pods only by endpointSelector.
  if (r.subject.kind === 'node') return subject.isHost && selectorMatches(r.subject.selector, subject.labels);
  return !subject.isHost && selectorMatches(r.subject.selector, subject.labels);
}

const refKey = (r: PolicyRef): string => `${r.kind}\u0000${r.namespace ?? ''}\u0000${r.name}`;

function uniquePolicies(ps: readonly PolicyRef[]): PolicyRef[] {
  const seen = new Map<string, PolicyRef>();
  for (const p of ps) if (!seen.has(refKey(p))) seen.set(refKey(p), p);
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}

export function sortRefs(rs: readonly RuleRef[]): RuleRef[] {
  // One reference (most allowed sides): nothing to order or drop.
  if (rs.length === 1) return [rs[0] as RuleRef];
  const key = (r: RuleRef): string => `${refKey(r)}\u0000${r.path}`;
  const seen = new Map<string, RuleRef>();
  for (const r of rs) seen.set(key(r), r);
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

const policyList = (ps: readonly PolicyRef[]): string => ps.map(policyLabel).join(', ');
/** Each rule's `Kind ns/name path` made once: sides name the same few rules again and again. */
const refLabels = new WeakMap<RuleRef, string>();
const refLabel = (r: RuleRef): string => {
  let l = refLabels.get(r);
  if (l === undefined) refLabels.set(r, (l = `${policyLabel(r)} ${r.path}`));
  return l;
};
const refList = (rs: readonly RuleRef[]): string => (rs.length === 1 ? refLabel(rs[0] as RuleRef) : rs.map(refLabel).join(', '));
