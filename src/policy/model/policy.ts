/** Loaded policy documents: CNP, CCNP and Kubernetes NetworkPolicy, each with its origin. */
import type { CiliumRule } from './cnp.js';
import type { KnpSpec } from './knp.js';

export type PolicyKind = 'CiliumNetworkPolicy' | 'CiliumClusterwideNetworkPolicy' | 'NetworkPolicy';

/** Where a policy came from: file name and 1-based YAML document index (plus List item). */
export interface PolicyOrigin {
  readonly file: string;
  readonly doc: number;
  /** Index inside a `kind: List` document. */
  readonly item?: number;
}

interface PolicyBase {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly origin: PolicyOrigin;
}

export interface CiliumNetworkPolicy extends PolicyBase {
  readonly kind: 'CiliumNetworkPolicy';
  readonly namespace: string;
  readonly spec?: CiliumRule;
  readonly specs?: readonly CiliumRule[];
}

export interface CiliumClusterwideNetworkPolicy extends PolicyBase {
  readonly kind: 'CiliumClusterwideNetworkPolicy';
  readonly spec?: CiliumRule;
  readonly specs?: readonly CiliumRule[];
}

export interface NetworkPolicy extends PolicyBase {
  readonly kind: 'NetworkPolicy';
  readonly namespace: string;
  readonly spec: KnpSpec;
}

export type Policy = CiliumNetworkPolicy | CiliumClusterwideNetworkPolicy | NetworkPolicy;

/** The rules of a Cilium policy in evaluation order: `spec` (index 0) then `specs` (1..n). */
export function ciliumRules(p: CiliumNetworkPolicy | CiliumClusterwideNetworkPolicy): readonly CiliumRule[] {
  return [...(p.spec ? [p.spec] : []), ...(p.specs ?? [])];
}
