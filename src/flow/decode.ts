/**
 * Decodes one Hubble event, from any recorded format or from gRPC, into the normalised model.
 *
 * Accepted shapes (hubble-api.md §3):
 * - `hubble observe -o json|jsonpb` and exporter envelopes: `{"flow"|"lost_events"|"node_status"|
 *   "agent_event"|"debug_event": …, "node_name", "time"}`;
 * - legacy `-o json` (CLI <= 0.10): a bare Flow, or a bare LostEvent;
 * - proto-loader objects from GetFlows (`keepCase`, enums and longs as strings, `oneofs`).
 * Unknown fields are ignored (newer agents add them); a known field with the wrong type fails the
 * whole record with the field's path. Field masks can remove any field, so every field is optional.
 */
import { ENDPOINT_CACHE_CHARS, MAX_CACHED_ENDPOINT_CHARS, endpointChars } from './cache-bounds.js';
import { sharedLabels } from './label-lists.js';
import {
  DROP_REASON_PLACEHOLDER,
  decodeDropReason,
} from './drop-reason.js';
import {
  FLOW_TYPE_BY_NUMBER,
  IP_VERSION_BY_NUMBER,
  L7_TYPE_BY_NUMBER,
  LOST_SOURCE_BY_NUMBER,
  NODE_STATE_BY_NUMBER,
  TRACE_REASON_BY_NUMBER,
  TRAFFIC_DIRECTION_BY_NUMBER,
  VERDICT_BY_NUMBER,
  observationPointName,
} from './enums.js';
import {
  DecodeError,
  type JsonObject,
  describe,
  field,
  isObject,
  objectList,
  optBool,
  optEnum,
  optInteger,
  optObject,
  optString,
  optUint64String,
  stringList,
} from './json-fields.js';
import type {
  DnsRecord,
  Endpoint,
  EventType,
  Flow,
  HttpRecord,
  HubbleEvent,
  IpInfo,
  KafkaRecord,
  Layer4,
  Layer7,
  LostEvent,
  NodeStatusEvent,
  PolicyRef,
  Service,
  TcpFlags,
  Workload,
} from './model.js';
import { parseTimestamp } from './timestamp.js';

export const NO_POLICIES: readonly PolicyRef[] = Object.freeze([]);

export type DecodeResult =
  | { readonly ok: true; readonly event: HubbleEvent }
  | { readonly ok: false; readonly error: DecodeError };

export function decodeEvent(value: unknown): DecodeResult {
  try {
    return { ok: true, event: decodeEventOrThrow(value) };
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, error: e };
    throw e;
  }
}

function decodeEventOrThrow(value: unknown): HubbleEvent {
  if (!isObject(value)) throw new DecodeError('(line)', `expected a JSON object, got ${describe(value)}`);
  const nodeName = optString(field(value, 'node_name', 'nodeName'), 'node_name');
  const envelopeTime = field(value, 'time');
  const flow = value['flow'];
  if (flow !== undefined && flow !== null) {
    return { kind: 'flow', flow: decodeFlow(asObject(flow, 'flow'), 'flow', nodeName) };
  }
  const lost = field(value, 'lost_events', 'lostEvents');
  if (lost !== undefined && lost !== null) {
    return { kind: 'lost', lost: decodeLost(asObject(lost, 'lost_events'), 'lost_events', nodeName, envelopeTime) };
  }
  const status = field(value, 'node_status', 'nodeStatus');
  if (status !== undefined && status !== null) {
    return { kind: 'node-status', status: decodeNodeStatus(asObject(status, 'node_status'), envelopeTime) };
  }
  if (field(value, 'agent_event', 'agentEvent') !== undefined) return { kind: 'other', what: 'agent_event' };
  if (field(value, 'debug_event', 'debugEvent') !== undefined) return { kind: 'other', what: 'debug_event' };
  if (field(value, 'num_events_lost', 'numEventsLost') !== undefined) {
    return { kind: 'lost', lost: decodeLost(value, '', nodeName, undefined) };
  }
  if (looksLikeBareFlow(value)) return { kind: 'flow', flow: decodeFlow(value, '', undefined) };
  throw new DecodeError('(line)', 'not a Hubble event: no flow, lost_events, node_status or flow fields');
}

