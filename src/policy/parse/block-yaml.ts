/**
 * A reader for the block-style YAML that `recommend --out` writes and `kubectl get -o yaml`
 * prints: block mappings and sequences of one-line scalars, `{}` and `[]`, comments. On a tree of
 * thousands of recommended policies js-yaml spent most of the policy load reading them; this
 * reads them in one pass over the lines.
 *
 * It answers `undefined` ("ask js-yaml") for anything outside that shape: flow collections with
 * items, block scalars, scalars over several lines, anchors, aliases, tags, escapes, keys that
 * are not plain words or simply quoted, duplicate keys, tabs, carriage returns, characters either
 * reader may treat apart, and every indentation it does not follow exactly. So whatever it reads,
 * it reads as the `yaml` package's `toJS` would (fast-yaml.ts holds the rest).
 */
import { resolveCorePlain } from './fast-yaml.js';

/** A line with content (not blank, not a comment): where its content starts and where it ends. */
interface Line {
  readonly indent: number;
  /** Offset of the first content character. */
  readonly start: number;
  /** Offset of the line break (or the end of the text). */
  readonly end: number;
}

class Unsupported extends Error {}

const unsupported = (): never => {
  throw new Unsupported();
};

/**
 * Characters that send the whole text to js-yaml: what it refuses (non-printable, lone
 * surrogates), and the tab, carriage return, byte order mark and Unicode line breaks that
 * the two readers could place differently.
 */
const REFUSED = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?:[^\ud800-\udbff]|^)[\udc00-\udfff]/;

/** Only printable ASCII in keys and scalars: comments may hold anything else. */
const NOT_ASCII = /[^\x20-\x7e]/;

/** A plain key: a word of label-key characters (`k8s:app.kubernetes.io/name`), not ending in `:`. */
const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_./:-]*$/;

/** Characters a plain scalar may not start with here (YAML indicators, and `-`, `?`, `:` to stay simple). */
const INDICATOR = new Set([...'-?:,[]{}#&*!|>\'"%@`'].map((c) => c.charCodeAt(0)));

const SPACE = 0x20;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;
const DQUOTE = 0x22;
const SQUOTE = 0x27;

/**
 * The values of one document chunk (`---` and what follows it up to the next marker, or the text
 * before the first marker), as js-yaml's `loadAll` of it gives them; `undefined` when outside
 * the shape this reads. A chunk without content is left to js-yaml (`---` alone, comments only).
 */
