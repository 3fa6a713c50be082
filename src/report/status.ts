import type { DatabaseSummary } from '../store/index.js';
import { renderConvergenceTable } from './edges.js';
import { formatCount, formatDuration, formatTime, renderTable, TABLE_WIDTH, type TableOptions, terminalText } from './table.js';

/** Characters of a time as formatTime writes it (2026-11-20T00:00:00Z). */
const TIME_WIDTH = 20;

/** Data older than this is called out, so times in the tables are read against the data's own clock. */
const STALE_MS = 86_400_000;

/** Human view of `status`; `nowMs` (the wall clock) only decides whether to say how old the newest flow is. */
export function renderStatusText(s: DatabaseSummary, dbPath: string, options: TableOptions = {}, nowMs?: number): string {
  const out: string[] = [];
  out.push(`Database: ${dbPath}`);
  if (s.sources.length === 0) {
    out.push('No sources ingested yet. Run `hubble-advisor replay FILE` or `hubble-advisor observe`.');
    return out.join('\n') + '\n';
  }
  const first = min(s.sources.map((x) => x.firstFlowMs));
  const last = max(s.sources.map((x) => x.lastFlowMs));
  const flows = s.sources.reduce((n, x) => n + x.flows, 0);
  out.push(
    `Flows: ${formatCount(flows)} from ${formatTime(first)} to ${formatTime(last)}` +
      (first !== null && last !== null ? ` (${formatDuration(last - first)})` : ''),
  );
  if (last !== null && nowMs !== undefined && nowMs - last > STALE_MS) {
    out.push(`Newest flow ${formatDuration(nowMs - last)} ago: QUIET FOR and --new-since are judged against it, not the clock`);
  }
  out.push('');
  out.push(
    renderTable(
      // In 120 columns every source read "/tmp/h…jsonl" and its times lost their minutes: a path is
      // cut at its start (its file name tells sources apart), times never; lines and the first
      // flow (the span is on the line above) wait for -o wide.
      [
        'ID',
        'KIND',
        { header: 'SOURCE', cut: 'start' },
        'STATUS',
        { header: 'LINES', wideOnly: true },
        'FLOWS',
        'BAD',
        'DUPLICATES',
        'LOST',
        { header: 'FIRST FLOW', wideOnly: true, min: TIME_WIDTH },
        { header: 'LAST FLOW', min: TIME_WIDTH },
      ],
      s.sources.map((x) => [
        String(x.id),
        x.kind,
        x.name,
        x.status,
        formatCount(x.lines),
        formatCount(x.flows),
        formatCount(x.badLines),
        formatCount(x.duplicates),
        formatCount(x.lostEvents),
        formatTime(x.firstFlowMs),
        formatTime(x.lastFlowMs),
      ]),
      options,
    ).trimEnd(),
  );
  out.push('');
  out.push('Verdicts: ' + (Object.entries(s.verdicts).map(([v, n]) => `${v} ${formatCount(n)}`).join(', ') || 'none'));
  const drops = Object.entries(s.dropReasons);
  out.push('Drop reasons: ' + (drops.map(([r, n]) => `${r} ${formatCount(n)}`).join(', ') || 'none'));
  if (s.lostEvents.length > 0) {
    out.push('');
    out.push('WARNING: Hubble lost events, so the baseline has holes:');
    for (const l of s.lostEvents) {
      out.push(`  ${l.lostSource}: ${formatCount(l.numLost)} events lost in ${l.events} reports (${formatTime(l.firstMs)} .. ${formatTime(l.lastMs)})`);
    }
  }
  if (s.nodeStatus.length > 0) {
    out.push('');
    out.push('Recent node status:');
    for (const n of s.nodeStatus) {
      out.push(`  ${n.time ?? '-'} ${n.state} ${n.nodeNames.join(',')}${n.message ? ` (${n.message})` : ''}`);
    }
  }
  if (s.badLines.length > 0) {
    out.push('');
    out.push('Bad lines (first shown):');
    for (const b of s.badLines) out.push(`  ${b.source}:${b.line}: ${b.field}: ${b.reason}`);
  }
  if (s.graph) out.push('', ...graphLines(s.graph, options));
  return terminalText(out.join('\n') + '\n');
}

/** Edge graph totals and, per namespace, whether the baseline still grows. */
function graphLines(g: NonNullable<DatabaseSummary['graph']>, options: TableOptions): string[] {
  const skipped = Object.entries(g.skipped).map(([r, n]) => `${r} ${formatCount(n)}`).join(', ');
  const out = [
    `Edges: ${formatCount(g.edges)} between ${formatCount(g.workloads)} workloads and external peers` +
      ` (${formatCount(g.dnsAnswers)} DNS answers kept; flows without an edge: ${skipped || 'none'})`,
  ];
  if (g.convergence.length > 0) {
    out.push('Baseline convergence (new edges per namespace; a long quiet time means the baseline is likely complete):');
    out.push(...renderConvergenceTable(g.convergence, { ...options, maxWidth: TABLE_WIDTH - 2 }).trimEnd().split('\n').map((l) => `  ${l}`));
  }
  return out;
}

function min(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? Math.min(...v) : null;
}
function max(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? Math.max(...v) : null;
}
