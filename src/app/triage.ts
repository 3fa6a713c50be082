/**
 * `drops`: dropped flows from the database → groups explained against the loaded policies, each
 * with the smallest patch that would let it through.
 */
import type { EvaluateOptions, Policy } from '../policy/index.js';
import { type Db, type DroppedFlowQuery, eachDroppedFlow, hasEdgeGraph, loadClusterIpsOnDemand, loadWorkloads, readDnsAnswers } from '../store/index.js';
import type { Flow } from '../flow/index.js';
import { type CombinedFix, combineFixes, type DropGroup, groupDropsInTimeOrder, triageDrops, type TriagedDrop, type TriageOptions } from '../triage/index.js';

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
  const flows = droppedFlows(db, {
    ...(request.namespaces && { namespaces: request.namespaces }),
    ...(request.sinceMs !== undefined && { sinceMs: request.sinceMs }),
  });
  const workloads = hasEdgeGraph(db) ? loadWorkloads(db) : [];
  const groups = groupDropsInTimeOrder(flows, {
    workloads,
    ...(request.namespaces && { namespaces: request.namespaces }),
    ...(request.attemptWindowMs !== undefined && { attemptWindowMs: request.attemptWindowMs }),
  });
  return { groups: [...groups].sort((a, b) => b.lastSeenMs - a.lastSeenMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), flows: flows.count };
}

/**
 * The dropped flows, oldest first, read one at a time as they are grouped (a port scan stores
 * hundreds of thousands; only the groups stay), and how many were read once they have been.
 */
function droppedFlows(db: Db, query: DroppedFlowQuery): Iterable<Flow> & { readonly count: number } {
  let count = 0;
  return {
    get count() {
      return count;
    },
    *[Symbol.iterator]() {
      for (const f of eachDroppedFlow(db, query)) {
        count++;
        yield f;
      }
    },
  };
}

export function triageFromDatabase(db: Db, request: DropsRequest): DropsResult {
  return triageRead(readDropsToTriage(db, request), request);
}

/**
 * What `drops --policies` reads from the database before it judges: the drop groups and what fixes
 * name. Its cluster-address index reads the database as the judging asks it: keep the database
 * open until `triageRead` is done.
 */
export interface DropsToTriage {
  readonly groups: readonly DropGroup[];
  /** DROPPED flows read (before grouping). */
  readonly flows: number;
  readonly options: Omit<TriageOptions, 'evaluate'>;
}

/** The database side of `triageFromDatabase`, read apart from the judging so the policies can be read meanwhile (the database stays open for both). */
export function readDropsToTriage(db: Db, request: Omit<DropsRequest, 'policies' | 'evaluate' | 'combine'>): DropsToTriage {
  const flows = droppedFlows(db, {
    ...(request.namespaces && { namespaces: request.namespaces }),
    ...(request.sinceMs !== undefined && { sinceMs: request.sinceMs }),
  });
  const graph = hasEdgeGraph(db);
  // The workloads from the stored snapshot when it is current; the cluster addresses only as
  // the judging asks about them (a few dozen of a large cluster's thousands).
  const workloads = loadWorkloads(db);
  const clusterIps = loadClusterIpsOnDemand(db);
  // DNS answers seen by any client: names for world IPs Hubble did not name (toFQDNs suggestions).
  const names = new Map<string, Set<string>>();
  if (graph) for (const a of readDnsAnswers(db)) names.set(a.ip, (names.get(a.ip) ?? new Set()).add(a.query));
  const groups = groupDropsInTimeOrder(flows, {
    workloads,
    ...(request.namespaces && { namespaces: request.namespaces }),
    ...(request.attemptWindowMs !== undefined && { attemptWindowMs: request.attemptWindowMs }),
  });
  return {
    groups,
    flows: flows.count,
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
