import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cut, renderTable, TABLE_WIDTH, terminalSafe, terminalText, wrapText } from '../../../src/report/index.js';

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

  it('-o wide prints every column and every value whole', () => {
    const out = renderTable(headers, rows, { wide: true });
    expect(out).toContain(long);
    expect(out).toContain('a'.repeat(200));
    expect(out).toContain('NOTE');
  });

  it('shows the controls a terminal would act on escaped, and leaves every other character as it is', () => {
    expect(terminalSafe('a\u001b[2Jb\u0007c\u009bd')).toBe('a\\u{1b}[2Jb\\u{7}c\\u{9b}d');
    expect(terminalSafe('t\tn\nv\vf\fr\rnel\u0085ls\u2028ps\u2029')).toBe('t n v f r nel ls ps ');
    expect(terminalText('one\u001b]0;title\u0007\ntwo\r\n')).toBe('one\\u{1b}]0;title\\u{7}\ntwo \n');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const safe = terminalSafe(value);
        expect(safe).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
        // Nothing else changes: removing the escapes and spaces leaves the other characters in order.
        const others = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029 ]/g, '');
        expect(others(safe.replace(/\\u\{[0-9a-f]+\}/g, ''))).toBe(others(value).replace(/\\u\{[0-9a-f]+\}/g, ''));
      }),
      { numRuns: 500 },
    );
  });

  it('a value never breaks a line', () => {
    expect(renderTable(['A', 'B'], [['x\ny\u2028z', 'b']]).split('\n')).toHaveLength(3);
  });

  it('cuts names keeping both ends; a path loses its kind first', () => {
    expect(cut('abcdefghij', 5)).toBe('abcd…');
    expect(cut('abcdefghij', 5, 'middle')).toBe('ab…ij');
    expect(cut('/tmp/bench/cluster-750.jsonl', 12, 'start')).toBe('…r-750.jsonl');
    expect(cut('observability/StatefulSet/prometheus', 30, 'path')).toBe('observability/…/prometheus');
    expect(cut('observability/StatefulSet/prometheus', 20, 'path')).toBe('observab…/prometheus');
  });

  it('wraps free text at the width', () => {
    const text = wrapText(Array.from({ length: 60 }, (_, i) => `word${i}`).join(' '), 40, '  ');
    expect(width(text)).toBeLessThanOrEqual(40);
    expect(text.split('\n').length).toBeGreaterThan(5);
  });
});

describe('table widths counted without spreading every cell', () => {
  /** The code-point count and cut as they were written before the fast path: spread every string. */
  const spreadLen = (s: string): number => [...s].length;
  function spreadCut(value: string, width: number, where: 'end' | 'middle' | 'start'): string {
    const chars = [...value];
    if (chars.length <= width) return value;
    if (width <= 1) return '…';
    if (where === 'end') return `${chars.slice(0, width - 1).join('')}…`;
    if (where === 'start') return `…${chars.slice(chars.length - (width - 1)).join('')}`;
    const head = Math.ceil((width - 1) / 2);
    return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (width - 1 - head)).join('')}`;
  }

  it('cuts and pads astral characters, lone surrogates and combining marks as the spread count does', () => {
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: fc.constantFrom('a', 'é', 'e\u0301', '😀', '\uD800', '\uDC00', '漢', ' '), maxLength: 30 }));
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 32 }), fc.constantFrom('end' as const, 'middle' as const, 'start' as const), (value, width, where) => {
        expect(cut(value, width, where)).toBe(spreadCut(value, width, where));
        // The padded column is as wide, in code points, as its widest cell.
        const table = renderTable(['A', 'B'], [[value, 'x'], ['y', 'x']], { wide: true });
        const widest = Math.max(1, spreadLen(terminalSafe(value)));
        for (const line of table.split('\n').filter((l) => l !== '')) expect(spreadLen(line.slice(0, line.lastIndexOf(' ') + 1))).toBe(widest + 3);
      }),
      { numRuns: 1000 },
    );
  });

  it('lays out a graph-sized table (131,070 rows of a port scan) without overflowing the stack', () => {
    const rows = Array.from({ length: 131_070 }, (_, i) => [`shop/Deployment/scanner`, `10.0.0.1/32`, `${i + 1}/TCP`]);
    const text = renderTable(['FROM', 'TO', 'PORT'], rows);
    expect(text.split('\n')).toHaveLength(131_072);
  });
});
