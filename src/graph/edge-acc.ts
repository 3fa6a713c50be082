import { type Flow, ownCopy } from '../flow/index.js';
import { httpRequestTemplate } from './http-template.js';
import { reservedLabelsText } from './identity.js';
import { emptyCounters, sortRecord } from './merge.js';
import { type CappedSet, type EdgeProtocol, type EdgeRecord, SET_FIELDS, SET_LIMITS, type SetField, type SideCounters } from './model.js';
import type { Resolved } from './peer-cache.js';

/**
 * The mutable per-batch accumulator of one edge: counting a flow into it, its evidence sets, and
 * turning it into an `EdgeRecord` at the end of the batch.
 */

const HOUR_MS = 3_600_000;

export interface EdgeAcc {
  readonly from: Resolved;
  readonly to: Resolved;
  readonly protocol: EdgeProtocol;
  readonly port: number;
  readonly sides: [SideCounters, SideCounters, SideCounters];
  l7Requests: number;
  firstSeenMs: number;
  lastSeenMs: number;
  lastHour: number;
  /**
   * Distinct hours, in the order first seen (sorted by `toRecord`). An array, not a Set: an edge
   * sees one or two hours in a batch, and a Set's table cost ~80 bytes more for each of ~17,000
   * edges a batch holds at 3,000 workloads.
   */
  readonly hours: number[];
  dropReasons: Map<string, number> | undefined;
  readonly sets: Partial<Record<SetField, MinK>>;
}

/** The K smallest distinct values seen, sorted, and whether there were more (a sorted-array set). */
export interface MinK {
  readonly values: string[];
  truncated: boolean;
}

export function newEdge(from: Resolved, to: Resolved, protocol: EdgeProtocol, port: number, timeMs: number): EdgeAcc {
  return {
    from,
    to,
    protocol,
    port,
    sides: [emptyCounters(), emptyCounters(), emptyCounters()],
    l7Requests: 0,
    firstSeenMs: timeMs,
    lastSeenMs: timeMs,
    lastHour: -1,
    hours: [],
    dropReasons: undefined,
    sets: {},
  };
}

export function countFlow(e: EdgeAcc, flow: Flow): void {
  const side = e.sides[flow.trafficDirection === 'EGRESS' ? 0 : flow.trafficDirection === 'INGRESS' ? 1 : 2];
  side.flows++;
  if (flow.eventType?.type === 5) side.verdicts++;
  else if (flow.type !== 'L7') {
    const l4 = flow.l4;
    if (l4?.protocol === 'TCP' ? l4.flags?.SYN === true && l4.flags.ACK !== true : flow.traceReason === 'NEW') side.connections++;
  }
  switch (flow.verdict) {
    case 'FORWARDED':
      side.forwarded++;
      break;
    case 'REDIRECTED':
      side.forwarded++;
      side.redirected++;
      break;
    case 'DROPPED': {
      side.dropped++;
      const reason = flow.dropReason ?? (flow.type === 'L7' ? 'L7_DENIED' : 'UNKNOWN');
      e.dropReasons ??= new Map();
      e.dropReasons.set(reason, (e.dropReasons.get(reason) ?? 0) + 1);
      break;
    }
    case 'AUDIT':
      side.audit++;
      break;
    case 'ERROR':
      side.errors++;
      break;
    default:
      break;
  }
  if (flow.type === 'L7') e.l7Requests++;
  const t = flow.timeMs;
  if (t < e.firstSeenMs) e.firstSeenMs = t;
  if (t > e.lastSeenMs) e.lastSeenMs = t;
  const hour = Math.floor(t / HOUR_MS);
  if (hour !== e.lastHour) {
    if (!e.hours.includes(hour)) e.hours.push(hour);
    e.lastHour = hour;
  }
}

/**
 * Keeps the K smallest distinct values in a sorted array: no hashing, and merging stays exact.
 * A value kept is a copy of its own (it may be cut from the flow's line). Returns the characters it
 * kept (0 when the value was there already or did not enter).
 */
