/**
 * Kubernetes LabelSelector as written in CNP/CCNP/KNP documents.
 *
 * `matchLabels` and `matchExpressions` are ANDed; an empty selector (`{}`) selects everything in
 * its scope. Keys may carry a Cilium label source prefix (`k8s:app`, `reserved:host`, `any:app`);
 * a key without a prefix matches labels of any source.
 */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type SelectorOperator = (typeof SELECTOR_OPERATORS)[number];

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Required (non-empty) for In/NotIn, must be absent or empty for Exists/DoesNotExist. */
  readonly values?: readonly string[];
}
