import { Document, Scalar, type Tags, parse, visit } from 'yaml';

/**
 * YAML that every reader reads the same way. kubectl (go-yaml) and PyYAML read YAML 1.1, where
 * NEL (U+0085), U+2028 and U+2029 are line breaks; the `yaml` package reads 1.2, where they are not.
 * A workload named `evil<NEL>- fromEntities: [all]` would otherwise end an evidence comment and add
 * a rule when kubectl reads the file. So: comment text keeps only characters that are printable
 * and not a line break in either version (others are written as `\u{85}`), and a string scalar
 * that either version would read as something else is double-quoted.
 */
function isCommentSafe(cp: number): boolean {
  if (cp >= 0x20 && cp <= 0x7e) return true;
  if (cp < 0xa0) return false; // C0, DEL, C1 (NEL is 0x85)
  if (cp === 0x2028 || cp === 0x2029) return false; // line / paragraph separator
  if (cp >= 0x200b && cp <= 0x200f) return false; // zero-width and direction marks
  if (cp >= 0x202a && cp <= 0x202e) return false; // bidi embeddings and overrides
  if (cp >= 0x2066 && cp <= 0x2069) return false; // bidi isolates
  if (cp >= 0xd800 && cp <= 0xdfff) return false; // a lone surrogate (pairs arrive as one code point)
  if (cp === 0xfeff || cp === 0xfffe || cp === 0xffff) return false;
  return true;
}

/** Printable ASCII only: safe everywhere, and what nearly every name and comment is (a regex test is ~10x a code-point loop). */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** One comment line: every unsafe character, line breaks included, as a visible `\u{…}` escape. */
export function commentText(s: string): string {
  if (PRINTABLE_ASCII.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    out += isCommentSafe(cp) ? ch : `\\u{${cp.toString(16)}}`;
  }
  return out;
}

/** Comment lines joined for the `yaml` package (which writes each `\n`-separated part as a `#` line). */
export function commentLines(lines: readonly string[]): string {
  return lines.map(commentText).join('\n');
}

const plainReadsAsString = new Map<string, boolean>();
/** Plain in YAML 1.1 and 1.2 without asking a parser (test/property/yaml-plain-word.test.ts checks it against both). */
export const PLAIN_WORD = /^[A-Za-z][A-Za-z0-9_./-]{5,}$/;

/**
 * Plain in YAML 1.1 and 1.2 too: a slash and no colon (`10.0.0.1/32`, `app.kubernetes.io/name`).
 * No boolean, null, number or timestamp of either schema holds a slash, and without a colon
 * nothing in it can start a mapping (test/property/yaml-plain-word.test.ts checks it too).
 */
export const PLAIN_PATH = /^[A-Za-z0-9_.-]*\/[A-Za-z0-9_./-]*$/;
/** Digits only (`8080`, `053`): an integer in YAML 1.2's core schema, so never plainly a string. */
export const DIGITS = /^[0-9]+$/;

/** Would `s`, written plain, read back as this very string in YAML 1.1 and in YAML 1.2? */
export function plainIsUnambiguous(s: string): boolean {
  let ok = plainReadsAsString.get(s);
  if (ok !== undefined) return ok;
  ok = /^[A-Za-z0-9_./:-]+$/.test(s) && !/^[-:.]/.test(s);
  // A letter, then six or more of these (no colon): longer than every word either schema reads
  // as a boolean or null, and no number, timestamp or indicator starts with a letter. Most names
  // are such, and parsing each twice was a tenth of writing thousands of policies.
  // Ports and addresses are thousands of distinct strings more, each parsed twice as well.
  if (ok && DIGITS.test(s)) ok = false;
  else if (ok && !PLAIN_WORD.test(s) && !PLAIN_PATH.test(s)) {
    try {
      ok = parse(s, { version: '1.1' }) === s && parse(s, { version: '1.2' }) === s;
    } catch {
      ok = false;
    }
  }
  if (plainReadsAsString.size > 100_000) plainReadsAsString.clear();
  plainReadsAsString.set(s, ok);
  return ok;
}

