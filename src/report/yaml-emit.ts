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

/** The `yaml` package's default `commentString`: `#` before every line that is not empty. */
const commentString = (str: string): string => str.replace(/^(?!$)(?: $)?/gm, '#');

/** The `yaml` package's `indentComment`. */
function indentComment(comment: string, indent: string): string {
  if (/^\n+$/.test(comment)) return comment.substring(1);
  return indent ? comment.replace(/^(?! *$)/gm, indent) : comment;
}

const INDENT_STEP = '  ';
const MAX_IMPLICIT_KEY = 1024;

export function emitYamlDocument(root: object, comments: NodeComments, documentComment: string | undefined): string | undefined {
  const seen = new Set<object>();
  try {
    const body = node(root, '', comments, seen);
    const lines = documentComment ? [indentComment(commentString(documentComment), ''), '', body] : [body];
    return `${lines.join('\n')}\n`;
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

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function node(value: unknown, indent: string, comments: NodeComments, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return scalarString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value) || Object.is(value, -0)) throw new Unsupported('a number other than an integer');
      return String(value);
    case 'object':
      if (value === null) throw new Unsupported('null');
      if (seen.has(value)) throw new Unsupported('an object written twice (an alias)');
      seen.add(value);
      if (Array.isArray(value)) return sequence(value, indent, comments, seen);
      if (isPlainObject(value)) return mapping(value, indent, comments, seen);
      throw new Unsupported('not a plain object');
    default:
      throw new Unsupported(typeof value);
  }
}

/** `stringifyBlockCollection`'s joining: the first line as is, the others indented, empty ones empty. */
function joinLines(lines: readonly string[], indent: string): string {
  let str = lines[0] ?? '';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    str += line ? `\n${indent}${line}` : '\n';
  }
  return str;
}

function sequence(items: readonly unknown[], indent: string, comments: NodeComments, seen: Set<object>): string {
  if (items.length === 0) return '[]';
  const mine = comments.get(items);
  const itemIndent = indent + INDENT_STEP;
  const lines: string[] = [];
  for (let i = 0; i < items.length; i++) {
    if (!(i in items)) throw new Unsupported('a hole in an array');
    const before = mine?.get(i);
    if (before) lines.push(indentComment(commentString(before), indent).trimStart());
    lines.push(`- ${node(items[i], itemIndent, comments, seen)}`);
  }
  return joinLines(lines, indent);
}

function mapping(obj: Record<string, unknown>, indent: string, comments: NodeComments, seen: Set<object>): string {
  const keys = Object.keys(obj);
  if (keys.length === 0) return '{}';
  const mine = comments.get(obj);
  const valueIndent = indent + INDENT_STEP;
  const lines: string[] = [];
  for (const key of keys) {
    const value = obj[key];
    if (value === undefined) throw new Unsupported('an undefined value');
    const keyStr = scalarString(key);
    if (keyStr.length > MAX_IMPLICIT_KEY) throw new Unsupported('a key the yaml package writes as an explicit ? key');
    const valueStr = node(value, valueIndent, comments, seen);
    const before = mine?.get(key);
    let ws = ' ';
    if (before) {
      // stringifyPair: a value's comment goes on its own lines under the key
      ws = `\n${indentComment(commentString(before), valueIndent)}\n${valueIndent}`;
    } else if (typeof value === 'object' && value !== null) {
      const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
      if (valueStr.includes('\n') || !empty) ws = `\n${valueIndent}`;
    }
    lines.push(`${keyStr}:${ws}${valueStr}`);
  }
  return joinLines(lines, indent);
}
