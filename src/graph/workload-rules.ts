import type { Endpoint } from '../flow/index.js';

/**
 * Ingest-time workload identity of a pod endpoint, from what the flow carries. Owner information
 * wins (a CNPG instance label, `workloads[]`, Job and StatefulSet labels); otherwise the name comes
 * from owner-revealing labels (`app.kubernetes.io/name` with `instance`, `app`, `k8s-app`) or, last, from the pod name with controller suffixes stripped, and the
 * kind stays open (`kind: undefined`, with a hint from the pod-name shape) until read time.
 */
export interface PodWorkload {
  readonly namespace: string;
  /** `undefined` when inferred from labels or the pod name. */
  readonly kind: string | undefined;
  readonly name: string;
  /** Owner kind suggested by the pod name shape, for inferred workloads. */
  readonly kindHint: string | undefined;
}

const NAMESPACE_LABEL = 'k8s:io.kubernetes.pod.namespace=';

/** Characters of Kubernetes generated suffixes (k8s.io/apimachinery rand.SafeEncodeString: no vowels, no 0/1/3). */
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const CRONJOB_POD = new RegExp(`^(.+)-\\d{8,}-${SAFE}{5}$`);
const DEPLOYMENT_POD = new RegExp(`^(.+)-(?:${SAFE}{6,10}|\\d{9,10})-${SAFE}{5}$`);
const DAEMONSET_POD = new RegExp(`^(.+)-${SAFE}{5}$`);
const STATEFULSET_POD = /^(.+)-\d+$/;
/** CronJob-created Jobs are named `<cronjob>-<scheduled time in minutes>`. */
const CRONJOB_JOB = /^(.+)-\d{8,}$/;

/** Owner of a pod from its name alone: `x-7d9c9b7c4d-x2x9z` is Deployment `x`, `db-0` StatefulSet `db`. */
export function ownerFromPodName(podName: string): { readonly kind: string; readonly name: string } {
  let m = CRONJOB_POD.exec(podName);
  if (m) return { kind: 'CronJob', name: m[1] as string };
  m = DEPLOYMENT_POD.exec(podName);
  if (m) return { kind: 'Deployment', name: m[1] as string };
  m = STATEFULSET_POD.exec(podName);
  if (m) return { kind: 'StatefulSet', name: m[1] as string };
  m = DAEMONSET_POD.exec(podName);
  if (m) return { kind: 'DaemonSet', name: m[1] as string };
  return { kind: 'Pod', name: podName };
}

/** The `k8s:` labels of an endpoint as a small map (only called when the cheap paths fail). */
export function k8sLabels(labels: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of labels) {
    if (!l.startsWith('k8s:')) continue;
    const eq = l.indexOf('=', 4);
    if (eq < 0) out.set(l.slice(4), '');
    else out.set(l.slice(4, eq), l.slice(eq + 1));
  }
  return out;
}

function namespaceOf(ep: Endpoint): string | undefined {
  if (ep.namespace) return ep.namespace;
  for (const l of ep.labels) if (l.startsWith(NAMESPACE_LABEL)) return l.slice(NAMESPACE_LABEL.length) || undefined;
  return undefined;
}

/**
 * CloudNativePG instance pods belong to their `Cluster` (CNPG creates them directly, no StatefulSet),
 * whatever else the flow says. Pooler pods and CNPG job pods carry the label too but are not instances.
 */
function cnpgCluster(labels: readonly string[]): string | undefined {
  let cluster: string | undefined;
  for (const l of labels) {
    // Cheap first-character test: almost no label starts with `k8s:c`.
    if (l.charCodeAt(4) !== 99 /* c */ || !l.startsWith('k8s:cnpg.io/')) continue;
    if (l.startsWith('k8s:cnpg.io/cluster=')) cluster = l.slice('k8s:cnpg.io/cluster='.length);
    else if (l.startsWith('k8s:cnpg.io/poolerName=') || l.startsWith('k8s:cnpg.io/jobRole=')) return undefined;
  }
  return cluster || undefined;
}

/** Workload of a pod endpoint, or undefined when the endpoint has no namespace or no name at all. */
export function podWorkload(ep: Endpoint): PodWorkload | undefined {
  const namespace = namespaceOf(ep);
  if (namespace === undefined) return undefined;
  const cluster = cnpgCluster(ep.labels);
  if (cluster !== undefined) return { namespace, kind: 'Cluster', name: cluster, kindHint: undefined };
  const owner = ep.workloads[0];
  if (owner && owner.name) return { namespace, kind: owner.kind || 'Workload', name: owner.name, kindHint: undefined };
  return fromLabelsOrPodName(namespace, ep);
}

function fromLabelsOrPodName(namespace: string, ep: Endpoint): PodWorkload | undefined {
  const labels = k8sLabels(ep.labels);
  const job = labels.get('batch.kubernetes.io/job-name') || labels.get('job-name');
  if (job) {
    const cron = CRONJOB_JOB.exec(job);
    return cron ? { namespace, kind: 'CronJob', name: cron[1] as string, kindHint: undefined } : { namespace, kind: 'Job', name: job, kindHint: undefined };
  }
  const stsPod = labels.get('statefulset.kubernetes.io/pod-name');
  if (stsPod) {
    const m = STATEFULSET_POD.exec(stsPod);
    return { namespace, kind: 'StatefulSet', name: m ? (m[1] as string) : stsPod, kindHint: undefined };
  }
  const hint = ep.podName ? ownerFromPodName(ep.podName) : undefined;
  const appName = labels.get('app.kubernetes.io/name') || undefined;
  const instance = labels.get('app.kubernetes.io/instance') || undefined;
  const app = labels.get('app') || undefined;
  const k8sApp = labels.get('k8s-app') || undefined;
  // A label value that the pod name confirms (Helm's `release-chart` included) is the owner's name;
  // otherwise the first owner-revealing label, and the stripped pod name only as the last resort.
  const confirmed = hint
    ? [appName, instance, instance && appName ? `${instance}-${appName}` : undefined, app, k8sApp].find((n) => n !== undefined && n === hint.name)
    : undefined;
  const name = confirmed ?? appName ?? app ?? k8sApp ?? hint?.name;
  if (!name) return undefined;
  return { namespace, kind: undefined, name, kindHint: hint?.kind };
}
