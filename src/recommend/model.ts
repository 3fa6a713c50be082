/**
 * What `recommend` reads and produces. The input is a plain view of the edge graph (the app layer
 * maps graph edges onto it), so the recommender is pure and testable with hand-built edges.
 */

export type Peer =
  | { readonly kind: 'workload'; readonly namespace: string; readonly workloadKind: string; readonly name: string }
  | { readonly kind: 'entity'; readonly entity: string }
  | { readonly kind: 'fqdn'; readonly fqdn: string }
  | {
      readonly kind: 'cidr';
      readonly cidr: string;
      /** A cluster endpoint Hubble saw as world that no identity explains (graph `clusterEndpoint`): never a rule. */
      readonly clusterEndpoint?: { readonly reason: string; readonly suggest: string };
    };

export type Protocol = 'TCP' | 'UDP' | 'SCTP' | 'ICMPv4' | 'ICMPv6';

/** Request-direction traffic from one peer to another on one destination port, as observed. */
export interface ObservedEdge {
  readonly from: Peer;
  readonly to: Peer;
  readonly protocol: Protocol;
  /** Destination port; for ICMP the ICMP type. */
  readonly port: number;
  readonly flows: number;
  readonly connections: number;
  readonly forwarded: number;
  readonly dropped: number;
  readonly audit: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  readonly hoursSeen: number;
  readonly dropReasons: Readonly<Record<string, number>>;
  /** DNS query names seen on this edge (DNS edges only). */
  readonly dnsNames: readonly string[];
  /** `METHOD /path/{id}` templates seen on this edge (HTTP only). */
  readonly httpRequests: readonly string[];
}

export interface WorkloadInfo {
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  /** Labels (without source prefix) that select all its pods and no other workload's. */
  readonly selector: Readonly<Record<string, string>>;
  /** Observed pod label sets include `role=primary` etc.; used only by lints. */
  readonly labels?: Readonly<Record<string, string>>;
  /** False when the selector also matches pods of other workloads (`overlapsWith`). */
  readonly unique?: boolean;
  readonly overlapsWith?: readonly string[];
}

export type PolicyKind = 'cilium' | 'kubernetes';

export interface RecommendOptions {
  /** Namespaces whose workloads get policies; `all` for -A. */
  readonly namespaces: readonly string[] | 'all';
  readonly kind: PolicyKind;
  /** Emit the cluster-wide foundation (DNS, kube-apiserver) and leave DNS out of per-workload policies. */
  readonly baseline: boolean;
  /** A baseline younger than this (hours) gets a warning. */
  readonly minBaselineHours: number;
  /** A new edge within this many hours of the end means the baseline is still growing. */
  readonly growingWithinHours: number;
  /** This many or more contiguous observed ports on one peer become a port range (noted). */
  readonly portRangeMin: number;
  /** The Cilium release the policies are for (`--cilium-version`): decides which fields may be used. */
  readonly ciliumVersion: CiliumVersion;
  /** The cluster DNS service's pods. */
  readonly dns: { readonly namespace: string; readonly selector: Readonly<Record<string, string>> };
}

/** A Cilium minor release, `1.18`. */
export interface CiliumVersion {
  readonly major: number;
  readonly minor: number;
}

/**
 * The oldest Cilium minor release still supported upstream on 2026-12-06: Cilium maintains the
 * last three minor releases, which are 1.18, 1.19 and 1.20 since 1.20 came out.
 */
export const OLDEST_SUPPORTED_CILIUM: CiliumVersion = { major: 1, minor: 18 };

/** `enableDefaultDeny` came with Cilium 1.16 (cilium/cilium#30572); older agents drop the field. */
export const ENABLE_DEFAULT_DENY_SINCE: CiliumVersion = { major: 1, minor: 16 };

export function ciliumAtLeast(v: CiliumVersion, min: CiliumVersion): boolean {
  return v.major > min.major || (v.major === min.major && v.minor >= min.minor);
}

export function formatCiliumVersion(v: CiliumVersion): string {
  return `${v.major}.${v.minor}`;
}

export const DEFAULT_OPTIONS: Omit<RecommendOptions, 'namespaces'> = {
  kind: 'cilium',
  ciliumVersion: OLDEST_SUPPORTED_CILIUM,
  baseline: false,
  minBaselineHours: 24 * 7,
  growingWithinHours: 24,
  portRangeMin: 8,
  dns: { namespace: 'kube-system', selector: { 'k8s-app': 'kube-dns' } },
};

/** Evidence for one rule: what was seen, shown as a YAML comment above it. */
export interface Evidence {
  readonly flows: number;
  readonly connections: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  readonly hoursSeen: number;
}

/** A place where a rule allows more than was observed, or something operators must know. */
export interface Note {
  readonly policy: string;
  readonly namespace?: string;
  readonly kind: 'widening' | 'dropped' | 'unsupported' | 'default-deny' | 'left-out' | 'info';
  readonly message: string;
}

export interface Lint {
  readonly policy: string;
  readonly namespace?: string;
  readonly rule: string;
  readonly message: string;
}

/**
 * A generated document plus, per YAML path (`spec.egress[0]`), the evidence comment to print
 * above that node. The document is plain data that `kubectl apply` accepts.
 */
export interface GeneratedPolicy {
  readonly document: PolicyDocument;
  readonly comments: ReadonlyMap<string, string>;
}

export interface PolicyDocument {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly spec?: Record<string, unknown>;
  /** CiliumNetworkPolicy / CCNP only: several rules with their own subjects, instead of `spec`. */
  readonly specs?: readonly Record<string, unknown>[];
}

export interface Recommendation {
  readonly policies: readonly GeneratedPolicy[];
  /**
   * Cilium policies only: the release they were written for (`--cilium-version`) and, when they use
   * a field older agents drop, the oldest release they need and why.
   */
  readonly cilium?: { readonly target: CiliumVersion; readonly requires?: { readonly version: CiliumVersion; readonly because: string } };
  readonly notes: readonly Note[];
  readonly warnings: readonly string[];
  readonly lints: readonly Lint[];
  /** Time of the newest flow behind the recommendation (for a staleness warning by the caller). */
  readonly newestFlowMs?: number;
}
