/**
 * Identity labels as Hubble prints them (`source:key=value`) and label selectors compiled for
 * matching them (Cilium's EndpointSelector semantics: a key without a source matches any source).
 */
import type { LabelSelector, SelectorOperator } from '../model/index.js';
import { ownString } from './compiled.js';

export interface Label {
  readonly source: string;
  readonly key: string;
  readonly value: string;
}

/** `k8s:app=web` → {k8s, app, web}; `reserved:world` → {reserved, world, ''}; `app=web` → {unspec, app, web}. */
export function parseLabel(s: string): Label {
  const eq = s.indexOf('=');
  const head = eq < 0 ? s : s.slice(0, eq);
  const value = eq < 0 ? '' : s.slice(eq + 1);
  const colon = head.indexOf(':');
  if (colon < 0) return { source: 'unspec', key: head, value };
  return { source: head.slice(0, colon), key: head.slice(colon + 1), value };
}

export const formatLabel = (l: Label): string => `${l.source}:${l.key}${l.value === '' ? '' : `=${l.value}`}`;

export interface Requirement {
  /** `undefined` = any source. */
  readonly source: string | undefined;
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

export type CompiledSelector = readonly Requirement[];

/** Splits a selector key into source and key: `k8s:app`, `any:app`, `app`, and Cilium's `reserved.host`. */
export function splitSelectorKey(k: string): { source: string | undefined; key: string } {
  const colon = k.indexOf(':');
  if (colon >= 0) {
    const source = k.slice(0, colon);
    return { source: source === 'any' ? undefined : source, key: k.slice(colon + 1) };
  }
  if (k.startsWith('reserved.')) return { source: 'reserved', key: k.slice('reserved.'.length) };
  return { source: undefined, key: k };
}

/**
 * Requirements are shared between selectors (a policy set of thousands of rules has 100,000+
 * requirements but a few thousand distinct ones): compiled policies stay small and a selector
 * is matched against the same few objects. Requirements are never mutated.
 */
const interned = new Map<string, Requirement>();
/**
 * The `In` requirements of one value (every `matchLabels` entry) by source, key and value, found
 * without building a key string: a large policy set compiles hundreds of thousands of them.
 */
const internedIn = new Map<string, Map<string, Map<string, Requirement>>>();
let internedCount = 0;
/** Enough for any policy set seen; past it the tables start over rather than grow without bound. */
const MAX_INTERNED = 200_000;
/** A number per shared requirement, never reused: selectors made of the same requirements are shared too. */
const requirementIds = new WeakMap<Requirement, number>();
let nextRequirementId = 0;

/** A key naming the selector's requirements, or undefined when one of them is not shared. */
export function selectorId(sel: CompiledSelector): string | undefined {
  let id = '';
  for (const r of sel) {
    const n = requirementIds.get(r);
    if (n === undefined) return undefined;
    id += `${n},`;
  }
  return id;
}

export function requirement(source: string | undefined, key: string, operator: SelectorOperator, values: readonly string[]): Requirement {
  if (operator === 'In' && values.length === 1) {
    const value = values[0] as string;
    // Own copies as keys: the parser's strings may be slices holding a whole policy file.
    let byKey = internedIn.get(source ?? '');
    if (byKey === undefined) internedIn.set(ownString(source ?? ''), (byKey = new Map()));
    let byValue = byKey.get(key);
    if (byValue === undefined) byKey.set(ownString(key), (byValue = new Map()));
    let r = byValue.get(value);
    if (r === undefined) {
      r = intern(source, key, operator, values);
      byValue.set(r.values[0] as string, r);
    }
    return r;
  }
  const id = `${source ?? ''}\u0000${key}\u0000${operator}\u0000${values.join('\u0000')}`;
  let r = interned.get(id);
  if (r === undefined) interned.set(id, (r = intern(source, key, operator, values)));
  return r;
}

function intern(source: string | undefined, key: string, operator: SelectorOperator, values: readonly string[]): Requirement {
  if (++internedCount > MAX_INTERNED) {
    interned.clear();
    internedIn.clear();
    internedCount = 1;
  }
  // A literal, not `{ ...splitSelectorKey(k), operator }`: V8 (Node 20) gives every object
  // spread and then extended its own hidden class.
  const r: Requirement = { source: source === undefined ? undefined : ownString(source), key: ownString(key), operator, values: values.map(ownString) };
  requirementIds.set(r, nextRequirementId++);
  return r;
}

export function compileSelector(sel: LabelSelector): Requirement[] {
  const out: Requirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    const { source, key } = splitSelectorKey(k);
    out.push(requirement(source, key, 'In', [v]));
  }
  for (const e of sel.matchExpressions ?? []) {
    const { source, key } = splitSelectorKey(e.key);
    out.push(requirement(source, key, e.operator, e.values ?? []));
  }
  return out;
}

const sameKey = (r: Requirement, l: Label): boolean => l.key === r.key && (r.source === undefined || r.source === l.source);

/** Loops rather than `labels.filter(...)`: this runs for every rule peer of every edge side. */
export function requirementMatches(r: Requirement, labels: readonly Label[]): boolean {
  switch (r.operator) {
    case 'In':
      for (const l of labels) if (sameKey(r, l) && r.values.includes(l.value)) return true;
      return false;
    case 'NotIn':
      for (const l of labels) if (sameKey(r, l) && r.values.includes(l.value)) return false;
      return true;
    case 'Exists':
      for (const l of labels) if (sameKey(r, l)) return true;
      return false;
    case 'DoesNotExist':
      for (const l of labels) if (sameKey(r, l)) return false;
      return true;
    default: {
      const never: never = r.operator;
      return never;
    }
  }
}

export function selectorMatches(sel: CompiledSelector, labels: readonly Label[]): boolean {
  for (const r of sel) if (!requirementMatches(r, labels)) return false;
  return true;
}

/** True when some requirement names this key (any source, or the given source). */
export function selectorHasKey(sel: CompiledSelector, key: string, source?: string): boolean {
  return sel.some((r) => r.key === key && (r.source === undefined || source === undefined || r.source === source));
}

export const hasReserved = (labels: readonly Label[], name: string): boolean =>
  labels.some((l) => l.source === 'reserved' && l.key === name);

export function labelValue(labels: readonly Label[], key: string): string | undefined {
  return labels.find((l) => l.key === key && (l.source === 'k8s' || l.source === 'unspec'))?.value;
}
