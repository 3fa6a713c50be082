/**
 * Lays the service map out with elkjs (the Eclipse Layout Kernel): layered, left to right,
 * namespaces as compound nodes, edges routed orthogonally across the hierarchy. The result is
 * absolute coordinates for inline SVG; nothing runs at view time.
 */
import { createRequire } from 'node:module';
import type { ELK, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { Box, MapLayout, ServiceMapGraph } from '../report/index.js';

const GROUP_LABEL_HEIGHT = 22;

/**
 * elk.bundled.js is 1.5 MB of CommonJS: loaded on first use, so commands other than `report` do not
 * pay for it at start-up. Required, not imported: `import()` of CommonJS first scans the whole file
 * for named exports and its module format, a third of what loading it cost. Its types declare an
 * ES default export, while Node hands the constructor over as the module itself.
 */
async function loadElk(): Promise<ELK> {
  const bundled: unknown = createRequire(import.meta.url)('elkjs/lib/elk.bundled.js');
  const mod = bundled as { default?: { default?: unknown } | unknown };
  const ctor = ((mod.default as { default?: unknown } | undefined)?.default ?? mod.default ?? bundled) as new () => ELK;
  return new ctor();
}

export async function layoutServiceMap(graph: ServiceMapGraph): Promise<MapLayout> {
  const elk = await loadElk();
  if (graph.level === 'namespaces') return layoutFlat(elk, graph);
  const children: ElkNode[] = graph.groups.map((g) => ({
    id: g.id,
    layoutOptions: {
      'elk.padding': `[top=${GROUP_LABEL_HEIGHT + 8},left=10,bottom=10,right=10]`,
      'elk.spacing.nodeNode': '10',
    },
    children: graph.nodes.filter((n) => n.group === g.id).map((n) => ({ id: n.id, width: n.width, height: n.height })),
  }));
  // Hub edges (everyone → kube-dns, a scraper → everyone) would dominate the layout: drawn straight, hidden by default.
  const edges: ElkExtendedEdge[] = graph.edges.filter((e) => !e.hub).map((e) => ({ id: e.id, sources: [e.from], targets: [e.to] }));
  const root: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.nodeNode': '14',
      'elk.spacing.edgeNode': '10',
      'elk.spacing.edgeEdge': '4',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      // Thoroughness trades crossing minimisation for time; 7 (the default) takes minutes at 70 apps.
      'elk.layered.thoroughness': '2',
      'elk.padding': '[top=10,left=10,bottom=10,right=10]',
    },
    children,
    edges,
  };
  const out = await elk.layout(root);
  const groups = new Map<string, Box>();
  const nodes = new Map<string, Box>();
  const offsets = new Map<string, [number, number]>([['root', [0, 0]]]);
  for (const g of out.children ?? []) {
    const gx = g.x ?? 0;
    const gy = g.y ?? 0;
    offsets.set(g.id, [gx, gy]);
    groups.set(g.id, { x: gx, y: gy, width: g.width ?? 0, height: g.height ?? 0 });
    for (const n of g.children ?? []) nodes.set(n.id, { x: gx + (n.x ?? 0), y: gy + (n.y ?? 0), width: n.width ?? 0, height: n.height ?? 0 });
  }
  const routes = new Map<string, (readonly [number, number])[]>();
  const collect = (container: ElkNode): void => {
    for (const e of container.edges ?? []) {
      // ELK gives edge coordinates relative to the edge's container (the lowest common ancestor).
      const c = (e as ElkExtendedEdge & { container?: string }).container ?? container.id;
      const [ox, oy] = offsets.get(c) ?? [0, 0];
      const points: [number, number][] = [];
      for (const s of e.sections ?? []) {
        points.push([s.startPoint.x + ox, s.startPoint.y + oy]);
        for (const b of s.bendPoints ?? []) points.push([b.x + ox, b.y + oy]);
        points.push([s.endPoint.x + ox, s.endPoint.y + oy]);
      }
      routes.set(e.id, points);
    }
    for (const child of container.children ?? []) collect(child);
  };
  collect(out);
  straightHubEdges(graph, nodes, routes);
  return { graph, width: out.width ?? 0, height: out.height ?? 0, groups, nodes, edges: routes };
}

/**
 * The namespace map: namespaces, entities and the external nodes flat (no group boxes), layered
 * along the edges that are not hubs; nodes those do not connect are packed in rows (aspect ratio
 * 1.6) instead of one column thousands of pixels tall.
 */
async function layoutFlat(elk: ELK, graph: ServiceMapGraph): Promise<MapLayout> {
  const root: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.separateConnectedComponents': 'true',
      'elk.aspectRatio': '1.6',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.nodeNode': '14',
      'elk.spacing.componentComponent': '14',
      'elk.layered.thoroughness': '2',
      'elk.padding': '[top=10,left=10,bottom=10,right=10]',
    },
    children: graph.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
    edges: graph.edges.filter((e) => !e.hub && e.from !== e.to).map((e) => ({ id: e.id, sources: [e.from], targets: [e.to] })),
  };
  const out = await elk.layout(root);
  const nodes = new Map<string, Box>();
  for (const n of out.children ?? []) nodes.set(n.id, { x: n.x ?? 0, y: n.y ?? 0, width: n.width ?? 0, height: n.height ?? 0 });
  const routes = new Map<string, (readonly [number, number])[]>();
  for (const e of out.edges ?? []) {
    const points: [number, number][] = [];
    for (const s of e.sections ?? []) {
      points.push([s.startPoint.x, s.startPoint.y]);
      for (const b of s.bendPoints ?? []) points.push([b.x, b.y]);
      points.push([s.endPoint.x, s.endPoint.y]);
    }
    routes.set(e.id, points);
  }
  straightHubEdges(graph, nodes, routes);
  return { graph, width: out.width ?? 0, height: out.height ?? 0, groups: new Map(), nodes, edges: routes };
}

/** Hub edges are left out of the layout: drawn straight from one box to the other, hidden until shown. */
function straightHubEdges(graph: ServiceMapGraph, nodes: ReadonlyMap<string, Box>, routes: Map<string, (readonly [number, number])[]>): void {
  for (const e of graph.edges) {
    if (!e.hub) continue;
    const a = nodes.get(e.from);
    const b = nodes.get(e.to);
    if (a && b) routes.set(e.id, [[a.x + a.width, a.y + a.height / 2], [b.x, b.y + b.height / 2]]);
  }
}
