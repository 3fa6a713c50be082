/**
 * A tiny decoder kit: narrows `unknown` (parsed YAML) into the local model, collecting every
 * problem with its field path instead of throwing. `null` is read as "missing", as the
 * Kubernetes API server does.
 */

export interface FieldProblem {
  /** Path inside the document, e.g. `spec.ingress[0].toPorts[0].ports[0].port`. */
  readonly field: string;
  readonly reason: string;
}

export class Reader {
  readonly problems: FieldProblem[] = [];
  readonly notes: FieldProblem[] = [];

  fail(field: string, reason: string): undefined {
    this.problems.push({ field, reason });
    return undefined;
  }

  note(field: string, reason: string): void {
    this.notes.push({ field, reason });
  }
}

export type Rec = Readonly<Record<string, unknown>>;

export function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Whether field paths are spelled out. A reading whose every problem and note sends the file to
 * the position-keeping parser (parse.ts's fast path) never shows a path, and building one for
 * every field read was a fifth of what parsing thousands of policy files allocated.
 */
let spellPaths = true;

/** `decode()` with every field path left '' (its problems and notes then name no field). */
export function withoutFieldPaths<T>(decode: () => T): T {
  const was = spellPaths;
  spellPaths = false;
  try {
    return decode();
  } finally {
    spellPaths = was;
  }
}

export const join = (path: string, key: string): string => (!spellPaths ? '' : path === '' ? key : `${path}.${key}`);

const itemPath = (path: string, i: number): string => (spellPaths ? `${path}[${i}]` : '');

/** Reads an object; missing/null gives `undefined`, anything else not an object is a problem. */
export function readObject(r: Reader, v: unknown, path: string): Rec | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) return r.fail(path, `expected an object, got ${describe(v)}`);
  return v;
}

/** Reads an object that must be there; reports one problem (`expected <what>`) otherwise. */
export function readRequiredObject(r: Reader, v: unknown, path: string, what: string): Rec | undefined {
  if (isRecord(v)) return v;
  return r.fail(path, `expected ${what}, got ${describe(v)}`);
}

/**
 * Reads an optional list, keeping "missing" (`undefined`) apart from `[]`. Items that fail to
 * decode are dropped (their problems are recorded, so the document is skipped anyway).
 */
export function readList<T>(
  r: Reader,
  v: unknown,
  path: string,
  item: (value: unknown, itemPath: string) => T | undefined,
): T[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) return r.fail(path, `expected a list, got ${describe(v)}`);
  const out: T[] = [];
  for (let i = 0; i < v.length; i++) {
    const d = item(v[i] as unknown, itemPath(path, i));
    if (d !== undefined) out.push(d);
  }
  return out;
}

export function readString(r: Reader, v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  return r.fail(path, `expected a string, got ${describe(v)}`);
}

export function readBool(r: Reader, v: unknown, path: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  return r.fail(path, `expected true or false, got ${describe(v)}`);
}

export function readInt(r: Reader, v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  return r.fail(path, `expected an integer, got ${describe(v)}`);
}

export function readStringMap(r: Reader, v: unknown, path: string): Record<string, string> | undefined {
  const o = readObject(r, v, path);
  if (o === undefined) return undefined;
  const out: Record<string, string> = {};
  // for-in, not Object.entries: no array of pairs per map (own keys of a parsed object, in the same order).
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    const x = o[k];
    // YAML turns `app: 1` or `enabled: true` into non-strings; Kubernetes would reject them.
    if (typeof x === 'string') out[k] = x;
    else r.fail(join(path, k), `label values must be strings, got ${describe(x)} (quote it)`);
  }
  return out;
}

/**
 * Rejects keys the API does not define, as kubectl's strict field validation does: a typo such as
 * `matchLabel`, `fromEndpoint` or `toPort` would otherwise silently widen or narrow a rule.
 */
export function rejectUnknownKeys(r: Reader, o: Rec, path: string, known: readonly string[]): void {
  for (const k in o) {
    if (!Object.hasOwn(o, k) || known.includes(k)) continue;
    const guess = closest(k, known);
    r.fail(join(path, k), `unknown field "${k}"${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`);
  }
}

/** The known key a typo most likely meant: small edit distance, or a plural/case slip. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `"${v}"`;
  return `${typeof v} ${String(v)}`;
}
