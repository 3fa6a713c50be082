/**
 * Selector labels: the smallest stable subset of a workload's common pod labels that matches all
 * its pods and none of the other workloads' pods seen in the namespace (Inspektor Gadget's lesson:
 * never put volatile or topology labels into a selector; peers.md: never the full label set).
 */

/** Per-pod or per-revision keys: a selector with them stops matching after a rollout or reschedule. */
const VOLATILE_KEYS: ReadonlySet<string> = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'pod-template-generation',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
  'job-name',
  'batch.kubernetes.io/job-name',
  'batch.kubernetes.io/job-completion-index',
  'cnpg.io/instanceName',
  'cnpg.io/instanceRole',
  'kubernetes.io/hostname',
  'io.kubernetes.pod.namespace',
]);

/** Key prefixes that are not pod identity (namespace labels, Cilium metadata, topology). */
const NON_SELECTOR_PREFIXES = [
  'io.cilium.k8s.policy.',
  'io.cilium.k8s.namespace.labels.',
  'io.cilium.',
  'topology.kubernetes.io/',
  'failure-domain.beta.kubernetes.io/',
  'node.kubernetes.io/',
];

/** Conventional identity keys, tried first so selectors look like what people write. */
const PREFERRED_KEYS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
  'app',
  'k8s-app',
  'cnpg.io/cluster',
  'cnpg.io/podRole',
  'cnpg.io/poolerName',
  'name',
  'component',
  'app.kubernetes.io/part-of',
];

/**
 * Keys that tell instances of the same application apart (two Envoy Gateways, two CNPG clusters,
 * two Helm releases of one chart). They stay in a selector whenever the pods carry them, even if no
 * other instance has been seen yet: the next Gateway's proxies must not match this one's policy.
 */
const INSTANCE_KEYS = [
  'app.kubernetes.io/instance',
  'gateway.envoyproxy.io/owning-gateway-name',
  'gateway.envoyproxy.io/owning-gateway-namespace',
  'gateway.networking.k8s.io/gateway-name',
  'cnpg.io/cluster',
  'cnpg.io/poolerName',
  'release',
];

export function isSelectorKey(key: string, labels: ReadonlyMap<string, string>): boolean {
  if (VOLATILE_KEYS.has(key)) return false;
  // CNPG's deprecated `role` (primary/replica) flips on switchover.
  if (key === 'role' && labels.has('cnpg.io/cluster')) return false;
  return !NON_SELECTOR_PREFIXES.some((p) => key.startsWith(p));
}

/** `key=value` strings → map (the first `=` splits). */
export function labelMap(set: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of set) {
    const eq = kv.indexOf('=');
    if (eq < 0) m.set(kv, '');
    else m.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return m;
}

/** Labels every set carries with the same value, minus volatile and non-identity keys. */
export function commonLabels(sets: readonly (readonly string[])[]): Map<string, string> {
  if (sets.length === 0) return new Map();
  const maps = sets.map(labelMap);
  const first = maps[0] as Map<string, string>;
  const out = new Map<string, string>();
  for (const [k, v] of first) {
    if (maps.every((m) => m.get(k) === v) && isSelectorKey(k, first)) out.set(k, v);
  }
  return out;
}

function rank(key: string): number {
  const i = PREFERRED_KEYS.indexOf(key);
  return i < 0 ? PREFERRED_KEYS.length : i;
}

export interface SelectorResult {
  readonly selector: Readonly<Record<string, string>>;
  readonly unique: boolean;
  /** Indexes (into `others`) of the workloads whose pods the selector also matches. */
  readonly overlaps: readonly number[];
}

const matches = (sel: ReadonlyMap<string, string>, pod: ReadonlyMap<string, string>): boolean => {
  for (const [k, v] of sel) if (pod.get(k) !== v) return false;
  return true;
};

/**
 * Chooses the selector of one workload. `common` are its common labels; `others[i]` are the label
 * sets of the i-th other workload of the namespace. Keys are added in preference order while they
 * exclude some remaining other pod, then redundant keys are dropped again.
 */
export function chooseSelector(common: ReadonlyMap<string, string>, others: readonly (readonly ReadonlyMap<string, string>[])[]): SelectorResult {
  const candidates = [...common.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const pods = others.flatMap((sets, i) => sets.map((labels) => ({ i, labels })));
  const chosen = new Map<string, string>();
  let remaining = pods;
  for (const k of candidates) {
    if (chosen.size > 0 && remaining.length === 0) break;
    const v = common.get(k) as string;
    const left = remaining.filter((p) => p.labels.get(k) === v);
    if (chosen.size === 0 || left.length < remaining.length) {
      chosen.set(k, v);
      remaining = left;
    }
  }
  if (remaining.length > 0 || chosen.size === 0) {
    // No subset excludes everyone: the most specific selector we have, and who it overlaps.
    const overlaps = [...new Set(pods.filter((p) => matches(common, p.labels)).map((p) => p.i))].sort((a, b) => a - b);
    return { selector: toRecord(common), unique: false, overlaps };
  }
  // The first (most conventional) key stays; later keys go again if the others do without them.
  for (const k of [...chosen.keys()].slice(1).reverse()) {
    if (INSTANCE_KEYS.includes(k)) continue;
    const v = chosen.get(k) as string;
    chosen.delete(k);
    if (pods.some((p) => matches(chosen, p.labels))) chosen.set(k, v);
  }
  for (const k of INSTANCE_KEYS) {
    const v = common.get(k);
    if (v !== undefined) chosen.set(k, v);
  }
  return { selector: toRecord(chosen), unique: true, overlaps: [] };
}

function toRecord(m: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k) as string;
  return out;
}
