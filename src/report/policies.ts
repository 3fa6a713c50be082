import { Document, isNode } from 'yaml';
import type { GeneratedPolicy, Lint, Note, Recommendation } from '../recommend/index.js';
import { emitYamlDocument, type NodeComments } from './yaml-emit.js';
import { commentLines, commentText, quoteAmbiguousScalars, withoutMergeKeys } from './yaml-safe.js';

const parsedPaths = new Map<string, readonly (string | number)[]>();

/** `spec.egress[0]` -> ['spec', 'egress', 0]; a few dozen distinct paths recur in thousands of policies. */
function parsePath(path: string): readonly (string | number)[] {
  let keys = parsedPaths.get(path);
  if (keys === undefined) {
    if (parsedPaths.size > 10_000) parsedPaths.clear();
    parsedPaths.set(path, (keys = splitPath(path)));
  }
  return keys;
}

function splitPath(path: string): (string | number)[] {
  return path.split('.').flatMap((part) => {
    const m = /^([^[]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) return [part];
    const idx = [...(m[2] ?? '').matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
    return [m[1] as string, ...idx];
  });
}

function notesFor(p: GeneratedPolicy, notes: readonly Note[], lints: readonly Lint[]): string[] {
  const md = p.document.metadata;
  const mine = notes.filter((n) => n.policy === md.name && (n.namespace ?? '') === (md.namespace ?? ''));
  const myLints = lints.filter((l) => l.policy === md.name && (l.namespace ?? '') === (md.namespace ?? ''));
  return [...mine.map((n) => `${n.kind}: ${n.message}`), ...myLints.map((l) => `lint ${l.rule}: ${l.message}`)];
}

const policyKey = (name: string, namespace: string | undefined): string => JSON.stringify([name, namespace ?? '']);

/**
 * The notes and lints of each policy, grouped once (order kept): filtering every note for each of
 * thousands of policies was quadratic. Pass a policy's own lists to `renderPolicyYaml`.
 */
export function notesByPolicy(notes: readonly Note[], lints: readonly Lint[]): (p: GeneratedPolicy) => { notes: readonly Note[]; lints: readonly Lint[] } {
  const groups = new Map<string, { notes: Note[]; lints: Lint[] }>();
  const group = (k: string): { notes: Note[]; lints: Lint[] } => {
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = { notes: [], lints: [] }));
    return g;
  };
  for (const n of notes) group(policyKey(n.policy, n.namespace)).notes.push(n);
  for (const l of lints) group(policyKey(l.policy, l.namespace)).lints.push(l);
  const none = { notes: [], lints: [] };
  return (p) => groups.get(policyKey(p.document.metadata.name, p.document.metadata.namespace)) ?? none;
}

/** The policy's comments by the container and key of the node each is for, as `renderPolicyYamlByDocument` places them. */
function nodeComments(p: GeneratedPolicy): NodeComments {
  const out = new Map<object, Map<string | number, string>>();
  for (const [path, comment] of [...p.comments].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const keys = parsePath(path);
    let parent: unknown = p.document;
    for (const k of keys.slice(0, -1)) parent = child(parent, k);
    const last = keys[keys.length - 1] as string | number;
    if (child(parent, last) === undefined) continue;
    const container = parent as object;
    let mine = out.get(container);
    if (mine === undefined) out.set(container, (mine = new Map()));
    const line = commentText(comment);
    const before = mine.get(last);
    mine.set(last, before ? `${before}\n${line}` : line);
  }
  return out;
}

/** What `Document.getIn` finds one step down: an index of an array, an own key of an object. */
function child(v: unknown, k: string | number): unknown {
  if (typeof v !== 'object' || v === null) return undefined;
  if (Array.isArray(v)) return typeof k === 'number' ? (v[k] as unknown) : undefined;
  return typeof k === 'string' && Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined;
}

function headerComment(p: GeneratedPolicy, notes: readonly Note[], lints: readonly Lint[]): string | undefined {
  const header = notesFor(p, notes, lints);
  return header.length > 0 ? commentLines([' Notes:', ...header.map((h) => `  - ${h}`)]) : undefined;
}

