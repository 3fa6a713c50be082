/**
 * Narrowing helpers for protojson and proto-loader objects. protojson's reader accepts both the
 * original proto names and lowerCamelCase, enum names or numbers, and 64-bit integers as strings or
 * numbers; proto-loader hands us `{seconds, nanos}` timestamps and `{value}` wrappers. Every helper
 * throws a DecodeError naming the field path, which the decoder turns into a per-line error.
 */

export class DecodeError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'DecodeError';
  }
}

export type JsonObject = Readonly<Record<string, unknown>>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Reads `obj[name]`, falling back to the lowerCamelCase spelling protojson also accepts. */
export function field(obj: JsonObject, name: string, camel?: string): unknown {
  const v = obj[name];
  if (v !== undefined || camel === undefined) return v;
  return obj[camel];
}

export function optObject(v: unknown, path: string): JsonObject | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new DecodeError(path, `expected an object, got ${describe(v)}`);
  return v;
}

export function optString(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new DecodeError(path, `expected a string, got ${describe(v)}`);
  return v;
}

export function stringList(v: unknown, path: string): readonly string[] {
  if (v === undefined || v === null) return EMPTY;
  if (!Array.isArray(v)) throw new DecodeError(path, `expected a list of strings, got ${describe(v)}`);
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'string') throw new DecodeError(`${path}[${i}]`, `expected a string, got ${describe(v[i])}`);
  }
  return v as string[];
}

export function objectList(v: unknown, path: string): readonly JsonObject[] {
  if (v === undefined || v === null) return EMPTY_OBJECTS;
  if (!Array.isArray(v)) throw new DecodeError(path, `expected a list, got ${describe(v)}`);
  for (let i = 0; i < v.length; i++) {
    if (!isObject(v[i])) throw new DecodeError(`${path}[${i}]`, `expected an object, got ${describe(v[i])}`);
  }
  return v as JsonObject[];
}

const EMPTY: readonly string[] = Object.freeze([]);
const EMPTY_OBJECTS: readonly JsonObject[] = Object.freeze([]);

/** 32-bit and 64-bit integers: numbers, or decimal strings (protojson writes uint64 as strings). */
export function optInteger(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new DecodeError(path, `expected an integer, got ${v}`);
    return v;
  }
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  if (isObject(v) && 'value' in v) return optInteger(v['value'], path);
  throw new DecodeError(path, `expected an integer, got ${describe(v)}`);
}

/** uint64 kept as its decimal string, so values above 2^53 survive. */
export function optUint64String(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && /^\d+$/.test(v)) return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return String(v);
  throw new DecodeError(path, `expected an unsigned integer, got ${describe(v)}`);
}

export function optBool(v: unknown, path: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  // proto-loader renders google.protobuf.BoolValue as {value: true}, and {} when false.
  if (isObject(v)) return v['value'] === true;
  throw new DecodeError(path, `expected a boolean, got ${describe(v)}`);
}

/** An enum given by name or number; unknown numbers map to `fallback` (newer agents add values). */
export function optEnum<T extends string>(
  v: unknown,
  path: string,
  byNumber: readonly T[],
  fallback: T,
): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') {
    if ((byNumber as readonly string[]).includes(v)) return v as T;
    throw new DecodeError(path, `unknown value "${truncate(v)}"`);
  }
  if (typeof v === 'number' && Number.isInteger(v)) return byNumber[v] ?? fallback;
  throw new DecodeError(path, `expected an enum name or number, got ${describe(v)}`);
}

export function truncate(s: string, max = 40): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
