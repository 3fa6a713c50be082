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

/**
 * The lines with content (not blank, not a comment) of the chunk being read, three numbers each:
 * indentation, offset of the first content character, offset of the line break (or the end). One
 * buffer serves every chunk (reading is synchronous): an object per line was most of what this
 * reader allocated on a tree of thousands of policy files.
 */
const KEPT_LINES = 3 * 4096;
let lines = new Int32Array(KEPT_LINES);
const INDENT = 0;
const START = 1;
const END = 2;

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
  } finally {
    // A huge document's lines are not held on to after it.
    if (lines.length > KEPT_LINES) lines = new Int32Array(KEPT_LINES);
  }
}

/** True when `text` holds a character that sends it to js-yaml as a whole. */
export const refusedByBlockReader = (text: string): boolean => REFUSED.test(text);

class ChunkReader {
  readonly #text: string;
  /** Lines in `lines`. */
  #count = 0;
  /** The current line. */
  #at = 0;
  /** Where the value of the entry `#entry` split last starts (`end` of its line when none is on it). */
  #valueAt = 0;

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
      if (first < nl && text.charCodeAt(first) !== HASH) this.#addLine(first - i, first, nl);
      i = nl + 1;
    }
  }

  #addLine(indent: number, start: number, end: number): void {
    const at = 3 * this.#count++;
    if (at + 3 > lines.length) {
      const grown = new Int32Array(2 * lines.length);
      grown.set(lines);
      lines = grown;
    }
    lines[at + INDENT] = indent;
    lines[at + START] = start;
    lines[at + END] = end;
  }

  #indent(line: number): number {
    return lines[3 * line + INDENT] as number;
  }

  #start(line: number): number {
    return lines[3 * line + START] as number;
  }

  #end(line: number): number {
    return lines[3 * line + END] as number;
  }

  read(): unknown[] | undefined {
    if (this.#count === 0) return undefined;
    const value = this.#block(this.#indent(0));
    if (this.#at !== this.#count) unsupported();
    return [value];
  }

  /** The block node whose first line is the current line, at that line's indentation (at least `min`). */
  #block(min: number): unknown {
    const line = this.#at;
    if (line >= this.#count || this.#indent(line) < min) return unsupported();
    const start = this.#start(line);
    const end = this.#end(line);
    if (isItemAt(this.#text, start, end)) return this.#sequence(this.#indent(line));
    const key = this.#entry(start, end);
    if (key === undefined) return unsupported();
    return this.#mapping(this.#indent(line), key);
  }

  /** A block sequence whose items start at column `indent`. */
  #sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      const line = this.#at;
      if (line >= this.#count || this.#indent(line) < indent) return out;
      if (this.#indent(line) > indent) return unsupported();
      const start = this.#start(line);
      const end = this.#end(line);
      if (!isItemAt(this.#text, start, end)) return out;
      const content = skipSpaces(this.#text, start + 1, end);
      // A bare `-` (its item on the next lines) or `- - x` is left to js-yaml.
      if (content === end || this.#text.charCodeAt(content) === HASH || isItemAt(this.#text, content, end)) return unsupported();
      const key = this.#entry(content, end);
      if (key !== undefined) {
        out.push(this.#mapping(indent + (content - start), key));
        continue;
      }
      out.push(this.#inline(content, end));
      this.#at++;
    }
  }

  /**
   * A block mapping at column `column` whose first entry (its key `first`, on the current line)
   * is already split: the next lines at that column are its other entries.
   */
  #mapping(column: number, first: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let key: string | undefined = first;
    for (;;) {
      if (Object.hasOwn(out, key)) return unsupported();
      out[key] = this.#value(column);
      const line = this.#at;
      if (line >= this.#count || this.#indent(line) < column) return out;
      if (this.#indent(line) > column) return unsupported();
      key = this.#entry(this.#start(line), this.#end(line));
      if (key === undefined) return unsupported();
    }
  }

  /** The value of the entry just split (`#valueAt`) of the mapping at `column`: on its line, or the block below it. */
  #value(column: number): unknown {
    const end = this.#end(this.#at);
    if (this.#valueAt < end) {
      const v = this.#inline(this.#valueAt, end);
      this.#at++;
      return v;
    }
    const next = ++this.#at;
    if (next >= this.#count || this.#indent(next) < column) return null;
    // A sequence may sit at the key's own column (`key:` then `- item`), as kubectl prints it.
    if (this.#indent(next) === column) return isItemAt(this.#text, this.#start(next), this.#end(next)) ? this.#sequence(column) : null;
    return this.#block(column + 1);
  }

  /**
   * Splits `key: value` (or `key:`) at `from`: its key, or undefined when the line is not a
   * mapping entry. `#valueAt` is then where the value starts (`end` when none is on the line).
   */
  #entry(from: number, end: number): string | undefined {
    const text = this.#text;
    const c = text.charCodeAt(from);
    let key: string;
    let after: number;
    if (c === DQUOTE || c === SQUOTE) {
      key = quoted(text, from, end);
      after = quotedEnd;
      if (after >= end || text.charCodeAt(after) !== COLON) return undefined;
      if (key === '__proto__') return unsupported();
    } else {
      after = keyEnd(text, from, end);
      if (after === -1) return undefined;
      key = knownKey(text, from, after) ?? plainKey(text, from, after);
    }
    const colon = after + 1;
    if (colon < end && text.charCodeAt(colon) !== SPACE) return unsupported();
    const value = skipSpaces(text, colon, end);
    // `key: # comment`: the value is below.
    this.#valueAt = value < end && text.charCodeAt(value) === HASH ? end : value;
    return key;
  }

  /** A one-line value at `from` up to `end`, then at most a comment. */
  #inline(from: number, end: number): unknown {
    const text = this.#text;
    const c = text.charCodeAt(from);
    if (c === DQUOTE || c === SQUOTE) {
      const value = quoted(text, from, end);
      restIsComment(text, quotedEnd, end);
      return value;
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

/**
 * Plain keys read before, by length and first character. A policy tree repeats a few dozen keys
 * thousands of times: comparing one in place costs less than cutting it out of the text, checking
 * it and making it a property name again. Bounded, for trees of ever new label keys.
 */
const knownKeys = new Map<number, string[]>();
let knownKeyCount = 0;
const MAX_KNOWN_KEYS = 512;

const keyBucket = (text: string, from: number, to: number): number => (to - from) * 128 + text.charCodeAt(from);

/** The key at `from` up to `to` if it was read before (and so passed `plainKey`'s checks). */
function knownKey(text: string, from: number, to: number): string | undefined {
  const bucket = knownKeys.get(keyBucket(text, from, to));
  if (bucket === undefined) return undefined;
  for (const key of bucket) if (text.startsWith(key, from)) return key;
  return undefined;
}

/** A plain key read for the first time: checked, and remembered when it passes. */
function plainKey(text: string, from: number, to: number): string {
  const key = text.slice(from, to);
  if (key.length > 1000 || !PLAIN_KEY.test(key) || key.endsWith(':') || key === '__proto__' || resolveCorePlain(key) !== key) return unsupported();
  if (knownKeyCount < MAX_KNOWN_KEYS) {
    // A property name is a copy of its own, where a slice may hold on to the whole file's text.
    const own = Object.keys({ [key]: null })[0] ?? key;
    const at = keyBucket(text, from, to);
    const bucket = knownKeys.get(at);
    if (bucket === undefined) knownKeys.set(at, [own]);
    else bucket.push(own);
    knownKeyCount++;
  }
  return key;
}

/** Where the scalar `quoted` read last ends (past its closing quote). */
let quotedEnd = 0;

/** A quoted scalar on one line, without escapes: its text (where it ends goes to `quotedEnd`). */
function quoted(text: string, from: number, end: number): string {
  const q = text.charCodeAt(from);
  if (q === DQUOTE) {
    const close = text.indexOf('"', from + 1);
    if (close === -1 || close >= end) return unsupported();
    const value = text.slice(from + 1, close);
    if (value.includes('\\') || NOT_ASCII.test(value)) return unsupported();
    quotedEnd = close + 1;
    return value;
  }
  let value = '';
  let i = from + 1;
  for (;;) {
    const close = text.indexOf("'", i);
    if (close === -1 || close >= end) return unsupported();
    value += text.slice(i, close);
    if (text.charCodeAt(close + 1) !== SQUOTE) {
      if (NOT_ASCII.test(value)) return unsupported();
      quotedEnd = close + 1;
      return value;
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
