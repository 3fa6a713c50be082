/** What the evaluator answers for one request. */
import type { Direction, PolicyRef, RuleRef } from './compiled.js';

export type SideVerdict =
  /** Enforced and allowed at L3/L4 (no L7 proxy involved, or L7 voided by an L4-only allow). */
  | 'allowed'
  /** Allowed at L3/L4 and redirected to the L7 proxy; the request passed the L7 rules or was not judged. */
  | 'allowed-l7-proxied'
  /** Allowed at L3/L4 but the request matches no L7 rule (HTTP 403 / DNS REFUSED; no packet drop). */
  | 'l7-denied'
  /** Enforced, no allow rule matches (Hubble drop reason POLICY_DENIED, 133). */
  | 'default-deny'
  /** A deny rule matches (Hubble drop reason POLICY_DENY, 181). */
  | 'explicit-deny'
  /** No policy applies on this side (nothing selects the endpoint, not a Cilium endpoint, mode never). */
  | 'not-enforced';

export interface SideDecision {
  /** `egress` is judged at the source, `ingress` at the destination. */
  readonly direction: Direction;
  readonly enforced: boolean;
  readonly defaultDeny: boolean;
  readonly verdict: SideVerdict;
  /** One line, e.g. "default deny: selected by CiliumNetworkPolicy x/y, no rule allows". */
  readonly reason: string;
  /** Policies selecting this endpoint for this direction, sorted. */
  readonly selectedBy: readonly PolicyRef[];
  /**
   * The responsible rules, sorted: every matching allow rule (allowed, l7 verdicts), every
   * matching deny rule (explicit-deny), none for default deny (see `selectedBy`).
   */
  readonly rules: readonly RuleRef[];
  /** Set when an implicit allow decided it (local host → pod ingress, `allow-localhost`). */
  readonly implicit?: 'local-host';
}

export interface Decision {
  /** Both sides let the request through (not-enforced, allowed or allowed-l7-proxied). */
  readonly allowed: boolean;
  readonly egress: SideDecision;
  readonly ingress: SideDecision;
  /** Where the flow stops: egress (source) is checked first, then ingress (destination). */
  readonly blockedAt?: Direction;
  /** The Hubble drop reason this predicts; absent when allowed or refused only at L7. */
  readonly dropReason?: 'POLICY_DENIED' | 'POLICY_DENY';
}

export const sidePasses = (s: SideDecision): boolean =>
  s.verdict === 'allowed' || s.verdict === 'allowed-l7-proxied' || s.verdict === 'not-enforced';
