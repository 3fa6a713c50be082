/**
 * Standalone patches that apply in any order. Each drop's patch is found on the original
 * policies, so two drops' patches may aim at the same place: appends (`/-` to a list the policy
 * has) compose, but an `add` of a member the policy lacks replaces what another patch put there,
 * and an operation inside an entry that another patch empties has nothing left to apply to.
 * Those are merged: every patch that creates a list writes the same list (the entries of all of
 * them), and a patch aimed inside an emptied entry empties it too. Each patch then applies to the
 * original policy and after any of the others, and all of them give the same policy whatever
 * the order (up to the order of appended entries).
 */
import { policyLabel, type Policy, type PolicyRef } from '../policy/index.js';
import type { DropExplanation, TriagedDrop } from './explain.js';
import { samePolicy, type PatchComposition, type PolicyPatch } from './fix.js';
import { parsePointer, type JsonPatchOp } from './json-patch.js';

const policyKey = (ref: PolicyRef): string => JSON.stringify([policyLabel(ref), ref.origin?.file, ref.origin?.doc, ref.origin?.item]);

/** Whether `pointer` names a location of `doc`. */
function exists(doc: unknown, pointer: string): boolean {
  let cur: unknown = doc;
  for (const t of parsePointer(pointer)) {
    if (typeof cur !== 'object' || cur === null || !Object.prototype.hasOwnProperty.call(cur, t)) return false;
    cur = (cur as Record<string, unknown>)[t];
  }
  return true;
}

const isCreate = (op: JsonPatchOp, original: unknown): op is Extract<JsonPatchOp, { op: 'add' }> =>
  op.op === 'add' && !op.path.endsWith('/-') && Array.isArray(op.value) && !exists(original, op.path);

interface Created {
  readonly drops: Set<number>;
  readonly entries: unknown[];
}

export function composeStandalone(drops: readonly TriagedDrop[], policies: readonly Policy[]): TriagedDrop[] {
  const originalOf = (ref: PolicyRef): Policy | undefined => policies.find((p) => samePolicy(p, ref));
  // Entries that some patch empties in place (remove-deny), per policy, and the drops that empty them.
  const emptied = new Map<string, Map<string, { op: JsonPatchOp; drops: Set<number> }>>();
  drops.forEach((d, i) => {
    for (const patch of d.explanation.patches) {
      for (const op of patch.ops) {
        if (op.op !== 'replace') continue;
        const byPointer = emptied.get(policyKey(patch.policy)) ?? new Map<string, { op: JsonPatchOp; drops: Set<number> }>();
        const e = byPointer.get(op.path) ?? { op, drops: new Set<number>() };
        e.drops.add(i);
        emptied.set(policyKey(patch.policy), byPointer.set(op.path, e));
      }
    }
  });
  const emptiedAbove = (patch: PolicyPatch, op: JsonPatchOp): { op: JsonPatchOp; drops: Set<number> } | undefined => {
    for (const [pointer, e] of emptied.get(policyKey(patch.policy)) ?? []) if (op.path.startsWith(`${pointer}/`)) return e;
    return undefined;
  };
  const step1 = drops.map((d) => d.explanation.patches.map((patch) => ({ patch, ops: patch.ops.map((op) => emptiedAbove(patch, op) ?? { op, drops: undefined }) })));
  const created = new Map<string, Created>();
  step1.forEach((patches, i) => {
    for (const { patch, ops } of patches) {
      const original = originalOf(patch.policy);
      for (const { op } of ops) {
        if (!isCreate(op, original)) continue;
        const k = `${policyKey(patch.policy)} ${op.path}`;
        const c = created.get(k) ?? { drops: new Set<number>(), entries: [] };
        c.drops.add(i);
        c.entries.push(...(op.value as unknown[]));
        created.set(k, c);
      }
    }
  });
  return drops.map((d, i) => {
    const patches = (step1[i] ?? []).map(({ patch, ops }): PolicyPatch => {
      const original = originalOf(patch.policy);
      const others = new Set<number>();
      const paths: string[] = [];
      const next = dedupe(
        ops.map(({ op, drops: emptiers }) => {
          if (emptiers !== undefined) {
            paths.push(op.path);
            for (const o of emptiers) if (o !== i) others.add(o);
            return op;
          }
          if (!isCreate(op, original)) return op;
          const c = created.get(`${policyKey(patch.policy)} ${op.path}`);
          if (c === undefined || c.drops.size < 2) return op;
          for (const o of c.drops) if (o !== i) others.add(o);
          paths.push(op.path);
          return { ...op, value: mergeEntries(c.entries) };
        }),
      );
      const composition: PatchComposition = others.size === 0 ? { how: 'independent' } : { how: 'merged', mergedDrops: others.size, paths: [...new Set(paths)] };
      return { ...patch, ops: next, composition, ...(composition.how === 'merged' && { description: `${patch.description} ${mergedNote(composition)}` }) };
    });
    const explanation: DropExplanation = { ...d.explanation, patches };
    return { group: d.group, explanation };
  });
}

function mergedNote(c: Extract<PatchComposition, { how: 'merged' }>): string {
  const n = `${c.mergedDrops} other drop${c.mergedDrops === 1 ? '' : 's'}`;
  return `(merged with the patches of ${n} at ${c.paths.join(', ')}: they create or empty the same place with the same value, so all of them apply in any order; this one also covers those drops)`;
}

const dedupe = (ops: readonly JsonPatchOp[]): JsonPatchOp[] => {
  const seen = new Set<string>();
  return ops.filter((op) => {
    const k = JSON.stringify(op);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
};

/** Distinct entries in first-seen order; `NotIn` expressions on one key become one expression. */
function mergeEntries(entries: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<string>();
  const notIn = new Map<string, { key: string; operator: 'NotIn'; values: string[] }>();
  for (const e of entries) {
    if (isNotIn(e)) {
      const prev = notIn.get(e.key);
      if (prev) {
        for (const v of e.values) if (!prev.values.includes(v)) prev.values.push(v);
        continue;
      }
      const copy = { key: e.key, operator: 'NotIn' as const, values: [...e.values] };
      notIn.set(e.key, copy);
      out.push(copy);
      continue;
    }
    const k = JSON.stringify(e);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out;
}

const isNotIn = (e: unknown): e is { key: string; operator: 'NotIn'; values: string[] } => {
  if (typeof e !== 'object' || e === null) return false;
  const r = e as Record<string, unknown>;
  return r['operator'] === 'NotIn' && typeof r['key'] === 'string' && Array.isArray(r['values']) && r['values'].every((v) => typeof v === 'string') && Object.keys(r).length === 3;
};