/** One YAML document with the evidence comment above each rule and the policy's notes on top. */
export function renderPolicyYaml(p: GeneratedPolicy, notes: readonly Note[], lints: readonly Lint[]): string {
  return emitYamlDocument(p.document, nodeComments(p), headerComment(p, notes, lints)) ?? renderPolicyYamlByDocument(p, notes, lints);
}

/**
 * `renderPolicyYaml` through the `yaml` package's document model: the reference the string
 * writer matches byte for byte, and its fallback for what it does not write (exported for tests).
 */
export function renderPolicyYamlByDocument(p: GeneratedPolicy, notes: readonly Note[], lints: readonly Lint[]): string {
  // YAML 1.1 output quotes strings such as `y`, `on` and `no` that kubectl would read as booleans.
  const doc = new Document(p.document, { sortMapEntries: false, version: '1.1', customTags: withoutMergeKeys });
  for (const [path, comment] of [...p.comments].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const keys = parsePath(path);
    const node = doc.getIn(keys, true);
    if (isNode(node)) {
      const line = commentText(comment);
      node.commentBefore = node.commentBefore ? `${node.commentBefore}\n${line}` : line;
    }
  }
  const header = headerComment(p, notes, lints);
  if (header !== undefined) doc.commentBefore = header;
  quoteAmbiguousScalars(doc);
  return doc.toString({ lineWidth: 0 });
}

function ciliumHeader(r: Recommendation): string[] {
  if (!r.cilium) return [];
  const v = (x: { major: number; minor: number }): string => `${x.major}.${x.minor}`;
  const req = r.cilium.requires;
  return [`# Written for Cilium ${v(r.cilium.target)} (--cilium-version)${req ? `; needs Cilium ${v(req.version)} or newer for ${req.because}` : ''}.`];
}

export function renderRecommendationYaml(r: Recommendation): string {
  return [...recommendationYamlParts(r)].join('');
}

/**
 * `renderRecommendationYaml` a policy at a time, for writing as it is made: at thousands of
 * policies the whole text is tens of MB, and twice that as the documents it is joined from.
 */
export function* recommendationYamlParts(r: Recommendation): Generator<string> {
  const own = notesByPolicy(r.notes, r.lints);
  const written = new Set(r.policies.map((p) => policyKey(p.document.metadata.name, p.document.metadata.namespace)));
  const general = r.notes.filter((n) => !written.has(policyKey(n.policy, n.namespace)));
  const head = [
    '# Generated by hubble-advisor from observed Hubble flows. Review before you commit.',
    ...ciliumHeader(r),
    ...r.warnings.map((w) => `# WARNING: ${commentText(w)}`),
    ...general.map((n) => `# ${commentText(`${n.kind}: ${n.message}`)}`),
  ].join('\n');
  yield `${head}\n`;
  for (const p of r.policies) yield `---\n${renderPolicyYaml(p, own(p).notes, own(p).lints)}`;
}

/**
 * `-o json`: a `kind: List` that `kubectl apply -f -` takes as it is, holding only the policy
 * documents (nothing the API server would prune or strict validation reject). The evidence, notes,
 * warnings and lints are in `recommendationEvidenceJson` (`--evidence FILE`), never in the List.
 */
export function recommendationJson(r: Recommendation): object {
  return { apiVersion: 'v1', kind: 'List', metadata: {}, items: r.policies.map((p) => p.document) };
}

/** What the YAML comments say, for programs: per policy its evidence by rule path and its notes. */
export function recommendationEvidenceJson(r: Recommendation): object {
  return {
    ...(r.cilium ? { cilium: r.cilium } : {}),
    policies: r.policies.map((p) => {
      const md = p.document.metadata;
      return {
        apiVersion: p.document.apiVersion,
        kind: p.document.kind,
        ...(md.namespace !== undefined ? { namespace: md.namespace } : {}),
        name: md.name,
        evidence: Object.fromEntries([...p.comments].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.trim()])),
      };
    }),
    notes: r.notes,
    warnings: r.warnings,
    lints: r.lints,
  };
}
