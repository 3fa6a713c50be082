/**
 * RFC 6902 JSON Patch: the operations triage suggests (`add`, `remove`, `replace`, `test`) and a
 * pure `applyJsonPatch` that tests and the what-if flow use to apply them to a policy document,
 * exactly as `kubectl patch --type json` would.
 */

export type JsonPatchOp =
  | { readonly op: 'add'; readonly path: string; readonly value: unknown }
  | { readonly op: 'replace'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'test'; readonly path: string; readonly value: unknown };

export class JsonPatchError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'JsonPatchError';
  }
}

/** RFC 6901 pointer → reference tokens (`~1` is `/`, `~0` is `~`). */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(pointer, 'a JSON pointer starts with /');
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Escapes one token for a JSON pointer. */
export const pointerToken = (t: string | number): string => String(t).replace(/~/g, '~0').replace(/\//g, '~1');

type Container = Record<string, unknown> | unknown[];

const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/**
 * Applies the operations in order to a deep copy of `doc` and returns it; the input is never
 * changed. Throws JsonPatchError (with the failing path) when an operation cannot apply, so a
 * patch applies whole or not at all.
 */
export function applyJsonPatch<T>(doc: T, ops: readonly JsonPatchOp[]): T {
  let root: unknown = clone(doc);
  for (const op of ops) root = applyOne(root, op);
  return root as T;
}

function applyOne(root: unknown, op: JsonPatchOp): unknown {
  const tokens = parsePointer(op.path);
  if (tokens.length === 0) {
    switch (op.op) {
      case 'add':
      case 'replace':
        return clone(op.value);
      case 'remove':
        return undefined;
      case 'test':
        if (!deepEqual(root, op.value)) throw new JsonPatchError(op.path, 'test failed');
        return root;
      default: {
        const never: never = op;
        return never;
      }
    }
  }
  const parent = walk(root, tokens.slice(0, -1), op.path);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) applyToArray(parent, last, op);
  else applyToObject(parent, last, op);
  return root;
}

function walk(root: unknown, tokens: readonly string[], path: string): Container {
  let cur: unknown = root;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, path, false)];
    else if (isContainer(cur) && Object.prototype.hasOwnProperty.call(cur, t)) cur = (cur as Record<string, unknown>)[t];
    else throw new JsonPatchError(path, `no such location (${t})`);
  }
  if (!isContainer(cur)) throw new JsonPatchError(path, 'parent is not an object or array');
  return cur;
}

function arrayIndex(a: readonly unknown[], t: string, path: string, forAdd: boolean): number {
  if (!/^(0|[1-9]\d*)$/.test(t)) throw new JsonPatchError(path, `bad array index ${t}`);
  const i = Number(t);
  if (i > a.length || (!forAdd && i === a.length)) throw new JsonPatchError(path, `index ${i} out of range`);
  return i;
}

function applyToArray(a: unknown[], t: string, op: JsonPatchOp): void {
  switch (op.op) {
    case 'add':
      if (t === '-') a.push(clone(op.value));
      else a.splice(arrayIndex(a, t, op.path, true), 0, clone(op.value));
      return;
    case 'replace':
      a[arrayIndex(a, t, op.path, false)] = clone(op.value);
      return;
    case 'remove':
      a.splice(arrayIndex(a, t, op.path, false), 1);
      return;
    case 'test':
      if (!deepEqual(a[arrayIndex(a, t, op.path, false)], op.value)) throw new JsonPatchError(op.path, 'test failed');
      return;
    default: {
      const never: never = op;
      return never;
    }
  }
}

function applyToObject(o: Record<string, unknown>, t: string, op: JsonPatchOp): void {
  const has = Object.prototype.hasOwnProperty.call(o, t);
  switch (op.op) {
    case 'add':
      o[t] = clone(op.value);
      return;
    case 'replace':
      if (!has) throw new JsonPatchError(op.path, 'no such member to replace');
      o[t] = clone(op.value);
      return;
    case 'remove':
      if (!has) throw new JsonPatchError(op.path, 'no such member to remove');
      delete o[t];
      return;
    case 'test':
      if (!has || !deepEqual(o[t], op.value)) throw new JsonPatchError(op.path, 'test failed');
      return;
    default: {
      const never: never = op;
      return never;
    }
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (!isContainer(a) || !isContainer(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).sort();
  return deepEqual(ka, Object.keys(rb).sort()) && ka.every((k) => deepEqual(ra[k], rb[k]));
}
