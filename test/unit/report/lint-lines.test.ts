import { describe, expect, it } from 'vitest';
import { lintLines } from '../../../src/report/lint-lines.js';
import type { Lint } from '../../../src/recommend/index.js';

const dnsLint = (i: number): Lint => ({
  policy: `app-${i}`,
  namespace: `ns-${i % 7}`,
  rule: 'udp-dns-under-ingress-enforcement',
  message: `ns-${i % 7}/app-${i} resolves DNS over UDP and gets ingress enforcement`,
});

describe('lintLines: what recommend prints to stderr for its lints', () => {
  it('prints a rule that fires on thousands of workloads as three findings and a count when asked for three, and every other rule as before', () => {
    const cnpg: Lint[] = [1, 2].map((i) => ({ policy: `db-${i}`, namespace: 'data', rule: 'cnpg-instance-manager', message: `CNPG cluster data/db-${i}: ingress on 8000 is not allowed` }));
    const lines = lintLines([...Array.from({ length: 2769 }, (_, i) => dnsLint(i)), ...cnpg], 3);
    expect(lines).toEqual([
      'Lint (udp-dns-under-ingress-enforcement): ns-0/app-0: ns-0/app-0 resolves DNS over UDP and gets ingress enforcement',
      'Lint (udp-dns-under-ingress-enforcement): ns-1/app-1: ns-1/app-1 resolves DNS over UDP and gets ingress enforcement',
      'Lint (udp-dns-under-ingress-enforcement): ns-2/app-2: ns-2/app-2 resolves DNS over UDP and gets ingress enforcement',
      "Lint (udp-dns-under-ingress-enforcement): and 2,766 more policies with this finding (2,769 in all): each is in its policy's comments, and all are in --evidence FILE",
      'Lint (cnpg-instance-manager): data/db-1: CNPG cluster data/db-1: ingress on 8000 is not allowed',
      'Lint (cnpg-instance-manager): data/db-2: CNPG cluster data/db-2: ingress on 8000 is not allowed',
    ]);
  });

  it('prints twelve findings in full rather than "and 2 more", and thirteen as ten and a count', () => {
    const twelve = lintLines(Array.from({ length: 12 }, (_, i) => dnsLint(i)));
    expect(twelve).toHaveLength(12);
    expect(twelve.some((l) => l.includes('more policies'))).toBe(false);
    const thirteen = lintLines(Array.from({ length: 13 }, (_, i) => dnsLint(i)));
    expect(thirteen).toHaveLength(11);
    expect(thirteen[10]).toContain('and 3 more policies with this finding (13 in all)');
  });

  it('keeps each finding on one line whatever its names hold', () => {
    const breaks = ['\n', '\r', '\u000b', '\u000c', '\u0085', '\u2028', '\u2029', '\u0000', '\u001b[31m'];
    const hostile: Lint[] = breaks.map((b, i) => ({ policy: `p${b}${'x'.repeat(300)}`, namespace: `../ns${b}/${i}`, rule: 'cnpg-instance-manager', message: `m${b}end` }));
    const lines = lintLines(hostile, 3);
    expect(lines).toHaveLength(3 + 1);
    for (const l of lines) expect(l).not.toMatch(/[\n\r\u000b\u000c\u0085\u2028\u2029\u0000\u001b]/);
  });
});