function addTo(e: EdgeAcc, field: SetField, value: string): number {
  let s = e.sets[field];
  if (s === undefined) {
    e.sets[field] = { values: [ownCopy(value)], truncated: false };
    return value.length;
  }
  const values = s.values;
  const limit = SET_LIMITS[field];
  const last = values[values.length - 1] as string;
  if (value === last) return 0;
  if (value > last) {
    if (values.length >= limit) {
      s.truncated = true;
      return 0;
    }
    values.push(ownCopy(value));
    return value.length;
  }
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as string) < value) lo = mid + 1;
    else hi = mid;
  }
  if (values[lo] === value) return 0;
  values.splice(lo, 0, ownCopy(value));
  if (values.length > limit) {
    values.pop();
    s.truncated = true;
  }
  return value.length;
}

/** Adds the flow's evidence to the edge's sets; returns the characters the sets newly keep. */
export function addEvidence(e: EdgeAcc, flow: Flow): number {
  let kept = 0;
  if (e.from.peer.kind === 'workload') {
    if (flow.source.podName) kept += addTo(e, 'srcPods', flow.source.podName);
  } else {
    const r = reservedLabelsText(flow.source);
    if (r !== undefined) kept += addTo(e, 'srcReserved', r);
  }
  const to = e.to.peer;
  if (to.kind === 'workload') {
    if (flow.destination.podName) kept += addTo(e, 'dstPods', flow.destination.podName);
  } else {
    const r = reservedLabelsText(flow.destination);
    if (r !== undefined) kept += addTo(e, 'dstReserved', r);
  }
  if (to.kind === 'world-ip') for (const n of flow.destinationNames) kept += addTo(e, 'destinationNames', normaliseName(n));
  const svc = flow.destinationService;
  if (svc?.name) kept += addTo(e, 'services', `${svc.namespace ?? ''}/${svc.name}`);
  const l7 = flow.l7;
  if (l7 !== undefined) {
    if (l7.dns !== undefined) {
      kept += addTo(e, 'l7Protocols', 'dns');
      const q = normaliseName(l7.dns.query);
      if (q !== '') kept += addTo(e, 'dnsNames', q);
    } else if (l7.http !== undefined) {
      kept += addTo(e, 'l7Protocols', 'http');
      kept += addTo(e, 'httpRequests', httpRequestTemplate(l7.http.method, l7.http.url));
    } else if (l7.kafka !== undefined) kept += addTo(e, 'l7Protocols', 'kafka');
  }
  if (flow.eventType?.type === 5) {
    for (const p of flow.egressAllowedBy) kept += addTo(e, 'allowedBy', policyRef(p));
    for (const p of flow.ingressAllowedBy) kept += addTo(e, 'allowedBy', policyRef(p));
    for (const p of flow.egressDeniedBy) kept += addTo(e, 'deniedBy', policyRef(p));
    for (const p of flow.ingressDeniedBy) kept += addTo(e, 'deniedBy', policyRef(p));
  }
  return kept;
}

function policyRef(p: { readonly kind?: string; readonly namespace?: string; readonly name?: string }): string {
  return `${p.kind ?? 'CiliumNetworkPolicy'}/${p.namespace ?? ''}/${p.name ?? ''}`;
}

/** What an edge that never saw a value of a set records for it (shared: records are not changed). */
const NO_VALUES: CappedSet = Object.freeze({ values: Object.freeze([] as string[]) as string[], truncated: false });

/**
 * The record of an accumulator the aggregator lets go of (at the end of a batch): its counters and
 * sets are handed over, not copied, which halves what a big batch holds at its end.
 */
export function toRecord(e: EdgeAcc): EdgeRecord {
  const sets = {} as Record<SetField, CappedSet>;
  for (const f of SET_FIELDS) sets[f] = e.sets[f] ?? NO_VALUES;
  const [egress, ingress, unknown] = e.sides;
  return {
    from: e.from.peer,
    to: e.to.peer,
    protocol: e.protocol,
    port: e.port,
    sides: { egress, ingress, unknown },
    l7Requests: e.l7Requests,
    firstSeenMs: e.firstSeenMs,
    lastSeenMs: e.lastSeenMs,
    hours: e.hours.sort((a, b) => a - b),
    dropReasons: e.dropReasons === undefined ? {} : sortRecord(Object.fromEntries(e.dropReasons)),
    sets,
  };
}

/** `Example.COM.` → `example.com`. */
export function normaliseName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

