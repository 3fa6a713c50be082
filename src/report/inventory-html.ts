/**
 * The inventory as one self-contained HTML file: the same tables as the Markdown plus the service
 * map as inline SVG (laid out before, nothing fetched or computed at view time but hover/click).
 */
import { edgeId, type Inventory, type InventoryEdge, type SideCoverage, type WorkloadCoverage } from './inventory.js';
import { sideCoverageText } from './inventory-markdown.js';
import { peerLabel } from './edges.js';
import { droppedPort } from './ports.js';
import type { MapLayout } from './service-map.js';
import { CONTROL_CHARACTERS, formatCount, formatDuration, formatTime } from './table.js';

export interface HtmlOptions {
  readonly generatedAtMs?: number;
  readonly title?: string;
  /** Why there is no map (the layout is then `undefined`). */
  readonly mapMissing?: string;
}

/** What `esc` replaces: the control characters and the five HTML specials. */
const NEEDS_ESCAPE = new RegExp(`[&<>"'${CONTROL_CHARACTERS.source.slice(1, -1)}]`);

/** Text for HTML element content and attribute values (quoted with "). */
export function esc(text: string): string {
  // Most cells need nothing replaced: one test instead of six copies.
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text
    .replace(CONTROL_CHARACTERS, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Like `esc` but keeps line feeds (for `<title>` and `<pre>` evidence). */
const escLines = (lines: readonly string[]): string => lines.map(esc).join('\n');

function table(headers: readonly string[], rows: readonly (readonly string[])[], cls = ''): string {
  return (
    `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

const lines = (items: readonly string[]): string => (items.length === 0 ? '<span class="none">(none)</span>' : items.map(esc).join('<br>'));

const STATUS_LABEL: Readonly<Record<string, string>> = {
  allowed: 'allowed by the policies',
  'would-drop': 'the policies would drop it',
  dropped: 'dropped (observed)',
  'no-policy': 'no policy applies',
};

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#fff}
main{max-width:1400px;margin:0 auto;padding:16px 24px}
h1{font-size:24px;margin:8px 0}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td .none{color:#8c959f}
nav ol{columns:3;font-size:13px}
.map-wrap{border:1px solid #d0d7de;overflow:auto;max-height:85vh;background:#fcfcfd}
.map-tools{display:flex;gap:16px;align-items:center;margin:8px 0;font-size:13px;flex-wrap:wrap}
.legend span{display:inline-flex;align-items:center;gap:4px;margin-right:12px}.legend i{display:inline-block;width:22px;height:3px}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:#1f2328}
.group rect{fill:#f6f8fa;stroke:#afb8c1;rx:6}.group text{font-weight:600;fill:#57606a}
.group.external rect{fill:#fff8f0}.group.entities rect{fill:#f3f0ff}
.node rect{fill:#fff;stroke:#57606a;rx:4}.node.namespace rect{stroke:#0969da;fill:#f5f9ff}
.map-note{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;font-size:13px}.node.fqdn rect,.node.cidr rect,.node.ips rect{stroke:#bc4c00}.node.entity rect{stroke:#8250df}
.node:hover rect,.node.sel rect{stroke-width:2.5}
.edge path{fill:none;stroke-width:1.6}.edge:hover path,.edge.sel path{stroke-width:3.5}
.edge .hit{stroke:transparent;stroke-width:9}
.allowed path.line{stroke:#1a7f37}.would-drop path.line{stroke:#cf222e;stroke-dasharray:6 3}.dropped path.line{stroke:#bc4c00;stroke-dasharray:2 2}.no-policy path.line{stroke:#8c959f}
.edge.hub path.line{stroke-opacity:.4}
body.hide-hubs .edge.hub{display:none}
#details{white-space:pre-wrap;font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;border:1px solid #d0d7de;padding:8px;min-height:3em;max-height:30vh;overflow:auto}
`;

const SCRIPT = `
(function(){
  var details=document.getElementById('details');
  var selected=null;
  document.querySelectorAll('#map .edge, #map .node').forEach(function(el){
    el.addEventListener('click',function(){
      if(selected)selected.classList.remove('sel');
      selected=el;el.classList.add('sel');
      var t=el.querySelector('title');details.textContent=t?t.textContent:'';
    });
  });
  var hubs=document.getElementById('show-hubs');
  if(!hubs)return;
  hubs.addEventListener('change',function(){document.body.classList.toggle('hide-hubs',!hubs.checked);});
  var zoom=document.getElementById('zoom');var svg=document.getElementById('map');
  var w=Number(svg.getAttribute('width')),h=Number(svg.getAttribute('height'));
  zoom.addEventListener('input',function(){var z=Number(zoom.value)/100;svg.setAttribute('width',String(w*z));svg.setAttribute('height',String(h*z));});
})();
`;

/** The service map as inline SVG, an element at a time (lines to join with line feeds). */
function* serviceMapSvgParts(layout: MapLayout): Generator<string> {
  const g = layout.graph;
  const W = Math.ceil(layout.width);
  const H = Math.ceil(layout.height);
  yield `<svg id="map" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="service map">`;
  yield (
    '<defs>' +
      ['allowed', 'would-drop', 'dropped', 'no-policy']
        .map((s) => `<marker id="arrow-${s}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" class="m-${s}"/></marker>`)
        .join('') +
      '<style>.m-allowed{fill:#1a7f37}.m-would-drop{fill:#cf222e}.m-dropped{fill:#bc4c00}.m-no-policy{fill:#8c959f}</style></defs>'
  );
  for (const group of g.groups) {
    const b = layout.groups.get(group.id);
    if (!b) continue;
    yield (
      `<g class="group ${group.kind}" data-group="${esc(group.id)}"><rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}"/>` +
        `<text x="${b.x + 8}" y="${b.y + 16}">${esc(group.label)}</text></g>`
    );
  }
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  for (const e of g.edges) {
    const pts = layout.edges.get(e.id) ?? [];
    if (pts.length === 0) continue;
    const d = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${round(x)},${round(y)}`).join('');
    const from = byId.get(e.from);
    const to = byId.get(e.to);
    const title = [`${from?.title ?? e.from} → ${to?.title ?? e.to}  ${e.ports}`, STATUS_LABEL[e.status] ?? e.status, ...e.evidence];
    yield (
      `<g class="edge ${e.status}${e.hub ? ' hub' : ''}" data-edge="${esc(e.id)}" data-from="${esc(e.from)}" data-to="${esc(e.to)}" data-edge-ids="${esc(e.edges.map(edgeId).join(' '))}">` +
        `<title>${escLines(title)}</title><path class="hit" d="${d}"/><path class="line" d="${d}" marker-end="url(#arrow-${e.status})"/></g>`
    );
  }
  for (const n of g.nodes) {
    const b = layout.nodes.get(n.id);
    if (!b) continue;
    yield (
      `<g class="node ${n.kind}" data-node="${esc(n.id)}"><title>${esc(n.title)}</title>` +
        `<rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}"/>` +
        `<text x="${b.x + 9}" y="${b.y + b.height / 2 + 4}">${esc(n.label)}</text></g>`
    );
  }
  yield '</svg>';
}

/** `<div class="map-wrap">` with the map's SVG, in parts: at thousands of workloads it is most of the page. */
function* mapParts(layout: MapLayout): Generator<string> {
  yield '<div class="map-wrap">';
  let first = true;
  for (const part of serviceMapSvgParts(layout)) {
    if (!first) yield '\n';
    first = false;
    yield part;
  }
  yield '</div>';
}

const round = (v: number): string => String(Math.round(v * 10) / 10);

const coverageText = (c: WorkloadCoverage | undefined): string =>
  c === undefined ? '-' : `in: ${esc(sideCoverageText(c.ingress))}<br>out: ${esc(sideCoverageText(c.egress))}`;

const sideDetail = (s: SideCoverage): string => (s.selectedBy.length === 0 ? 'no policy' : `${sideCoverageText(s)} (${s.selectedBy.join(', ')})`);

/**
 * The page a section or table at a time, for writing as it is made: at thousands of workloads it
 * is tens of MB as the strings it is joined from.
 */
export function* inventoryHtmlParts<E extends InventoryEdge>(inv: Inventory<E>, layout: MapLayout | undefined, options: HtmlOptions = {}): Generator<string> {
  const title = options.title ?? 'Network inventory';
  yield '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${esc(title)}</title><style>${CSS}</style></head>\n<body class="hide-hubs"><main>\n`;
  for (const line of bodyLines(inv, layout, options, title)) {
    if (typeof line === 'string') yield line;
    else yield* line;
    yield '\n';
  }
  yield `</main><script>${SCRIPT}</script></body></html>\n`;
}

/** The lines of `<main>`: each a string, or the parts of one (the map is most of the page). */
function* bodyLines<E extends InventoryEdge>(inv: Inventory<E>, layout: MapLayout | undefined, options: HtmlOptions, title: string): Generator<string | Iterable<string>> {
  const h = inv.health;
  const components = inv.namespaces.reduce((n, s) => n + s.components.length, 0);
  yield `<h1>${esc(title)}</h1>`;
  yield (
    `<p>Generated by hubble-advisor from the observed baseline: ${formatCount(components)} workloads in ${formatCount(inv.namespaces.length)} namespaces, ` +
      `${formatCount(inv.observedEdges)} observed edges` +
      (h.firstFlowMs !== null && h.lastFlowMs !== null ? `, flows from ${formatTime(h.firstFlowMs)} to ${formatTime(h.lastFlowMs)}` : '') +
      (inv.policies ? `, judged against ${formatCount(inv.policies.policies)} policies from ${formatCount(inv.policies.files.length)} files` : '') +
      '.' +
      (options.generatedAtMs !== undefined ? ` Written at ${formatTime(options.generatedAtMs)}.` : '') +
      '</p>'
  );
  const sections: [string, string][] = [
    ['map-title', 'Service map'],
    ['health', 'Baseline health'],
    ...(inv.policies ? ([['coverage', 'Policy coverage'], ['would-drop', 'What the policies would drop'], ['dropped', 'Dropped flows'], ['unused', 'Rules nothing used'], ['lints', 'Lints']] as [string, string][]) : []),
    ['cross', 'Cross-namespace communication'],
    ['external', 'External egress'],
    ['entities', 'Entities'],
    ...inv.namespaces.map((n): [string, string] => [`ns-${n.namespace}`, n.namespace]),
  ];
  yield `<nav><ol>${sections.map(([id, t]) => `<li><a href="#${esc(id)}">${esc(t)}</a></li>`).join('')}</ol></nav>`;

  yield '<h2 id="map-title">Service map</h2>';
  if (layout === undefined) {
    yield `<p class="map-note">No service map: ${esc(options.mapMissing ?? 'it could not be laid out')}. The tables below list every edge.</p>`;
  } else {
    if (layout.graph.level === 'namespaces') {
      yield (
        `<p class="map-note">${formatCount(layout.graph.workloads)} workloads are more than one map can show readably, so this map shows namespaces: ` +
          'the edges between two namespaces are merged into one line (click it for counts and examples), the edges inside a namespace are counted in its title. ' +
          '<code>hubble-advisor report -o html -n NAMESPACE</code> draws the workloads of the namespaces you name.</p>'
      );
    }
    yield (
      '<div class="map-tools"><span class="legend">' +
        (inv.policies
          ? '<span><i style="background:#1a7f37"></i>allowed</span><span><i style="background:#cf222e"></i>would drop</span><span><i style="background:#bc4c00"></i>dropped (observed)</span><span><i style="background:#8c959f"></i>no policy</span>'
          : '<span><i style="background:#8c959f"></i>observed (no policies loaded)</span><span><i style="background:#bc4c00"></i>dropped (observed)</span>') +
        '</span><label><input type="checkbox" id="show-hubs"> show DNS and hub edges (lines to a node with many peers, e.g. a scraper)</label>' +
        '<label>zoom <input type="range" id="zoom" min="30" max="150" value="100"></label>' +
        '<span>Hover or click an edge or node for its ports and evidence.</span></div>'
    );
    yield mapParts(layout);
    yield '<div id="details" aria-live="polite">Click an edge or a node.</div>';
  }

  yield '<h2 id="health">Baseline health</h2>';
  const lost = h.lostEvents.reduce((n, l) => n + l.lost, 0);
  yield (
    table(
      ['Item', 'Value'],
      [
        ['Time span', esc(h.firstFlowMs !== null && h.lastFlowMs !== null ? `${formatTime(h.firstFlowMs)} to ${formatTime(h.lastFlowMs)} (${formatDuration(h.lastFlowMs - h.firstFlowMs)})` : 'no flows')],
        ['Flows', formatCount(h.flows)],
        ['Verdicts', esc(Object.entries(h.verdicts).map(([v, n]) => `${v} ${formatCount(n)}`).join(', ') || 'none')],
        ['Drop reasons', esc(Object.entries(h.dropReasons).map(([v, n]) => `${v} ${formatCount(n)}`).join(', ') || 'none')],
        [
          'Lost events',
          lost === 0
            ? 'none reported'
            : `<strong>${formatCount(lost)}</strong> (${esc(h.lostEvents.map((l) => `${l.source}: ${formatCount(l.lost)} in ${formatCount(l.reports)} reports, ${formatTime(l.firstMs)} to ${formatTime(l.lastMs)}`).join('; '))}): the baseline has holes`,
        ],
        ['Sources', lines(h.sources.map((s) => `${s.kind} ${s.name} (${s.status}, ${formatCount(s.flows)} flows${s.lostEvents > 0 ? `, ${formatCount(s.lostEvents)} lost` : ''})`))],
      ].map(([k, v]) => [esc(k as string), v as string]),
    )
  );
  if (inv.convergence.length > 0) {
    yield '<p>Convergence: when each namespace last showed an edge never seen before.</p>';
    yield (
      table(
        ['Namespace', 'Edges', 'Last new edge', 'Quiet for (to its last flow)'],
        inv.convergence.map((c) => [esc(c.namespace), formatCount(c.edges), formatTime(c.lastNewEdgeMs), formatDuration(c.lastSeenMs - c.lastNewEdgeMs)]),
      )
    );
  }
  const p = inv.policies;
  if (p) {
    yield '<h2 id="coverage">Policy coverage</h2>';
    yield (
      table(
        ['Component (namespace)', 'Ingress', 'Egress'],
        p.coverage.map((c) => [`${esc(c.name)} (${esc(c.namespace)})`, esc(sideDetail(c.ingress)), esc(sideDetail(c.egress))]),
        'coverage',
      )
    );
    yield '<h2 id="would-drop">What the policies would drop</h2>';
    yield (
      p.wouldDrop.length === 0
        ? '<p>Nothing observed.</p>'
        : table(
            ['From', 'To', 'Port', 'Side', 'Reason', 'Policy', 'Flows'],
            p.wouldDrop.map((w) => [esc(peerLabel(w.edge.from)), esc(peerLabel(w.edge.to)), esc(`${w.edge.port}/${w.edge.protocol}`), esc(w.side), esc(w.reason), esc(w.policies.join(', ') || '-'), formatCount(w.edge.flows)]),
          )
    );
    yield '<h2 id="dropped">Dropped flows</h2>';
    yield (
      p.dropped.length === 0
        ? '<p>None recorded.</p>'
        : table(
            ['From', 'To', 'Port', 'Reason', 'Attempts/flows', 'Last seen', 'Responsible policy', 'Why'],
            p.dropped.map((d) => [
              esc(peerLabel(d.from)),
              esc(peerLabel(d.to)),
              esc(droppedPort(d)),
              esc(d.reason),
              `${formatCount(d.attempts)}/${formatCount(d.flows)}`,
              formatTime(d.lastSeenMs),
              esc(d.policies.join(', ') || '-'),
              esc(d.summary),
            ]),
          )
    );
    yield '<h2 id="unused">Rules nothing used</h2>';
    yield (p.unusedRules.length === 0 ? '<p>None.</p>' : table(['Policy', 'Rule', 'File'], p.unusedRules.map((u) => [esc(u.policy), esc(u.path), esc(u.file ?? '-')])));
    yield '<h2 id="lints">Lints</h2>';
    yield (p.lints.length === 0 ? '<p>None.</p>' : table(['Policy', 'Finding'], p.lints.map((l) => [esc(l.policy), esc(l.message)])));
  }
  yield '<h2 id="cross">Cross-namespace communication</h2>';
  yield (
    inv.crossNamespace.length === 0
      ? '<p>None observed.</p>'
      : table(['From (namespace)', 'To (namespace)', 'Port', 'Purpose'], inv.crossNamespace.map((r) => [esc(`${r.from} (${r.fromNamespace})`), esc(r.to), esc(r.ports), esc(r.purpose)]))
  );
  yield '<h2 id="external">External egress</h2>';
  yield (
    inv.external.length === 0
      ? '<p>None observed.</p>'
      : table(['Component (namespace)', 'FQDNs', 'IPs / CIDRs'], inv.external.map((r) => [esc(`${r.component} (${r.namespace})`), lines(r.fqdns), lines(r.cidrs)]))
  );
  yield '<h2 id="entities">Entities</h2>';
  yield (
    inv.entities.length === 0
      ? '<p>None observed.</p>'
      : table(['Entity', 'Role', 'Components → port'], inv.entities.map((r) => [esc(r.entity), esc(r.role), lines(r.members)]))
  );
  for (const ns of inv.namespaces) {
    yield `<h2 id="ns-${esc(ns.namespace)}">${esc(ns.namespace)}</h2>`;
    const withPolicies = inv.policies !== undefined;
    yield (
      table(
        withPolicies ? ['Component', 'Ingress', 'Egress', 'Policy'] : ['Component', 'Ingress', 'Egress'],
        ns.components.map((r) => {
          const notes = [...(r.kind === 'Deployment' ? [] : [r.kind]), ...r.services.map((s) => `svc ${s}`)];
          return [
            `<strong>${esc(r.name)}</strong>${notes.length > 0 ? ` (${esc(notes.join(', '))})` : ''}`,
            lines(r.ingress.map((c) => c.text)),
            lines(r.egress.map((c) => c.text)),
            ...(withPolicies ? [coverageText(r.coverage)] : []),
          ];
        }),
        'components',
      )
    );
  }
}
