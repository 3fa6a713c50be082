export { IngestSession, BadLineError, type FlowSink, type IngestOptions, type IngestTotals } from './ingest-session.js';
export { replayFiles, type ReplayOptions, type ReplayFileResult } from './replay.js';
export { defaultSinks } from './sinks.js';
