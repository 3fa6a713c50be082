/**
 * The pure evaluator: would Cilium allow this request, and which policy or rule decides it?
 * A request is allowed only when the source's egress AND the destination's ingress allow it
 * (each judged only where Cilium enforces policy). Decisions never depend on policy or rule order.
 */
import type { Policy } from './model/index.js';
import { compileCilium } from './evaluate/compile-cnp.js';
import { compileKnp } from './evaluate/compile-knp.js';
import type { CompiledRule, PolicySet } from './evaluate/compiled.js';
import { sidePasses, type Decision, type SideDecision } from './evaluate/decision.js';
import type { L7Request } from './evaluate/l7.js';
import { resolvePeer, type Peer } from './evaluate/peer.js';
import type { FlowProtocol, L4Request } from './evaluate/ports.js';
import { resolveOptions, type EvaluateOptions } from './evaluate/options.js';
import { evaluateSide, INDEXED, SCAN, type SideLookup } from './evaluate/side.js';
import { deriveSubjectIndex } from './evaluate/subject-index.js';

/** One request-direction connection attempt (replies are never evaluated: conntrack passes them). */
export interface EvaluationRequest {
  readonly source: Peer;
  readonly destination: Peer;
  readonly protocol: FlowProtocol;
  /** Destination port (after service translation: the backend's targetPort). */
  readonly port?: number;
  readonly icmpType?: number;
  /** L7 facts, when known; without them proxied ports are "allowed-l7-proxied" (not judged). */
  readonly l7?: L7Request;
}

const builtSets = new WeakMap<readonly Policy[], PolicySet>();
const compiledPolicies = new WeakMap<Policy, { readonly rules: readonly CompiledRule[]; readonly notes: readonly string[] }>();

/**
 * Compiles policies once for many evaluations. Pure; `notes` lists what cannot be modelled. The
 * same (readonly, never mutated) array gives the same set, and each (never mutated) policy object
 * is compiled once: triage asks again and again for the set of unchanged or once-patched policies
 * (a copy of the array with one policy replaced), and compiling thousands of policies each time
 * was most of `drops`.
 */
export function buildPolicySet(policies: readonly Policy[]): PolicySet {
  let set = builtSets.get(policies);
  if (set === undefined) builtSets.set(policies, (set = compilePolicySet(policies)));
  return set;
}

/**
 * Compiles policies one by one into a set, so a caller reading thousands of files need not hold
 * every parsed policy at once (`check` drops each file's parsed documents once compiled). The
 * set decides exactly as `buildPolicySet` of the same policies in the same order.
 */
export class PolicySetBuilder {
  readonly #rules: CompiledRule[] = [];
  readonly #notes: string[] = [];
  #built = false;

