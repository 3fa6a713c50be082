/** `drops` output: a table for people (with the YAML patches under it), JSON and YAML for tools. */
import type { PolicyRef } from '../policy/index.js';
import type { CombinedFix, DropGroup, PatchComposition, PolicyPatch, TriagedDrop } from '../triage/index.js';
import { PEER_COLUMN, peerJson, peerLabel } from './edges.js';
import { protocolPorts } from './ports.js';
import { formatCount, formatTime, renderTable, TABLE_WIDTH, type TableOptions, terminalSafe, wrapText } from './table.js';
import { commentText, stringifyPortable, stringifyPortableList } from './yaml-safe.js';

const SHORT_KIND: Readonly<Record<string, string>> = {
  CiliumNetworkPolicy: 'cnp',
  CiliumClusterwideNetworkPolicy: 'ccnp',
  NetworkPolicy: 'networkpolicy',
};

const policyName = (p: PolicyRef): string => `${p.kind} ${p.namespace === undefined ? '' : `${p.namespace}/`}${p.name}`;

const origin = (p: PolicyRef): string =>
  p.origin === undefined ? '' : `${p.origin.file}, document ${p.origin.doc}${p.origin.item === undefined ? '' : `, item ${p.origin.item}`}`;

/**
 * One patch as a YAML JSON-Patch document with a header naming the policy and its source file,
 * ready for `kubectl patch --type json --patch-file`.
 */
export function renderPatchYaml(patch: PolicyPatch): string {
  const p = patch.policy;
  const ns = p.namespace === undefined ? '' : ` -n ${p.namespace}`;
  // Names in these comments come from files and flows: a line break in one would end the comment.
  const header = [
    wrapText(commentText(`${policyName(p)}${p.origin ? ` (${origin(p)})` : ''}`), TABLE_WIDTH, '# '),
    wrapText(commentText(patch.description), TABLE_WIDTH, '# '),
    `# kubectl patch ${SHORT_KIND[p.kind] ?? p.kind}${ns} ${p.name} --type json --patch-file <this file>`,
    ...(patch.composition === undefined ? [] : [wrapText(compositionLine(patch.composition), TABLE_WIDTH, '# ')]),
  ];
  return `${header.join('\n')}\n${stringifyPortable(patch.ops.map((o) => ({ ...o })))}`;
}

function compositionLine(c: PatchComposition): string {
  return c.how === 'independent'
    ? 'order: applies before or after the other patches shown for this policy (it appends to lists that exist or writes where no other patch does)'
    : `order: merged with the patches of ${c.mergedDrops} other drop${c.mergedDrops === 1 ? '' : 's'} (${c.paths.join(', ')}): each writes the same value there, so they apply in any order`;
}

function patchJson(patch: PolicyPatch): Record<string, unknown> {
  const p = patch.policy;
  return {
    action: patch.action,
    direction: patch.direction,
    policy: {
      kind: p.kind,
      ...(p.namespace !== undefined && { namespace: p.namespace }),
      name: p.name,
      ...(p.origin && { file: p.origin.file, doc: p.origin.doc, ...(p.origin.item !== undefined && { item: p.origin.item }) }),
    },
    description: patch.description,
    ...(patch.composition && { composition: patch.composition }),
    ops: patch.ops,
    yaml: renderPatchYaml(patch),
  };
}

/** `drops -o json`: one object per group, newest first. */
export function dropsJson(drops: readonly TriagedDrop[]): Record<string, unknown>[] {
  return drops.map(({ group: g, explanation: x }) => ({
    ...dropGroupJson(g),
    policyDrop: x.policyDrop,
    verdict: x.verdict,
    summary: x.summary,
    policies: x.policies,
    policiesFrom: x.policiesFrom,
    sides: x.sides,
    patches: x.patches.map(patchJson),
    ...(x.allowedAfterPatches !== undefined && { allowedAfterPatches: x.allowedAfterPatches }),
    notes: x.notes,
  }));
}

export function renderDropsYaml(drops: readonly TriagedDrop[]): string {
  return stringifyPortable(dropsJson(drops).map(({ patches, ...rest }) => ({ ...rest, patches: (patches as Record<string, unknown>[]).map(({ yaml: _y, ...p }) => p) })));
}

const port = (d: TriagedDrop): string => protocolPorts(d.group);

const fixLabel = (d: TriagedDrop): string => {
  const x = d.explanation;
  switch (x.verdict) {
    case 'not-policy':
      return 'none (not a policy drop)';
    case 'now-allowed':
      return 'none (allowed now)';
    case 'not-evaluable':
      return '-';
    case 'default-deny':
    case 'explicit-deny':
    case 'l7-denied':
      if (d.group.ports !== undefined && x.patches.length === 0) return `none (${formatCount(d.group.ports.count)} ports)`;
      return x.patches.length === 0 ? 'no single rule found' : x.patches.map((p) => `${p.action} ${p.policy.namespace ? `${p.policy.namespace}/` : ''}${p.policy.name}`).join(', ');
    default: {
      const never: never = x.verdict;
      return never;
    }
  }
};

