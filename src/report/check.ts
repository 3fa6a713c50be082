/** `check` output: JSON (`wouldDrop`, `unusedRules`, `coverage`) and tables for people; the `--against` diff. */
import type { CheckResult, PolicyDiff } from '../triage/index.js';
import { edgesJson, PEER_COLUMN, peerLabel } from './edges.js';
import { formatCount, renderTable, type TableOptions } from './table.js';

export const NO_TRAFFIC = 'The database holds no forwarded traffic for these namespaces: there is nothing to judge the policies by (replay or observe first).';

/** `check -o json`: `wouldDrop` edges shaped as `edges -o json` plus `side`, `reason`, `policy`. */
export function checkJson(r: CheckResult): Record<string, unknown> {
  const edges = edgesJson(r.wouldDrop.map((w) => w.edge));
  return {
    wouldDrop: r.wouldDrop.map((w, i) => ({ ...edges[i], side: w.side, reason: w.reason, policy: w.policy, detail: w.detail, sides: w.sides })),
    unusedRules: r.unusedRules,
    unusedDnsRules: r.unusedDnsRules,
    coverage: r.coverage,
    edgesChecked: r.edgesChecked,
    unjudged: edgesJson(r.unjudged.map((u) => u.edge)).map((e, i) => ({ ...e, reason: r.unjudged[i]?.reason })),
    noTraffic: r.noTraffic,
  };
}

export function renderCheckTable(r: CheckResult, options: TableOptions = {}): string {
  if (r.noTraffic) return `${NO_TRAFFIC}\n\n${coverageTable(r, options)}`;
  let out = `Checked ${formatCount(r.edgesChecked)} observed forwarded edges.\n\n`;
  if (r.unjudged.length > 0) {
    out += `Not judged: ${formatCount(r.unjudged.length)} edges with a cluster endpoint Hubble saw as world (no identity to judge it as; recommend leaves them out):\n`;
    out += renderTable([PEER_COLUMN('FROM'), PEER_COLUMN('TO'), 'PORT', 'WHY'], r.unjudged.map((u) => [peerLabel(u.edge.from), peerLabel(u.edge.to), `${u.edge.protocol}/${u.edge.port}`, u.reason]), options);
    out += '\n';
  }
  if (r.wouldDrop.length === 0) out += 'Would drop: nothing observed.\n';
  else {
    out += `Would drop ${formatCount(r.wouldDrop.length)} observed edges on rollout:\n`;
    out += renderTable(
      [PEER_COLUMN('FROM'), PEER_COLUMN('TO'), 'PORT', 'SIDE', 'REASON', 'POLICY', 'FLOWS'],
      r.wouldDrop.map((w) => [peerLabel(w.edge.from), peerLabel(w.edge.to), `${w.edge.protocol}/${w.edge.port}`, w.sides.join('+'), w.reason, w.policy.join(', ') || '-', formatCount(w.edge.flows)]),
      options,
    );
  }
  out += '\n';
  if (r.unusedRules.length === 0) out += 'Unused allow rules: none.\n';
  else {
    out += `Allow rules no observed edge used (candidates to tighten):\n`;
    out += renderTable(['POLICY', 'RULE', 'FILE'], r.unusedRules.map((u) => [u.policy, u.path, u.file ?? '-']), options);
  }
  if (r.unusedDnsRules > 0) {
    out += `${formatCount(r.unusedDnsRules)} rule${r.unusedDnsRules === 1 ? '' : 's'} allowing only DNS (port 53) saw no lookup and ${r.unusedDnsRules === 1 ? 'is' : 'are'} not listed: a pod that restarts or scales out must still resolve names.\n`;
  }
  return `${out}\n${coverageTable(r, options)}`;
}

/** Enforced (default deny) apart from merely selected: a CCNP with `enableDefaultDeny: false` only adds allows. */
function coverageTable(r: CheckResult, options: TableOptions): string {
  return `Coverage (enforced = in default deny; selected = some policy selects it):\n${renderTable(
    ['NAMESPACE', 'WORKLOADS', 'INGRESS ENFORCED', 'EGRESS ENFORCED', { header: 'INGRESS SELECTED', wideOnly: true }, { header: 'EGRESS SELECTED', wideOnly: true }, 'UNSELECTED', 'SELECTED, NOT ENFORCED'],
    r.coverage.map((c) => [
      c.namespace,
      `${c.workloads}`,
      `${c.ingressEnforced}/${c.workloads}`,
      `${c.egressEnforced}/${c.workloads}`,
      `${c.ingressSelected}/${c.workloads}`,
      `${c.egressSelected}/${c.workloads}`,
      c.unselected.join(', ') || '-',
      c.selectedNotEnforced.join(', ') || '-',
    ]),
    options,
  )}`;
}

export function diffJson(d: PolicyDiff): Record<string, unknown> {
  const rows = (list: PolicyDiff['newlyDropped']): Record<string, unknown>[] => {
    const edges = edgesJson(list.map((c) => c.edge));
    return list.map((c, i) => ({ ...edges[i], side: c.side, policy: c.policy, detail: c.detail }));
  };
  return { newlyDropped: rows(d.newlyDropped), newlyAllowed: rows(d.newlyAllowed), edgesCompared: d.edgesCompared, noTraffic: d.noTraffic };
}

export function renderDiffTable(d: PolicyDiff, options: TableOptions = {}): string {
  if (d.noTraffic) return `${NO_TRAFFIC}\n`;
  const table = (list: PolicyDiff['newlyDropped']): string =>
    renderTable(
      ['FROM', 'TO', 'PORT', 'SIDE', 'POLICY', 'FLOWS', 'DETAIL'],
      list.map((c) => [peerLabel(c.edge.from), peerLabel(c.edge.to), `${c.edge.protocol}/${c.edge.port}`, c.side, c.policy.join(', ') || '-', formatCount(c.edge.flows), c.detail]),
      options,
    );
  let out = `Compared ${formatCount(d.edgesCompared)} observed edges under the old and the new policies.\n\n`;
  out += d.newlyDropped.length === 0 ? 'Newly dropped: none.\n' : `Newly dropped by the change (${formatCount(d.newlyDropped.length)}):\n${table(d.newlyDropped)}`;
  out += '\n';
  out += d.newlyAllowed.length === 0 ? 'Newly allowed: none.\n' : `Newly allowed by the change (${formatCount(d.newlyAllowed.length)}):\n${table(d.newlyAllowed)}`;
  return out;
}
