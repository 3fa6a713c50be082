import { baselinePolicies } from './baseline.js';
import { type WorkloadTraffic, ciliumPolicyFor, cnpName } from './cilium.js';
import { isDnsPort } from './dns.js';
import { droppedEdgeNotes } from './dropped-notes.js';
import { isNamespaceName, isSelectorLabels, quoted } from './k8s-names.js';
import { kubernetesPolicyFor } from './kubernetes.js';
import { lintPolicies } from './lints.js';
import { ENABLE_DEFAULT_DENY_SINCE, ciliumAtLeast, formatCiliumVersion } from './model.js';
import type { GeneratedPolicy, Note, ObservedEdge, Peer, Recommendation, RecommendOptions, WorkloadInfo } from './model.js';
import { describePeer, workloadKey } from './naming.js';
import { indexWorkloads } from './selectors.js';

const HOUR_MS = 3_600_000;

/** Only what was let through (forwarded, or audited in audit mode) may become an allow rule. */
function wasAllowed(e: ObservedEdge): boolean {
  return e.forwarded > 0 || e.audit > 0;
}

/** A workload's edges in graph order: into it, out of it, and touching it at either end (once each). */
interface WorkloadEdges {
  readonly inbound: ObservedEdge[];
  readonly outbound: ObservedEdge[];
  readonly touching: ObservedEdge[];
}
const NO_EDGES: WorkloadEdges = { inbound: [], outbound: [], touching: [] };

/**
 * One pass over the graph instead of three filters per workload: at 3,000 workloads and 60,000
 * edges those filters were most of `recommend -A`'s time.
 */
function edgesByWorkload(edges: readonly ObservedEdge[]): Map<string, WorkloadEdges> {
  const out = new Map<string, WorkloadEdges>();
  // By peer object first: a read shares one per peer among its edges, and a key per edge end cost more than the grouping.
  const byPeer = new Map<Peer, WorkloadEdges>();
  const of = (p: Extract<Peer, { kind: 'workload' }>): WorkloadEdges => {
    let w = byPeer.get(p);
    if (w !== undefined) return w;
    const k = exactKey(p.namespace, p.workloadKind, p.name);
    w = out.get(k);
    if (w === undefined) out.set(k, (w = { inbound: [], outbound: [], touching: [] }));
    byPeer.set(p, w);
    return w;
  };
  for (const e of edges) {
    const from = e.from.kind === 'workload' ? of(e.from) : undefined;
    const to = e.to.kind === 'workload' ? of(e.to) : undefined;
    from?.outbound.push(e);
    from?.touching.push(e);
    to?.inbound.push(e);
    if (to !== from) to?.touching.push(e);
  }
  return out;
}

/** Unambiguous whatever the names hold (a `/` in a hostile name must not merge two workloads). */
const exactKey = (namespace: string, kind: string, name: string): string => JSON.stringify([namespace, kind, name]);

/**
 * Least-privilege policies for the workloads of the selected namespaces, from observed request
 * edges. Pure: the clock and every mode come in `options`; output order is deterministic.
 */
