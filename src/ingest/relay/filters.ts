/**
 * Maps `hubble observe`-style filter flags onto server-side FlowFilters the way the hubble CLI does
 * (hubble-api.md §6, `H:hubble/cmd/observe/flows_filter.go`):
 *
 * - a flag without a direction ("either side") writes its source_* field into a left filter and its
 *   destination_* field into a right filter; `--from-*` / `--to-*` write into both;
 * - namespaces become pod prefixes `ns/`, added after every other flag;
 * - left and right are OR-ed, so an identical pair collapses into one filter.
 */
import { UsageError } from '../../errors.js';

export interface FilterFlags {
  readonly namespace: readonly string[];
  readonly fromNamespace: readonly string[];
  readonly toNamespace: readonly string[];
  readonly label: readonly string[];
  readonly fromLabel: readonly string[];
  readonly toLabel: readonly string[];
  readonly verdict: readonly string[];
}

/** The FlowFilter fields we send (proto names, as proto-loader expects them with keepCase). */
export interface FlowFilterMessage {
  source_pod?: string[];
  destination_pod?: string[];
  source_label?: string[];
  destination_label?: string[];
  verdict?: string[];
}

export const FILTER_VERDICTS = ['FORWARDED', 'DROPPED', 'AUDIT', 'REDIRECTED', 'ERROR', 'TRACED', 'TRANSLATED'] as const;

/** Flag pairs the hubble CLI refuses to combine. */
const CONFLICTS: readonly (readonly [keyof FilterFlags, keyof FilterFlags])[] = [
  ['namespace', 'fromNamespace'],
  ['namespace', 'toNamespace'],
  ['label', 'fromLabel'],
  ['label', 'toLabel'],
];

const FLAG_NAMES: Readonly<Record<keyof FilterFlags, string>> = {
  namespace: '--namespace',
  fromNamespace: '--from-namespace',
  toNamespace: '--to-namespace',
  label: '--label',
  fromLabel: '--from-label',
  toLabel: '--to-label',
  verdict: '--verdict',
};

export const NO_FILTERS: FilterFlags = {
  namespace: [],
  fromNamespace: [],
  toNamespace: [],
  label: [],
  fromLabel: [],
  toLabel: [],
  verdict: [],
};

/** The whitelist for GetFlowsRequest; empty when no filter flag is set. Throws UsageError. */
export function buildWhitelist(flags: FilterFlags): FlowFilterMessage[] {
  for (const [a, b] of CONFLICTS) {
    if (flags[a].length > 0 && flags[b].length > 0) {
      throw new UsageError(`filters ${FLAG_NAMES[a]} and ${FLAG_NAMES[b]} cannot be combined`);
    }
  }
  for (const [key, values] of Object.entries(flags) as [keyof FilterFlags, readonly string[]][]) {
    for (const v of values) if (v.trim() === '') throw new UsageError(`${FLAG_NAMES[key]} must not be empty`);
  }
  const verdicts = flags.verdict.map((v) => {
    const upper = v.toUpperCase();
    if (!(FILTER_VERDICTS as readonly string[]).includes(upper)) {
      throw new UsageError(`invalid --verdict "${v}": use one of ${FILTER_VERDICTS.join(', ')}`);
    }
    return upper;
  });
  for (const ns of [...flags.namespace, ...flags.fromNamespace, ...flags.toNamespace]) {
    if (ns.includes('/')) throw new UsageError(`invalid namespace "${ns}": a namespace contains no "/"`);
  }

  const left: FlowFilterMessage = {};
  const right: FlowFilterMessage = {};
  let touched = false;
  const both = (update: (f: FlowFilterMessage) => void): void => {
    update(left);
    update(right);
    touched = true;
  };
  for (const l of flags.label) {
    append(left, 'source_label', l);
    append(right, 'destination_label', l);
    touched = true;
  }
  for (const l of flags.fromLabel) both((f) => append(f, 'source_label', l));
  for (const l of flags.toLabel) both((f) => append(f, 'destination_label', l));
  for (const v of verdicts) both((f) => append(f, 'verdict', v));
  // Namespaces last, as pod prefixes: destination, then source, then either side.
  if (flags.toNamespace.length > 0) {
    for (const ns of flags.toNamespace) both((f) => append(f, 'destination_pod', `${ns}/`));
  }
  if (flags.fromNamespace.length > 0) {
    for (const ns of flags.fromNamespace) both((f) => append(f, 'source_pod', `${ns}/`));
  }
  for (const ns of flags.namespace) {
    append(left, 'source_pod', `${ns}/`);
    append(right, 'destination_pod', `${ns}/`);
    touched = true;
  }
  if (!touched) return [];
  return sameFilter(left, right) ? [left] : [left, right];
}

function append(f: FlowFilterMessage, key: keyof FlowFilterMessage, value: string): void {
  (f[key] ??= []).push(value);
}

function sameFilter(a: FlowFilterMessage, b: FlowFilterMessage): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof FlowFilterMessage)[]);
  for (const k of keys) {
    const x = a[k] ?? [];
    const y = b[k] ?? [];
    if (x.length !== y.length || x.some((v, i) => v !== y[i])) return false;
  }
  return true;
}
