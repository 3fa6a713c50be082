/** `spec` + `egress` -> `spec.egress`; keys that are not identifiers are quoted: `labels["app.kubernetes.io/name"]`. */
export function child(base: string, key: string): string {
  if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key)) return base === '' ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

export function index(base: string, i: number): string {
  return `${base}[${i}]`;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field counts as present when set to something other than null (null is pruned like an absent field). */
export function present(o: Readonly<Record<string, unknown>>, key: string): boolean {
  return o[key] !== undefined && o[key] !== null;
}

/** Length of an array field, 0 when absent or not an array. */
export function count(o: Readonly<Record<string, unknown>>, key: string): number {
  const v = o[key];
  return Array.isArray(v) ? v.length : 0;
}

export function records(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

/** The closest known name within edit distance 2, for "did you mean" hints on typos. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}
