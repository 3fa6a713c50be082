/**
 * A string that holds only its own characters. The line decoder hands out strings cut from the
 * line (V8 keeps a cut of 13 or more characters as a view of the whole ~1.7 KB line), so a value
 * that outlives its flow (a map key, a set value, a cache entry) is copied when it is first kept:
 * otherwise each such value keeps a whole line alive.
 *
 * Cutting a joined string makes V8 flatten the join into a new string first, so the result views
 * that copy (one character longer), never the line: one copy, where a JSON round trip scanned and
 * built the text twice (~40 against ~300 ns a value).
 * test/unit/app/batch-memory.test.ts checks that no line stays alive through a batch's values.
 */
export function ownCopy(text: string): string {
  return ` ${text}`.slice(1);
}
