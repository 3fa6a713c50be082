/**
 * Patches that would let a dropped request through, as RFC 6902 JSON Patches against the policy
 * documents that decide it. Every patch is checked with the evaluator before it is offered: it is
 * applied to the parsed policy (whose `spec`/`specs` layout is the document's) and the request is
 * evaluated again.
 */
import type { Flow } from '../flow/index.js';
import type { ClusterIps, WorkloadInfo } from '../graph/index.js';
import {
  buildPolicySet,
  ciliumRules,
  evaluate,
  policyLabel,
  type Direction,
  type EvaluateOptions,
  type EvaluationRequest,
  type Policy,
  type PolicyRef,
  type RuleRef,
  type SideDecision,
} from '../policy/index.js';
import { applyJsonPatch, pointerToken, type JsonPatchOp } from './json-patch.js';
import { describePeer } from '../graph/index.js';
import { evaluatorPeer } from './check.js';
import { ciliumRule, clusterVerdict, describeRulePeer, knpRule, l7RuleFor, rulePeer, rulePort, type RulePeer } from './peer-rule.js';

/** `combined`: several of the others on one policy document (drops --combine). */
export type PatchAction = 'add-allow' | 'add-l7-allow' | 'narrow-deny' | 'remove-deny' | 'combined';

export interface PolicyPatch {
  readonly action: PatchAction;
  /** The side the patch opens: egress of the source or ingress of the destination. */
  readonly direction: Direction;
  /** The policy document to patch (kind, namespace, name, file and document). */
  readonly policy: PolicyRef;
  /** Operations relative to the policy object (for `kubectl patch --type json`). */
  readonly ops: readonly JsonPatchOp[];
  /** One line for people. */
  readonly description: string;
  /**
   * How this standalone patch applies together with the other drops' patches to the same policy
   * (set by `triageDrops`; they all apply in any order to the same result).
   */
  readonly composition?: PatchComposition;
}

/**
 * `independent`: it only appends to lists that exist (`/-`) or writes where no other patch does.
 * `merged`: it creates a list the policy does not have yet; every patch that creates that list
 * writes the same value, with the entries of all of them (`mergedDrops` other drops).
 */
export type PatchComposition = { readonly how: 'independent' } | { readonly how: 'merged'; readonly mergedDrops: number; readonly paths: readonly string[] };

export interface FixContext {
  readonly flow: Flow;
  readonly request: EvaluationRequest;
  readonly options: EvaluateOptions;
  readonly workloads: readonly WorkloadInfo[];
  /** Which world-labelled addresses are cluster endpoints (never allowed by CIDR). */
  readonly clusterIps?: ClusterIps;
}

export interface FixResult {
  readonly patches: PolicyPatch[];
  readonly notes: string[];
  /** The policies with the patches applied. */
  readonly policies: readonly Policy[];
}

/**
 * The request as Cilium judges it once its IP cache knows the peer: a world-labelled address the
 * database shows as one cluster identity (a pod, a node) carries that identity. Undefined when the
 * flow's peer is not such an address.
 */
export function asClusterRequest(ctx: Pick<FixContext, 'flow' | 'request' | 'workloads' | 'clusterIps'>, direction: Direction): EvaluationRequest | undefined {
  const v = clusterVerdict(ctx.flow, direction, ctx.clusterIps);
  const only = v?.kind === 'peers' && v.peers.length === 1 ? v.peers[0] : undefined;
  if (only === undefined) return undefined;
  const peer = evaluatorPeer(only, new Map(ctx.workloads.map((w) => [`${w.namespace}/${w.kind}/${w.name}`, w])));
  return direction === 'egress' ? { ...ctx.request, destination: peer } : { ...ctx.request, source: peer };
}

export const sidePasses = (s: SideDecision): boolean => s.verdict === 'allowed' || s.verdict === 'allowed-l7-proxied' || s.verdict === 'not-enforced';

const sideOf = (policies: readonly Policy[], ctx: FixContext, direction: Direction): SideDecision =>
  evaluate(buildPolicySet(policies), ctx.request, ctx.options)[direction];

