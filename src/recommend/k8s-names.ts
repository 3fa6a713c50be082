/**
 * The Kubernetes formats a generated policy's strings must have (k8s.io/apimachinery validation,
 * the same rules `src/schema` checks the output against). Strings come from flows, and a hostile
 * or broken flow source can send anything: what fails here is never written.
 */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** Cilium's matchName: letters, digits, `-`, `_` and dots between labels (FQDN selector validation). */
const FQDN = /^([-a-zA-Z0-9_]+\.)*[-a-zA-Z0-9_]+\.?$/;

export function isNamespaceName(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

function isSubdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split('.').every((p) => DNS1123_LABEL.test(p));
}

/**
 * `[prefix/]name`, as a pod's label key. Workload selectors hold keys without Cilium's source prefix
 * (`k8s:` is stripped when workloads are derived), so a `:` here is part of the key: no pod can carry
 * it, and a NetworkPolicy with it is rejected by the API server.
 */
export function isLabelKey(k: string): boolean {
  const slash = k.lastIndexOf('/');
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  if (slash >= 0 && !isSubdomain(k.slice(0, slash))) return false;
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

export function isLabelValue(v: string): boolean {
  return v.length <= 63 && LABEL_VALUE.test(v);
}

export function isSelectorLabels(labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(labels).every(([k, v]) => isLabelKey(k) && isLabelValue(v));
}

export function isFqdn(name: string): boolean {
  return name.length > 0 && name.length <= 255 && FQDN.test(name);
}

/** A string for a message: printable ASCII as it is, anything else escaped (JSON style). */
export function quoted(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
