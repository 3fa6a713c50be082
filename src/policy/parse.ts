/**
 * Pure text → policies. Reads multi-document YAML (or JSON) and `kind: List` / `*List` documents
 * as `kubectl get cnp,ccnp,netpol -A -o yaml` prints them. A bad document (or List item) is
 * reported as a value and skipped; the rest still load. Unknown kinds are skipped with a note.
 */
import { type Alias, Composer, type Document, isMap, isNode, isScalar, isSeq, LineCounter, Parser, type Pair, visit } from 'yaml';
import type { Policy } from './model/index.js';
import { decodeCiliumRule } from './parse/decode-cnp.js';
import { decodeKnpSpec } from './parse/decode-knp.js';
import { readPlainYaml } from './parse/fast-yaml.js';
import { isRecord, join, rejectUnknownKeys, readList, readObject, readRequiredObject, readString, readStringMap, Reader, type Rec, withoutFieldPaths } from './parse/reader.js';

export interface ParseOptions {
  /** Shown in errors and kept in each policy's origin. */
  readonly file: string;
  /** Namespace for namespaced kinds without `metadata.namespace` (like `kubectl -n`). Default `default`. */
  readonly defaultNamespace?: string;
}

/**
 * A rejected document, located like the API server's strict validation: `FILE:LINE:COL: field: reason`.
 * `doc` is the 1-based YAML document index; `line`/`col` (1-based) point at the field's key, or at the
 * nearest enclosing node that exists when the field is missing.
 */
export interface PolicyParseError {
  readonly file: string;
  readonly doc: number;
  readonly line?: number;
  readonly col?: number;
  /** Path like `spec.ingress[0].toPorts[0].ports[0].port` (prefixed `items[i].` inside a List); '' for YAML syntax errors. */
  readonly field: string;
  readonly reason: string;
}

/** Something loaded but worth telling: an unknown kind skipped, a template skipped, a field ignored. */
export type PolicyParseNote = PolicyParseError;

export interface ParseResult {
  readonly policies: Policy[];
  readonly errors: PolicyParseError[];
  readonly notes: PolicyParseNote[];
}

