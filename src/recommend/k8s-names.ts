/**
 * The Kubernetes formats a generated policy's strings must have, as yes/no questions over the checks
 * `src/schema` validates the output with (one definition of each format). Strings come from flows,
 * and a hostile or broken flow source can send anything: what fails here is never written.
 */
import { dns1123Label, fqdnName, labelKey, labelValue } from '../schema/names.js';

export const isNamespaceName = (s: string): boolean => dns1123Label(s) === undefined;

/**
 * `[prefix/]name`, as a pod's label key. Workload selectors hold keys without Cilium's source prefix
 * (`k8s:` is stripped when workloads are derived), so a `:` here is part of the key: no pod can carry
 * it, and a NetworkPolicy with it is rejected by the API server.
 */
export const isLabelKey = (k: string): boolean => labelKey(k) === undefined;

export const isLabelValue = (v: string): boolean => labelValue(v) === undefined;

/** Answers by selector object: each workload's is asked about once per policy that names it, thousands of times. */
const selectorVerdicts = new WeakMap<object, boolean>();

export function isSelectorLabels(labels: Readonly<Record<string, string>>): boolean {
  let ok = selectorVerdicts.get(labels);
  if (ok === undefined) {
    ok = Object.entries(labels).every(([k, v]) => isLabelKey(k) && isLabelValue(v));
    selectorVerdicts.set(labels, ok);
  }
  return ok;
}

/** A DNS name Cilium's FQDN selector validation accepts, at most 255 characters (a DNS name's limit). */
export const isFqdn = (name: string): boolean => name.length <= 255 && fqdnName(name) === undefined;

/** A string for a message: printable ASCII as it is, anything else escaped (JSON style). */
export function quoted(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
