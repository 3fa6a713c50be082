export { IngestSession, BadLineError, type FlowSink, type IngestOptions, type IngestTotals } from './ingest-session.js';
export { replayFiles, type ReplayOptions, type ReplayFileResult } from './replay.js';
export { defaultSinks } from './sinks.js';
export { writePolicyDirectory, policyFileName } from './write-policies.js';
export { observe, msToTimestamp, RelayUnreachableError, type ObserveOptions, type ObserveNotice, type ObserveResult, type ObserveStats, type StopReason } from './observe.js';
export { EdgeSink } from './edge-sink.js';
export { queryEdges, readWorkloadConfig, type EdgesQuery, type EdgesResult } from './edges.js';
export { recommendFromDatabase, type RecommendRequest } from './recommend.js';