/** The table, then per group its explanation and patches (YAML). */
export function renderDropsTable(drops: readonly TriagedDrop[], flows: number, options: TableOptions = {}): string {
  if (drops.length === 0) return `No dropped flows${flows > 0 ? ` (${formatCount(flows)} read)` : ''}.\n`;
  const rows = drops.map((d, i) => [
    `${i + 1}`,
    formatTime(d.group.lastSeenMs),
    peerLabel(d.group.from),
    peerLabel(d.group.to),
    port(d),
    d.group.reason,
    `${formatCount(d.group.attempts)}/${formatCount(d.group.flows)}`,
    d.explanation.policies.join(', ') || '-',
    fixLabel(d),
  ]);
  const shortKinds = (s: string): string => (options.wide ? s : s.replace(/\b(CiliumNetworkPolicy|CiliumClusterwideNetworkPolicy|NetworkPolicy) /g, (k) => `${SHORT_KIND[k.trim()] ?? k}/`));
  let out = renderTable(
    ['#', { header: 'LAST SEEN', wideOnly: true }, PEER_COLUMN('FROM'), PEER_COLUMN('TO'), 'PORT', 'REASON', 'ATTEMPTS/FLOWS', 'POLICY', { header: 'FIX', min: 16 }],
    rows.map((r) => r.map((c, i) => (i === 7 ? shortKinds(c) : c))),
    options,
  );
  // Explanations wrap at the table width unless -o wide.
  const text = (s: string, indent = '  '): string => (options.wide ? `${indent}${terminalSafe(s)}` : wrapText(terminalSafe(s), TABLE_WIDTH, indent));
  drops.forEach((d, i) => {
    const x = d.explanation;
    out += `\n${text(`#${i + 1} ${peerLabel(d.group.from)} -> ${peerLabel(d.group.to)} ${port(d)} (${d.group.reason})`, '')}\n`;
    out += `${text(x.summary)}\n`;
    if (x.policies.length > 0) out += `${text(`responsible (${x.policiesFrom === 'hubble' ? 'Hubble *_denied_by' : 'loaded policies'}): ${x.policies.join(', ')}`)}\n`;
    for (const n of x.notes) out += `${text(`note: ${n}`)}\n`;
    if (x.allowedAfterPatches === false) out += '  note: the patches below do not let it through on their own\n';
    for (const p of x.patches) out += `\n${renderPatchYaml(p)}`;
  });
  return out;
}

/** `drops --combine -o json`: the single change that fixes every drop, and how many it lets through. */
export function combinedJson(fix: CombinedFix): Record<string, unknown> {
  return { fixable: fix.fixable, allowedAfter: fix.allowedAfter, patches: fix.patches.map(patchJson) };
}

/**
 * `drops --combine` for people and for `-o yaml`: one JSON-Patch document per policy, each with its
 * kubectl line; a summary comment says how many drops the whole change lets through.
 */
export function renderCombinedYaml(fix: CombinedFix): string {
  const summary =
    fix.patches.length === 0
      ? '# no policy drop has a fix: nothing to patch\n'
      : `# ${fix.patches.length} patch${fix.patches.length === 1 ? '' : 'es'} for ${fix.fixable} policy drop${fix.fixable === 1 ? '' : 's'}; ` +
        `with all applied, the policies allow ${fix.allowedAfter} of them\n`;
  return summary + fix.patches.map((p) => `---\n${renderPatchYaml(p)}`).join('');
}

/**
 * `drops` without `--policies`: the dropped flows as Hubble recorded them, one row per edge and
 * reason (what `hubble observe --verdict DROPPED` shows, aggregated), newest first.
 */
export function renderDropGroupsTable(groups: readonly DropGroup[], flows: number, options: TableOptions = {}): string {
  if (groups.length === 0) return `No dropped flows${flows > 0 ? ` (${formatCount(flows)} read)` : ''}.\n`;
  const out = renderTable(
    ['LAST SEEN', PEER_COLUMN('FROM'), PEER_COLUMN('TO'), 'PORT', 'REASON', 'ATTEMPTS/FLOWS', { header: 'FIRST SEEN', wideOnly: true }, { header: 'WHERE', wideOnly: true }, 'DENIED BY (HUBBLE)', { header: 'NODES', wideOnly: true }],
    groups.map((g) => [
      formatTime(g.lastSeenMs),
      peerLabel(g.from),
      peerLabel(g.to),
      protocolPorts(g),
      g.reason,
      `${formatCount(g.attempts)}/${formatCount(g.flows)}`,
      formatTime(g.firstSeenMs),
      g.directions.join('+') || '-',
      g.deniedBy.join(', ') || '-',
      g.nodes.join(', ') || '-',
    ]),
    options,
  );
  return `${out}\n${formatCount(flows)} dropped flows in ${formatCount(groups.length)} groups. Pass --policies DIR to explain each against your policies and get the smallest fix.\n`;
}

/**
 * `drops -o yaml` without `--policies`: the groups (`dropGroupJson`) as YAML every reader reads
 * alike, a group at a time for writing as it is made (`-o json` writes them with `writeJsonArray`).
 */
export function dropGroupsYamlParts(groups: readonly DropGroup[]): Generator<string> {
  return stringifyPortableList(
    (function* () {
      for (const g of groups) yield dropGroupJson(g);
    })(),
  );
}

/** The fields of one drop group, with and without `--policies`. */
export function dropGroupJson(g: DropGroup): Record<string, unknown> {
  return {
    from: peerJson(g.from),
    to: peerJson(g.to),
    protocol: g.protocol,
    ...(g.port !== undefined && { port: g.port }),
    ...(g.ports !== undefined && { ports: g.ports }),
    reason: g.reason,
    dropKind: g.kind,
    attempts: g.attempts,
    flows: g.flows,
    firstSeen: formatTime(g.firstSeenMs),
    lastSeen: formatTime(g.lastSeenMs),
    firstSeenMs: g.firstSeenMs,
    lastSeenMs: g.lastSeenMs,
    directions: g.directions,
    deniedBy: g.deniedBy,
    nodes: g.nodes,
    srcPods: g.srcPods,
    dstPods: g.dstPods,
  };
}
