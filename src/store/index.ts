export { OBSERVE_PAGE_CACHE_KIB, REPLAY_PAGE_CACHE_KIB, limitPageCache, openDatabase, migrate, schemaVersion, type Db, type OpenOptions } from './open.js';
export { StoreError } from './errors.js';
export { MIGRATIONS, type Migration } from './migrations/index.js';
export {
  IngestWriter,
  emptyBatch,
  BAD_LINES_KEPT,
  type IngestBatch,
  type BadLine,
  type SourceKind,
  type SourceStatus,
  type FingerprintedSource,
  type CommittedRange,
  type StoredTotals,
  processAlive,
} from './ingest-writer.js';
export {
  newestFlowMs,
  readSummary,
  type DatabaseSummary,
  type SourceRow,
  type LostEventSummary,
  type NodeStatusRow,
  type BadLineRow,
} from './status-queries.js';
export { lastFlowTimeOf, readRelayResumeState, RelayResumeWriter, type RelayResumeState, type StoredKeys } from './resume-queries.js';
export { eachDroppedFlow, type DroppedFlowQuery } from './triage-queries.js';
export { EDGE_SLOTS, EdgeWriter, type EdgeWriterBounds, OBSERVE_EDGE_SLOTS } from './edge-writer.js';
export {
  afterGraphResolved,
  loadGraph,
  storeGraphSnapshot,
  storedEdgeRows,
  readClusterIpRecords,
  loadClusterIps,
  loadClusterIpsOnDemand,
  loadEdges,
  loadWorkloads,
  readWorkloadRecords,
  readDnsAnswers,
  readNamespaceRecords,
  readEdgeGraphSummary,
  hasEdgeGraph,
  type Graph,
  type LoadGraphOptions,
  type EdgeGraphSummary,
} from './edge-store.js';
export { OBSERVE_CHECKPOINT_EVERY_MS, OBSERVE_WAL_CHECKPOINT_PAGES, REPLAY_WAL_CHECKPOINT_PAGES, WalCheckpoints, checkpointWalAfter } from './wal-checkpoints.js';
