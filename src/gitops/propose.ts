/**
 * `recommend --policies DIR`: propose only what the user's policies do not already allow.
 *
 * Every observed allowed edge of a target workload is judged with the user's policies. A workload
 * that no user policy puts into default deny gets a new policy, as plain `recommend` makes it. For a
 * direction a user policy already enforces, only the edges it drops count: their rules (made by the
 * recommend core, with its evidence and notes) are added to the user policy that selects that
 * workload (the one with a specific selector, never a namespace-wide default-deny), and each added
 * rule is kept only if the evaluator shows it is needed. Edits go through the `yaml` Document API,
 * which keeps the file's comments and key order.
 */
import { isSeq, parseAllDocuments, type Document } from 'yaml';
import type { Edge, WorkloadInfo as GraphWorkload } from '../graph/index.js';
import { buildPolicySet, evaluate, parsePolicies, type Direction, type EvaluateOptions, type Peer, type Policy, type PolicyRef, type PolicySet, type SideDecision } from '../policy/index.js';
import { cnpName } from '../recommend/cilium.js';
import { recommend, type GeneratedPolicy, type Note, type Recommendation, type RecommendOptions } from '../recommend/index.js';
import { edgeRequests, evaluatorPeer, inferClusterName, sidePasses } from '../triage/index.js';

export interface UserPolicyFile {
  readonly file: string;
  readonly text: string;
}

export interface PolicyEdit {
  readonly file: string;
  readonly before: string;
  readonly after: string;
  /** One line per added rule: `CiliumNetworkPolicy ns/name spec.egress: toEntities kube-apiserver TCP/6443`. */
  readonly added: readonly string[];
}

export interface Proposal {
  /** New policies for workloads the user's policies do not enforce (with the recommend notes). */
  readonly recommendation: Recommendation;
  readonly edits: readonly PolicyEdit[];
  /** Observed allowed edges of the target workloads that the user's policies already allow. */
  readonly alreadyAllowed: number;
  /** Observed edges a deny rule of the user's drops: deliberate, and no allow can override it; not proposed. */
  readonly deniedByUser: number;
}

export interface ProposeInput {
  readonly edges: readonly Edge[];
  readonly workloads: readonly GraphWorkload[];
  readonly userPolicies: readonly Policy[];
  readonly files: readonly UserPolicyFile[];
  readonly options: RecommendOptions;
  readonly evaluate?: EvaluateOptions;
}

const PROBE: Peer = { labels: ['reserved:world'], ip: '192.0.2.1' };
const wasAllowed = (e: Edge): boolean => e.forwarded > 0 || e.audit > 0;
const isW = (p: Edge['from'], w: GraphWorkload): boolean => p.kind === 'workload' && p.namespace === w.namespace && p.workloadKind === w.kind && p.name === w.name;
const key = (w: { namespace: string; kind: string; name: string }): string => `${w.namespace}/${w.kind}/${w.name}`;

