import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  type Edge,
  type EdgeFilter,
  type NamespaceConvergence,
  type WorkloadConfig,
  WorkloadConfigError,
  type WorkloadInfo,
  convergence,
  filterEdges,
  parseWorkloadConfig,
} from '../graph/index.js';
import { type Db, loadGraph } from '../store/index.js';
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
}

export interface EdgesResult {
  readonly edges: readonly Edge[];
  readonly workloads: readonly WorkloadInfo[];
  /** Convergence of the selected namespaces (all when none), over all their edges, not only the filtered ones. */
  readonly convergence: readonly NamespaceConvergence[];
}

export function queryEdges(db: Db, query: EdgesQuery = {}): EdgesResult {
  const ns = query.filter?.namespaces;
  const graph = loadGraph(db, {
    ...(ns ? { filter: { namespaces: ns } } : {}),
    ...(query.workloadConfig ? { workloadConfig: query.workloadConfig } : {}),
  });
  return {
    edges: query.filter ? filterEdges(graph.edges, query.filter) : graph.edges,
    workloads: graph.workloads,
    convergence: convergence(graph.edges).filter((c) => ns === undefined || ns.includes(c.namespace)),
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
