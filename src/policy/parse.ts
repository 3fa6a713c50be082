/**
 * Pure text → policies. Reads multi-document YAML (or JSON) and `kind: List` / `*List` documents
 * as `kubectl get cnp,ccnp,netpol -A -o yaml` prints them. A bad document (or List item) is
 * reported as a value and skipped; the rest still load. Unknown kinds are skipped with a note.
 */
import { parseAllDocuments } from 'yaml';
import type { Policy } from './model/index.js';
import { decodeCiliumRule } from './parse/decode-cnp.js';
import { decodeKnpSpec } from './parse/decode-knp.js';
import { isRecord, join, readList, readObject, readRequiredObject, readString, readStringMap, Reader, type Rec } from './parse/reader.js';

export interface ParseOptions {
  /** Shown in errors and kept in each policy's origin. */
  readonly file: string;
  /** Namespace for namespaced kinds without `metadata.namespace` (like `kubectl -n`). Default `default`. */
  readonly defaultNamespace?: string;
}

/** A rejected document: `file:doc: field: reason`. `doc` is the 1-based YAML document index. */
export interface PolicyParseError {
  readonly file: string;
  readonly doc: number;
  /** Path like `spec.ingress[0].toPorts[0].ports[0].port` (prefixed `items[i].` inside a List); '' for YAML syntax errors. */
  readonly field: string;
  readonly reason: string;
}

/** Something loaded but worth telling: an unknown kind skipped, a field ignored. */
export type PolicyParseNote = PolicyParseError;

export interface ParseResult {
  readonly policies: Policy[];
  readonly errors: PolicyParseError[];
  readonly notes: PolicyParseNote[];
}

export function formatParseProblem(e: PolicyParseError): string {
  return `${e.file}:${e.doc}: ${e.field === '' ? '' : `${e.field}: `}${e.reason}`;
}

export function parsePolicies(text: string, options: ParseOptions): ParseResult {
  const out: ParseResult = { policies: [], errors: [], notes: [] };
  // An empty stream comes back as an (empty) array-like EmptyStream; both iterate the same.
  const docs = [...parseAllDocuments(text)];
  docs.forEach((d, i) => {
    const doc = i + 1;
    const yamlError = d.errors[0];
    if (yamlError) {
      out.errors.push({ file: options.file, doc, field: '', reason: `invalid YAML: ${yamlError.message.split('\n')[0] ?? ''}` });
      return;
    }
    const value: unknown = d.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    readDocument(value, doc, options, out);
  });
  return out;
}

function readDocument(value: unknown, doc: number, options: ParseOptions, out: ParseResult): void {
  const problem = (field: string, reason: string): void => {
    out.errors.push({ file: options.file, doc, field, reason });
  };
  if (!isRecord(value)) return problem('', 'expected a Kubernetes object');
  const kind = value['kind'];
  if (typeof kind === 'string' && (kind === 'List' || kind.endsWith('List')) && 'items' in value) {
    const items = value['items'];
    if (items === null || items === undefined) return;
    if (!Array.isArray(items)) return problem('items', 'expected a list');
    items.forEach((item: unknown, i) => readObjectDoc(item, doc, i, `items[${i}]`, options, out));
    return;
  }
  readObjectDoc(value, doc, undefined, '', options, out);
}

function readObjectDoc(
  value: unknown,
  doc: number,
  item: number | undefined,
  prefix: string,
  options: ParseOptions,
  out: ParseResult,
): void {
  const r = new Reader();
  const policy = decodePolicy(r, value, prefix, options, doc, item);
  const at = (p: { field: string; reason: string }): PolicyParseError => ({ file: options.file, doc, ...p });
  out.notes.push(...r.notes.map(at));
  if (r.problems.length > 0) out.errors.push(...r.problems.map(at));
  else if (policy) out.policies.push(policy);
}

function decodePolicy(r: Reader, v: unknown, prefix: string, options: ParseOptions, doc: number, item?: number): Policy | undefined {
  const o = readRequiredObject(r, v, prefix, 'a Kubernetes object');
  if (o === undefined) return undefined;
  const kind = readString(r, o['kind'], join(prefix, 'kind'));
  const apiVersion = readString(r, o['apiVersion'], join(prefix, 'apiVersion'));
  const expected = kind === undefined ? undefined : API_VERSIONS[kind];
  if (expected === undefined) {
    r.note(join(prefix, 'kind'), `skipped: kind ${kind ?? '(missing)'} is not a network policy`);
    return undefined;
  }
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
