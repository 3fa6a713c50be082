/**
 * A hand-written decoder from GetFlowsResponse wire bytes to the plain object @grpc/proto-loader
 * would produce with our loader options (keepCase, enums and 64-bit integers as strings, no
 * defaults, oneof discriminators), for flow/decode.ts `decodeEvent` to normalise.
 *
 * The live path decodes flows straight into `Flow` (flow-decoder.ts) and comes here only for what
 * it leaves to this path: lost events, node status, and flows the normaliser rejects or treats
 * specially. It is also the `wire` option of ObserverConnection.
 *
 * - one pass over the bytes straight into plain objects (no Message instances, no toObject);
 * - short ASCII strings are built in JS instead of a native call per string;
 * - an Endpoint whose bytes equal those of one seen recently is not decoded again: the object is
 *   shared. Shared objects are never mutated downstream (flow/decode.ts only reads its input).
 * - strict: a nested field that overruns its message, or an overlong tag, is an error.
 *
 * Field numbers and types follow proto/; the enum names come from the loaded proto definition, so
 * they cannot drift. `test/unit/ingest/proto.test.ts` checks parity with proto-loader.
 */
import type { PackageDefinition } from '@grpc/proto-loader';

type Obj = Record<string, unknown>;

/** Enum value names by number, read from the proto definition. */
type EnumTable = ReadonlyMap<number, string>;

interface Enums {
  readonly verdict: EnumTable;
  readonly dropReason: EnumTable;
  readonly flowType: EnumTable;
  readonly trafficDirection: EnumTable;
  readonly traceObservationPoint: EnumTable;
  readonly traceReason: EnumTable;
  readonly ipVersion: EnumTable;
  readonly l7Type: EnumTable;
  readonly lostSource: EnumTable;
  readonly nodeState: EnumTable;
}

export class WireError extends Error {
  constructor(message: string) {
    super(`invalid GetFlowsResponse: ${message}`);
    this.name = 'WireError';
  }
}

const ENDPOINT_CACHE_MAX = 8192;

export class WireDecoder {
  readonly #enums: Enums;
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  readonly #endpoints = new Map<number, { bytes: Buffer; value: Obj }>();

