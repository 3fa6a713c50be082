/** The evaluator's normalised form of loaded policies: one entry per rule, with its subject. */
import type { PolicyKind, PolicyOrigin } from '../model/index.js';
import type { CompiledSelector } from './labels.js';
import type { PeerMatcher } from './peers.js';
import type { L4Spec } from './ports.js';

export type Direction = 'ingress' | 'egress';
export type Section = 'ingress' | 'ingressDeny' | 'egress' | 'egressDeny';

/** Names a policy in reports. `namespace` is absent for cluster-wide policies. */
export interface PolicyRef {
  readonly kind: PolicyKind;
  readonly namespace?: string;
  readonly name: string;
  readonly origin?: PolicyOrigin;
}

/** Names one rule: its policy, direction, section and index, and its path in the document. */
export interface RuleRef extends PolicyRef {
  readonly direction: Direction;
  readonly section: Section;
  readonly ruleIndex: number;
  /** `spec.ingress[0]`, `specs[1].egressDeny[2]`, or for NetworkPolicy `spec.egress[0]`. */
  readonly path: string;
}

export interface CompiledEntry {
  readonly ref: RuleRef;
  readonly deny: boolean;
  /** Union of peers; empty = selects nothing. */
  readonly peers: readonly PeerMatcher[];
  /** `undefined` = L3 only: all ports and protocols, ICMP included. `[]` = matches nothing. */
  readonly l4?: readonly L4Spec[];
}

export interface DirectionPart {
  /** The rule has entries (allow or deny) in this direction, so it selects the endpoint for it. */
  readonly present: boolean;
  /**
   * `enableDefaultDeny` for this direction, defaulted to `present`. With the agent flag
   * `enable-non-default-deny-policies` off, the evaluator treats every present part as default deny.
   */
  readonly defaultDeny: boolean;
  readonly entries: readonly CompiledEntry[];
}

export type Subject =
  | { readonly kind: 'endpoint'; readonly selector: CompiledSelector }
  /** Host policy (`nodeSelector`): selects the host endpoint, enforced only with the host firewall. */
  | { readonly kind: 'node'; readonly selector: CompiledSelector };

export interface CompiledRule {
  readonly policy: PolicyRef;
  readonly subject: Subject;
  readonly ingress: DirectionPart;
  readonly egress: DirectionPart;
}

/** Policies ready for evaluation; build once with `buildPolicySet`, evaluate many flows. */
export interface PolicySet {
  readonly rules: readonly CompiledRule[];
  /** Things the evaluator cannot model (toServices, CIDR groups, ...), one line each. */
  readonly notes: readonly string[];
}

/**
 * A copy of a string that holds nothing else alive. Parsers hand out slices of the whole file's
 * text, and a compiled set kept after its parsed policies are dropped would otherwise keep every
 * policy file's text (comments included) for a policy name or a label value.
 */
export const ownString = (s: string): string => (s.length < 13 ? s : ` ${s}`.slice(1));

/**
 * A rule's reference, as an object literal: V8 (Node 20) gives every `{ ...policy, path }` its own
 * hidden class, and a large policy set has tens of thousands of rule entries.
 */
export function ruleRef(policy: PolicyRef, direction: Direction, section: Section, ruleIndex: number, path: string): RuleRef {
  const { kind, namespace, name, origin } = policy;
  if (namespace === undefined) return origin === undefined ? { kind, name, direction, section, ruleIndex, path } : { kind, name, origin, direction, section, ruleIndex, path };
  return origin === undefined ? { kind, namespace, name, direction, section, ruleIndex, path } : { kind, namespace, name, origin, direction, section, ruleIndex, path };
}

export const policyLabel = (p: PolicyRef): string =>
  `${p.kind} ${p.namespace === undefined ? '' : `${p.namespace}/`}${p.name}`;