export function recommend(observed: readonly ObservedEdge[], workloads: readonly WorkloadInfo[], requested: RecommendOptions): Recommendation {
  const warnings: string[] = [];
  // Cluster endpoints no identity explains never become rules (a CIDR rule would allow nothing):
  // left out here, once for every kind of policy, and named in a note of the workload's policy.
  const edges = observed.filter((e) => clusterEndpoint(e.from) === undefined && clusterEndpoint(e.to) === undefined);
  const leftOut = leftOutByWorkload(observed);
  let options = requested;
  if (options.baseline && options.kind === 'cilium' && !ciliumAtLeast(options.ciliumVersion, ENABLE_DEFAULT_DENY_SINCE)) {
    // Without enableDefaultDeny a CCNP selecting every pod would put them all into egress default-deny.
    warnings.push(
      `--baseline needs enableDefaultDeny (Cilium ${formatCiliumVersion(ENABLE_DEFAULT_DENY_SINCE)}+), not in Cilium ${formatCiliumVersion(options.ciliumVersion)}: ` +
        'DNS and kube-apiserver stay in the per-workload policies instead',
    );
    options = { ...options, baseline: false };
  }
  const index = indexWorkloads(workloads);
  const selected = (ns: string): boolean => options.namespaces === 'all' || options.namespaces.includes(ns);
  const isDnsServer = (p: Peer): boolean => {
    if (p.kind !== 'workload' || p.namespace !== options.dns.namespace) return false;
    const sel = index.get(workloadKey({ namespace: p.namespace, kind: p.workloadKind, name: p.name }))?.selector ?? {};
    return Object.entries(options.dns.selector).every(([k, v]) => sel[k] === v);
  };

  const targets = workloadsWithTraffic(edges, workloads, selected);
  const byWorkload = edgesByWorkload(edges);
  const edgesOf = (w: WorkloadInfo): WorkloadEdges => byWorkload.get(exactKey(w.namespace, w.kind, w.name)) ?? NO_EDGES;
  const nameCount = new Map<string, number>();
  for (const w of targets) nameCount.set(`${w.namespace}/${w.name}`, (nameCount.get(`${w.namespace}/${w.name}`) ?? 0) + 1);

  const policies: GeneratedPolicy[] = [];
  const notes: Note[] = [];
  for (const w of targets) {
    const unwritable = unwritableReason(w);
    if (unwritable !== undefined) {
      warnings.push(`${quoted(w.namespace)}/${quoted(w.name)} (${quoted(w.kind)}): no policy was written: ${unwritable}`);
      continue;
    }
    if (Object.keys(w.selector).length === 0) {
      // An empty selector would select every pod of the namespace: no policy rather than a wider one.
      warnings.push(
        `${w.namespace}/${w.name} (${w.kind}): its pods share no stable label, so no policy was written for it; ` +
          `add a label such as app.kubernetes.io/name=${labelValueHint(w.name)} to its pod template and observe again`,
      );
      continue;
    }
    const traffic: WorkloadTraffic = {
      workload: w,
      inbound: edgesOf(w).inbound.filter(wasAllowed),
      outbound: edgesOf(w).outbound.filter(wasAllowed),
    };
    const name = cnpName(w, (nameCount.get(`${w.namespace}/${w.name}`) ?? 0) > 1);
    if (w.unique === false) {
      notes.push({
        policy: name,
        namespace: w.namespace,
        kind: 'widening',
        message: `the selector of ${w.namespace}/${w.name} also matches pods of ${(w.overlapsWith ?? []).join(', ') || 'other workloads'}: no label tells them apart; add one to the pod template`,
      });
    }
    if (options.kind === 'kubernetes') {
      const r = kubernetesPolicyFor(traffic, name, index, options);
      policies.push(r.policy);
      notes.push(...r.notes);
      warnings.push(...r.warnings);
    } else {
      const r = ciliumPolicyFor(traffic, name, index, options, isDnsServer);
      policies.push(r.policy);
      notes.push(...r.notes);
    }
    for (const e of leftOut.get(exactKey(w.namespace, w.kind, w.name)) ?? []) {
      const inbound = e.to.kind === 'workload' && e.to.namespace === w.namespace && e.to.name === w.name && e.to.workloadKind === w.kind;
      const peer = inbound ? e.from : e.to;
      const hint = clusterEndpoint(peer);
      if (hint === undefined || !wasAllowed(e)) continue;
      notes.push({
        policy: name,
        namespace: w.namespace,
        kind: 'left-out',
        message: `${inbound ? 'from' : 'to'} ${peer.kind === 'cidr' ? peer.cidr.replace(/\/(32|128)$/, '') : describePeer(peer)} on ${e.protocol}/${e.port} is left out (${e.forwarded} forwarded flows): ${hint.reason}; ${hint.suggest}`,
      });
    }
    for (const message of droppedEdgeNotes(edgesOf(w).touching.filter((x) => x.dropped > 0), wasAllowed)) {
      notes.push({ policy: name, namespace: w.namespace, kind: 'dropped', message });
    }
  }

  // A workload whose only traffic was with such endpoints has no policy to carry the note.
  const withPolicy = new Set(targets.map((w) => exactKey(w.namespace, w.kind, w.name)));
  for (const [k, es] of leftOut) {
    const [namespace] = JSON.parse(k) as [string, string, string];
    if (withPolicy.has(k) || !selected(namespace)) continue;
    for (const e of es.filter(wasAllowed)) {
      const peer = clusterEndpoint(e.to) !== undefined ? e.to : e.from;
      const hint = clusterEndpoint(peer);
      if (hint !== undefined) warnings.push(`${describePeer(e.from)} -> ${describePeer(e.to)} ${e.protocol}/${e.port}: no rule written: ${hint.reason}; ${hint.suggest}`);
    }
  }

  if (options.baseline && options.kind === 'cilium') {
    const dnsEdges = edges.filter((e) => isDnsServer(e.to) && isDnsPort(e) && wasAllowed(e));
    const apiClients = targets
      .map((w) => ({ workload: w, edges: edgesOf(w).outbound.filter((e) => e.to.kind === 'entity' && e.to.entity === 'kube-apiserver' && wasAllowed(e)) }))
      .filter((c) => c.edges.length > 0);
    const foundation = baselinePolicies(dnsEdges, apiClients, options);
    for (const p of foundation) {
      notes.push({
        policy: p.document.metadata.name,
        kind: 'info',
        message:
          `needs Cilium ${formatCiliumVersion(ENABLE_DEFAULT_DENY_SINCE)} or newer (enableDefaultDeny): an older agent drops the field, ` +
          'and this policy would then put every pod it selects into default deny',
      });
    }
    policies.unshift(...foundation);
  }

  warnings.push(...baselineWarnings(edges.filter((e) => e.from.kind !== 'workload' || selected(e.from.namespace) || (e.to.kind === 'workload' && selected(e.to.namespace))), options));
  const lints = lintPolicies(
    policies.map((p) => p.document as unknown as Readonly<Record<string, unknown>>),
    { edges, workloads: targets, cnpgOperatorNamespace: 'cnpg-system' },
  );
  const newestFlowMs = edges.length > 0 ? edges.reduce((max, e) => Math.max(max, e.lastSeenMs), Number.NEGATIVE_INFINITY) : undefined;
  const usesDefaultDenyField = policies.some((p) => mentions(p.document, DEFAULT_DENY_FIELD));
  const cilium =
    options.kind === 'cilium'
      ? {
          target: options.ciliumVersion,
          ...(usesDefaultDenyField ? { requires: { version: ENABLE_DEFAULT_DENY_SINCE, because: 'enableDefaultDeny in the cluster-wide baseline' } } : {}),
        }
      : undefined;
  return {
    policies: sortPolicies(policies),
    notes: sortNotes(notes),
    warnings,
    lints,
    ...(cilium ? { cilium } : {}),
    ...(newestFlowMs !== undefined ? { newestFlowMs } : {}),
  };
}

