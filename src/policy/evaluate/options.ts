/** Agent settings the evaluator needs, all passed in (no globals, no environment). */

export type EnforcementMode = 'default' | 'always' | 'never';

export interface EvaluateOptions {
  /** Cilium `enable-policy` / Helm `policyEnforcementMode`. Default `default`. */
  readonly enforcementMode?: EnforcementMode;
  /**
   * Cilium `allow-localhost`. `always` (default; what `auto` means on Kubernetes) lets the local
   * host reach endpoints whose ingress is default deny; `policy` requires an explicit allow.
   */
  readonly allowLocalhost?: 'always' | 'policy';
  /** Cilium `enable-host-firewall`: enforce host policies on the host endpoint. Default false. */
  readonly hostFirewall?: boolean;
  /** Cilium `enable-non-default-deny-policies` (honour `enableDefaultDeny: false`). Default true. */
  readonly nonDefaultDenyPolicies?: boolean;
  /** Local cluster name, for the `cluster` entity. Default `default`. */
  readonly clusterName?: string;
  /** Cilium `policy-cidr-match-mode=nodes`: CIDR rules may also select node IPs. Default false. */
  readonly cidrMatchNodes?: boolean;
  /**
   * Cilium `policy-default-local-cluster` (default true since 1.19): peer selectors that name no
   * cluster select only endpoints of `clusterName`. Peers without a cluster label count as local.
   */
  readonly defaultLocalCluster?: boolean;
}

export type ResolvedOptions = Required<EvaluateOptions>;

export const DEFAULT_OPTIONS: ResolvedOptions = {
  enforcementMode: 'default',
  allowLocalhost: 'always',
  hostFirewall: false,
  nonDefaultDenyPolicies: true,
  clusterName: 'default',
  cidrMatchNodes: false,
  defaultLocalCluster: true,
};

const resolved = new WeakMap<EvaluateOptions, ResolvedOptions>();

/** Callers pass the same (never mutated) options object for thousands of evaluations: resolved once. */
export function resolveOptions(o: EvaluateOptions = DEFAULT_OPTIONS): ResolvedOptions {
  let r = resolved.get(o);
  if (r === undefined) resolved.set(o, (r = { ...DEFAULT_OPTIONS, ...stripUndefined(o) }));
  return r;
}

function stripUndefined(o: EvaluateOptions): Partial<ResolvedOptions> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<ResolvedOptions>;
}
