import type { EvidenceField, WorkloadConfig } from '../graph/index.js';
import { UsageError } from '../errors.js';
import { DEFAULT_OPTIONS, type ObservedEdge, type Recommendation, type RecommendOptions, recommend } from '../recommend/index.js';
import type { Db } from '../store/index.js';
import { queryEdges } from './edges.js';

export type RecommendRequest = Pick<RecommendOptions, 'namespaces' | 'kind' | 'baseline'> &
  Partial<Omit<RecommendOptions, 'namespaces' | 'kind' | 'baseline'>> & { readonly workloadConfig?: WorkloadConfig };

const RECOMMEND_EVIDENCE = ['dnsNames', 'httpRequests'] as const satisfies readonly (EvidenceField & keyof ObservedEdge)[];

/**
 * Reads the whole edge graph (peers in other namespaces need their selectors too) and recommends
 * policies for the requested namespaces. A requested namespace without observed workloads is a
 * UsageError naming the ones that have some: an empty answer would look like "nothing to allow"
 * and, with `--out`, empty the folder.
 */
export function recommendFromDatabase(db: Db, request: RecommendRequest): Recommendation {
  // The evidence recommend prints (ObservedEdge's lists) and nothing more.
  const { edges, workloads } = queryEdges(db, { evidence: RECOMMEND_EVIDENCE, ...(request.workloadConfig ? { workloadConfig: request.workloadConfig } : {}) });
  if (request.namespaces !== 'all') {
    const known = new Set<string>();
    for (const e of edges) {
      if (e.from.kind === 'workload') known.add(e.from.namespace);
      if (e.to.kind === 'workload') known.add(e.to.namespace);
    }
    const unknown = request.namespaces.filter((ns) => !known.has(ns));
    if (unknown.length > 0) {
      const list = [...known].sort();
      throw new UsageError(
        `no traffic observed in namespace${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}; ` +
          (list.length > 0 ? `namespaces with traffic: ${list.join(', ')}` : 'the database holds no workload traffic yet'),
      );
    }
  }
  const { workloadConfig: _config, ...options } = request;
  return recommend(edges, workloads, { ...DEFAULT_OPTIONS, ...options });
}