/** Fixes one blocking side; for an explicit deny that leaves default deny, also adds the allow. */
export function fixSide(ctx: FixContext, policies: readonly Policy[], side: SideDecision): FixResult {
  switch (side.verdict) {
    case 'default-deny':
      return addAllow(ctx, policies, side, 'add-allow');
    case 'l7-denied':
      return addAllow(ctx, policies, side, 'add-l7-allow');
    case 'explicit-deny': {
      const first = narrowDenies(ctx, policies, side);
      const after = sideOf(first.policies, ctx, side.direction);
      if (sidePasses(after) || after.verdict === 'explicit-deny') return first;
      const second = fixSide(ctx, first.policies, after);
      return { patches: [...first.patches, ...second.patches], notes: [...first.notes, ...second.notes], policies: second.policies };
    }
    case 'allowed':
    case 'allowed-l7-proxied':
    case 'not-enforced':
      return { patches: [], notes: [], policies };
    default: {
      const never: never = side.verdict;
      return never;
    }
  }
}

export function samePolicy(p: Policy, ref: PolicyRef): boolean {
  const ns = p.kind === 'CiliumClusterwideNetworkPolicy' ? undefined : p.namespace;
  const o = ref.origin;
  return (
    p.kind === ref.kind &&
    p.name === ref.name &&
    ns === ref.namespace &&
    (o === undefined || (o.file === p.origin.file && o.doc === p.origin.doc && o.item === p.origin.item))
  );
}

const refOf = (p: Policy): PolicyRef => ({
  kind: p.kind,
  ...(p.kind !== 'CiliumClusterwideNetworkPolicy' && { namespace: p.namespace }),
  name: p.name,
  origin: p.origin,
});

const replace = (policies: readonly Policy[], old: Policy, next: Policy): Policy[] => policies.map((p) => (p === old ? next : p));

/** Specific subjects first (the workload's own policy, not a namespace-wide default deny), then the one with most rules. */
function preference(p: Policy, direction: Direction): [number, number, string] {
  if (p.kind === 'NetworkPolicy') {
    const sel = p.spec.podSelector;
    const specific = Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions?.length ?? 0) > 0;
    return [specific ? 0 : 1, -(p.spec[direction]?.length ?? 0), policyLabel(refOf(p))];
  }
  const rules = ciliumRules(p);
  const specific = rules.some((r) => {
    const sel = r.endpointSelector ?? {};
    return Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions?.length ?? 0) > 0;
  });
  return [specific ? 0 : 1, -rules.reduce((n, r) => n + (r[direction]?.length ?? 0), 0), policyLabel(refOf(p))];
}

