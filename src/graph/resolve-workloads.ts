import { workloadKey } from './edge-key.js';
import { compareStrings } from './merge.js';
import type { NamespaceRecord, Peer, WorkloadInfo, WorkloadRecord } from './model.js';
import { chooseSelector, commonLabels, labelMap } from './selector.js';
import { type WorkloadConfig, applyWorkloadRules } from './workload-config.js';

export type WorkloadPeer = Extract<Peer, { kind: 'workload' }>;

export interface ResolvedWorkloads {
  /** Raw workload key (as stored on edges and DNS answers) → the workload it resolves to. */
  readonly byRawKey: ReadonlyMap<string, WorkloadPeer>;
  /** Every resolved workload with its selector, sorted by namespace, kind, name. */
  readonly workloads: readonly WorkloadInfo[];
}

/** When pod-name shapes disagree, the likelier owner wins. */
const HINT_ORDER = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job', 'Pod'];

/** Labels shared by all sets with the same value (no key filtering: rules may name any label). */
function intersect(sets: readonly (readonly string[])[]): Map<string, string> {
  const maps = sets.map(labelMap);
  const out = new Map<string, string>();
  const first = maps[0];
  if (first === undefined) return out;
  for (const [k, v] of first) if (maps.every((m) => m.get(k) === v)) out.set(k, v);
  return out;
}

function hintedKind(hints: readonly string[]): string {
  if (hints.length === 0) return 'Workload';
  return [...hints].sort((a, b) => (HINT_ORDER.indexOf(a) >>> 0) - (HINT_ORDER.indexOf(b) >>> 0) || compareStrings(a, b))[0] as string;
}

/**
 * Read-time workload identity:
 * 1. user rules (`WorkloadConfig`) on the labels all of a workload's pods share;
 * 2. owner-known workloads keep their kind and name;
 * 3. an inferred workload (labels or pod name only, e.g. field-masked or old flows) whose pod label
 *    sets all belong to exactly one owner-known workload of the namespace becomes that workload;
 *    otherwise it takes the kind its pod-name shapes suggest (`Workload` when there were none).
 * Then per resolved workload the selector is chosen against the other workloads of its namespace.
 */
export function resolveWorkloads(records: readonly WorkloadRecord[], config: WorkloadConfig, namespaces: readonly NamespaceRecord[] = []): ResolvedWorkloads {
  const { byRawKey } = resolveWorkloadPeers(records, config);
  return { byRawKey, workloads: describeWorkloads(records, byRawKey, namespaces) };
}

/**
 * Steps 1-3 of `resolveWorkloads` without choosing selectors: what a reader that only names and
 * counts workloads needs (`count`: the resolved workloads). Selectors compare every workload with
 * the others of its namespace and cost most of the resolution.
 */
export function resolveWorkloadPeers(records: readonly WorkloadRecord[], config: WorkloadConfig): Pick<ResolvedWorkloads, 'byRawKey'> & { readonly count: number } {
  const byRawKey = new Map<string, WorkloadPeer>();
  const peer = (namespace: string, workloadKind: string, name: string): WorkloadPeer => ({ kind: 'workload', namespace, workloadKind, name });
  const inferred: WorkloadRecord[] = [];
  const ownerOfSet = new Map<string, Set<string>>();
  for (const r of records) {
    const ruled = applyWorkloadRules(config, r.namespace, intersect(r.labelSets));
    if (ruled) byRawKey.set(r.key, peer(r.namespace, ruled.kind, ruled.name));
    else if (r.kind !== undefined) byRawKey.set(r.key, peer(r.namespace, r.kind, r.name));
    else {
      inferred.push(r);
      continue;
    }
    const final = workloadKey(r.namespace, (byRawKey.get(r.key) as WorkloadPeer).workloadKind, (byRawKey.get(r.key) as WorkloadPeer).name);
    for (const s of r.labelSets) {
      const k = `${r.namespace}|${s.join('\n')}`;
      let owners = ownerOfSet.get(k);
      if (!owners) ownerOfSet.set(k, (owners = new Set()));
      owners.add(final);
    }
  }
  const finals = new Map<string, WorkloadPeer>([...byRawKey.values()].map((p) => [workloadKey(p.namespace, p.workloadKind, p.name), p]));
  for (const r of inferred) {
    const owners = new Set<string>();
    let allKnown = r.labelSets.length > 0;
    for (const s of r.labelSets) {
      const o = ownerOfSet.get(`${r.namespace}|${s.join('\n')}`);
      if (!o) allKnown = false;
      else for (const x of o) owners.add(x);
    }
    const only = owners.size === 1 ? finals.get([...owners][0] as string) : undefined;
    byRawKey.set(r.key, allKnown && only ? only : peer(r.namespace, hintedKind(r.kindHints), r.name));
  }
  const count = new Set(records.map((r) => {
    const p = byRawKey.get(r.key) as WorkloadPeer;
    return workloadKey(p.namespace, p.workloadKind, p.name);
  })).size;
  return { byRawKey, count };
}

