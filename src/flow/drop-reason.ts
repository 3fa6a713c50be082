import { dropReasonCode, dropReasonName } from './enums.js';
import { DecodeError, describe } from './json-fields.js';

/** Marks "no drop reason given"; never stored. */
export const DROP_REASON_PLACEHOLDER = '';

/**
 * `drop_reason_desc` is the enum (name, or number for codes newer than our table); the deprecated
 * numeric `drop_reason` is the fallback older agents and field-masked exports still carry.
 */
export function decodeDropReason(
  desc: unknown,
  numeric: unknown,
  path: string,
): { name: string; code?: number } {
  if (typeof desc === 'string' && desc !== 'DROP_REASON_UNKNOWN') {
    if (/^\d+$/.test(desc)) return { name: dropReasonName(Number(desc)), code: Number(desc) };
    return { name: desc, code: dropReasonCode(desc) };
  }
  if (typeof desc === 'number' && Number.isInteger(desc) && desc > 0) {
    return { name: dropReasonName(desc), code: desc };
  }
  if (desc !== undefined && desc !== null && desc !== 'DROP_REASON_UNKNOWN' && desc !== 0) {
    throw new DecodeError(path, `expected a drop reason name or number, got ${describe(desc)}`);
  }
  if (typeof numeric === 'number' && Number.isInteger(numeric) && numeric > 0) {
    return { name: dropReasonName(numeric), code: numeric };
  }
  return { name: DROP_REASON_PLACEHOLDER };
}
