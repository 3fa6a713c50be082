/**
 * A string-building YAML writer for our own policy documents (plain objects, arrays, strings,
 * integers, booleans) that writes byte for byte what `renderPolicyYaml` wrote through the `yaml`
 * package's document model (`Document` + `quoteAmbiguousScalars` + `toString({ lineWidth: 0 })`):
 * the same layout rules (yaml/dist/stringify/*), ported for this subset only. Building the model
 * for 3,000 policies took ~4 s; this takes a fraction of that.
 *
 * Anything outside the subset (null, floats, shared objects that the `yaml` package would write
 * as anchors, keys over 1,024 characters, characters that `quoteAmbiguousScalars` refuses) makes
 * it answer `undefined`, and the caller writes that policy through the `yaml` package as before.
 */
import { isYamlSafeText, plainIsUnambiguous } from './yaml-safe.js';

/** Comments before nodes: for each container (object or array), by key or index. */
export type NodeComments = ReadonlyMap<object, ReadonlyMap<string | number, string>>;

class Unsupported extends Error {}

/** Line terminators of a JavaScript regex in multiline mode: where `^` matches besides the start. */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/** The `yaml` package's default `commentString`: `#` before every line that is not empty. */
function commentString(str: string): string {
  // One line (every evidence comment): the replace below without a regex run per comment.
  // (`(?: $)` takes the space of a line that is one space only.)
  if (!LINE_TERMINATOR.test(str)) return str === '' ? '' : str === ' ' ? '#' : `#${str}`;
  return str.replace(/^(?!$)(?: $)?/gm, '#');
}

/** The `yaml` package's `indentComment`. */
function indentComment(comment: string, indent: string): string {
  if (/^\n+$/.test(comment)) return comment.substring(1);
  if (!indent) return comment;
  if (!LINE_TERMINATOR.test(comment)) return /^ *$/.test(comment) ? comment : indent + comment;
  return comment.replace(/^(?! *$)/gm, indent);
}

const INDENT_STEP = '  ';
const MAX_IMPLICIT_KEY = 1024;

/**
 * The text written so far, as pieces joined once at the end. Each node used to return its own
 * text for its parent to join and indent: every character was copied once per level of nesting (a
 * rule sits six deep). Appending to one string instead still made a string object per piece.
 */
class Writer {
  readonly parts: string[] = [];
  constructor(
    readonly comments: NodeComments,
    readonly seen: Set<object>,
  ) {}

  /**
   * Starts item `i` of a block collection at `indent`, as `stringifyBlockCollection` joins them:
   * the first where the collection starts, each other on a new line, indented unless empty.
   */
  line(i: number, indent: string, first: string): void {
    if (i > 0) this.parts.push(first ? newLine(indent) : '\n');
    this.parts.push(first);
  }
}

/** `\n` and an indent, one string per depth. */
const newLines: string[] = [];
const newLine = (indent: string): string => (newLines[indent.length] ??= `\n${indent}`);

export function emitYamlDocument(root: object, comments: NodeComments, documentComment: string | undefined): string | undefined {
  const w = new Writer(comments, new Set<object>());
  try {
    if (documentComment) w.parts.push(indentComment(commentString(documentComment), ''), '\n\n');
    node(w, root, '');
    w.parts.push('\n');
    return w.parts.join('');
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

function scalarString(s: string): string {
  if (!isYamlSafeText(s)) throw new Unsupported('text quoteAmbiguousScalars refuses');
  // Plain when it reads back as itself in YAML 1.1 and 1.2; else JSON's escaping, which for these
  // characters (printable, no line breaks) is exactly the `yaml` package's double-quoted style.
  return plainIsUnambiguous(s) ? s : JSON.stringify(s);
}

/** `Object.keys(v).length === 0` without the list of keys. */
function isEmptyObject(v: object): boolean {
  for (const k in v) if (Object.hasOwn(v, k)) return false;
  return true;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Appends `value`, whose first line continues the current one and whose other lines start at `indent`. */
function node(w: Writer, value: unknown, indent: string): void {
  switch (typeof value) {
    case 'string':
      w.parts.push(scalarString(value));
      return;
    case 'boolean':
      w.parts.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isSafeInteger(value) || Object.is(value, -0)) throw new Unsupported('a number other than an integer');
      w.parts.push(String(value));
      return;
    case 'object':
      if (value === null) throw new Unsupported('null');
      if (w.seen.has(value)) throw new Unsupported('an object written twice (an alias)');
      w.seen.add(value);
      if (Array.isArray(value)) return sequence(w, value, indent);
      if (isPlainObject(value)) return mapping(w, value, indent);
      throw new Unsupported('not a plain object');
    default:
      throw new Unsupported(typeof value);
  }
}

function sequence(w: Writer, items: readonly unknown[], indent: string): void {
  if (items.length === 0) {
    w.parts.push('[]');
    return;
  }
  const mine = w.comments.get(items);
  const itemIndent = indent + INDENT_STEP;
  let i = 0;
  for (let k = 0; k < items.length; k++) {
    if (!(k in items)) throw new Unsupported('a hole in an array');
    const before = mine?.get(k);
    if (before) w.line(i++, indent, indentComment(commentString(before), indent).trimStart());
    w.line(i++, indent, '- ');
    node(w, items[k], itemIndent);
  }
}

function mapping(w: Writer, obj: Record<string, unknown>, indent: string): void {
  const keys = Object.keys(obj);
  if (keys.length === 0) {
    w.parts.push('{}');
    return;
  }
  const mine = w.comments.get(obj);
  const valueIndent = indent + INDENT_STEP;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const value = obj[key];
    if (value === undefined) throw new Unsupported('an undefined value');
    const keyStr = scalarString(key);
    if (keyStr.length > MAX_IMPLICIT_KEY) throw new Unsupported('a key the yaml package writes as an explicit ? key');
    const before = mine?.get(key);
    w.line(i, indent, keyStr);
    if (before) {
      // stringifyPair: a value's comment goes on its own lines under the key
      w.parts.push(':\n', indentComment(commentString(before), valueIndent), newLine(valueIndent));
    } else if (typeof value === 'object' && value !== null && !(Array.isArray(value) ? value.length === 0 : isEmptyObject(value))) {
      // A collection on the lines under its key, unless empty (`[]`, `{}`: one line, after the key).
      w.parts.push(':', newLine(valueIndent));
    } else {
      w.parts.push(': ');
    }
    node(w, value, valueIndent);
  }
}
