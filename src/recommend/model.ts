/**
 * What `recommend` reads and produces. It reads the edge graph's own model (graph/model.ts, types
 * only): `ObservedEdge` and `WorkloadInfo` name the fields of the graph's `Edge` and `WorkloadInfo`
 * the recommender uses, so the app layer passes graph edges straight in and tests can build edges
 * by hand.
 */
import type { Edge, EdgeProtocol, Peer, WorkloadInfo as GraphWorkloadInfo } from '../graph/model.js';

export type { Peer };
export type Protocol = EdgeProtocol;

/** Request-direction traffic from one peer to another on one destination port, as observed. */
export type ObservedEdge = Pick<
  Edge,
  'from' | 'to' | 'protocol' | 'port' | 'flows' | 'connections' | 'forwarded' | 'dropped' | 'audit' | 'firstSeenMs' | 'lastSeenMs' | 'hoursSeen' | 'dropReasons' | 'dnsNames' | 'httpRequests'
>;

/** A workload with the selector that picks exactly its pods; `labels`, `unique` and `overlapsWith` only feed lints and notes. */
export type WorkloadInfo = Pick<GraphWorkloadInfo, 'namespace' | 'kind' | 'name' | 'selector'> & Partial<Pick<GraphWorkloadInfo, 'labels' | 'unique' | 'overlapsWith'>>;

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