  constructor(definition: PackageDefinition) {
    const table = (name: string): EnumTable => {
      const entry = definition[name] as unknown as { type?: { value?: { name: string; number: number }[] } } | undefined;
      const values = entry?.type?.value;
      if (!values) throw new Error(`enum ${name} missing from the proto definition`);
      return new Map(values.map((v) => [v.number, v.name]));
    };
    this.#enums = {
      verdict: table('flow.Verdict'),
      dropReason: table('flow.DropReason'),
      flowType: table('flow.FlowType'),
      trafficDirection: table('flow.TrafficDirection'),
      traceObservationPoint: table('flow.TraceObservationPoint'),
      traceReason: table('flow.TraceReason'),
      ipVersion: table('flow.IPVersion'),
      l7Type: table('flow.L7FlowType'),
      lostSource: table('flow.LostEventSource'),
      nodeState: table('relay.NodeState'),
    };
  }

  /** Decodes one GetFlowsResponse; throws on malformed input (grpc-js then fails the stream). */
  decode = (buf: Buffer): Obj => {
    this.#buf = buf;
    this.#pos = 0;
    return this.#response(buf.length);
  };

  // ---- messages -----------------------------------------------------------------------------

  #response(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag) {
        case (1 << 3) | 2:
          o['flow'] = this.#flow(this.#len());
          o['response_types'] = 'flow';
          break;
        case (2 << 3) | 2:
          o['node_status'] = this.#nodeStatus(this.#len());
          o['response_types'] = 'node_status';
          break;
        case (3 << 3) | 2:
          o['lost_events'] = this.#lostEvent(this.#len());
          o['response_types'] = 'lost_events';
          break;
        case (1000 << 3) | 2:
          o['node_name'] = this.#string();
          break;
        case (1001 << 3) | 2:
          o['time'] = this.#timestamp(this.#len());
          break;
        default:
          this.#skip(tag);
      }
    }
    this.#endAt(end);
    return o;
  }

  #flow(end: number): Obj {
    const o: Obj = {};
    const e = this.#enums;
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: o['time'] = this.#timestamp(this.#lenOf(tag)); break;
        case 34: o['uuid'] = this.#stringOf(tag); break;
        case 2: o['verdict'] = this.#enumOf(tag, e.verdict); break;
        case 3: o['drop_reason'] = this.#varint32Of(tag) >>> 0; break;
        case 25: o['drop_reason_desc'] = this.#enumOf(tag, e.dropReason); break;
        case 5: o['IP'] = this.#ip(this.#lenOf(tag)); break;
        case 6: o['l4'] = this.#layer4(this.#lenOf(tag)); break;
        case 8: o['source'] = this.#endpoint(this.#lenOf(tag)); break;
        case 9: o['destination'] = this.#endpoint(this.#lenOf(tag)); break;
        case 10: o['Type'] = this.#enumOf(tag, e.flowType); break;
        case 11: o['node_name'] = this.#stringOf(tag); break;
        case 13: push(o, 'source_names', this.#stringOf(tag)); break;
        case 14: push(o, 'destination_names', this.#stringOf(tag)); break;
        case 15: o['l7'] = this.#layer7(this.#lenOf(tag)); break;
        case 16: o['reply'] = this.#varint32Of(tag) !== 0; break;
        case 26: o['is_reply'] = this.#boolValue(this.#lenOf(tag)); break;
        case 19: o['event_type'] = this.#eventType(this.#lenOf(tag)); break;
        case 20: o['source_service'] = this.#service(this.#lenOf(tag)); break;
        case 21: o['destination_service'] = this.#service(this.#lenOf(tag)); break;
        case 22: o['traffic_direction'] = this.#enumOf(tag, e.trafficDirection); break;
        case 23: o['policy_match_type'] = this.#varint32Of(tag) >>> 0; break;
        case 24: o['trace_observation_point'] = this.#enumOf(tag, e.traceObservationPoint); break;
        case 36: o['trace_reason'] = this.#enumOf(tag, e.traceReason); break;
        case 21001: push(o, 'egress_allowed_by', this.#policy(this.#lenOf(tag))); break;
        case 21002: push(o, 'ingress_allowed_by', this.#policy(this.#lenOf(tag))); break;
        case 21004: push(o, 'egress_denied_by', this.#policy(this.#lenOf(tag))); break;
        case 21005: push(o, 'ingress_denied_by', this.#policy(this.#lenOf(tag))); break;
        case 100000: o['Summary'] = this.#stringOf(tag); break;
        default: this.#skip(tag);
      }
    }
    this.#endAt(end);
    return o;
  }

  #endpoint(end: number): Obj {
    const start = this.#pos;
    const buf = this.#buf;
    const key = hashBytes(buf, start, end);
    const cached = this.#endpoints.get(key);
    if (cached && cached.bytes.length === end - start && buf.compare(cached.bytes, 0, cached.bytes.length, start, end) === 0) {
      this.#pos = end;
      return cached.value;
    }
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: o['ID'] = this.#varint32Of(tag) >>> 0; break;
        case 2: o['identity'] = this.#varint32Of(tag) >>> 0; break;
        case 7: o['cluster_name'] = this.#stringOf(tag); break;
        case 3: o['namespace'] = this.#stringOf(tag); break;
        case 4: push(o, 'labels', this.#stringOf(tag)); break;
        case 5: o['pod_name'] = this.#stringOf(tag); break;
        case 6: push(o, 'workloads', this.#workload(this.#lenOf(tag))); break;
        default: this.#skip(tag);
      }
    }
    this.#endAt(end);
    if (this.#endpoints.size >= ENDPOINT_CACHE_MAX) this.#endpoints.clear();
    this.#endpoints.set(key, { bytes: Buffer.from(buf.subarray(start, end)), value: o });
    return o;
  }

  #workload(end: number): Obj {
    return this.#strings(end, ['', 'name', 'kind']);
  }

  #service(end: number): Obj {
    return this.#strings(end, ['', 'name', 'namespace']);
  }

  /** A message whose fields 1..n are all strings, named by `names[number]`. */
  #strings(end: number, names: readonly string[]): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      const name = names[tag >>> 3];
      if (name && (tag & 7) === 2) o[name] = this.#string();
      else this.#skip(tag);
    }
    this.#endAt(end);
    return o;
  }

  #ip(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: o['source'] = this.#stringOf(tag); break;
        case 5: o['source_xlated'] = this.#stringOf(tag); break;
        case 2: o['destination'] = this.#stringOf(tag); break;
        case 3: o['ipVersion'] = this.#enumOf(tag, this.#enums.ipVersion); break;
        case 4: o['encrypted'] = this.#varint32Of(tag) !== 0; break;
        default: this.#skip(tag);
      }
    }
    this.#endAt(end);
    return o;
  }

  #layer4(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      const field = tag >>> 3;
      const name = L4_NAMES[field];
      if (name && (tag & 7) === 2) {
        const len = this.#len();
        // A later member of a oneof replaces an earlier one.
        if (typeof o['protocol'] === 'string') delete o[o['protocol']];
        o[name] = field === 1 ? this.#tcp(len) : field === 7 ? this.#igmp(len) : this.#uint32s(len, L4_FIELDS[field] ?? []);
        o['protocol'] = name;
      } else {
        this.#skip(tag);
      }
    }
    this.#endAt(end);
    return o;
  }

  #tcp(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: o['source_port'] = this.#varint32Of(tag) >>> 0; break;
        case 2: o['destination_port'] = this.#varint32Of(tag) >>> 0; break;
        case 3: o['flags'] = this.#tcpFlags(this.#lenOf(tag)); break;
        default: this.#skip(tag);
      }
    }
    this.#endAt(end);
    return o;
  }

  #tcpFlags(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      const name = TCP_FLAGS[tag >>> 3];
      if (name && (tag & 7) === 0) o[name] = this.#varint32() !== 0;
      else this.#skip(tag);
    }
    this.#endAt(end);
    return o;
  }

  /** UDP, SCTP, ICMPv4/6 and VRRP: every field is a uint32, named by `names[number]`. */
  #uint32s(end: number, names: readonly string[]): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      const name = names[tag >>> 3];
      if (name && (tag & 7) === 0) o[name] = this.#varint32() >>> 0;
      else this.#skip(tag);
    }
    this.#endAt(end);
    return o;
  }

  #igmp(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      if (tag === ((1 << 3) | 0)) o['type'] = this.#varint32() >>> 0;
      else if (tag === ((2 << 3) | 2)) o['group_address'] = this.#string();
      else this.#skip(tag);
    }
    this.#endAt(end);
    return o;
  }

  #layer7(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: o['type'] = this.#enumOf(tag, this.#enums.l7Type); break;
        case 2: o['latency_ns'] = this.#uint64StringOf(tag); break;
        case 100: this.#record(o, 'dns', this.#dns(this.#lenOf(tag))); break;
        case 101: this.#record(o, 'http', this.#http(this.#lenOf(tag))); break;
        case 102: this.#record(o, 'kafka', this.#kafka(this.#lenOf(tag))); break;
        default: this.#skip(tag);
      }
    }
    this.#endAt(end);
    return o;
  }

  #record(o: Obj, name: string, value: Obj): void {
    if (typeof o['record'] === 'string' && o['record'] !== name) delete o[o['record']];
    o[name] = value;
    o['record'] = name;
  }

  #dns(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: o['query'] = this.#stringOf(tag); break;
        case 2: push(o, 'ips', this.#stringOf(tag)); break;
        case 3: o['ttl'] = this.#varint32Of(tag) >>> 0; break;
        case 4: push(o, 'cnames', this.#stringOf(tag)); break;
        case 5: o['observation_source'] = this.#stringOf(tag); break;
        case 6: o['rcode'] = this.#varint32Of(tag) >>> 0; break;
        case 7: push(o, 'qtypes', this.#stringOf(tag)); break;
        case 8: push(o, 'rrtypes', this.#stringOf(tag)); break;
        default: this.#skip(tag);
      }
    }
    this.#endAt(end);
    return o;
  }

  #http(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: o['code'] = this.#varint32Of(tag) >>> 0; break;
        case 2: o['method'] = this.#stringOf(tag); break;
        case 3: o['url'] = this.#stringOf(tag); break;
        case 4: o['protocol'] = this.#stringOf(tag); break;
        case 5: push(o, 'headers', this.#strings(this.#lenOf(tag), ['', 'key', 'value'])); break;
        default: this.#skip(tag);
      }
    }
    this.#endAt(end);
    return o;
  }

  #kafka(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: o['error_code'] = this.#varint32Of(tag) | 0; break;
        case 2: o['api_version'] = this.#varint32Of(tag) | 0; break;
        case 3: o['api_key'] = this.#stringOf(tag); break;
        case 4: o['correlation_id'] = this.#varint32Of(tag) | 0; break;
        case 5: o['topic'] = this.#stringOf(tag); break;
        default: this.#skip(tag);
      }
    }
    this.#endAt(end);
    return o;
  }

  #eventType(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      if (tag === ((1 << 3) | 0)) o['type'] = this.#varint32() | 0;
      else if (tag === ((2 << 3) | 0)) o['sub_type'] = this.#varint32() | 0;
      else this.#skip(tag);
    }
    this.#endAt(end);
    return o;
  }

  #policy(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: o['name'] = this.#stringOf(tag); break;
        case 2: o['namespace'] = this.#stringOf(tag); break;
        case 3: push(o, 'labels', this.#stringOf(tag)); break;
        case 4: o['revision'] = this.#uint64StringOf(tag); break;
        case 5: o['kind'] = this.#stringOf(tag); break;
        default: this.#skip(tag);
      }
    }
    this.#endAt(end);
    return o;
  }

  #lostEvent(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: o['source'] = this.#enumOf(tag, this.#enums.lostSource); break;
        case 2: o['num_events_lost'] = this.#uint64StringOf(tag); break;
        case 3: o['cpu'] = this.#int32Value(this.#lenOf(tag)); break;
        case 4: o['first'] = this.#timestamp(this.#lenOf(tag)); break;
        case 5: o['last'] = this.#timestamp(this.#lenOf(tag)); break;
        default: this.#skip(tag);
      }
    }
    this.#endAt(end);
    return o;
  }

  #nodeStatus(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: o['state_change'] = this.#enumOf(tag, this.#enums.nodeState); break;
        case 2: push(o, 'node_names', this.#stringOf(tag)); break;
        case 3: o['message'] = this.#stringOf(tag); break;
        default: this.#skip(tag);
      }
    }
    this.#endAt(end);
    return o;
  }

  #timestamp(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      if (tag === ((1 << 3) | 0)) o['seconds'] = this.#int64String();
      else if (tag === ((2 << 3) | 0)) o['nanos'] = this.#varint32() | 0;
      else this.#skip(tag);
    }
    this.#endAt(end);
    return o;
  }

  #boolValue(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      if (tag === ((1 << 3) | 0)) o['value'] = this.#varint32() !== 0;
      else this.#skip(tag);
    }
    this.#endAt(end);
    return o;
  }

  #int32Value(end: number): Obj {
    const o: Obj = {};
    while (this.#pos < end) {
      const tag = this.#tag();
      if (tag === ((1 << 3) | 0)) o['value'] = this.#varint32() | 0;
      else this.#skip(tag);
    }
    this.#endAt(end);
    return o;
  }

  // ---- scalars ------------------------------------------------------------------------------

  /** A varint that fits 32 bits (tags, lengths); larger ones are truncated like protobufjs does. */
  #uint32(): number {
    const buf = this.#buf;
    let pos = this.#pos;
    let b = buf[pos++] as number;
    let v = b & 0x7f;
    if (b >= 0x80) {
      b = buf[pos++] as number;
      v |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        b = buf[pos++] as number;
        v |= (b & 0x7f) << 14;
        if (b >= 0x80) {
          b = buf[pos++] as number;
          v |= (b & 0x7f) << 21;
          if (b >= 0x80) {
            b = buf[pos++] as number;
            v |= (b & 0x0f) << 28;
            // Skip the high bytes of a 64-bit varint (negative int32 values use 10 bytes).
            while (b >= 0x80) {
              if (pos >= buf.length) throw new WireError('truncated varint');
              b = buf[pos++] as number;
            }
          }
        }
      }
    }
    if (pos > buf.length) throw new WireError('truncated varint');
    this.#pos = pos;
    return v >>> 0;
  }

  /** A field tag: at most 5 bytes (field numbers < 2^29), field number not 0. */
  #tag(): number {
    const start = this.#pos;
    const tag = this.#uint32();
    if (this.#pos - start > 5 || tag < 8) throw new WireError(tag < 8 ? 'field number 0' : 'overlong field tag');
    return tag;
  }

  #varint32(): number {
    return this.#uint32();
  }

  #varint32Of(tag: number): number {
    if ((tag & 7) !== 0) throw new WireError(`field ${tag >>> 3}: expected a varint`);
    return this.#uint32();
  }

  /** uint64 / int64 as a decimal string (longs: String), exact beyond 2^53. */
  #int64String(): string {
    const buf = this.#buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let pos = this.#pos;
    for (;;) {
      if (pos >= buf.length) throw new WireError('truncated varint');
      const b = buf[pos++] as number;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      shift += 7;
      if (b < 0x80) break;
      if (shift > 63) throw new WireError('varint too long');
    }
    this.#pos = pos;
    lo >>>= 0;
    hi >>>= 0;
    if (hi === 0) return String(lo);
    if (hi < 0x200000) return String(hi * 4294967296 + lo);
    // int64 fields here (Timestamp.seconds) are never negative in practice; read as unsigned.
    return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
  }

  #uint64StringOf(tag: number): string {
    if ((tag & 7) !== 0) throw new WireError(`field ${tag >>> 3}: expected a varint`);
    return this.#int64String();
  }

  #enumOf(tag: number, table: EnumTable): string | number {
    const n = this.#varint32Of(tag) | 0;
    return table.get(n) ?? n;
  }

  #len(): number {
    const len = this.#uint32();
    const end = this.#pos + len;
    if (end > this.#buf.length) throw new WireError('length beyond the message');
    return end;
  }

  /** A nested value that ran past its message's end (its length or a field inside it lied). */
  #endAt(end: number): void {
    if (this.#pos !== end) throw new WireError('field overruns its enclosing message');
  }

  #lenOf(tag: number): number {
    if ((tag & 7) !== 2) throw new WireError(`field ${tag >>> 3}: expected a length-delimited value`);
    return this.#len();
  }

  #string(): string {
    const end = this.#len();
    const buf = this.#buf;
    const start = this.#pos;
    this.#pos = end;
    const n = end - start;
    if (n === 0) return '';
    if (n <= 24) {
      // Short ASCII strings are cheaper to build here than through a native call.
      let s = '';
      for (let i = start; i < end; i++) {
        const c = buf[i] as number;
        if (c >= 0x80) return buf.toString('utf8', start, end);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return buf.toString('utf8', start, end);
  }

  #stringOf(tag: number): string {
    if ((tag & 7) !== 2) throw new WireError(`field ${tag >>> 3}: expected a string`);
    return this.#string();
  }

  #skip(tag: number): void {
    switch (tag & 7) {
      case 0:
        this.#int64String();
        break;
      case 1:
        this.#pos += 8;
        break;
      case 2:
        this.#pos = this.#len();
        break;
      case 5:
        this.#pos += 4;
        break;
      default:
        throw new WireError(`unsupported wire type ${tag & 7} (field ${tag >>> 3})`);
    }
    if (this.#pos > this.#buf.length) throw new WireError('truncated field');
  }
}

const L4_NAMES: readonly (string | undefined)[] = [undefined, 'TCP', 'UDP', 'ICMPv4', 'ICMPv6', 'SCTP', 'VRRP', 'IGMP'];

const PORTS = ['', 'source_port', 'destination_port'];
const ICMP = ['', 'type', 'code'];
/** Field names of the all-uint32 Layer4 members, by oneof field number. */
const L4_FIELDS: readonly (readonly string[] | undefined)[] = [undefined, undefined, PORTS, ICMP, ICMP, PORTS, ['', 'type', 'vrid', 'priority']];

const TCP_FLAGS: readonly (string | undefined)[] = [undefined, 'FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'];

function push(o: Obj, key: string, value: unknown): void {
  const list = o[key] as unknown[] | undefined;
  if (list) list.push(value);
  else o[key] = [value];
}

/** FNV-1a over the first and last 48 bytes and the length: a cache key, verified by a compare. */
function hashBytes(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  const head = Math.min(end, start + 48);
  for (let i = start; i < head; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  for (let i = Math.max(head, end - 48); i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  return h >>> 0;
}