/** Input the parser refuses as a whole (too many empty documents, alias bombs): one line, exit 1. */
export class PolicyInputLimitError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${reason}`);
    this.name = 'PolicyInputLimitError';
  }
}

/** Endless `---` lines are a broken file, not thousands of policies. */
export const MAX_EMPTY_DOCUMENTS = 10_000;
/**
 * The `yaml` package holds a document's whole syntax tree (tens of bytes per source byte), so one
 * YAML document may be this big; JSON (`kubectl get -o json`) of any size is read by JSON.parse.
 */
export const MAX_YAML_DOCUMENT_BYTES = 16 * 1024 * 1024;
/** JSON this big skips the position-keeping YAML parser: errors then name the field, not the line. */
const JSON_FAST_PATH_BYTES = 1024 * 1024;
/** Aliases a document may expand (the `yaml` package's default is 100); more is an alias bomb. */
const MAX_ALIAS_COUNT = 100;

export function formatParseProblem(e: PolicyParseError): string {
  const at = e.line === undefined ? '' : `:${e.line}:${e.col ?? 1}`;
  return `${e.file}${at}: ${e.field === '' ? '' : `${e.field}: `}${e.reason}`;
}

const TEMPLATE_MARKER = /\{\{[^\n]*?\}\}|\{%[^\n]*?%\}/;

export function parsePolicies(text: string, options: ParseOptions): ParseResult {
  return parse(text, options, true);
}

/** `parsePolicies` as the `yaml` package alone reads it, without the js-yaml fast path (for tests that compare the two). */
export function parsePoliciesByYamlPackage(text: string, options: ParseOptions): ParseResult {
  return parse(text, options, false);
}

function parse(text: string, options: ParseOptions, fastPath: boolean): ParseResult {
  const out: ParseResult = { policies: [], errors: [], notes: [] };
  // The marker's opening pair looked up first: a search for a string is many times faster than the pattern's.
  const template = text.includes('{{') || text.includes('{%') ? TEMPLATE_MARKER.exec(text) : null;
  if (template) {
    const pos = linePos(text, template.index);
    out.notes.push({ file: options.file, doc: 0, ...pos, field: '', reason: `skipped: a template (${template[0].slice(0, 40)}), not a manifest; render it first (helm template, kustomize build)` });
    return out;
  }
  if (text.length > JSON_FAST_PATH_BYTES && /^\s*[[{]/.test(text)) {
    const value = tryJson(text);
    if (value !== undefined) {
      readDocument(value, 1, options, out, () => ({}));
      return out;
    }
  }
  const oversized = largestDocument(text);
  if (oversized.bytes > MAX_YAML_DOCUMENT_BYTES) {
    throw new PolicyInputLimitError(
      options.file,
      oversized.line,
      `a YAML document of ${(oversized.bytes / 1024 / 1024).toFixed(1)} MiB is over the ${MAX_YAML_DOCUMENT_BYTES / 1024 / 1024} MiB limit per document; split it into one document per policy (or give it as JSON: kubectl get -o json)`,
    );
  }
  return (fastPath ? readCleanPlainYaml(text, options) : undefined) ?? parseWithPositions(text, options);
}

/**
 * The fast path: files that js-yaml reads exactly as the `yaml` package would and that decode
 * without a problem or note. Anything else is read again by `parseWithPositions`, whose errors
 * and notes name the line of the field.
 */
function readCleanPlainYaml(text: string, options: ParseOptions): ParseResult | undefined {
  const out: ParseResult = { policies: [], errors: [], notes: [] };
  let doc = 0;
  let empty = 0;
  let clean = true;
  const needsPositions = (): { line?: number; col?: number } => {
    clean = false;
    return {};
  };
  // Any problem or note makes the reading unclean, so none of its field paths is ever shown.
  const read = withoutFieldPaths(() =>
    readPlainYaml(text, (value) => {
      doc++;
      if (!clean) return;
      if (value === null || value === undefined) {
        if (++empty > MAX_EMPTY_DOCUMENTS) clean = false;
        return;
      }
      readDocument(value, doc, options, out, needsPositions);
    }),
  );
  return read && clean ? out : undefined;
}

/** The `yaml` package's reading, with positions for every error and note. */
function parseWithPositions(text: string, options: ParseOptions): ParseResult {
  const out: ParseResult = { policies: [], errors: [], notes: [] };
  const counter = new LineCounter();
  const parser = new Parser(counter.addNewLine);
  const composer = new Composer({ uniqueKeys: true });
  let doc = 0;
  let empty = 0;
  // Documents are composed and decoded one at a time, so memory holds one document's tree at most.
  for (const d of composer.compose(parser.parse(text), true)) {
    doc++;
    const yamlError = d.errors[0];
    if (yamlError) {
      out.errors.push({ file: options.file, doc, ...at(counter, yamlError.pos[0]), field: '', reason: `invalid YAML: ${oneLine(yamlError.message)}` });
      continue;
    }
    if (d.contents === null || (isScalar(d.contents) && d.contents.value === null)) {
      if (++empty > MAX_EMPTY_DOCUMENTS) {
        throw new PolicyInputLimitError(options.file, at(counter, d.range[0]).line, `more than ${MAX_EMPTY_DOCUMENTS} empty YAML documents (endless ---?); refusing the file`);
      }
      continue;
    }
    let value: unknown;
    try {
      value = d.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const reason = e instanceof Error ? oneLine(e.message) : String(e);
      const unresolved = unresolvedAlias(d);
      if (unresolved) {
        // A typo (`*"` for `"*"`) is one document's error, not a refusal of the whole file.
        out.errors.push({ file: options.file, doc, ...at(counter, unresolved.range?.[0] ?? d.range[0]), field: '', reason: `invalid YAML: the alias *${oneLine(unresolved.source)} has no anchor (&${oneLine(unresolved.source)}) before it; quote the value if no alias was meant` });
        continue;
      }
      throw new PolicyInputLimitError(options.file, at(counter, d.range[0]).line, `document ${doc}: ${/excessive alias/i.test(reason) ? `more than ${MAX_ALIAS_COUNT} alias expansions (an alias bomb?); refusing the file` : `cannot be read: ${reason}`}`);
    }
    if (value === null || value === undefined) continue;
    readDocument(value, doc, options, out, (field) => at(counter, locate(d.contents, field)));
  }
  return out;
}

