export { IngestSession, BadLineError, DEFAULT_BATCH_SIZE, FILE_BATCH_SIZE, type FlowSink, type IngestOptions, type IngestTotals } from './ingest-session.js';
export { replayFiles, type ReplayOptions, type ReplayFileResult } from './replay.js';
export { defaultSinks } from './sinks.js';
export { writePolicyDirectory, policyFileName, policyFiles } from './write-policies.js';
// observe.js loads grpc-js: the CLI imports it when `observe` runs, so only its types are here.
export type { ObserveOptions, ObserveNotice, ObserveResult, ObserveStats, StopReason } from './observe.js';
export { EdgeSink } from './edge-sink.js';
export { queryEdges, readWorkloadConfig, type EdgesQuery, type EdgesResult } from './edges.js';
export { recommendFromDatabase, type RecommendRequest } from './recommend.js';
export { triageFromDatabase, readDropsToTriage, triageRead, dropGroupsFromDatabase, type DropsToTriage, type DropsRequest, type DropsResult, type DropGroupsResult } from './triage.js';
export { checkFromDatabase, checkPlanned, readCheckPlan, diffFromDatabase, explainFromDatabase, type CheckRequest, type CheckScope, type DiffRequest, type ExplainRequest } from './check.js';
export { loadPolicies, loadPolicySet, type LoadPoliciesOptions, type LoadedPolicies, type LoadedPolicySet } from './load-policies.js';
export { loadPoliciesInBackground, loadPolicySetInBackground, type BackgroundPolicyLoad } from './load-policies-background.js';
export { proposeFromDatabase, proposalDiff, applyEdits, type ProposeRequest } from './propose.js';
export { buildMarkdownReport, buildReport, reportInventoryParts, reportParts, type ReportRequest, type RenderOptions } from './report.js';
