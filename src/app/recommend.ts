import type { WorkloadConfig } from '../graph/index.js';
import { DEFAULT_OPTIONS, type Recommendation, type RecommendOptions, recommend } from '../recommend/index.js';
import type { Db } from '../store/index.js';
import { queryEdges } from './edges.js';

export type RecommendRequest = Pick<RecommendOptions, 'namespaces' | 'kind' | 'baseline'> &
  Partial<Omit<RecommendOptions, 'namespaces' | 'kind' | 'baseline'>> & { readonly workloadConfig?: WorkloadConfig };

/**
 * Reads the whole edge graph (peers in other namespaces need their selectors too) and recommends
 * policies for the requested namespaces.
 */
export function recommendFromDatabase(db: Db, request: RecommendRequest): Recommendation {
  const { edges, workloads } = queryEdges(db, request.workloadConfig ? { workloadConfig: request.workloadConfig } : {});
  const { workloadConfig: _config, ...options } = request;
  return recommend(edges, workloads, { ...DEFAULT_OPTIONS, ...options });
}