export function readBlockChunk(text: string, start: number, end: number): unknown[] | undefined {
  try {
    return new ChunkReader(text, start, end).read();
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

/** True when `text` holds a character that sends it to js-yaml as a whole. */
export const refusedByBlockReader = (text: string): boolean => REFUSED.test(text);

class ChunkReader {
  readonly #text: string;
  readonly #lines: Line[] = [];
  #at = 0;

  constructor(text: string, start: number, end: number) {
    this.#text = text;
    let i = start;
    if (text.startsWith('---', i) && (i + 3 === end || text.charCodeAt(i + 3) === SPACE || text.charCodeAt(i + 3) === 0x0a)) {
      // The marker's line may hold a comment, nothing else.
      i += 3;
      const nl = lineEnd(text, i, end);
      const rest = skipSpaces(text, i, nl);
      if (rest < nl && !(text.charCodeAt(rest) === HASH && rest > i)) unsupported();
      i = nl + 1;
    }
    while (i < end) {
      const nl = lineEnd(text, i, end);
      const first = skipSpaces(text, i, nl);
      if (first < nl && text.charCodeAt(first) !== HASH) this.#lines.push({ indent: first - i, start: first, end: nl });
      i = nl + 1;
    }
  }

  read(): unknown[] | undefined {
    if (this.#lines.length === 0) return undefined;
    const first = this.#lines[0] as Line;
    const value = this.#block(first.indent);
    if (this.#at !== this.#lines.length) unsupported();
    return [value];
  }

  /** The block node whose first line is the current line, at that line's indentation (at least `min`). */
  #block(min: number): unknown {
    const line = this.#lines[this.#at];
    if (line === undefined || line.indent < min) return unsupported();
    if (isItem(this.#text, line)) return this.#sequence(line.indent);
    const entry = this.#entry(line.start, line.end);
    if (entry === undefined) return unsupported();
    return this.#mapping(line.indent, entry);
  }

  /** A block sequence whose items start at column `indent`. */
  #sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      const line = this.#lines[this.#at];
      if (line === undefined || line.indent < indent) return out;
      if (line.indent > indent) return unsupported();
      if (!isItem(this.#text, line)) return out;
      const content = skipSpaces(this.#text, line.start + 1, line.end);
      // A bare `-` (its item on the next lines) or `- - x` is left to js-yaml.
      if (content === line.end || this.#text.charCodeAt(content) === HASH || isItemAt(this.#text, content, line.end)) return unsupported();
      const entry = this.#entry(content, line.end);
      if (entry !== undefined) {
        out.push(this.#mapping(line.indent + (content - line.start), entry));
        continue;
      }
      out.push(this.#inline(content, line.end));
      this.#at++;
    }
  }

  /**
   * A block mapping at column `column` whose first entry (`first`, on the current line) is
   * already split: the next lines at that column are its other entries.
   */
  #mapping(column: number, first: Entry): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let entry: Entry | undefined = first;
    for (;;) {
      if (Object.hasOwn(out, entry.key)) return unsupported();
      out[entry.key] = this.#value(column, entry);
      const line = this.#lines[this.#at];
      if (line === undefined || line.indent < column) return out;
      if (line.indent > column) return unsupported();
      entry = this.#entry(line.start, line.end);
      if (entry === undefined) return unsupported();
    }
  }

  /** The value of an entry of the mapping at `column`: on its line, or the block below it. */
  #value(column: number, entry: Entry): unknown {
    const line = this.#lines[this.#at] as Line;
    if (entry.value < line.end) {
      const v = this.#inline(entry.value, line.end);
      this.#at++;
      return v;
    }
    this.#at++;
    const next = this.#lines[this.#at];
    if (next === undefined || next.indent < column) return null;
    // A sequence may sit at the key's own column (`key:` then `- item`), as kubectl prints it.
    if (next.indent === column) return isItem(this.#text, next) ? this.#sequence(column) : null;
    return this.#block(column + 1);
  }

  /**
   * Splits `key: value` (or `key:`) at `from`: undefined when the line is not a mapping entry.
   * `value` is where the value starts (`end` when none is on the line).
   */
  #entry(from: number, end: number): Entry | undefined {
    const text = this.#text;
    const c = text.charCodeAt(from);
    let key: string;
    let after: number;
    if (c === DQUOTE || c === SQUOTE) {
      const q = quoted(text, from, end);
      after = q.next;
      if (after >= end || text.charCodeAt(after) !== COLON) return undefined;
      key = q.value;
      if (key === '__proto__') return unsupported();
    } else {
      after = keyEnd(text, from, end);
      if (after === -1) return undefined;
      key = text.slice(from, after);
      if (key.length > 1000 || !PLAIN_KEY.test(key) || key.endsWith(':') || key === '__proto__' || resolveCorePlain(key) !== key) return unsupported();
    }
    const colon = after + 1;
    if (colon < end && text.charCodeAt(colon) !== SPACE) return unsupported();
    const value = skipSpaces(text, colon, end);
    // `key: # comment`: the value is below.
    return { key, value: value < end && text.charCodeAt(value) === HASH ? end : value };
  }

  /** A one-line value at `from` up to `end`, then at most a comment. */
  #inline(from: number, end: number): unknown {
    const text = this.#text;
    const c = text.charCodeAt(from);
    if (c === DQUOTE || c === SQUOTE) {
      const q = quoted(text, from, end);
      restIsComment(text, q.next, end);
      return q.value;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const close = text.charCodeAt(from + 1);
      if (!((c === 0x7b && close === 0x7d) || (c === 0x5b && close === 0x5d))) return unsupported();
      restIsComment(text, from + 2, end);
      return c === 0x7b ? {} : [];
    }
    if (INDICATOR.has(c)) return unsupported();
    // The scalar runs to a ` #` comment or the end of the line, trailing spaces dropped.
    let stop = from;
    while (stop < end && !(text.charCodeAt(stop) === HASH && text.charCodeAt(stop - 1) === SPACE)) stop++;
    while (stop > from && text.charCodeAt(stop - 1) === SPACE) stop--;
    const s = text.slice(from, stop);
    // `a: b: c` and `a: b:` are errors the yaml package reports.
    if (NOT_ASCII.test(s) || s.includes(': ') || s.endsWith(':')) return unsupported();
    return resolveCorePlain(s);
  }
}

interface Entry {
  readonly key: string;
  readonly value: number;
}

/** A quoted scalar on one line, without escapes: its text and where it ends. */
function quoted(text: string, from: number, end: number): { value: string; next: number } {
  const q = text.charCodeAt(from);
  if (q === DQUOTE) {
    const close = text.indexOf('"', from + 1);
    if (close === -1 || close >= end) return unsupported();
    const value = text.slice(from + 1, close);
    if (value.includes('\\') || NOT_ASCII.test(value)) return unsupported();
    return { value, next: close + 1 };
  }
  let value = '';
  let i = from + 1;
  for (;;) {
    const close = text.indexOf("'", i);
    if (close === -1 || close >= end) return unsupported();
    value += text.slice(i, close);
    if (text.charCodeAt(close + 1) !== SQUOTE) {
      if (NOT_ASCII.test(value)) return unsupported();
      return { value, next: close + 1 };
    }
    value += "'";
    i = close + 2;
  }
}

/** Past a value: nothing, or spaces and a comment. */
function restIsComment(text: string, from: number, end: number): void {
  const i = skipSpaces(text, from, end);
  if (i < end && !(text.charCodeAt(i) === HASH && i > from)) unsupported();
}

/** Where a plain key ends (its `:` followed by a space or the end of the line), or -1 (a comment or the end come first). */
function keyEnd(text: string, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === COLON && (i + 1 === end || text.charCodeAt(i + 1) === SPACE)) return i;
    if (c === HASH && text.charCodeAt(i - 1) === SPACE) return -1;
  }
  return -1;
}

const isItem = (text: string, line: Line): boolean => isItemAt(text, line.start, line.end);

/** `-` followed by a space or the end of the line. */
function isItemAt(text: string, at: number, end: number): boolean {
  return text.charCodeAt(at) === DASH && (at + 1 === end || text.charCodeAt(at + 1) === SPACE);
}

function lineEnd(text: string, from: number, end: number): number {
  const nl = text.indexOf('\n', from);
  return nl === -1 || nl > end ? end : nl;
}

function skipSpaces(text: string, from: number, end: number): number {
  let i = from;
  while (i < end && text.charCodeAt(i) === SPACE) i++;
  return i;
}