/** Text that `quoteAmbiguousScalars` lets into a document: nothing read differently by YAML 1.1 and 1.2. */
export function isYamlSafeText(s: string): boolean {
  if (PRINTABLE_ASCII.test(s)) return true;
  for (const ch of s) if (!isCommentSafe(ch.codePointAt(0) as number)) return false;
  return true;
}

/**
 * Double-quotes every string scalar that is not plainly the same string in both versions
 * (`y`, `0o17`, `1:20`, anything with a space or punctuation). Values with characters the
 * `yaml` package would write raw inside quotes (NEL, U+2028/9, other non-printables) must not
 * reach a document at all: recommend leaves such names out; this throws if one slips through.
 */
export function quoteAmbiguousScalars(doc: Document): void {
  quoteWhereAmbiguous(doc, (s) => {
    if (!isYamlSafeText(s)) throw new Error(`refusing to write ${JSON.stringify(s)} into YAML: it holds a character YAML 1.1 and 1.2 readers read differently`);
  });
}

/** Double-quotes every string scalar (keys too) that is not plainly itself in both versions, after `inspect` has seen it. */
function quoteWhereAmbiguous(doc: Document, inspect?: (s: string) => void): void {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string') return;
      inspect?.(node.value);
      if (!plainIsUnambiguous(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
}

/**
 * The `yaml` package's YAML 1.1 schema without merge keys: it writes a string `<<` as the bare merge
 * key `<<` (even when asked to quote it), which PyYAML then refuses ("could not determine a
 * constructor for the tag ...merge") and go-yaml reads as a merge. Without the tag it is a string,
 * quoted like any other ambiguous one.
 */
export const withoutMergeKeys = (tags: Tags): Tags => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:merge');

/** An unsafe character as a double-quoted escape both versions read as that character. */
function escapeCodePoint(cp: number): string {
  return cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
}

/**
 * Data (drop reports, JSON patches for `kubectl patch --patch-file`) as YAML that YAML 1.1 readers
 * (kubectl's go-yaml, PyYAML) and YAML 1.2 readers read as the same values: every string that is not
 * plainly itself in both versions is double-quoted (`yes`, `on`, `<<`, `2026-11-22T10:00:00Z`,
 * `0o17`), and characters that either version reads as a line break or drops (NEL, U+2028/9, C0/C1
 * controls, bidi marks) are written as `\u` escapes instead of raw inside the quotes. Unlike
 * `quoteAmbiguousScalars` it never refuses a value: flows bring names nobody vetted.
 */
export function stringifyPortable(value: unknown): string {
  // YAML 1.2's core schema has no merge key, so a `<<` is a string here and gets quoted below.
  // Objects met twice are written twice, not as an anchor and alias: a report reads the same
  // whole or item by item (`stringifyPortableList`), and readers never meet `*a1`.
  const doc = new Document(value, { aliasDuplicateObjects: false });
  quoteWhereAmbiguous(doc);
  // Every string holding such a character is double-quoted above and no comment is written, so
  // each one in the text sits inside double quotes, where the escape means the same character.
  let out = '';
  for (const ch of doc.toString({ lineWidth: 0 })) {
    const cp = ch.codePointAt(0) as number;
    out += cp === 0x0a || isCommentSafe(cp) ? ch : escapeCodePoint(cp);
  }
  return out;
}

/**
 * `stringifyPortable(items)` an item at a time: the same text (a block sequence is its items'
 * texts one after another), without the whole document's model in memory. A port scan's drop
 * report holds 131,000 groups; as one document the model needed over 4 GB.
 */
export function* stringifyPortableList(items: Iterable<unknown>): Generator<string> {
  let empty = true;
  for (const item of items) {
    empty = false;
    yield stringifyPortable([item]);
  }
  if (empty) yield stringifyPortable([]);
}
