import { type CappedSet, SET_FIELDS, SET_LIMITS, type SetField, unionCapped } from '../graph/index.js';
import { SET_COLUMN } from './edge-columns.js';

/**
 * An edge's set columns as the texts stored in its row: `truncated` first, then one per SET_FIELDS
 * column, in SET_ASSIGNMENTS' order. The edge writer remembers them per edge and merges a delta
 * into them column by column: a batch mostly brings new pod names, and only the columns it changes
 * are parsed and written as new text; the rest are bound again as they were read. Parsing and
 * stringifying every set of every changed edge, and all of them once more to remember them, made
 * ~115 MB of garbage per 300,000 flows of a 3,000-workload cluster (of ~1.4 GB observe allocates).
 */
export type SetTexts = readonly string[];

/** The set columns' assignments of an UPDATE, by position (SetTexts' order). */
export const SET_ASSIGNMENTS = ['truncated = ?', ...SET_FIELDS.map((f) => `${SET_COLUMN[f]} = ?`)].join(', ');

/** The texts of a record's sets (a new edge's). */
export function setTextsOf(sets: Readonly<Record<SetField, CappedSet>>): SetTexts {
  const out = [truncatedText(SET_FIELDS.filter((f) => sets[f].truncated))];
  for (const f of SET_FIELDS) out.push(setText(sets[f].values));
  return out;
}

/** The texts of a stored row's set columns (read with them by name). */
export function setTextsOfRow(row: Record<string, unknown>): SetTexts {
  const out = [String(row['truncated'] ?? '[]')];
  for (const f of SET_FIELDS) out.push(String(row[SET_COLUMN[f]] ?? '[]'));
  return out;
}

/**
 * Joins the texts into the one string a writer remembers per edge (an array of twelve would cost
 * ~150 bytes more per slot than the string). JSON text never holds a raw control character
 * (JSON.stringify escapes them, JSON.parse rejects them), so the separator splits it back exactly;
 * undefined for texts that hold one (not JSON: not remembered, read again).
 */
export function joinSetTexts(texts: SetTexts): string | undefined {
  for (const t of texts) if (t.includes(SEPARATOR)) return undefined;
  return texts.join(SEPARATOR);
}

/** The texts `joinSetTexts` joined. */
export function splitSetTexts(joined: string): SetTexts {
  return joined.split(SEPARATOR);
}

const SEPARATOR = '\u0001';

/**
 * The texts after merging `delta` into the stored `known` (the capped union of each set, as
 * graph/merge.ts unionCapped), or undefined when the delta brings nothing the stored sets would
 * take in. Only the columns that change are parsed and stringified.
 */
export function mergeSetTexts(known: SetTexts, delta: Readonly<Record<SetField, CappedSet>>): SetTexts | undefined {
  let out: string[] | undefined;
  let truncated: ReadonlySet<string> | undefined;
  for (let i = 0; i < SET_FIELDS.length; i++) {
    const f = SET_FIELDS[i] as SetField;
    const s = delta[f];
    if (s.values.length === 0 && !s.truncated) continue;
    truncated ??= truncatedFields(known[0] as string);
    const text = known[i + 1] as string;
    const k: CappedSet = { values: text === '[]' ? NO_STRINGS : (JSON.parse(text) as string[]), truncated: truncated.has(f) };
    if (!bringsNewValues(k, s, SET_LIMITS[f])) continue;
    const merged = unionCapped(k, s, SET_LIMITS[f]);
    out ??= [...known];
    out[i + 1] = setText(merged.values);
    columnsMerged++;
    if (merged.truncated && !truncated.has(f)) {
      truncated = new Set(truncated).add(f);
      out[0] = truncatedText(SET_FIELDS.filter((g) => (truncated as ReadonlySet<string>).has(g)));
    }
  }
  return out;
}

let columnsMerged = 0;

/** Set columns a merge wrote as new text so far (tests count them). */
export function mergedColumnCount(): number {
  return columnsMerged;
}

/**
 * Whether a delta's set `s` holds a value not in `k` (the set stored for the edge). A value known
 * to be stored may since have been evicted by smaller ones (another writer); then the stored set is
 * already truncated and that value would not enter it again, so skipping is still exact.
 */
function bringsNewValues(k: CappedSet, s: CappedSet, limit: number): boolean {
  if (k.values.length === 0) return true;
  // A truncated set that is full keeps its K smallest values: nothing above its largest enters.
  // Churning pods bring new names all the time; most sort above it and would not enter.
  const ceiling = k.truncated && k.values.length === limit ? k.values[k.values.length - 1] : undefined;
  // A truncated delta that is full kept its K smallest: what it dropped sorts above all it kept.
  // If all it kept is known or above the ceiling, a dropped value below the ceiling would make
  // K + 1 known values up to it; so against a full truncated set it brings nothing new.
  if (s.truncated && (ceiling === undefined || s.values.length < limit)) return true;
  for (const v of s.values) if ((ceiling === undefined || v < ceiling) && !hasSorted(k.values, v)) return true;
  return false;
}

/** Binary search in a sorted array of distinct strings. */
function hasSorted(values: readonly string[], v: string): boolean {
  let lo = 0;
  let hi = values.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const m = values[mid] as string;
    if (m === v) return true;
    if (m < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_FIELDS: ReadonlySet<string> = new Set();

/** The `truncated` column's fields (in SET_FIELDS order when written). */
function truncatedFields(text: string): ReadonlySet<string> {
  return text === '[]' ? NO_FIELDS : new Set(JSON.parse(text) as string[]);
}

function truncatedText(fields: readonly string[]): string {
  return fields.length === 0 ? '[]' : JSON.stringify(fields);
}

/**
 * A set column's text. Most of an edge's eleven sets are empty: the shared '[]' spares a string
 * for each.
 */
function setText(values: readonly string[]): string {
  return values.length === 0 ? '[]' : JSON.stringify(values);
}
