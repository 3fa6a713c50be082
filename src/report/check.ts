/** `check` output: JSON (`wouldDrop`, `unusedRules`, `coverage`) and tables for people. */
import type { CheckResult } from '../triage/index.js';
import { edgesJson, peerLabel } from './edges.js';
import { formatCount, renderTable } from './table.js';

/** `check -o json`: `wouldDrop` edges shaped as `edges -o json` plus `side`, `reason`, `policy`. */
export function checkJson(r: CheckResult): Record<string, unknown> {
  const edges = edgesJson(r.wouldDrop.map((w) => w.edge));
  return {
    wouldDrop: r.wouldDrop.map((w, i) => ({ ...edges[i], side: w.side, reason: w.reason, policy: w.policy, detail: w.detail, sides: w.sides })),
    unusedRules: r.unusedRules,
    coverage: r.coverage,
    edgesChecked: r.edgesChecked,
  };
}

export function renderCheckTable(r: CheckResult): string {
  let out = `Checked ${formatCount(r.edgesChecked)} observed forwarded edges.\n\n`;
  if (r.wouldDrop.length === 0) out += 'Would drop: nothing observed.\n';
  else {
    out += `Would drop ${formatCount(r.wouldDrop.length)} observed edges on rollout:\n`;
    out += renderTable(
      ['FROM', 'TO', 'PORT', 'SIDE', 'REASON', 'POLICY', 'FLOWS'],
      r.wouldDrop.map((w) => [peerLabel(w.edge.from), peerLabel(w.edge.to), `${w.edge.protocol}/${w.edge.port}`, w.sides.join('+'), w.reason, w.policy.join(', ') || '-', formatCount(w.edge.flows)]),
    );
  }
  out += '\n';
  if (r.unusedRules.length === 0) out += 'Unused allow rules: none.\n';
  else {
    out += `Allow rules no observed edge used (candidates to tighten):\n`;
    out += renderTable(['POLICY', 'RULE', 'FILE'], r.unusedRules.map((u) => [u.policy, u.path, u.file ?? '-']));
  }
  out += '\nCoverage:\n';
  out += renderTable(
    ['NAMESPACE', 'WORKLOADS', 'INGRESS', 'EGRESS', 'UNSELECTED'],
    r.coverage.map((c) => [c.namespace, `${c.workloads}`, `${c.ingressSelected}/${c.workloads}`, `${c.egressSelected}/${c.workloads}`, c.unselected.join(', ') || '-']),
  );
  return out;
}