const DEFAULT_DENY_FIELD = '"enableDefaultDeny"';

/**
 * Whether `JSON.stringify(value)` holds `quoted` (a quoted word: letters between two quotes), key
 * by key and string by string: such a match lies within one key or string's JSON, since neither
 * punctuation nor an escaped quote can stand between its quotes. Stringifying thousands of whole
 * policies for one field cost ~80 ms at 3,000 workloads.
 */
function mentions(value: unknown, quoted: string): boolean {
  const word = quoted.slice(1, -1);
  const hit = (s: string): boolean => s.includes(word) && JSON.stringify(s).includes(quoted);
  const walk = (v: unknown): boolean => {
    if (typeof v === 'string') return hit(v);
    if (typeof v !== 'object' || v === null) return false;
    if (Array.isArray(v)) return v.some(walk);
    // Loops, not Object.entries: a pair array per key was slower than the stringify it replaces.
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const x = o[k];
      // JSON.stringify leaves out the keys of these values.
      if (x !== undefined && typeof x !== 'function' && typeof x !== 'symbol' && hit(k)) return true;
      if (walk(x)) return true;
    }
    return false;
  };
  return walk(value);
}

const clusterEndpoint = (p: Peer): { readonly reason: string; readonly suggest: string } | undefined => (p.kind === 'cidr' ? p.clusterEndpoint : undefined);

