import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  type Edge,
  type EdgeFilter,
  type EvidenceField,
  type ProjectedEdge,
  type NamespaceConvergence,
  type WorkloadConfig,
  WorkloadConfigError,
  type WorkloadInfo,
  convergence,
  evidenceForFilter,
  filterEdges,
  parseWorkloadConfig,
} from '../graph/index.js';
import { type Db, type LoadGraphOptions, loadGraph } from '../store/index.js';
import { InputError } from '../errors.js';

/**
 * Read-side use cases over the edge graph, for `edges`, `recommend` and triage.
 *
 * - `queryEdges(db, {filter, workloadConfig})` → resolved edges (sorted) plus every workload with
 *   its selector; recommend's `ObservedEdge` and `WorkloadInfo` are picks of these graph types,
 *   so they pass straight to `recommend()`.
 * - `readWorkloadConfig(path)` loads a `--workload-config` YAML/JSON file.
 */
export interface EdgesQuery {
  readonly filter?: EdgeFilter;
  readonly workloadConfig?: WorkloadConfig;
  /** The evidence lists to read (all when absent): see `LoadGraphOptions.evidence`. */
  readonly evidence?: readonly EvidenceField[];
}

export interface EdgesResult<E = Edge> {
  readonly edges: readonly E[];
  readonly workloads: readonly WorkloadInfo[];
  /** Convergence of the selected namespaces (all when none), over all their edges, not only the filtered ones. */
  readonly convergence: readonly NamespaceConvergence[];
}

export function queryEdges(db: Db, query?: EdgesQuery & { readonly evidence?: undefined }): EdgesResult;
export function queryEdges<F extends EvidenceField>(db: Db, query: EdgesQuery & { readonly evidence: readonly F[] }): EdgesResult<ProjectedEdge<F>>;
export function queryEdges(db: Db, query: EdgesQuery = {}): EdgesResult {
  const ns = query.filter?.namespaces;
  const evidence = query.evidence === undefined ? undefined : evidenceForFilter(query.evidence, query.filter);
  const graph = loadGraph(db, {
    ...(ns ? { filter: { namespaces: ns } } : {}),
    ...(query.workloadConfig ? { workloadConfig: query.workloadConfig } : {}),
    ...(evidence ? { evidence } : {}),
    // One call for both overloads: the result is typed by queryEdges' own overloads above.
  } as LoadGraphOptions & { evidence?: undefined });
  let converged: readonly NamespaceConvergence[] | undefined;
  return {
    edges: query.filter ? filterEdges(graph.edges, query.filter) : graph.edges,
    // Read through: the graph describes its workloads on first use only.
    get workloads() {
      return graph.workloads;
    },
    // On first use too: `check` and triage never read it, and at 68,000 edges it cost them ~0.1 s.
    get convergence() {
      return (converged ??= convergence(graph.edges).filter((c) => ns === undefined || ns.includes(c.namespace)));
    },
  };
}

/** Reads and validates a workload rules file (YAML or JSON); problems are InputErrors naming the field. */
export function readWorkloadConfig(path: string): WorkloadConfig {
  const text = readFileSync(path, 'utf8');
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new InputError(path, undefined, undefined, `not YAML or JSON: ${(e as Error).message.split('\n')[0] ?? ''}`);
  }
  try {
    return parseWorkloadConfig(doc);
  } catch (e) {
    if (e instanceof WorkloadConfigError) throw new InputError(path, undefined, e.path, e.reason);
    throw e;
  }
}