function comparePreference(a: [number, number, string], b: [number, number, string]): number {
  return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

/** `/spec` or `/specs/<i>` of the i-th Cilium rule (`spec` first, as `ciliumRules` orders them). */
function ruleBase(p: Policy, i: number): string {
  if (p.kind === 'NetworkPolicy') return '/spec';
  return p.spec !== undefined ? (i === 0 ? '/spec' : `/specs/${i - 1}`) : `/specs/${i}`;
}

/** Adds `rule` to a section: append with `/-`, or create the section when it is missing. */
function addRuleOp(section: readonly unknown[] | undefined, base: string, direction: Direction, rule: unknown): JsonPatchOp {
  return section === undefined ? { op: 'add', path: `${base}/${direction}`, value: [rule] } : { op: 'add', path: `${base}/${direction}/-`, value: rule };
}

interface Candidate {
  readonly policy: Policy;
  readonly indexes: readonly number[];
}

function candidates(policies: readonly Policy[], side: SideDecision, action: PatchAction): Candidate[] {
  if (action === 'add-l7-allow') {
    // Next to the L7 rule that refused the request (same policy, same spec item).
    return side.rules.flatMap((r) => {
      const p = policies.find((x) => samePolicy(x, r));
      const i = p === undefined ? undefined : ruleIndexOf(p, r);
      return p === undefined || i === undefined ? [] : [{ policy: p, indexes: [i] }];
    });
  }
  return side.selectedBy
    .map((ref) => policies.find((p) => samePolicy(p, ref)))
    .filter((p): p is Policy => p !== undefined)
    .sort((a, b) => comparePreference(preference(a, side.direction), preference(b, side.direction)))
    .map((p) => ({
      policy: p,
      indexes:
        p.kind === 'NetworkPolicy'
          ? [0]
          : ciliumRules(p).flatMap((r, i) => ((r[side.direction]?.length ?? 0) + (r[side.direction === 'ingress' ? 'ingressDeny' : 'egressDeny']?.length ?? 0) > 0 ? [i] : [])),
    }));
}

/** Index into `ciliumRules(p)` of a rule path like `specs[1].ingress[0]`. */
function ruleIndexOf(p: Policy, r: RuleRef): number | undefined {
  const m = /^(spec|specs\[(\d+)\])\./.exec(r.path);
  if (!m) return undefined;
  if (p.kind === 'NetworkPolicy' || m[1] === 'spec') return 0;
  return Number(m[2]) + (p.spec !== undefined ? 1 : 0);
}

function addAllow(ctx: FixContext, policies: readonly Policy[], side: SideDecision, action: PatchAction): FixResult {
  const direction = side.direction;
  const peer = rulePeer(ctx.flow, direction, ctx.workloads, ctx.clusterIps);
  const port = rulePort(ctx.flow);
  const l7 = action === 'add-l7-allow' ? l7RuleFor(ctx.flow) : undefined;
  const notes: string[] = [];
  if (peer === undefined) {
    const cluster = clusterVerdict(ctx.flow, direction, ctx.clusterIps);
    const why =
      cluster?.kind === 'unidentified'
        ? `: ${cluster.reason}; ${cluster.suggest}`
        : cluster?.kind === 'peers'
          ? `: its address is a cluster endpoint (${cluster.peers.map(describePeer).join(', ')}) Hubble saw as world, which a CIDR rule never matches`
          : '';
    return { patches: [], notes: [`cannot name the ${direction === 'egress' ? 'destination' : 'source'} of this flow in a rule${why}`], policies };
  }
  if (action === 'add-l7-allow' && l7 === undefined) return { patches: [], notes: ['the refused L7 request carries no HTTP or DNS details to allow'], policies };
  for (const c of candidates(policies, side, action)) {
    const p = c.policy;
    const ns = p.kind === 'CiliumClusterwideNetworkPolicy' ? undefined : p.namespace;
    const rctx = { kind: p.kind, ...(ns !== undefined && { namespace: ns }), direction };
    const rule = p.kind === 'NetworkPolicy' ? knpRule(rctx, peer, port) : ciliumRule(rctx, peer, port, l7);
    if (typeof rule === 'string') {
      notes.push(`${policyLabel(refOf(p))}: ${rule}`);
      continue;
    }
    // Rules whose section exists first: appending with `/-` composes with any other patch, creating the section does not.
    const sectionOf = (i: number): readonly unknown[] | undefined => (p.kind === 'NetworkPolicy' ? p.spec[direction] : ciliumRules(p)[i]?.[direction]);
    const indexes = [...c.indexes].sort((a, b) => Number(sectionOf(a) === undefined) - Number(sectionOf(b) === undefined));
    for (const i of indexes) {
      const section = p.kind === 'NetworkPolicy' ? p.spec[direction] : ciliumRules(p)[i]?.[direction];
      const ops = [addRuleOp(section, ruleBase(p, i), direction, rule)];
      const patched = replace(policies, p, applyJsonPatch(p, ops));
      // A rule naming a cluster identity is judged for that identity (it never matches the world label Hubble showed).
      const judged = asClusterRequest(ctx, direction);
      if (!sidePasses(sideOf(patched, judged === undefined ? ctx : { ...ctx, request: judged }, direction))) continue;
      const what = action === 'add-l7-allow' ? 'L7 allow rule' : 'allow rule';
      const seenAs = judged === undefined ? '' : ` (Hubble saw this address as world; the flows show it is ${describeRulePeer(peer)}, which a CIDR rule would never match)`;
      const description = `add an ${direction} ${what} to ${policyLabel(refOf(p))}: ${direction === 'ingress' ? 'from' : 'to'} ${describeRulePeer(peer)} on ${portLabel(port)}${seenAs}`;
      return { patches: [{ action, direction, policy: refOf(p), ops, description }], notes, policies: patched };
    }
  }
  notes.push(`no single rule added to ${side.selectedBy.map(policyLabel).join(', ') || 'the selecting policies'} lets this ${direction} through`);
  if (peer.kind === 'workload' && Object.keys(peer.selector).length === 0) notes.push(`${peer.namespace}/${peer.name} has no stable labels to select it by`);
  return { patches: [], notes, policies };
}

const portLabel = (port: ReturnType<typeof rulePort>): string =>
  port === undefined ? 'any port' : port.kind === 'port' ? `${port.protocol}/${port.port}` : `ICMP${port.family === 'IPv6' ? 'v6' : ''} type ${port.type}`;

/** `spec.ingressDeny[0]` / `specs[1].egressDeny[2]` → `/spec/ingressDeny/0`. */
export function pointerOfPath(path: string): string {
  return `/${path.replace(/\[(\d+)\]/g, '.$1').split('.').map(pointerToken).join('/')}`;
}

function at(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const t of pointer.slice(1).split('/')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[t];
  }
  return cur;
}