/** Edges to or from an unidentified cluster endpoint, by the workload at their other end. */
function leftOutByWorkload(edges: readonly ObservedEdge[]): Map<string, ObservedEdge[]> {
  const out = new Map<string, ObservedEdge[]>();
  for (const e of edges) {
    const w = clusterEndpoint(e.to) !== undefined ? e.from : clusterEndpoint(e.from) !== undefined ? e.to : undefined;
    if (w?.kind !== 'workload') continue;
    const k = exactKey(w.namespace, w.workloadKind, w.name);
    out.set(k, [...(out.get(k) ?? []), e]);
  }
  return out;
}

/** Why a workload's namespace or selector cannot be written into a Kubernetes object, if so. */
function unwritableReason(w: WorkloadInfo): string | undefined {
  if (!isNamespaceName(w.namespace)) return 'its namespace is not a valid Kubernetes namespace name';
  if (!isSelectorLabels(w.selector)) return 'its selector labels are not valid Kubernetes label keys and values';
  return undefined;
}

/** A label value (63 characters of [a-z0-9-._], alphanumeric at both ends) from a workload name. */
function labelValueHint(name: string): string {
  const v = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').slice(0, 63).replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return v === '' ? 'my-app' : v;
}

/** Workloads of the selected namespaces that sent or received anything. */
function workloadsWithTraffic(edges: readonly ObservedEdge[], workloads: readonly WorkloadInfo[], selected: (ns: string) => boolean): WorkloadInfo[] {
  const known = new Map<string, WorkloadInfo>();
  for (const w of workloads) {
    const key = workloadKey(w);
    if (!known.has(key)) known.set(key, w);
  }
  const byKey = new Map<string, WorkloadInfo>();
  // A read shares one object per peer among its edges: each is keyed once, not once per edge end.
  const seen = new Set<Peer>();
  const add = (p: Peer): void => {
    if (seen.has(p)) return;
    seen.add(p);
    if (p.kind !== 'workload' || !selected(p.namespace)) return;
    const key = workloadKey({ namespace: p.namespace, kind: p.workloadKind, name: p.name });
    if (byKey.has(key)) return;
    byKey.set(key, known.get(key) ?? { namespace: p.namespace, kind: p.workloadKind, name: p.name, selector: {} });
  };
  for (const e of edges) {
    add(e.from);
    add(e.to);
  }
  return [...byKey.values()].sort((a, b) => (workloadKey(a) < workloadKey(b) ? -1 : 1));
}

function baselineWarnings(edges: readonly ObservedEdge[], o: RecommendOptions): string[] {
  if (edges.length === 0) return ['no traffic observed for the selected namespaces: nothing to recommend'];
  // Loops, not Math.max(...xs): a spread of 120,000 values overflows the call stack (a port scan makes that many edges).
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let newest = Number.NEGATIVE_INFINITY;
  for (const e of edges) {
    first = Math.min(first, e.firstSeenMs);
    last = Math.max(last, e.lastSeenMs);
    newest = Math.max(newest, e.firstSeenMs);
  }
  const out: string[] = [];
  const hours = (last - first) / HOUR_MS;
  if (hours < o.minBaselineHours) {
    out.push(`the baseline covers only ${hours.toFixed(1)} h (less than ${o.minBaselineHours} h): rare traffic (backups, cron jobs, failovers) may be missing`);
  }
  if ((last - newest) / HOUR_MS < o.growingWithinHours) {
    out.push(`the baseline is still growing: a new edge appeared at ${new Date(newest).toISOString()}, less than ${o.growingWithinHours} h before the last flow`);
  }
  return out;
}

function sortPolicies(ps: GeneratedPolicy[]): GeneratedPolicy[] {
  const rank = (kind: string): number => (kind === 'CiliumClusterwideNetworkPolicy' ? 0 : 1);
  return sortedByKey(ps, (p) => `${rank(p.document.kind)}/${p.document.metadata.namespace ?? ''}/${p.document.metadata.name}`);
}

function sortNotes(ns: Note[]): Note[] {
  return sortedByKey(ns, (n) => `${n.namespace ?? ''}/${n.policy}/${n.kind}/${n.message}`);
}

/** `xs` sorted (stably) by `key`, each key made once: a comparator that made two per comparison made ~130,000 for 4,400 notes. */
function sortedByKey<T>(xs: readonly T[], key: (x: T) => string): T[] {
  const keyed = xs.map((x) => ({ k: key(x), x }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((e) => e.x);
}
