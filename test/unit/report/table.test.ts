import { describe, expect, it } from 'vitest';
import { cut, renderTable, TABLE_WIDTH, wrapText } from '../../../src/report/index.js';

const width = (text: string): number => Math.max(...text.split('\n').map((l) => [...l].length));

describe('renderTable', () => {
  const long = `ns/Deployment/${'x'.repeat(300)}`;
  const rows = [[long, 'kube-apiserver', 'TCP/6443', '2026-11-11T22:05:01Z', 'POLICY_DENIED', 'a'.repeat(200)]];
  const headers = [{ header: 'FROM', cut: 'path' as const }, 'TO', 'PORT', 'LAST SEEN', { header: 'REASON' }, { header: 'NOTE', wideOnly: true }];

  it('fits 120 columns by default: wide-only columns left out, long values cut with …', () => {
    const out = renderTable(headers, rows);
    expect(width(out)).toBeLessThanOrEqual(TABLE_WIDTH);
    expect(out).not.toContain('NOTE');
    expect(out).toContain('…');
    // Short columns are never cut.
    expect(out).toContain('2026-11-11T22:05:01Z');
    expect(out).toContain('POLICY_DENIED');
  });

  it('prints a table of 130,000 rows (a port scan\'s edges), each padded to the widest cell', () => {
    const many = Array.from({ length: 130_000 }, (_, i) => [`web/Deployment/frontend-${i}`, 'é'.repeat(i % 7), `TCP/${i % 65_536}`]);
    const lines = renderTable(['FROM', 'NOTE', 'PORT'], many).trimEnd().split('\n');
    expect(lines).toHaveLength(130_001);
    // FROM is as wide as `web/Deployment/frontend-129999` (30), NOTE as `éééééé` (6 characters, not bytes).
    expect(lines[1]).toBe(`web/Deployment/frontend-0${' '.repeat(5 + 3 + 6 + 3)}TCP/0`);
    expect(lines.every((l) => /^(PORT|TCP\/\d+)$/.test([...l].slice(42).join('')))).toBe(true);
  });

  it('-o wide prints every column and every value whole', () => {
    const out = renderTable(headers, rows, { wide: true });
    expect(out).toContain(long);
    expect(out).toContain('a'.repeat(200));
    expect(out).toContain('NOTE');
  });

  it('a value never breaks a line', () => {
    expect(renderTable(['A', 'B'], [['x\ny\u2028z', 'b']]).split('\n')).toHaveLength(3);
  });

  it('cuts names keeping both ends; a path loses its kind first', () => {
    expect(cut('abcdefghij', 5)).toBe('abcd…');
    expect(cut('abcdefghij', 5, 'middle')).toBe('ab…ij');
    expect(cut('observability/StatefulSet/prometheus', 30, 'path')).toBe('observability/…/prometheus');
    expect(cut('observability/StatefulSet/prometheus', 20, 'path')).toBe('observab…/prometheus');
  });

  it('wraps free text at the width', () => {
    const text = wrapText(Array.from({ length: 60 }, (_, i) => `word${i}`).join(' '), 40, '  ');
    expect(width(text)).toBeLessThanOrEqual(40);
    expect(text.split('\n').length).toBeGreaterThan(5);
  });
});
