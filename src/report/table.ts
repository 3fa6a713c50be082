/** Terminal width every default table fits (kubectl's habit); `-o wide` lifts it. */
export const TABLE_WIDTH = 120;
const GAP = 3;

/**
 * A column: its header, whether only `-o wide` shows it, and where a long value is cut (`end`,
 * `middle` for names whose both ends matter, like `namespace/Kind/name`, or `start` for file
 * paths, whose file name tells them apart).
 */
export interface Column {
  readonly header: string;
  readonly wideOnly?: boolean;
  readonly cut?: 'end' | 'middle' | 'start' | 'path';
  /** Narrowest the column is cut to (default: its header, at least 8). */
  readonly min?: number;
}

export interface TableOptions {
  /** `-o wide`: every column, nothing cut. */
  readonly wide?: boolean;
  readonly maxWidth?: number;
}

const column = (c: string | Column): Column => (typeof c === 'string' ? { header: c } : c);

/** Cuts to `width` characters with `…` at the end, at the start or in the middle. */
export function cut(value: string, width: number, where: 'end' | 'middle' | 'start' | 'path' = 'end'): string {
  if (len(value) <= width) return value;
  const chars = [...value];
  if (where === 'path') {
    // `namespace/Kind/name`: the kind goes first, then the middle of what is left.
    const parts = value.split('/');
    if (parts.length === 3) {
      const [ns, , name] = parts as [string, string, string];
      const short = `${ns}/…/${name}`;
      if (len(short) <= width) return short;
      // The name matters most: the namespace gives way first.
      if (len(name) + 3 <= width) return `${cut(ns, width - len(name) - 1)}/${name}`;
      return cut(name, width, 'middle');
    }
    return cut(value, width, 'middle');
  }
  if (width <= 1) return '…';
  if (where === 'end') return `${chars.slice(0, width - 1).join('')}…`;
  if (where === 'start') return `…${chars.slice(chars.length - (width - 1)).join('')}`;
  const head = Math.ceil((width - 1) / 2);
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (width - 1 - head)).join('')}`;
}

/**
 * C0 and C1 controls and Unicode line breaks: a terminal acts on them (a line break, an escape
 * sequence that clears the screen or sets the title), and they break a Markdown or HTML table row.
 */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/** Line breaks and tabs, which become spaces: a cell stays on its line. */
const BREAKS = new Set(['\t', '\n', '\v', '\f', '\r', '\u0085', '\u2028', '\u2029']);

/**
 * A value as a terminal may print it: names come from recordings, and a hostile one carried escape
 * sequences straight to the operator's terminal. Breaks become spaces; other controls are shown
 * escaped as comments show them (`\u{1b}`).
 */
export function terminalSafe(value: string): string {
  return value.replace(CONTROL_CHARACTERS, (c) => (BREAKS.has(c) ? ' ' : escaped(c)));
}

/** Lines of text as a terminal may print them: terminalSafe, but its own line ends stay. */
export function terminalText(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (c) => (c === '\n' ? c : BREAKS.has(c) ? ' ' : escaped(c)));
}

const escaped = (c: string): string => `\\u{${(c.codePointAt(0) as number).toString(16)}}`;

/** Characters (code points) of `s`; UTF-16 units when it has no surrogate pair, without spreading it (a table of 60,000 rows asks ~2 million times). */
const len = (s: string): number => (SURROGATE.test(s) ? [...s].length : s.length);
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Plain-text table, columns padded like kubectl's; the last column is never padded. By default it
 * fits TABLE_WIDTH columns: wide-only columns are left out, then the widest cuttable columns are
 * cut with `…`; `wide` prints everything.
 */
export function renderTable(headers: readonly (string | Column)[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const all = headers.map(column);
  const keep = all.map((c, i) => (options.wide || !c.wideOnly ? i : -1)).filter((i) => i >= 0);
  const cols = keep.map((i) => all[i] as Column);
  const body = rows.map((r) => keep.map((i) => terminalSafe(r[i] ?? '')));
  // A loop, not Math.max(...cells): a graph-sized spread overflows the call stack (131,070 edges of a port scan).
  const widths = cols.map((c, i) => {
    let w = len(c.header);
    for (const r of body) w = Math.max(w, len(r[i] ?? ''));
    return w;
  });
  if (!options.wide) {
    const max = options.maxWidth ?? TABLE_WIDTH;
    const total = (): number => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1);
    // Short columns (times, counts, ports) are never cut; long ones give up a character at a time,
    // always the currently widest, so the cuts spread evenly.
    // If that is not enough, every column may be cut down to its header.
    const floors = [
      cols.map((c, i) => c.min ?? ((widths[i] as number) <= 24 ? (widths[i] as number) : Math.max(len(c.header), 12))),
      cols.map((c) => Math.min(c.min ?? Infinity, Math.max(len(c.header), 6))),
    ];
    let excess = total() - max;
    for (const floor of floors) {
      while (excess > 0) {
        let widest = -1;
        for (let i = 0; i < widths.length; i++) if ((widths[i] as number) > (floor[i] as number) && (widest < 0 || (widths[i] as number) > (widths[widest] as number))) widest = i;
        if (widest < 0) break;
        widths[widest] = (widths[widest] as number) - 1;
        excess--;
      }
    }
  }
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => {
        const v = cut(c, widths[i] ?? 0, cols[i]?.cut ?? 'end');
        return i === cells.length - 1 ? v : v + ' '.repeat(Math.max(0, (widths[i] ?? 0) - len(v)));
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(cols.map((c) => c.header)), ...body.map(line)].join('\n') + '\n';
}

/** Free text wrapped at `width` (words kept whole unless longer than a line), each line indented. */
export function wrapText(text: string, width: number = TABLE_WIDTH, indent = ''): string {
  const out: string[] = [];
  let line = indent;
  let empty = true;
  for (const word of text.split(/ +/)) {
    if (!empty && len(line) + len(word) + 1 > width) {
      out.push(line.trimEnd());
      line = `${indent}  `;
      empty = true;
    }
    line += (empty ? '' : ' ') + word;
    empty = false;
  }
  out.push(line.trimEnd());
  return out.join('\n');
}

/** One formatter for every count: `toLocaleString` builds a new one on each call. */
const COUNTS = new Intl.NumberFormat('en-US');

export function formatCount(n: number): string {
  // Below 1,000 a count reads as its digits; the formatter costs a microsecond a call, and a big report makes tens of thousands.
  if (Number.isInteger(n) && n >= 0 && n < 1000 && !Object.is(n, -0)) return String(n);
  return COUNTS.format(n);
}

/** `2026-11-22T10:00:00Z`-style, seconds precision, or `-` when unknown. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', !d && !h ? `${s % 60}s` : ''];
  return parts.filter(Boolean).join('') || '0s';
}
