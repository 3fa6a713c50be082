export { Backoff, type BackoffOptions } from './backoff.js';
export {
  FLOW_CONTROL_WINDOW,
  KEEPALIVE_MS,
  ObserverConnection,
  RelayError,
  type ConnectionOptions,
  type ResponseDecoder,
  type FlowStream,
  type ServerStatus,
  type StreamEnd,
} from './connection.js';
export { DEFAULT_MAX_KEYS, DEFAULT_OVERLAP_MS, DedupeWindow, contentKey, parseIso, type DedupeOptions, type PackedKeys, type PendingKeys, type StoredResumeState } from './dedupe.js';
export { FILTER_VERDICTS, NO_FILTERS, buildWhitelist, type FilterFlags, type FlowFilterMessage } from './filters.js';
export {
  FlowFollower,
  isFatal,
  sleep,
  type FollowEvent,
  type FollowOptions,
  type FollowResult,
  type GetFlowsRequestMessage,
  type TimestampMessage,
} from './follow.js';
export { LOADER_OPTIONS, PROTO_DIR, loadObserverProto, type ObserverMethods } from './proto.js';
export { DEFAULT_PORT, DEFAULT_SERVER, checkTargetFlags, resolveTarget, type RelayTarget, type TlsConfig, type TlsFlags } from './target.js';
