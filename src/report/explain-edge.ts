/** `check --explain` output: the edge's verdict per side, rule by rule, with near misses. */
import { policyLabel, type RuleExplanation, type RuleSideExplanation } from '../policy/index.js';
import type { EdgeExplanation } from '../triage/index.js';
import { terminalText } from './table.js';

const sideJson = (s: RuleSideExplanation): Record<string, unknown> => ({
  direction: s.direction,
  enforced: s.decision.enforced,
  defaultDeny: s.decision.defaultDeny,
  verdict: s.decision.verdict,
  reason: s.decision.reason,
  selectedBy: s.decision.selectedBy.map(policyLabel),
  rules: s.rules.map((r: RuleExplanation) => ({
    rule: r.rule,
    ...(r.ref.origin && { file: r.ref.origin.file }),
    deny: r.deny,
    matches: r.matches,
    peerMatches: r.peerMatches,
    portMatches: r.portMatches,
    peers: r.peers,
    ports: r.ports,
    why: r.why,
  })),
  nearMisses: s.nearMisses,
});

export function explainJson(e: EdgeExplanation): Record<string, unknown> {
  return {
    from: e.from,
    to: e.to,
    protocol: e.protocol,
    port: e.port,
    ...(e.clusterName !== undefined && { clusterName: e.clusterName }),
    observed: e.observed ?? null,
    allowed: e.allowed,
    identities: e.identities.map((i) => ({
      ...(i.fromReserved !== undefined && { fromReserved: i.fromReserved }),
      ...(i.toReserved !== undefined && { toReserved: i.toReserved }),
      sourceLabels: i.sourceLabels,
      destinationLabels: i.destinationLabels,
      allowed: i.explanation.decision.allowed,
      ...(i.explanation.decision.blockedAt !== undefined && { blockedAt: i.explanation.decision.blockedAt }),
      ...(i.explanation.decision.dropReason !== undefined && { dropReason: i.explanation.decision.dropReason }),
      egress: sideJson(i.explanation.egress),
      ingress: sideJson(i.explanation.ingress),
    })),
    notes: e.notes,
  };
}

export function renderExplain(e: EdgeExplanation): string {
  const lines: string[] = [];
  lines.push(`${e.from} -> ${e.to} ${e.port}/${e.protocol}${e.clusterName ? ` (cluster ${e.clusterName})` : ''}`);
  lines.push(e.observed ? `Observed: ${e.observed.flows} flows, ${e.observed.forwarded} forwarded, ${e.observed.dropped} dropped.` : 'Never observed.');
  for (const n of e.notes) lines.push(`Note: ${n}`);
  for (const i of e.identities) {
    const d = i.explanation.decision;
    lines.push('');
    if (i.fromReserved || i.toReserved) lines.push(`Identities: ${i.fromReserved ?? e.from} -> ${i.toReserved ?? e.to}`);
    for (const s of [i.explanation.egress, i.explanation.ingress]) {
      const who = s.direction === 'egress' ? `egress of the source ${e.from}` : `ingress of the destination ${e.to}`;
      lines.push(`${who}: ${s.decision.verdict.toUpperCase()}: ${s.decision.reason}`);
      if (s.decision.selectedBy.length > 0) lines.push(`  selected by: ${s.decision.selectedBy.map(policyLabel).join(', ')}`);
      for (const r of s.rules) lines.push(`  ${r.matches ? '*' : '-'} ${r.rule}${r.deny ? ' (deny)' : ''}: ${r.why}`);
      if (s.nearMisses.length > 0) {
        lines.push('  near misses:');
        for (const n of s.nearMisses) lines.push(`    ${n}`);
      }
    }
    lines.push(`Verdict: ${d.allowed ? 'ALLOWED' : `DROPPED at ${d.blockedAt ?? '?'}${d.dropReason ? ` (${d.dropReason})` : ' (refused at L7)'}`}`);
  }
  return terminalText(`${lines.join('\n')}\n`);
}
