/**
 * Edits a user's kustomization.yaml in place: only our `resources` entries are added or removed.
 * Block lists are edited as text at the positions the `yaml` parser reports, so every other byte
 * (comments, blank lines, quoting, indentation, key order) stays as the user wrote it; other
 * shapes (a flow list, no `resources` yet) go through the `yaml` Document API, which keeps
 * comments and order too.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Scalar } from 'yaml';

export const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

export class KustomizationError extends Error {
  constructor(
    readonly line: number | undefined,
    readonly col: number | undefined,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'KustomizationError';
  }
}

export function newKustomization(files: readonly string[]): string {
  return [
    '# Created by hubble-advisor. Edit freely: later runs only add or remove the entries of the files they wrote.',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'resources:',
    ...files.map((f) => `  - ${f}`),
    '',
  ].join('\n');
}

const normalise = (entry: string): string => entry.replace(/^(\.\/)+/, '');

/** The entries of `resources` (normalised: no leading `./`). */
export function listResources(text: string): string[] {
  const { seq } = parse(text);
  if (!seq) return [];
  return seq.items.filter(isScalar).map((i) => normalise(String(i.value)));
}

export interface KustomizationEdit {
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

/** The new text, or the same string when nothing changes (a second identical run writes no byte). */
export function editKustomization(text: string, edit: KustomizationEdit): string {
  const { doc, seq, counter } = parse(text);
  const remove = new Set(edit.remove.map(normalise));
  const present = new Set(seq ? seq.items.filter(isScalar).map((i) => normalise(String(i.value))) : []);
  const add = [...new Set(edit.add.map(normalise))].filter((f) => !present.has(f)).sort();
  const removing = seq ? seq.items.filter((i): i is Scalar => isScalar(i) && remove.has(normalise(String(i.value)))) : [];
  if (add.length === 0 && removing.length === 0) return text;
  const remaining = (seq?.items.length ?? 0) - removing.length + add.length;
  if (seq && !seq.flow && seq.items.length > 0 && remaining > 0 && seq.items.every(isScalar)) {
    return spliceBlockList(text, seq.items as Scalar[], removing, add, counter);
  }
  // Flow list, empty or missing `resources`: the Document API.
  if (!isMap(doc.contents)) throw new KustomizationError(1, 1, 'expected a Kustomization object');
  if (seq) {
    for (const r of removing) seq.items.splice(seq.items.indexOf(r), 1);
    for (const f of add) seq.add(doc.createNode(f));
  } else {
    doc.set('resources', doc.createNode(add));
  }
  return doc.toString({ lineWidth: 0 });
}

function parse(text: string): { doc: ReturnType<typeof parseDocument>; seq: ReturnType<typeof findSeq>; counter: LineCounter } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    throw new KustomizationError(pos?.line, pos?.col, `invalid YAML: ${err.message.split('\n')[0] ?? ''}`);
  }
  if (doc.contents !== null && !isMap(doc.contents)) throw new KustomizationError(1, 1, 'expected a Kustomization object');
  return { doc, seq: findSeq(doc, counter), counter };
}

function findSeq(doc: ReturnType<typeof parseDocument>, counter: LineCounter) {
  const node = doc.get('resources', true);
  if (node === undefined || node === null || (isScalar(node) && node.value === null)) return undefined;
  if (!isSeq(node)) {
    const at = isScalar(node) && node.range ? counter.linePos(node.range[0]) : undefined;
    throw new KustomizationError(at?.line, at?.col, 'resources: expected a list');
  }
  return node;
}

function spliceBlockList(text: string, items: readonly Scalar[], removing: readonly Scalar[], add: readonly string[], counter: LineCounter): string {
  const lineStart = (offset: number): number => text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = (offset: number): number => {
    const nl = text.indexOf('\n', offset);
    return nl === -1 ? text.length : nl + 1;
  };
  const last = items[items.length - 1] as Scalar;
  const lastRange = last.range ?? [0, 0, 0];
  const dash = text.lastIndexOf('-', lastRange[0]);
  const indent = text.slice(lineStart(lastRange[0]), dash);
  if (!/^[ \t]*$/.test(indent)) {
    const at = counter.linePos(lastRange[0]);
    throw new KustomizationError(at.line, at.col, 'resources: cannot edit a list item that shares its line with other content');
  }
  const cuts: [number, number, string][] = removing.map((r) => {
    const [start, valueEnd] = r.range ?? [0, 0];
    return [lineStart(start), lineEnd(valueEnd), ''];
  });
  const insertAt = lineEnd(lastRange[1]);
  const needsNewline = insertAt === text.length && !text.endsWith('\n');
  cuts.push([insertAt, insertAt, (needsNewline ? '\n' : '') + add.map((f) => `${indent}- ${f}\n`).join('')]);
  cuts.sort((a, b) => b[0] - a[0] || b[1] - a[1]);
  let out = text;
  for (const [from, to, insert] of cuts) out = out.slice(0, from) + insert + out.slice(to);
  return out;
}
