/**
 * A fast reader for the plain YAML that policy files hold (block and flow maps and lists of
 * scalars, comments, `---`), giving the very values the `yaml` package's `toJS` gives under its
 * YAML 1.2 core schema. The `yaml` package keeps a full syntax tree with positions; reading the
 * 2,811 recommended policies of a 3,000-workload cluster took it ~5 s, js-yaml ~0.5 s.
 *
 * It answers `undefined` ("ask the `yaml` package") for anything where the two readers could
 * disagree: anchors and aliases, tags, directives, keys that are collections or null, explicit
 * `?` keys, duplicate keys, and every input js-yaml refuses. So errors, notes and their line
 * numbers still come from the `yaml` package; this only reads files that load cleanly.
 */
import { FAILSAFE_SCHEMA, loadAll, Type, type State } from 'js-yaml';
import { readBlockChunk, refusedByBlockReader } from './block-yaml.js';

/** The `yaml` package's core-schema tests for plain scalars, in its order (yaml/dist/schema/core). */
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** First characters of every scalar a core tag below can match (the rest are strings). */
const MAY_RESOLVE = new Set([...'~nNtTfF0123456789+-.'].map((c) => c.charCodeAt(0)));

const LETTER = new Set([...'nNtTfF'].map((c) => c.charCodeAt(0)));

/** The value the `yaml` package gives a plain scalar; the string itself when no core tag matches. */
export function resolveCorePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  if (s.length > 0 && !MAY_RESOLVE.has(c)) return s;
  // A word (`toPorts`, `namespace`, `TCP`) can only be null or a boolean: the number tests below all start otherwise.
  if (LETTER.has(c)) {
    if (s.length > 5) return s;
    if (NULL.test(s)) return null;
    if (BOOL.test(s)) return c === 0x74 /* t */ || c === 0x54 /* T */;
    return s;
  }
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return s[0] === 't' || s[0] === 'T';
  if (INT_OCT.test(s)) return parseInt(s.substring(2), 8);
  if (INT.test(s)) return parseInt(s, 10);
  if (INT_HEX.test(s)) return parseInt(s.substring(2), 16);
  if (FLOAT_NAN.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (FLOAT_EXP.test(s) || FLOAT.test(s)) return parseFloat(s);
  return s;
}

/**
 * One implicit type for every plain scalar. Its tag is private, so an explicit `!!int` or
 * `!!null` is an unknown tag to js-yaml (and the file goes to the `yaml` package).
 */
const corePlain = new Type('tag:hubble-advisor.local,2026:core-plain', {
  kind: 'scalar',
  resolve: (data: unknown) => typeof data === 'string',
  construct: (data: string) => resolveCorePlain(data),
});
const SCHEMA = FAILSAFE_SCHEMA.extend({ implicit: [corePlain] });

/** Fields of js-yaml's loader state the listener reads (not in its published types). */
interface LoaderState extends State {
  anchor: string | null;
}

class Unsupported extends Error {}

/** Where the node that starts at or after `from` begins: past blanks, line breaks and comments. */
function firstContent(input: string, from: number): number {
  let i = from;
  for (;;) {
    const c = input.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else if (c === 0x23 /* # */) {
      const nl = input.indexOf('\n', i);
      if (nl === -1) return input.length;
      i = nl + 1;
    } else return i;
  }
}

/**
 * Watches each node as js-yaml reads it and throws `Unsupported` where the `yaml` package could
 * read the file otherwise: any anchor; a mapping key (a node followed by `:` on its line) that is
 * a collection or null, which the `yaml` package stringifies differently (`[ a ]`, `''`) from
 * js-yaml (`a`, `null`); and a scalar or flow collection spread over lines, where js-yaml is
 * lenient about indentation that the `yaml` package rejects.
 */
function watcher(): (event: 'open' | 'close', state: State) => void {
  const starts: number[] = [];
  return (event, state) => {
    const s = state as LoaderState;
    if (event === 'open') {
      starts.push(s.position);
      return;
    }
    const start = starts.pop() ?? 0;
    if (s.anchor !== null && s.anchor !== undefined) throw new Unsupported('anchor');
    const input = s.input;
    if (s.kind !== null) {
      const first = firstContent(input, start);
      const flow = input.charCodeAt(first) === 0x7b /* { */ || input.charCodeAt(first) === 0x5b; /* [ */
      if (s.kind === 'scalar' || flow) {
        const nl = input.indexOf('\n', first);
        if (nl !== -1 && nl < s.position) throw new Unsupported('a scalar or flow collection over several lines');
      }
    }
    if (s.kind === 'scalar' && s.result !== null) return;
    let i = s.position;
    while (input.charCodeAt(i) === 0x20 || input.charCodeAt(i) === 0x09) i++;
    if (input.charCodeAt(i) === 0x3a /* : */) throw new Unsupported('collection or null key');
  };
}

/**
 * A `%` directive (`%YAML 1.1` changes the schema); an explicit `? key` or an empty key
 * (`: value`) at the start of a line, a list item or a flow item; a `#` right after a quote or
 * a closing bracket (a comment the `yaml` package refuses); `---` or `...` at column 0 glued to
 * more text (`---!`: js-yaml took it for a marker and a tag, the `yaml` package refuses it). Seen
 * anywhere, comments and quoted text included, it sends the file to the `yaml` package: a false
 * alarm only costs time.
 */
const UNSUPPORTED_SYNTAX = /^%|(?:^[ \t]*(?:-[ \t]+)*|[[{,][ \t]*)[?:](?:[ \t]|\r?$)|["'\]}]#|^(?:---|\.\.\.)[^ \t\r\n]/m;

/** A document marker at column 0 (never content in YAML 1.2): where one document ends. */
const DOCUMENT_START = /^---(?=[ \t\r\n]|$)/gm;

/**
 * Reads `text` as the `yaml` package's `toJS` would, handing each document's value (an empty
 * document as `null`) to `onDocument` in order. Answers false, possibly after some documents,
 * when only the `yaml` package can say: the caller then drops what it got and asks that package.
 * Each chunk between `---` markers is read alone, so memory holds one document's values.
 */
export function readPlainYaml(text: string, onDocument: (value: unknown) => void): boolean {
  // Chunks the block reader (block-yaml.ts) reads need no syntax check: it reads only what it knows.
  const blockReader = !refusedByBlockReader(text);
  if (!blockReader && UNSUPPORTED_SYNTAX.test(text)) return false;
  let start = 0;
  DOCUMENT_START.lastIndex = 0;
  for (let m = DOCUMENT_START.exec(text); ; m = DOCUMENT_START.exec(text)) {
    const end = m === null ? text.length : m.index;
    if (end > start || m === null) {
      let values = blockReader ? readBlockChunk(text, start, end) : undefined;
      if (values === undefined) {
        const chunk = text.slice(start, end);
        if (blockReader && UNSUPPORTED_SYNTAX.test(chunk)) return false;
        try {
          values = loadAll(chunk, null, { schema: SCHEMA, listener: watcher() });
        } catch {
          return false;
        }
      }
      for (const v of values) onDocument(v);
    }
    if (m === null) return true;
    start = end;
  }
}
