export type * from './model.js';
export { VERDICTS } from './model.js';
export { decodeEvent, decodeFlow, type DecodeResult } from './decode.js';
export { LineDecoder } from './decode-line.js';
export { ownCopy } from './own-copy.js';
export { DecodeError } from './json-fields.js';
export { redactFlow, redactUrl, redactText, isSecretName, REDACTED } from './redact.js';
export { parseTimestamp, isoFromMs, fromEpoch, type Timestamp } from './timestamp.js';
export {
  POLICY_DENIED,
  POLICY_DENY,
  RESERVED_IDENTITIES,
  dropReasonCode,
  dropReasonName,
  isPolicyDropReason,
} from './enums.js';