/**
 * An allow never overrides a deny (deny wins at the same precedence), so the deny rule itself has
 * to change: exclude the peer workload from each of its endpoint selectors (`NotIn` on the
 * workload's selector label), or remove the rule when the peer is not a workload.
 */
function narrowDenies(ctx: FixContext, policies: readonly Policy[], side: SideDecision): FixResult {
  const direction = side.direction;
  const peer = rulePeer(ctx.flow, direction, ctx.workloads, ctx.clusterIps);
  const notes: string[] = [];
  const patches: PolicyPatch[] = [];
  let current = [...policies];
  // Per policy, highest index first (a stable order; no operation shifts an index).
  const refs = [...side.rules].sort((a, b) => (a.path < b.path ? 1 : a.path > b.path ? -1 : 0));
  for (const r of refs) {
    const p = current.find((x) => samePolicy(x, r));
    if (p === undefined) continue;
    const pointer = pointerOfPath(r.path);
    const entry = at(p, pointer) as Record<string, unknown> | undefined;
    if (entry === undefined) continue;
    const field = direction === 'ingress' ? 'fromEndpoints' : 'toEndpoints';
    const selectors = entry[field];
    const narrow = peer?.kind === 'workload' && Array.isArray(selectors) && selectors.length > 0 ? notIn(peer) : undefined;
    let ops: JsonPatchOp[];
    let action: PatchAction;
    let description: string;
    if (narrow !== undefined && peer?.kind === 'workload') {
      ops = (selectors as Record<string, unknown>[]).map((s, j) =>
        Array.isArray(s['matchExpressions'])
          ? { op: 'add' as const, path: `${pointer}/${field}/${j}/matchExpressions/-`, value: narrow }
          : { op: 'add' as const, path: `${pointer}/${field}/${j}/matchExpressions`, value: [narrow] },
      );
      action = 'narrow-deny';
      description = `an allow cannot override a deny: narrow ${policyLabel(r)} ${r.path} so it no longer matches ${describeRulePeer(peer)} (${narrow.key} NotIn [${narrow.values.join(', ')}])`;
    } else {
      // Emptied in place rather than removed: `{}` matches no peer (no L3, no L4: no filter), the
      // section stays (same default deny) and no index shifts under another drop's patch.
      ops = [{ op: 'replace', path: pointer, value: {} }];
      action = 'remove-deny';
      description = `an allow cannot override a deny: empty ${policyLabel(r)} ${r.path} (replaced by {}, which matches no peer; kept in place so that the policy's default deny and the paths in other patches do not change)`;
    }
    const patched = applyJsonPatch(p, ops);
    current = replace(current, p, patched);
    patches.push({ action, direction, policy: refOf(p), ops, description });
  }
  return { patches: mergeByPolicy(patches), notes, policies: current };
}

function notIn(peer: Extract<RulePeer, { kind: 'workload' }>): { key: string; operator: 'NotIn'; values: string[] } | undefined {
  const first = Object.entries(peer.selector)[0];
  return first === undefined ? undefined : { key: first[0], operator: 'NotIn', values: [first[1]] };
}

/**
 * One patch per policy document: the operations of several patches to the same policy, in order.
 * By default only patches of the same action merge; `acrossActions` merges all of a policy's
 * patches into one (`combined` when their actions differ).
 */
export function mergeByPolicy(patches: readonly PolicyPatch[], { acrossActions = false } = {}): PolicyPatch[] {
  const out: PolicyPatch[] = [];
  for (const p of patches) {
    const i = out.findIndex((x) => (acrossActions || x.action === p.action) && sameRef(x.policy, p.policy));
    const prev = out[i];
    if (prev === undefined) out.push(p);
    else
      out[i] = {
        ...prev,
        action: prev.action === p.action ? prev.action : 'combined',
        ops: [...prev.ops, ...p.ops],
        description: `${prev.description}; ${p.description}`,
      };
  }
  return out;
}

export const sameRef = (a: PolicyRef, b: PolicyRef): boolean =>
  policyLabel(a) === policyLabel(b) && a.origin?.file === b.origin?.file && a.origin?.doc === b.origin?.doc && a.origin?.item === b.origin?.item;