export function proposeAgainst(input: ProposeInput): Proposal {
  const { edges, workloads, options } = input;
  const byKey = new Map(workloads.map((w) => [key(w), w]));
  const set = buildPolicySet(input.userPolicies);
  // Judged for the same local cluster as `check` (cluster-local selectors, the `cluster` entity).
  const clusterName = input.evaluate?.clusterName ?? inferClusterName(workloads);
  const evalOptions: EvaluateOptions = { ...input.evaluate, ...(clusterName !== undefined && { clusterName }) };
  /** One side's verdict for an edge: the first of its identity pairs that does not pass, else the first. */
  const sideOf = (s: PolicySet, e: Edge, dir: Direction): SideDecision => {
    const sides = edgeRequests(e, byKey).map((r) => evaluate(s, r, evalOptions)[dir]);
    return sides.find((x) => !sidePasses(x)) ?? (sides[0] as SideDecision);
  };
    const selectedNs = (ns: string): boolean => options.namespaces === 'all' || options.namespaces.includes(ns);
  const targets = workloads.filter((w) => selectedNs(w.namespace) && edges.some((e) => wasAllowed(e) && (isW(e.from, w) || isW(e.to, w))));
  const fresh = new Set<string>();
  /** Per workload, the edges a user-enforced direction drops, and the user policy to edit (if any). */
  const missing: { w: GraphWorkload; dir: Direction; edges: Edge[]; target?: PolicyRef }[] = [];
  let alreadyAllowed = 0;
  let deniedByUser = 0;
  for (const w of targets) {
    const peer = evaluatorPeer({ kind: 'workload', namespace: w.namespace, workloadKind: w.kind, name: w.name }, byKey);
    const probe = { ingress: evaluate(set, { source: PROBE, destination: peer, protocol: 'TCP', port: 1 }, evalOptions).ingress, egress: evaluate(set, { source: peer, destination: PROBE, protocol: 'TCP', port: 1 }, evalOptions).egress };
    if (!probe.ingress.defaultDeny && !probe.egress.defaultDeny) {
      fresh.add(key(w));
      continue;
    }
    for (const dir of ['ingress', 'egress'] as const) {
      const own = edges.filter((e) => wasAllowed(e) && (dir === 'ingress' ? isW(e.to, w) : isW(e.from, w)));
      if (!probe[dir].defaultDeny) continue; // the user left this direction open: not ours to close
      const verdicts = own.map((e) => sideOf(set, e, dir));
      // A deny rule is the user's deliberate choice, and no allow rule can override it: not proposed.
      const dropped = own.filter((_, i) => !sidePasses(verdicts[i] as SideDecision) && verdicts[i]?.verdict !== 'explicit-deny');
      alreadyAllowed += verdicts.filter((v) => sidePasses(v)).length;
      deniedByUser += verdicts.filter((v) => v.verdict === 'explicit-deny').length;
      if (dropped.length === 0) continue;
      const target = editTarget(probe[dir].selectedBy, input.userPolicies, set, dir);
      missing.push({ w, dir, edges: dropped, ...(target && { target }) });
    }
  }

  // New policies: plain recommend, kept for the fresh workloads only.
  const base = recommend(edges, workloads, options);
  const freshNames = new Set(targets.filter((w) => fresh.has(key(w))).flatMap((w) => [`${w.namespace}/${cnpName(w, false)}`, `${w.namespace}/${cnpName(w, true)}`]));
  const keep = (p: GeneratedPolicy): boolean => freshNames.has(`${p.document.metadata.namespace ?? ''}/${p.document.metadata.name}`);
  const newPolicies: GeneratedPolicy[] = base.policies.filter(keep);
  const notes: Note[] = base.notes.filter((n) => freshNames.has(`${n.namespace ?? ''}/${n.policy}`));

  // Rules for what the user's policies drop, from the recommend core on those edges only.
  const texts = new Map(input.files.map((f) => [f.file, f.text]));
  const docsByFile = new Map<string, Document[]>();
  const added = new Map<string, string[]>();
  let policies = [...input.userPolicies];
  for (const m of missing) {
    const generated = recommend(m.edges, workloads, { ...options, namespaces: [m.w.namespace], baseline: false });
    const mine = generated.policies.find((p) => p.document.metadata.namespace === m.w.namespace && [cnpName(m.w, false), cnpName(m.w, true)].includes(p.document.metadata.name));
    const rules = (mine?.document.spec?.[m.dir] as Record<string, unknown>[] | undefined) ?? [];
    const myNotes = generated.notes.filter((n) => n.namespace === m.w.namespace && n.policy === mine?.document.metadata.name && n.kind === 'widening');
    const origin = m.target?.origin;
    const text = origin ? texts.get(origin.file) : undefined;
    if (!mine || rules.length === 0) continue;
    if (!m.target || !origin || origin.item !== undefined || text === undefined) {
      // Selected only by a namespace-wide policy (a default-deny): a policy of its own, with just these rules.
      const spec = { ...mine.document.spec, ...(m.dir === 'ingress' ? { egress: undefined } : { ingress: undefined }) };
      const doc = { ...mine.document, spec: Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) };
      const existing = newPolicies.findIndex((p) => p.document.metadata.name === doc.metadata.name && p.document.metadata.namespace === doc.metadata.namespace);
      if (existing >= 0) {
        const prev = newPolicies[existing] as GeneratedPolicy;
        newPolicies[existing] = { ...prev, document: { ...prev.document, spec: { ...prev.document.spec, [m.dir]: doc.spec[m.dir] } } };
      } else newPolicies.push({ document: doc, comments: mine.comments });
      notes.push(...myNotes);
      continue;
    }
    const docs: Document[] = docsByFile.get(origin.file) ?? [...parseAllDocuments(text)];
    docsByFile.set(origin.file, docs);
    const doc = docs[origin.doc - 1];
    if (!doc) continue;
    const kept = minimalRules(rules, (subset) => {
      const trial = doc.clone();
      withRules(trial, m.dir, subset, mine, m.dir, myNotes);
      const reparsed = parsePolicies(trial.toString(), { file: origin.file }).policies[0];
      if (!reparsed) return false;
      const trialSet = buildPolicySet(policies.map((p) => (samePolicy(p, m.target as PolicyRef) ? { ...reparsed, origin: p.origin } : p)) as Policy[]);
      return m.edges.every((e) => sidePasses(sideOf(trialSet, e, m.dir)));
    });
    const changes = withRules(doc, m.dir, kept, mine, m.dir, myNotes);
    const reparsed = parsePolicies(doc.toString(), { file: origin.file }).policies[0];
    if (reparsed) policies = policies.map((p) => (samePolicy(p, m.target as PolicyRef) ? { ...reparsed, origin: p.origin } : p)) as Policy[];
    const list = added.get(origin.file) ?? [];
    for (const c of changes) list.push(`${m.target.kind} ${m.target.namespace ? `${m.target.namespace}/` : ''}${m.target.name} ${c}`);
    added.set(origin.file, list);
  }
  const edits: PolicyEdit[] = [];
  for (const [file, docs] of [...docsByFile].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const before = texts.get(file) ?? '';
    const after = docs.map((d) => d.toString({ lineWidth: 0 })).join('');
    if (after !== before && (added.get(file)?.length ?? 0) > 0) edits.push({ file, before, after, added: added.get(file) ?? [] });
  }
  return { recommendation: { ...base, policies: newPolicies, notes }, edits, alreadyAllowed, deniedByUser };
}