function unresolvedAlias(d: Document.Parsed): Alias | undefined {
  let found: Alias | undefined;
  visit(d, {
    Alias(_, node) {
      if (node.resolve(d) !== undefined) return undefined;
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Byte span and first line of the largest YAML document, found from `---`/`...` lines at column 0. */
function largestDocument(text: string): { bytes: number; line: number } {
  let best = { bytes: 0, line: 1 };
  let start = 0;
  let startLine = 1;
  let line = 1;
  let i = 0;
  for (;;) {
    const nl = text.indexOf('\n', i);
    const end = nl === -1 ? text.length : nl + 1;
    if (text.startsWith('---', i) || text.startsWith('...', i) || nl === -1) {
      if (i - start > best.bytes) best = { bytes: i - start, line: startLine };
      start = i;
      startLine = line;
    }
    if (nl === -1) {
      if (end - start > best.bytes) best = { bytes: end - start, line: startLine };
      return best;
    }
    i = end;
    line++;
  }
}

const oneLine = (message: string): string => (message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');

function at(counter: LineCounter, offset: number | undefined): { line?: number; col?: number } {
  if (offset === undefined) return {};
  const p = counter.linePos(offset);
  return { line: p.line, col: p.col };
}

function linePos(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

/**
 * Source offset of a field path in a document: the key of the deepest pair that exists. Map keys
 * may contain dots (`app.kubernetes.io/name`), so at each map the longest matching key wins.
 */
function locate(root: unknown, field: string): number | undefined {
  let node: unknown = root;
  let rest = field;
  let best = rangeStart(root);
  while (rest !== '') {
    if (isSeq(node)) {
      const m = /^\[(\d+)\]\.?/.exec(rest);
      const item = m ? node.items[Number(m[1])] : undefined;
      if (!m || item === undefined) break;
      node = item;
      rest = rest.slice(m[0].length);
      best = rangeStart(item) ?? best;
      continue;
    }
    if (!isMap(node)) break;
    let found: Pair | undefined;
    let keyLength = 0;
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (k === undefined || k.length <= keyLength) continue;
      if (rest === k || rest.startsWith(`${k}.`) || rest.startsWith(`${k}[`)) {
        found = pair;
        keyLength = k.length;
      }
    }
    if (!found) break;
    best = rangeStart(found.key) ?? best;
    node = found.value;
    rest = rest.slice(keyLength).replace(/^\./, '');
  }
  return best;
}

function rangeStart(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}

type Locate = (field: string) => { line?: number; col?: number };

function readDocument(value: unknown, doc: number, options: ParseOptions, out: ParseResult, locateField: Locate): void {
  const problem = (field: string, reason: string): void => {
    out.errors.push({ file: options.file, doc, ...locateField(field), field, reason });
  };
  if (!isRecord(value)) return problem('', 'expected a Kubernetes object');
  const kind = value['kind'];
  if (typeof kind === 'string' && (kind === 'List' || kind.endsWith('List')) && 'items' in value) {
    const items = value['items'];
    if (items === null || items === undefined) return;
    if (!Array.isArray(items)) return problem('items', 'expected a list');
    items.forEach((item: unknown, i) => readObjectDoc(item, doc, i, `items[${i}]`, options, out, locateField));
    return;
  }
  readObjectDoc(value, doc, undefined, '', options, out, locateField);
}

function readObjectDoc(
  value: unknown,
  doc: number,
  item: number | undefined,
  prefix: string,
  options: ParseOptions,
  out: ParseResult,
  locateField: Locate,
): void {
  const r = new Reader();
  const policy = decodePolicy(r, value, prefix, options, doc, item);
  const located = (p: { field: string; reason: string }): PolicyParseError => ({ file: options.file, doc, ...locateField(p.field), ...p });
  for (const n of r.notes) out.notes.push(located(n));
  for (const p of r.problems) out.errors.push(located(p));
  if (r.problems.length === 0 && policy) out.policies.push(policy);
}

const isKustomizeConfig = (kind: string | undefined, apiVersion: string | undefined): boolean =>
  kind === 'Kustomization' && apiVersion !== undefined && apiVersion.startsWith('kustomize.config.k8s.io/');

function decodePolicy(r: Reader, v: unknown, prefix: string, options: ParseOptions, doc: number, item?: number): Policy | undefined {
  const o = readRequiredObject(r, v, prefix, 'a Kubernetes object');
  if (o === undefined) return undefined;
  const kind = readString(r, o['kind'], join(prefix, 'kind'));
  const apiVersion = readString(r, o['apiVersion'], join(prefix, 'apiVersion'));
  const expected = kind === undefined ? undefined : API_VERSIONS[kind];
  if (expected === undefined) {
    // Kustomize's own file sits beside the policies in every GitOps folder (`recommend --out`
    // writes one): skipping it is no news.
    if (!isKustomizeConfig(kind, apiVersion)) r.note(join(prefix, 'kind'), `skipped: kind ${kind ?? '(missing)'} is not a network policy`);
    return undefined;
  }
  rejectUnknownKeys(r, o, prefix, ['apiVersion', 'kind', 'metadata', 'spec', 'specs', 'status']);
  if (!expected.includes(apiVersion ?? '')) {
    return r.fail(join(prefix, 'apiVersion'), `expected ${expected.join(' or ')} for ${kind ?? ''}, got ${apiVersion ?? '(missing)'}`);
  }
  const meta = readObject(r, o['metadata'], join(prefix, 'metadata')) ?? {};
  const name = readString(r, meta['name'], join(prefix, 'metadata.name'));
  if (!name) return r.fail(join(prefix, 'metadata.name'), 'required');
  const labels = readStringMap(r, meta['labels'], join(prefix, 'metadata.labels'));
  const namespace = readString(r, meta['namespace'], join(prefix, 'metadata.namespace')) ?? options.defaultNamespace ?? 'default';
  const base = { name, origin: { file: options.file, doc, ...(item !== undefined && { item }) }, ...(labels && { labels }) };
  switch (kind) {
    case 'NetworkPolicy': {
      const spec = decodeKnpSpec(r, o['spec'], join(prefix, 'spec'));
      return spec && { kind, namespace, spec, ...base };
    }
    case 'CiliumNetworkPolicy':
      return { kind, namespace, ...ciliumSpecs(r, o, prefix, false), ...base };
    case 'CiliumClusterwideNetworkPolicy':
      if (meta['namespace'] !== undefined) r.note(join(prefix, 'metadata.namespace'), 'ignored: the policy is cluster-wide');
      return { kind, ...ciliumSpecs(r, o, prefix, true), ...base };
    default:
      return undefined;
  }
}

const API_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  NetworkPolicy: ['networking.k8s.io/v1'],
  CiliumNetworkPolicy: ['cilium.io/v2'],
  CiliumClusterwideNetworkPolicy: ['cilium.io/v2'],
};

function ciliumSpecs(r: Reader, o: Rec, prefix: string, clusterwide: boolean): Pick<Extract<Policy, { kind: 'CiliumNetworkPolicy' }>, 'spec' | 'specs'> {
  const spec = o['spec'] === undefined || o['spec'] === null ? undefined : decodeCiliumRule(r, o['spec'], join(prefix, 'spec'), clusterwide);
  const specs = readList(r, o['specs'], join(prefix, 'specs'), (x, p) => decodeCiliumRule(r, x, p, clusterwide));
  if (spec === undefined && (specs?.length ?? 0) === 0) r.fail(join(prefix, 'spec'), 'a Cilium policy needs spec or specs');
  return { ...(spec && { spec }), ...(specs !== undefined && { specs }) };
}