function looksLikeBareFlow(v: JsonObject): boolean {
  return 'verdict' in v || 'source' in v || 'destination' in v || 'IP' in v || 'l4' in v || 'time' in v;
}

function asObject(v: unknown, path: string): JsonObject {
  if (!isObject(v)) throw new DecodeError(path, `expected an object, got ${describe(v)}`);
  return v;
}

function p(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/** Raw members of a Flow object, under their proto names whichever spelling the producer used. */
interface RawFlow {
  time?: unknown;
  uuid?: unknown;
  verdict?: unknown;
  drop_reason?: unknown;
  drop_reason_desc?: unknown;
  IP?: unknown;
  l4?: unknown;
  source?: unknown;
  destination?: unknown;
  Type?: unknown;
  node_name?: unknown;
  source_names?: unknown;
  destination_names?: unknown;
  l7?: unknown;
  reply?: unknown;
  is_reply?: unknown;
  event_type?: unknown;
  source_service?: unknown;
  destination_service?: unknown;
  traffic_direction?: unknown;
  policy_match_type?: unknown;
  trace_observation_point?: unknown;
  trace_reason?: unknown;
  egress_allowed_by?: unknown;
  ingress_allowed_by?: unknown;
  egress_denied_by?: unknown;
  ingress_denied_by?: unknown;
  Summary?: unknown;
}

/**
 * One pass over the keys actually present: protojson omits zero values, so a flow carries far
 * fewer keys than the schema has, and unknown keys (newer agents) fall through untouched. The
 * switch also accepts the lowerCamelCase spellings protojson readers accept; the first spelling
 * seen wins.
 */
function collectFlowFields(f: JsonObject): RawFlow {
  const r: RawFlow = {};
  for (const key in f) {
    const v = f[key];
    switch (key) {
      case 'time': r.time ??= v; break;
      case 'uuid': r.uuid ??= v; break;
      case 'verdict': r.verdict ??= v; break;
      case 'IP': case 'ip': r.IP ??= v; break;
      case 'l4': r.l4 ??= v; break;
      case 'source': r.source ??= v; break;
      case 'destination': r.destination ??= v; break;
      case 'Type': case 'type': r.Type ??= v; break;
      case 'node_name': case 'nodeName': r.node_name ??= v; break;
      case 'event_type': case 'eventType': r.event_type ??= v; break;
      case 'traffic_direction': case 'trafficDirection': r.traffic_direction ??= v; break;
      case 'is_reply': case 'isReply': r.is_reply ??= v; break;
      case 'reply': r.reply ??= v; break;
      case 'Summary': case 'summary': r.Summary ??= v; break;
      case 'trace_observation_point': case 'traceObservationPoint': r.trace_observation_point ??= v; break;
      case 'trace_reason': case 'traceReason': r.trace_reason ??= v; break;
      case 'l7': r.l7 ??= v; break;
      case 'drop_reason': case 'dropReason': r.drop_reason ??= v; break;
      case 'drop_reason_desc': case 'dropReasonDesc': r.drop_reason_desc ??= v; break;
      case 'source_names': case 'sourceNames': r.source_names ??= v; break;
      case 'destination_names': case 'destinationNames': r.destination_names ??= v; break;
      case 'source_service': case 'sourceService': r.source_service ??= v; break;
      case 'destination_service': case 'destinationService': r.destination_service ??= v; break;
      case 'policy_match_type': case 'policyMatchType': r.policy_match_type ??= v; break;
      case 'egress_allowed_by': case 'egressAllowedBy': r.egress_allowed_by ??= v; break;
      case 'ingress_allowed_by': case 'ingressAllowedBy': r.ingress_allowed_by ??= v; break;
      case 'egress_denied_by': case 'egressDeniedBy': r.egress_denied_by ??= v; break;
      case 'ingress_denied_by': case 'ingressDeniedBy': r.ingress_denied_by ??= v; break;
      default: break;
    }
  }
  return r;
}

export function decodeFlow(f: JsonObject, path: string, envelopeNode: string | undefined): Flow {
  const r = collectFlowFields(f);
  if (r.time === undefined || r.time === null) throw new DecodeError(p(path, 'time'), 'missing');
  const time = parseTimestamp(r.time, p(path, 'time'));
  const drop =
    r.drop_reason_desc === undefined && r.drop_reason === undefined
      ? undefined
      : decodeDropReason(r.drop_reason_desc, r.drop_reason, p(path, 'drop_reason_desc'));
  const isReply =
    r.is_reply === undefined
      ? // CLI <= 0.10 and old agents only set the deprecated `reply` bool; absent there means unknown.
        r.reply === true
        ? true
        : undefined
      : optBool(r.is_reply, p(path, 'is_reply'));
  return {
    time: time.iso,
    timeMs: time.ms,
    uuid: r.uuid === undefined ? undefined : optString(r.uuid, p(path, 'uuid')) || undefined,
    verdict:
      r.verdict === undefined
        ? 'VERDICT_UNKNOWN'
        : (optEnum(r.verdict, p(path, 'verdict'), VERDICT_BY_NUMBER, 'VERDICT_UNKNOWN') ?? 'VERDICT_UNKNOWN'),
    dropReason: drop && drop.name !== DROP_REASON_PLACEHOLDER ? drop.name : undefined,
    dropReasonCode: drop && drop.name !== DROP_REASON_PLACEHOLDER ? drop.code : undefined,
    ip: r.IP === undefined ? undefined : decodeIp(r.IP, p(path, 'IP')),
    l4: r.l4 === undefined ? undefined : decodeL4(r.l4, p(path, 'l4')),
    source: r.source === undefined ? EMPTY_ENDPOINT : decodeEndpoint(r.source, p(path, 'source')),
    destination: r.destination === undefined ? EMPTY_ENDPOINT : decodeEndpoint(r.destination, p(path, 'destination')),
    type: r.Type === undefined ? undefined : optEnum(r.Type, p(path, 'Type'), FLOW_TYPE_BY_NUMBER, 'UNKNOWN_TYPE'),
    nodeName: (r.node_name === undefined ? undefined : optString(r.node_name, p(path, 'node_name'))) ?? envelopeNode,
    sourceNames: stringList(r.source_names, p(path, 'source_names')),
    destinationNames: stringList(r.destination_names, p(path, 'destination_names')),
    l7: r.l7 === undefined ? undefined : decodeL7(r.l7, p(path, 'l7')),
    isReply,
    eventType: r.event_type === undefined ? undefined : decodeEventType(r.event_type, p(path, 'event_type')),
    sourceService: r.source_service === undefined ? undefined : decodeService(r.source_service, p(path, 'source_service')),
    destinationService:
      r.destination_service === undefined ? undefined : decodeService(r.destination_service, p(path, 'destination_service')),
    trafficDirection:
      r.traffic_direction === undefined
        ? 'TRAFFIC_DIRECTION_UNKNOWN'
        : (optEnum(r.traffic_direction, p(path, 'traffic_direction'), TRAFFIC_DIRECTION_BY_NUMBER, 'TRAFFIC_DIRECTION_UNKNOWN') ??
          'TRAFFIC_DIRECTION_UNKNOWN'),
    policyMatchType: r.policy_match_type === undefined ? undefined : optInteger(r.policy_match_type, p(path, 'policy_match_type')),
    traceObservationPoint:
      r.trace_observation_point === undefined
        ? undefined
        : decodeObservationPoint(r.trace_observation_point, p(path, 'trace_observation_point')),
    traceReason:
      r.trace_reason === undefined
        ? undefined
        : optEnum(r.trace_reason, p(path, 'trace_reason'), TRACE_REASON_BY_NUMBER, 'TRACE_REASON_UNKNOWN'),
    egressAllowedBy: r.egress_allowed_by === undefined ? NO_POLICIES : decodePolicies(r.egress_allowed_by, p(path, 'egress_allowed_by')),
    ingressAllowedBy: r.ingress_allowed_by === undefined ? NO_POLICIES : decodePolicies(r.ingress_allowed_by, p(path, 'ingress_allowed_by')),
    egressDeniedBy: r.egress_denied_by === undefined ? NO_POLICIES : decodePolicies(r.egress_denied_by, p(path, 'egress_denied_by')),
    ingressDeniedBy: r.ingress_denied_by === undefined ? NO_POLICIES : decodePolicies(r.ingress_denied_by, p(path, 'ingress_denied_by')),
    summary: r.Summary === undefined ? undefined : optString(r.Summary, p(path, 'Summary')),
  };
}

export const EMPTY_ENDPOINT: Endpoint = Object.freeze({ labels: Object.freeze([]), workloads: Object.freeze([]) });

/**
 * Decoded endpoints by numeric identity, a few pods each. A cluster has few distinct endpoints and
 * every flow repeats two of them, so a raw endpoint equal field by field to one decoded before
 * (same identity, pod, namespace, labels, owners) reuses that frozen object: no rebuilding, and
 * later stages can memoise by object. Equality is strict (===) on exactly the members
 * `decodeEndpointObject` reads, so a hit decodes to the same value; anything else is decoded anew.
 */
const knownEndpoints = new Map<number | undefined, Endpoint[]>();
let knownEndpointCount = 0;
let knownEndpointChars = 0;
// Bounded like the wire decoder's cache: a few MB even with long label lists.
const MAX_KNOWN_ENDPOINTS = 8192;
const PODS_PER_IDENTITY = 32;

export function decodeEndpoint(v: unknown, path: string): Endpoint {
  if (!isObject(v)) return decodeEndpointObject(v, path);
  const identity = v['identity'];
  const key = typeof identity === 'number' ? identity : undefined;
  const candidates = knownEndpoints.get(key);
  if (candidates !== undefined) {
    for (const known of candidates) if (sameEndpoint(v, known)) return known;
  }
  const decoded = decodeEndpointObject(v, path);
  if (decoded === EMPTY_ENDPOINT || decoded.identity !== key) return decoded;
  const chars = endpointChars(decoded);
  if (chars > MAX_CACHED_ENDPOINT_CHARS) return decoded;
  (decoded as { labels: readonly string[] }).labels = sharedLabels(key, decoded.labels);
  Object.freeze(decoded.workloads);
  const shared = Object.freeze(decoded);
  if (knownEndpointCount >= MAX_KNOWN_ENDPOINTS || knownEndpointChars + chars > ENDPOINT_CACHE_CHARS) {
    knownEndpoints.clear();
    knownEndpointCount = 0;
    knownEndpointChars = 0;
  }
  knownEndpointChars += chars;
  const list = knownEndpoints.get(key);
  if (list === undefined) knownEndpoints.set(key, [shared]);
  else if (list.length < PODS_PER_IDENTITY) list.push(shared);
  else list[knownEndpointCount % PODS_PER_IDENTITY] = shared;
  knownEndpointCount++;
  return shared;
}

function sameEndpoint(e: JsonObject, known: Endpoint): boolean {
  if (field(e, 'pod_name', 'podName') !== known.podName) return false;
  if ((e['ID'] ?? e['id']) !== known.id) return false;
  if (e['namespace'] !== known.namespace) return false;
  if (field(e, 'cluster_name', 'clusterName') !== known.clusterName) return false;
  const labels = e['labels'];
  const knownLabels = known.labels;
  if (labels === undefined || labels === null) {
    if (knownLabels.length !== 0) return false;
  } else {
    if (!Array.isArray(labels) || labels.length !== knownLabels.length) return false;
    for (let i = 0; i < labels.length; i++) if (labels[i] !== knownLabels[i]) return false;
  }
  const workloads = e['workloads'];
  const knownWorkloads = known.workloads;
  if (workloads === undefined || workloads === null) return knownWorkloads.length === 0;
  if (!Array.isArray(workloads) || workloads.length !== knownWorkloads.length) return false;
  for (let i = 0; i < workloads.length; i++) {
    const w = workloads[i] as unknown;
    const k = knownWorkloads[i] as Workload;
    if (!isObject(w) || w['name'] !== k.name || w['kind'] !== k.kind) return false;
  }
  return true;
}

function decodeEndpointObject(v: unknown, path: string): Endpoint {
  const e = optObject(v, path);
  if (!e) return EMPTY_ENDPOINT;
  const workloads: Workload[] = objectList(e['workloads'], p(path, 'workloads')).map((w, i) => ({
    name: optString(w['name'], `${path}.workloads[${i}].name`) ?? '',
    kind: optString(w['kind'], `${path}.workloads[${i}].kind`) ?? '',
  }));
  return {
    id: optInteger(e['ID'] ?? e['id'], p(path, 'ID')),
    identity: optInteger(e['identity'], p(path, 'identity')),
    clusterName: optString(field(e, 'cluster_name', 'clusterName'), p(path, 'cluster_name')),
    namespace: optString(e['namespace'], p(path, 'namespace')) || undefined,
    labels: stringList(e['labels'], p(path, 'labels')),
    podName: optString(field(e, 'pod_name', 'podName'), p(path, 'pod_name')) || undefined,
    workloads,
  };
}

function decodeIp(v: unknown, path: string): IpInfo | undefined {
  const ip = optObject(v, path);
  if (!ip) return undefined;
  return {
    source: optString(ip['source'], p(path, 'source')),
    destination: optString(ip['destination'], p(path, 'destination')),
    sourceXlated: optString(field(ip, 'source_xlated', 'sourceXlated'), p(path, 'source_xlated')),
    ipVersion: optEnum(ip['ipVersion'] ?? ip['ip_version'], p(path, 'ipVersion'), IP_VERSION_BY_NUMBER, 'IP_NOT_USED'),
  };
}

function portOf(o: JsonObject, name: string, camel: string, path: string): number {
  return optInteger(field(o, name, camel), p(path, name)) ?? 0;
}

function decodeL4(v: unknown, path: string): Layer4 | undefined {
  const l4 = optObject(v, path);
  if (!l4) return undefined;
  const tcp = optObject(l4['TCP'] ?? l4['tcp'], p(path, 'TCP'));
  if (tcp) {
    const tcpPath = p(path, 'TCP');
    const sourcePort = portOf(tcp, 'source_port', 'sourcePort', tcpPath);
    const destinationPort = portOf(tcp, 'destination_port', 'destinationPort', tcpPath);
    const flags = optObject(tcp['flags'], p(path, 'TCP.flags'));
    return flags ? { protocol: 'TCP', sourcePort, destinationPort, flags: decodeTcpFlags(flags) } : { protocol: 'TCP', sourcePort, destinationPort };
  }
  for (const proto of ['UDP', 'SCTP'] as const) {
    const o = optObject(l4[proto] ?? l4[proto.toLowerCase()], p(path, proto));
    if (o) {
      const protoPath = p(path, proto);
      return { protocol: proto, sourcePort: portOf(o, 'source_port', 'sourcePort', protoPath), destinationPort: portOf(o, 'destination_port', 'destinationPort', protoPath) };
    }
  }
  for (const proto of ['ICMPv4', 'ICMPv6'] as const) {
    const icmp = optObject(l4[proto] ?? l4[proto.toLowerCase()], p(path, proto));
    if (icmp) {
      return {
        protocol: proto,
        icmpType: optInteger(icmp['type'], p(path, `${proto}.type`)) ?? 0,
        icmpCode: optInteger(icmp['code'], p(path, `${proto}.code`)) ?? 0,
      };
    }
  }
  if (l4['VRRP'] !== undefined) return { protocol: 'VRRP' };
  if (l4['IGMP'] !== undefined) return { protocol: 'IGMP' };
  return undefined;
}

export const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;
/** One frozen object per combination of set flags (2^9), shared by every flow that has it. */
const tcpFlagSets: (TcpFlags | undefined)[] = [];

function decodeTcpFlags(o: JsonObject): TcpFlags {
  let mask = 0;
  for (let i = 0; i < TCP_FLAG_NAMES.length; i++) if (o[TCP_FLAG_NAMES[i] as string] === true) mask |= 1 << i;
  return sharedTcpFlags(mask);
}

/** Bit i of `mask` stands for TCP_FLAG_NAMES[i]. */
export function sharedTcpFlags(mask: number): TcpFlags {
  let flags = tcpFlagSets[mask];
  if (flags === undefined) {
    const built: Record<string, boolean> = {};
    for (let i = 0; i < TCP_FLAG_NAMES.length; i++) if (mask & (1 << i)) built[TCP_FLAG_NAMES[i] as string] = true;
    flags = Object.freeze(built);
    tcpFlagSets[mask] = flags;
  }
  return flags;
}

function decodeEventType(v: unknown, path: string): EventType | undefined {
  const e = optObject(v, path);
  if (!e) return undefined;
  const type = optInteger(e['type'], p(path, 'type')) ?? 0;
  const subType = optInteger(field(e, 'sub_type', 'subType'), p(path, 'sub_type')) ?? 0;
  return sharedEventType(type, subType);
}

export function sharedEventType(type: number, subType: number): EventType {
  // A handful of (type, sub_type) pairs exist; share one frozen object per pair.
  if (type < 0 || type > 255 || subType < 0 || subType > 255) return { type, subType };
  const key = type * 256 + subType;
  let shared = eventTypes.get(key);
  if (shared === undefined) {
    shared = Object.freeze({ type, subType });
    eventTypes.set(key, shared);
  }
  return shared;
}

const eventTypes = new Map<number, EventType>();

function decodeObservationPoint(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return observationPointName(v);
  throw new DecodeError(path, `expected an enum name or number, got ${describe(v)}`);
}

function decodeService(v: unknown, path: string): Service | undefined {
  const s = optObject(v, path);
  if (!s) return undefined;
  return {
    name: optString(s['name'], p(path, 'name')),
    namespace: optString(s['namespace'], p(path, 'namespace')),
  };
}

export function decodePolicies(v: unknown, path: string): readonly PolicyRef[] {
  const list = objectList(v, path);
  if (list.length === 0) return NO_POLICIES;
  return list.map((o, i) =>
    ({
      name: optString(o['name'], `${path}[${i}].name`),
      namespace: optString(o['namespace'], `${path}[${i}].namespace`),
      kind: optString(o['kind'], `${path}[${i}].kind`),
      labels: stringList(o['labels'], `${path}[${i}].labels`),
      revision: optUint64String(o['revision'], `${path}[${i}].revision`),
    }),
  );
}

export function decodeL7(v: unknown, path: string): Layer7 | undefined {
  const l7 = optObject(v, path);
  if (!l7) return undefined;
  const dns = optObject(l7['dns'], p(path, 'dns'));
  const http = optObject(l7['http'], p(path, 'http'));
  const kafka = optObject(l7['kafka'], p(path, 'kafka'));
  return {
    type: optEnum(l7['type'], p(path, 'type'), L7_TYPE_BY_NUMBER, 'UNKNOWN_L7_TYPE') ?? 'UNKNOWN_L7_TYPE',
    latencyNs: optUint64String(field(l7, 'latency_ns', 'latencyNs'), p(path, 'latency_ns')),
    dns: dns ? decodeDns(dns, p(path, 'dns')) : undefined,
    http: http ? decodeHttp(http, p(path, 'http')) : undefined,
    kafka: kafka ? decodeKafka(kafka, p(path, 'kafka')) : undefined,
  };
}

function decodeDns(d: JsonObject, path: string): DnsRecord {
  return {
    query: (optString(d['query'], p(path, 'query')) ?? '').toLowerCase(),
    ips: stringList(d['ips'], p(path, 'ips')),
    ttl: optInteger(d['ttl'], p(path, 'ttl')),
    cnames: stringList(d['cnames'], p(path, 'cnames')),
    rcode: optInteger(d['rcode'], p(path, 'rcode')),
    qtypes: stringList(d['qtypes'], p(path, 'qtypes')),
    rrtypes: stringList(d['rrtypes'], p(path, 'rrtypes')),
    observationSource: optString(field(d, 'observation_source', 'observationSource'), p(path, 'observation_source')),
  };
}

function decodeHttp(h: JsonObject, path: string): HttpRecord {
  return {
    code: optInteger(h['code'], p(path, 'code')),
    method: optString(h['method'], p(path, 'method')),
    url: optString(h['url'], p(path, 'url')),
    protocol: optString(h['protocol'], p(path, 'protocol')),
    headers: objectList(h['headers'], p(path, 'headers')).map((o, i) => ({
      key: optString(o['key'], `${path}.headers[${i}].key`) ?? '',
      value: optString(o['value'], `${path}.headers[${i}].value`) ?? '',
    })),
  };
}

function decodeKafka(k: JsonObject, path: string): KafkaRecord {
  return {
    errorCode: optInteger(field(k, 'error_code', 'errorCode'), p(path, 'error_code')),
    apiVersion: optInteger(field(k, 'api_version', 'apiVersion'), p(path, 'api_version')),
    apiKey: optString(field(k, 'api_key', 'apiKey'), p(path, 'api_key')),
    correlationId: optInteger(field(k, 'correlation_id', 'correlationId'), p(path, 'correlation_id')),
    topic: optString(k['topic'], p(path, 'topic')),
  };
}

function decodeLost(o: JsonObject, path: string, nodeName: string | undefined, envelopeTime: unknown): LostEvent {
  const first = field(o, 'first');
  const timeValue = envelopeTime ?? first;
  const time = timeValue === undefined || timeValue === null ? undefined : parseTimestamp(timeValue, 'time');
  return {
    source:
      optEnum(o['source'], p(path, 'source'), LOST_SOURCE_BY_NUMBER, 'UNKNOWN_LOST_EVENT_SOURCE') ??
      'UNKNOWN_LOST_EVENT_SOURCE',
    numEventsLost: optInteger(field(o, 'num_events_lost', 'numEventsLost'), p(path, 'num_events_lost')) ?? 0,
    cpu: optInteger(o['cpu'], p(path, 'cpu')),
    nodeName,
    time: time?.iso,
    timeMs: time?.ms,
  };
}

function decodeNodeStatus(o: JsonObject, envelopeTime: unknown): NodeStatusEvent {
  const time =
    envelopeTime === undefined || envelopeTime === null ? undefined : parseTimestamp(envelopeTime, 'time');
  return {
    state:
      optEnum(field(o, 'state_change', 'stateChange'), 'node_status.state_change', NODE_STATE_BY_NUMBER, 'UNKNOWN_NODE_STATE') ??
      'UNKNOWN_NODE_STATE',
    nodeNames: stringList(field(o, 'node_names', 'nodeNames'), 'node_status.node_names'),
    message: optString(o['message'], 'node_status.message'),
    time: time?.iso,
    timeMs: time?.ms,
  };
}