/** The user policy to extend: a CNP with a specific selector (not `{}`), in its own document of a file. */
function editTarget(selectedBy: readonly PolicyRef[], policies: readonly Policy[], set: PolicySet, dir: Direction): PolicyRef | undefined {
  for (const ref of selectedBy) {
    if (ref.kind !== 'CiliumNetworkPolicy' || !ref.origin || ref.origin.item !== undefined) continue;
    const policy = policies.find((p) => samePolicy(p, ref));
    if (!policy || policy.kind !== 'CiliumNetworkPolicy' || !policy.spec || policy.specs) continue;
    const sel = policy.spec.endpointSelector;
    const empty = !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
    const enforces = set.rules.some((r) => r.policy.name === ref.name && r.policy.namespace === ref.namespace && r.policy.origin?.file === ref.origin?.file && r[dir].defaultDeny);
    if (!empty && enforces) return ref;
  }
  return undefined;
}

const samePolicy = (p: Policy, ref: PolicyRef): boolean =>
  p.kind === ref.kind && p.name === ref.name && (p as { namespace?: string }).namespace === ref.namespace && p.origin.file === ref.origin?.file && p.origin.doc === ref.origin?.doc;

/** Greedy: drop each candidate rule whose absence still lets every missing edge through. */
function minimalRules(rules: readonly unknown[], enough: (subset: readonly number[]) => boolean): number[] {
  let kept = rules.map((_, i) => i);
  if (!enough(kept)) return kept; // cannot prove it: keep all, the check after --write will tell
  for (const i of [...kept]) {
    const without = kept.filter((k) => k !== i);
    if (enough(without)) kept = without;
  }
  return kept;
}