interface Group {
  readonly peer: WorkloadPeer;
  readonly sets: Map<string, readonly string[]>;
  first: number;
  last: number;
}

const CLUSTER_LABEL = 'io.cilium.k8s.policy.cluster';

const sortedRecord = (m: ReadonlyMap<string, string>): Record<string, string> =>
  Object.fromEntries([...m.entries()].sort(([a], [b]) => compareStrings(a, b)));

/** Step 4 of `resolveWorkloads`: each resolved workload with its selector, sorted by namespace, kind, name. */
export function describeWorkloads(records: readonly WorkloadRecord[], byRawKey: ReadonlyMap<string, WorkloadPeer>, namespaces: readonly NamespaceRecord[]): WorkloadInfo[] {
  const nsLabels = new Map(namespaces.map((n) => [n.namespace, sortedRecord(labelMap(n.labels))]));
  const groups = new Map<string, Group>();
  for (const r of records) {
    const p = byRawKey.get(r.key) as WorkloadPeer;
    const k = workloadKey(p.namespace, p.workloadKind, p.name);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { peer: p, sets: new Map(), first: r.firstSeenMs, last: r.lastSeenMs }));
    for (const s of r.labelSets) g.sets.set(s.join('\n'), s);
    g.first = Math.min(g.first, r.firstSeenMs);
    g.last = Math.max(g.last, r.lastSeenMs);
  }
  const sorted = [...groups.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, g]) => g);
  // Each workload's pod label maps, made once: every workload of a namespace is compared with all the others.
  const podLabels = new Map<Group, Map<string, string>[]>(sorted.map((g) => [g, [...g.sets.values()].map(labelMap)]));
  const byNamespace = new Map<string, Group[]>();
  for (const g of sorted) {
    const list = byNamespace.get(g.peer.namespace) ?? [];
    list.push(g);
    byNamespace.set(g.peer.namespace, list);
  }
  return sorted.map((g) => {
    const sets = [...g.sets.values()];
    const common = commonLabels(sets);
    const identity = intersect(sets);
    const cluster = identity.get(CLUSTER_LABEL);
    const namespaceLabels = nsLabels.get(g.peer.namespace);
    const others = (byNamespace.get(g.peer.namespace) ?? []).filter((o) => o !== g);
    const result = chooseSelector(
      common,
      others.map((o) => podLabels.get(o) ?? []),
    );
    return {
      namespace: g.peer.namespace,
      kind: g.peer.workloadKind,
      name: g.peer.name,
      selector: result.selector,
      labels: Object.fromEntries([...common.entries()].sort(([a], [b]) => compareStrings(a, b))),
      unique: result.unique,
      overlapsWith: result.overlaps.map((i) => {
        const o = (others[i] as Group).peer;
        return `${o.workloadKind}/${o.name}`;
      }),
      labelSets: sets.length,
      identityLabels: sortedRecord(identity),
      ...(namespaceLabels !== undefined && { namespaceLabels }),
      ...(cluster !== undefined && cluster !== '' && { cluster }),
      firstSeenMs: g.first,
      lastSeenMs: g.last,
    };
  });
}