  add(p: Policy): void {
    // A built set is never changed: its indexes and memos would go stale.
    if (this.#built) throw new Error('PolicySetBuilder: add after build');
    const compiled = compilePolicy(p);
    for (const r of compiled.rules) this.#rules.push(r);
    for (const n of compiled.notes) this.#notes.push(n);
  }

  /** The set of every policy added so far; adding more afterwards is not allowed. */
  build(): PolicySet {
    this.#built = true;
    return { rules: this.#rules, notes: this.#notes };
  }
}

/**
 * Compiles a policy now, so that a later `buildPolicySet` of an array holding this very object
 * reuses the work: a caller waiting for more policies to arrive compiles those it has meanwhile.
 */
export function compileAhead(p: Policy): void {
  compiledOnce(p);
}

function compiledOnce(p: Policy): { readonly rules: readonly CompiledRule[]; readonly notes: readonly string[] } {
  let compiled = compiledPolicies.get(p);
  if (compiled === undefined) compiledPolicies.set(p, (compiled = compilePolicy(p)));
  return compiled;
}

/** The last set compiled from an unrelated array; sets of copies with a few policies replaced share its index. */
let base: { readonly policies: WeakRef<readonly Policy[]>; readonly set: WeakRef<PolicySet> } | undefined;
/** More replaced policies than this and a set gets its own index. */
const MAX_DERIVED_CHANGES = 16;

function compilePolicySet(policies: readonly Policy[]): PolicySet {
  const notes: string[] = [];
  const rules: CompiledRule[] = [];
  const basePolicies = base?.policies.deref();
  const baseSet = base?.set.deref();
  let changed: number[] | undefined = basePolicies !== undefined && baseSet !== undefined && basePolicies.length === policies.length ? [] : undefined;
  policies.forEach((p, i) => {
    const compiled = compiledOnce(p);
    if (changed !== undefined && basePolicies?.[i] !== p) {
      const before = compiledPolicies.get(basePolicies?.[i] as Policy)?.rules.length;
      if (before !== compiled.rules.length || changed.length + before > MAX_DERIVED_CHANGES) changed = undefined;
      else for (let k = 0; k < before; k++) changed.push(rules.length + k);
    }
    for (const r of compiled.rules) rules.push(r);
    for (const n of compiled.notes) notes.push(n);
  });
  const set = { rules, notes };
  if (changed !== undefined && baseSet !== undefined) deriveSubjectIndex(baseSet, set, changed);
  else base = { policies: new WeakRef(policies), set: new WeakRef(set) };
  return set;
}

function compilePolicy(p: Policy): { rules: CompiledRule[]; notes: string[] } {
  const notes: string[] = [];
  switch (p.kind) {
    case 'NetworkPolicy':
      return { rules: [compileKnp(p)], notes };
    case 'CiliumNetworkPolicy':
    case 'CiliumClusterwideNetworkPolicy':
      return { rules: compileCilium(p, notes), notes };
    default: {
      const never: never = p;
      return never;
    }
  }
}

export function evaluate(set: PolicySet, request: EvaluationRequest, options?: EvaluateOptions): Decision {
  return evaluateWith(INDEXED, set, request, options);
}

/**
 * `evaluate` without its indexes and memos: every rule's subject and every entry's peers are
 * matched. The reference the indexed lookups are tested against; slow on large sets.
 */
export function evaluateByScan(set: PolicySet, request: EvaluationRequest, options?: EvaluateOptions): Decision {
  return evaluateWith(SCAN, set, request, options);
}

/**
 * Resolves a request's peers now (each peer object once), so that evaluating it later costs only
 * the judging: `check` prepares its edges' requests while the policy files are still being read.
 */
export function prepareRequest(request: EvaluationRequest): void {
  resolvePeer(request.source);
  resolvePeer(request.destination);
}

function evaluateWith(lookup: SideLookup, set: PolicySet, request: EvaluationRequest, options?: EvaluateOptions): Decision {
  const opts = resolveOptions(options);
  const source = resolvePeer(request.source);
  const destination = resolvePeer(request.destination);
  // Literals rather than spreads: see `side` in evaluate/side.ts.
  const l4: L4Request = { protocol: request.protocol, port: request.port, icmpType: request.icmpType };
  const egress = evaluateSide(set, { direction: 'egress', subject: source, peer: destination, receiver: destination, l4, l7: request.l7 }, opts, lookup);
  const ingress = evaluateSide(set, { direction: 'ingress', subject: destination, peer: source, receiver: destination, l4, l7: request.l7 }, opts, lookup);
  if (sidePasses(egress) && sidePasses(ingress)) return { allowed: true, egress, ingress };
  const blocked = !sidePasses(egress) ? egress : ingress;
  const reason = dropReason(blocked);
  return reason === undefined
    ? { allowed: false, egress, ingress, blockedAt: blocked.direction }
    : { allowed: false, egress, ingress, blockedAt: blocked.direction, dropReason: reason };
}

function dropReason(s: SideDecision): Decision['dropReason'] {
  if (s.verdict === 'default-deny') return 'POLICY_DENIED';
  if (s.verdict === 'explicit-deny') return 'POLICY_DENY';
  return undefined;
}
