/**
 * `drops`: dropped flows from the database → groups explained against the loaded policies, each
 * with the smallest patch that would let it through.
 */
import type { EvaluateOptions, Policy } from '../policy/index.js';
import { type Db, hasEdgeGraph, loadWorkloads, loadWorkloadsAndClusterIps, readDnsAnswers, readDroppedFlows } from '../store/index.js';
import { type CombinedFix, combineFixes, type DropGroup, groupDrops, triageDrops, type TriagedDrop, type TriageOptions } from '../triage/index.js';

export interface DropsRequest {
  readonly policies: readonly Policy[];
  /** Drops with either end in one of these namespaces; all when absent or empty. */
  readonly namespaces?: readonly string[];
  /** Only drops at or after this time (ms since the epoch). */
  readonly sinceMs?: number;
  readonly evaluate?: EvaluateOptions;
  readonly attemptWindowMs?: number;
  /** Also work out all fixes as one change (`drops --combine`). */
  readonly combine?: boolean;
}

export interface DropsResult {
  readonly drops: readonly TriagedDrop[];
  /** DROPPED flows read (before grouping). */
  readonly flows: number;
  readonly combined?: CombinedFix;
}

export interface DropGroupsResult {
  readonly groups: readonly DropGroup[];
  readonly flows: number;
}

/** `drops` without policies: the dropped flows grouped by edge and reason, newest first. */
export function dropGroupsFromDatabase(db: Db, request: Omit<DropsRequest, 'policies' | 'evaluate' | 'combine'>): DropGroupsResult {
  const flows = readDroppedFlows(db, {
    ...(request.namespaces && { namespaces: request.namespaces }),
    ...(request.sinceMs !== undefined && { sinceMs: request.sinceMs }),
  });
  const workloads = hasEdgeGraph(db) ? loadWorkloads(db) : [];
  const groups = groupDrops(flows, {
    workloads,
    ...(request.namespaces && { namespaces: request.namespaces }),
    ...(request.attemptWindowMs !== undefined && { attemptWindowMs: request.attemptWindowMs }),
  });
  return { groups: [...groups].sort((a, b) => b.lastSeenMs - a.lastSeenMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), flows: flows.length };
}

export function triageFromDatabase(db: Db, request: DropsRequest): DropsResult {
  return triageRead(readDropsToTriage(db, request), request);
}

/** What `drops --policies` reads from the database before it judges: the drop groups and what fixes name. */
export interface DropsToTriage {
  readonly groups: readonly DropGroup[];
  /** DROPPED flows read (before grouping). */
  readonly flows: number;
  readonly options: Omit<TriageOptions, 'evaluate'>;
}

/** The database side of `triageFromDatabase`, read apart from the judging so the policies can be read meanwhile. */
export function readDropsToTriage(db: Db, request: Omit<DropsRequest, 'policies' | 'evaluate' | 'combine'>): DropsToTriage {
  const flows = readDroppedFlows(db, {
    ...(request.namespaces && { namespaces: request.namespaces }),
    ...(request.sinceMs !== undefined && { sinceMs: request.sinceMs }),
  });
  const graph = hasEdgeGraph(db);
  const { workloads, clusterIps } = loadWorkloadsAndClusterIps(db);
  // DNS answers seen by any client: names for world IPs Hubble did not name (toFQDNs suggestions).
  const names = new Map<string, Set<string>>();
  if (graph) for (const a of readDnsAnswers(db)) names.set(a.ip, (names.get(a.ip) ?? new Set()).add(a.query));
  const groups = groupDrops(flows, {
    workloads,
    ...(request.namespaces && { namespaces: request.namespaces }),
    ...(request.attemptWindowMs !== undefined && { attemptWindowMs: request.attemptWindowMs }),
  });
  return {
    groups,
    flows: flows.length,
    options: {
      workloads,
      namesForIp: (ip: string) => [...(names.get(ip) ?? [])].sort(),
      ...(graph && { clusterIps }),
    },
  };
}

/** `triageFromDatabase` on what `readDropsToTriage` read. */
export function triageRead(read: DropsToTriage, request: Pick<DropsRequest, 'policies' | 'evaluate' | 'combine'>): DropsResult {
  const options = { ...read.options, ...(request.evaluate && { evaluate: request.evaluate }) };
  const drops = triageDrops(read.groups, request.policies, options);
  return {
    drops,
    flows: read.flows,
    ...(request.combine && { combined: combineFixes(read.groups, request.policies, options) }),
  };
}
