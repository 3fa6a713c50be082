import type { Lint } from '../recommend/index.js';
import { formatCount } from './table.js';
import { commentText as printableText } from './yaml-safe.js';

/** How many findings of one lint rule are printed before the rest are counted. */
export const LINTS_SHOWN_PER_RULE = 10;

/**
 * The stderr lines for recommend's lints. A cluster-wide rule (DNS over UDP under ingress
 * enforcement) fires once per workload: 2,769 identical lines at 3,000 workloads buried every
 * other finding. Each rule shows its first ten findings and counts the rest, which stay in each
 * policy's comments and in `--evidence`. A count of one or two more is printed in full instead.
 */
export function lintLines(lints: readonly Lint[], shown: number = LINTS_SHOWN_PER_RULE): string[] {
  const byRule = new Map<string, Lint[]>();
  for (const l of lints) {
    const list = byRule.get(l.rule);
    if (list === undefined) byRule.set(l.rule, [l]);
    else list.push(l);
  }
  const lines: string[] = [];
  for (const [rule, list] of byRule) {
    const cut = list.length > shown + 2 ? shown : list.length;
    for (const l of list.slice(0, cut)) lines.push(`Lint (${rule}): ${printableText(`${l.namespace ? `${l.namespace}/` : ''}${l.policy}: ${l.message}`)}`);
    const rest = list.length - cut;
    if (rest > 0) {
      lines.push(`Lint (${rule}): and ${formatCount(rest)} more policies with this finding (${formatCount(list.length)} in all): each is in its policy's comments, and all are in --evidence FILE`);
    }
  }
  return lines;
}