/**
 * Adds the chosen rules to `spec.<dir>` of the document. A rule whose peers equal an existing
 * rule's (and neither carries L7 rules) becomes a port added to that rule instead of a new rule.
 * Returns one line per change.
 */
function withRules(doc: Document, dir: Direction, indices: readonly number[], mine: GeneratedPolicy, section: string, notes: readonly Note[]): string[] {
  const rules = (mine.document.spec?.[section] as Record<string, unknown>[] | undefined) ?? [];
  let seq = doc.getIn(['spec', dir], true);
  if (!isSeq(seq)) {
    doc.setIn(['spec', dir], doc.createNode([]));
    seq = doc.getIn(['spec', dir], true);
  }
  if (!isSeq(seq)) return [];
  const noteLines = notes.map((n) => ` Note (${n.kind}): ${n.message}`);
  const header = ' Added by hubble-advisor (recommend --policies): observed, and dropped by the policies as they were.';
  const changes: string[] = [];
  indices.forEach((i, n) => {
    const rule = rules[i] ?? {};
    const evidence = mine.comments.get(`spec.${section}[${i}]`);
    const comment = [header, ...(evidence ? [evidence] : []), ...(n === 0 ? noteLines : [])].join('\n');
    const existing = seq.items.findIndex((item) => samePeers(toJs(item), rule));
    const ports = singlePortList(rule);
    const target = existing >= 0 ? doc.getIn(['spec', dir, existing, 'toPorts', 0, 'ports'], true) : undefined;
    if (existing >= 0 && ports && isSeq(target) && singlePortList(toJs(seq.items[existing])) !== undefined) {
      ports.forEach((p, k) => {
        const node = doc.createNode(p);
        if (k === 0) node.commentBefore = comment;
        target.items.push(node);
      });
      changes.push(`spec.${dir}[${existing}]: port ${ports.map((p) => `${String(p['protocol'] ?? 'ANY')}/${String(p['port'])}`).join(',')} added to the rule`);
      return;
    }
    const node = doc.createNode(rule);
    node.commentBefore = comment;
    seq.items.push(node);
    changes.push(`spec.${dir}: ${summarize(rule)}`);
  });
  return changes;
}

const toJs = (node: unknown): Record<string, unknown> => {
  const v = node && typeof node === 'object' && 'toJSON' in node ? (node as { toJSON(): unknown }).toJSON() : node;
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
};

const peersOf = (rule: Record<string, unknown>): string =>
  JSON.stringify(Object.entries(rule).filter(([k]) => k !== 'toPorts').sort(([a], [b]) => (a < b ? -1 : 1)));

const samePeers = (a: Record<string, unknown>, b: Record<string, unknown>): boolean => Object.keys(a).some((k) => k !== 'toPorts') && peersOf(a) === peersOf(b);

/** The ports of a rule with exactly one port rule and no L7 rules; else undefined. */
function singlePortList(rule: Record<string, unknown>): Record<string, unknown>[] | undefined {
  const tp = rule['toPorts'];
  if (!Array.isArray(tp) || tp.length !== 1) return undefined;
  const only = tp[0] as Record<string, unknown>;
  if (Object.keys(only).some((k) => k !== 'ports') || !Array.isArray(only['ports'])) return undefined;
  return only['ports'] as Record<string, unknown>[];
}

function summarize(rule: Record<string, unknown>): string {
  const peers = Object.entries(rule).filter(([k]) => k !== 'toPorts').map(([k, v]) => `${k} ${JSON.stringify(v)}`);
  const ports = ((rule['toPorts'] as { ports?: { port: string; protocol?: string }[] }[] | undefined) ?? []).flatMap((t) => t.ports ?? []).map((p) => `${p.protocol ?? 'ANY'}/${p.port}`);
  return [...peers, ...(ports.length > 0 ? [ports.join(',')] : [])].join(' ') || '{}';
}
