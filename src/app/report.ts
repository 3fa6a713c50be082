/**
 * `report`: the network inventory of the baseline (Markdown or self-contained HTML with a service
 * map). Reads the graph once, evaluates the policies once per edge, lays the map out with elkjs.
 */
import type { EvaluateOptions, Policy } from '../policy/index.js';
import {
  buildInventory,
  type BaselineHealth,
  type Inventory,
  type InventoryEdge,
  type PolicyFindings,
  judgedEdgeStatus,
  observedEdgeStatus,
  policyFindings,
  inventoryHtmlParts,
  renderInventoryMarkdown,
  MAP_WORKLOAD_LIMIT,
  mapsWorkloads,
  reportMapGraph,
  scopeMapGraph,
  type ServiceMapGraph,
} from '../report/index.js';
import { type Db, readSummary } from '../store/index.js';
import { layoutServiceMap } from './report-layout.js';
import { type EdgesResult, queryEdges } from './edges.js';
import { triageFromDatabase } from './triage.js';
import type { EvidenceField, WorkloadConfig } from '../graph/index.js';

export interface ReportRequest {
  readonly namespaces?: readonly string[];
  /** Loaded policies (with `--policies`); the policy sections appear only then. */
  readonly policies?: { readonly policies: readonly Policy[]; readonly files: readonly string[] };
  readonly evaluate?: EvaluateOptions;
  readonly workloadConfig?: WorkloadConfig;
}

/** The evidence the Markdown inventory prints (without `--policies`, which judge every edge in full). */
const MARKDOWN_EVIDENCE = ['services', 'httpRequests'] as const satisfies readonly EvidenceField[];

export function buildReport(db: Db, request: ReportRequest = {}): Inventory {
  // The whole graph: peers in other namespaces need their names and labels too.
  const graph = queryEdges(db, request.workloadConfig ? { workloadConfig: request.workloadConfig } : {});
  const ns = namespacesOf(request);
  const findings = request.policies
    ? policyFindings({
        edges: graph.edges,
        workloads: graph.workloads,
        policies: request.policies.policies,
        files: request.policies.files,
        drops: triageFromDatabase(db, { policies: request.policies.policies, ...(ns && { namespaces: ns }), ...(request.evaluate && { evaluate: request.evaluate }) }).drops,
        ...(ns && { namespaces: ns }),
        ...(request.evaluate && { evaluate: request.evaluate }),
      })
    : undefined;
  return inventoryOf(db, request, graph, findings);
}

/**
 * `buildReport` for the Markdown: without `--policies` the edges carry only the evidence it
 * prints, which at tens of thousands of edges is most of what the read costs.
 */
export function buildMarkdownReport(db: Db, request: ReportRequest = {}): Inventory<InventoryEdge> {
  if (request.policies) return buildReport(db, request);
  const graph = queryEdges(db, { evidence: MARKDOWN_EVIDENCE, ...(request.workloadConfig ? { workloadConfig: request.workloadConfig } : {}) });
  return inventoryOf(db, request, graph, undefined);
}

const namespacesOf = (request: ReportRequest): readonly string[] | undefined => (request.namespaces && request.namespaces.length > 0 ? request.namespaces : undefined);

function inventoryOf<E extends InventoryEdge>(db: Db, request: ReportRequest, graph: EdgesResult<E>, findings: PolicyFindings | undefined): Inventory<E> {
  // The report reads the graph itself; the summary's graph part would resolve every edge a second time.
  const health = healthOf(readSummary(db, { graph: false }));
  const ns = namespacesOf(request);
  return buildInventory({ edges: graph.edges, workloads: graph.workloads, convergence: graph.convergence, health, ...(ns && { namespaces: ns }), ...(findings && { policies: findings }) });
}

/**
 * The report's text, in parts to write as they are made (the HTML a table at a time): the Markdown
 * from `buildMarkdownReport`; the HTML (with its map) from `buildReport`, or, for a scope whose map
 * shows namespaces (more than MAP_WORKLOAD_LIMIT workloads), from `buildMarkdownReport`: such a map
 * and the tables print no other evidence list, and at thousands of workloads the lists they leave
 * unread are most of what the read costs.
 */
export async function reportParts(db: Db, request: ReportRequest, options: RenderOptions): Promise<Iterable<string>> {
  const at = options.generatedAtMs !== undefined ? { generatedAtMs: options.generatedAtMs } : {};
  if (options.format === 'markdown') return [renderInventoryMarkdown(buildMarkdownReport(db, request), at)];
  if (!request.policies) {
    const inv = buildMarkdownReport(db, request);
    if (!mapsWorkloads(inv)) return htmlParts(inv, scopeMapGraph(inv, observedEdgeStatus), options);
  }
  return reportInventoryParts(buildReport(db, request), options);
}

function healthOf(s: ReturnType<typeof readSummary>): BaselineHealth {
  const first = s.sources.map((x) => x.firstFlowMs).filter((x): x is number => x !== null);
  const last = s.sources.map((x) => x.lastFlowMs).filter((x): x is number => x !== null);
  return {
    firstFlowMs: first.length > 0 ? Math.min(...first) : null,
    lastFlowMs: last.length > 0 ? Math.max(...last) : null,
    flows: s.sources.reduce((n, x) => n + x.flows, 0),
    sources: s.sources.map((x) => ({ name: x.name, kind: x.kind, status: x.status, flows: x.flows, lostEvents: x.lostEvents })),
    lostEvents: s.lostEvents.map((l) => ({ source: l.lostSource, reports: l.events, lost: l.numLost, firstMs: l.firstMs, lastMs: l.lastMs })),
    verdicts: s.verdicts,
    dropReasons: s.dropReasons,
  };
}

export interface RenderOptions {
  readonly format: 'markdown' | 'html';
  readonly generatedAtMs?: number;
  /** Where a warning goes (stderr in the CLI). */
  readonly warn?: (message: string) => void;
}

/** The text of an inventory already built, in parts. */
export async function reportInventoryParts(inv: Inventory, options: RenderOptions): Promise<Iterable<string>> {
  const at = options.generatedAtMs !== undefined ? { generatedAtMs: options.generatedAtMs } : {};
  if (options.format === 'markdown') return [renderInventoryMarkdown(inv, at)];
  return htmlParts(inv, reportMapGraph(inv, inv.policies ? judgedEdgeStatus(inv.policies.edgeStatus) : observedEdgeStatus), options);
}

/** The HTML of an inventory with its map (`graph`, undefined when the scope is too big for one). */
async function htmlParts<E extends InventoryEdge>(inv: Inventory<E>, graph: ServiceMapGraph | undefined, options: RenderOptions): Promise<Iterable<string>> {
  const at = options.generatedAtMs !== undefined ? { generatedAtMs: options.generatedAtMs } : {};
  if (graph === undefined) {
    return inventoryHtmlParts(inv, undefined, { ...at, mapMissing: `${inv.workloads.length} workloads in more namespaces than a map can show; name some with -n (up to ${MAP_WORKLOAD_LIMIT} workloads are drawn one by one)` });
  }
  try {
    return inventoryHtmlParts(inv, await layoutServiceMap(graph), at);
  } catch (err) {
    // The tables are the report; a map the layout engine cannot place must not cost the user them.
    options.warn?.(`report: the service map could not be laid out (${err instanceof Error ? err.message : String(err)}); the report has no map`);
    return inventoryHtmlParts(inv, undefined, { ...at, mapMissing: 'the layout engine failed on this graph; name fewer namespaces with -n' });
  }
}
