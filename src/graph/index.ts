/**
 * graph/: flows → the edge graph that recommend (issue 5) and triage (issue 7) read. Pure: imports
 * only flow/, no I/O, no clock.
 *
 * Write side (ingest): `EdgeAggregator.add(flow)` per flow, `take()` per batch → `GraphDelta`,
 * which store/edge-store.ts merges into SQLite inside the batch transaction. `merge.ts` holds the
 * associative merges the store and the property tests share.
 *
 * Read side: store/edge-store.ts `loadGraph(db, options)` reads rows and calls, in order,
 *   `resolveWorkloads(records, config)`  raw workload keys → workloads + selectors,
 *   `indexAnswers(answers, workloads)`    DNS answers by resolved client,
 *   `resolveEdges(rows, workloads, answers, hoursOf)` → `Edge[]` (world IPs → FQDN or CIDR,
 *                                          double observation and reply rules applied),
 * then `filterEdges(edges, filter)` and `convergence(edges)`.
 *
 * Identity (`Peer`): `workload {namespace, workloadKind, name}` (owner, never a pod name),
 * `entity` for reserved identities (kube-apiserver is always an entity, never a CIDR), `fqdn` for
 * world IPs the client resolved via DNS (or Hubble's destination_names), `cidr` (/32 or /128, with
 * enclosing well-known ranges) otherwise.
 */
export * from './model.js';
export { EdgeAggregator, requestDirection, podLabelSet, namespaceLabelSet, labelFactsCount, normaliseName, type GraphDelta, type SkipReason } from './aggregate.js';
export {
  mergeEdgeRecords,
  mergeWorkloadRecords,
  mergeNamespaceRecords,
  mergeDnsAnswers,
  mergeClusterIpRecords,
  emptyCounters,
  emptySets,
  addSides,
  capSet,
  unionCapped,
  compareStrings,
} from './merge.js';
export { classifyEndpoint, reservedPeer, reservedLabelsText } from './identity.js';
export { podWorkload, ownerFromPodName, type PodWorkload } from './workload-rules.js';
export {
  parseWorkloadConfig,
  applyWorkloadRules,
  WorkloadConfigError,
  EMPTY_WORKLOAD_CONFIG,
  type WorkloadConfig,
  type WorkloadRule,
} from './workload-config.js';
export { resolveWorkloads, resolveWorkloadPeers, describeWorkloads, type ResolvedWorkloads, type WorkloadPeer } from './resolve-workloads.js';
export { chooseSelector, commonLabels, isSelectorKey, labelMap, type SelectorResult } from './selector.js';
export {
  resolveEdges,
  resolveEdgesPlain,
  resolveOutlines,
  resolveEnd,
  cidrPeer,
  indexAnswers,
  deriveCounters,
  type StoredEdge,
  type HoursOf,
  type AnswerIndex,
  type EdgeOutline,
  type ResolvedOutline,
} from './resolve.js';
export { convergence } from './convergence.js';
export {
  clusterIpIndex,
  clusterIpIndexOnDemand,
  clusterIpLookupOf,
  endPort,
  indexClusterIps,
  NO_CLUSTER_IPS,
  NODE_ENTITY_KEYS,
  type ClusterIpLookup,
  type ClusterIps,
  type ClusterIpVerdict,
  type EndPorts,
} from './cluster-ips.js';
export {
  parsePeerPattern,
  matchesPeer,
  edgeMatches,
  filterEdges,
  PeerPatternError,
  type PeerPattern,
  type EdgeFilter,
  type FilterableEdge,
  evidenceForFilter,
} from './filter.js';
export {
  edgeKey,
  rawPeerKey,
  peerKey,
  parseRawPeerKey,
  keyPart,
  parseKeyPart,
  workloadKey,
  describePeer,
  peerNamespace,
  INFERRED_KIND,
} from './edge-key.js';
export { httpPathTemplate, httpRequestTemplate } from './http-template.js';
export { enclosingRanges } from './ip-ranges.js';
export { hostCidr, cidrContains } from '../net/cidr.js';
export {
  GRAPH_SNAPSHOT_FORMAT,
  SNAPSHOT_PARTS,
  SnapshotFormatError,
  decodeGraphSnapshot,
  encodeGraphSnapshot,
  snapshotSummary,
  type SnapshotMeta,
  type SnapshotSummary,
  type SnapshotPart,
} from './snapshot-codec.js';
