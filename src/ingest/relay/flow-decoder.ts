/**
 * Decodes GetFlowsResponse wire bytes straight into the normalised event of flow/model.ts: one pass
 * over the bytes, no intermediate plain object, no second pass through `decodeEvent`. Only what
 * `Flow` holds is read; every other field is skipped by its wire type (newer agents add fields).
 *
 * The result is exactly what the previous path gave (WireDecoder → proto-loader-shaped object →
 * flow/decode.ts `decodeEvent`); `test/unit/ingest/flow-decoder.test.ts` checks it on every public
 * sample and on the synthetic benchmark stream. To keep that guarantee without re-implementing every
 * corner twice, anything outside the common case goes the previous way on the same bytes:
 * responses that are not exactly one flow (lost events, node status, empty or doubled oneofs), and
 * flows whose values the normaliser would reject or treat specially (no time, nanos out of range,
 * times outside years 1970-9999, enum names it does not know, bad drop reasons). Those are rare,
 * and they get the same error or event as before.
 *
 * Malformed bytes (truncated varints, lengths past the end, a nested message overrunning its
 * parent, a known field with the wrong wire type) throw `WireError`; grpc-js then fails the stream
 * and the follower reconnects, as before.
 *
 * Speed: an Endpoint whose bytes equal those of one decoded recently (the same pod talks again and
 * again) is not decoded again: its frozen `Endpoint` is shared, so its labels are decoded once per
 * distinct content and the edge aggregator can resolve it once (graph/peer-cache.ts). Enum values
 * are resolved once per number, and a string of up to 64 bytes whose bytes were seen recently (IPs,
 * node and service names, header names) is the same string as then (`ShortStringCache`).
 */
import type { PackageDefinition } from '@grpc/proto-loader';
import { DROP_REASON_PLACEHOLDER, decodeDropReason } from '../../flow/drop-reason.js';
import {
  FLOW_TYPE_BY_NUMBER,
  IP_VERSION_BY_NUMBER,
  L7_TYPE_BY_NUMBER,
  TRACE_REASON_BY_NUMBER,
  TRAFFIC_DIRECTION_BY_NUMBER,
  VERDICT_BY_NUMBER,
  observationPointName,
} from '../../flow/enums.js';
import { DecodeError, optEnum } from '../../flow/json-fields.js';
import { sharedLabels } from '../../flow/label-lists.js';
import { type DecodeResult, decodeEvent } from '../../flow/decode.js';
import type {
  DnsRecord,
  Endpoint,
  EventType,
  Flow,
  FlowType,
  HttpHeader,
  HttpRecord,
  IpInfo,
  KafkaRecord,
  Layer4,
  Layer7,
  PolicyRef,
  Service,
  TcpFlags,
  TrafficDirection,
  Verdict,
  Workload,
} from '../../flow/model.js';
import { WireDecoder, WireError } from './wire-decoder.js';

/** Thrown inside the fast path when the previous path must decide (never escapes `decode`). */
const FALLBACK = Symbol('fallback');

const EMPTY_STRINGS: readonly string[] = Object.freeze([]);
const NO_POLICIES: readonly PolicyRef[] = Object.freeze([]);
const EMPTY_ENDPOINT: Endpoint = Object.freeze({ labels: EMPTY_STRINGS, workloads: Object.freeze([]) as readonly Workload[] });

/**
 * Endpoints remembered, direct-mapped by their key: a new endpoint replaces the one in its slot, so
 * the cache never empties at once. Each holds a copy of its bytes (~1 KB with a pod's labels).
 * Under pod churn (3,000 workloads, a week of flows at full speed) 8,192 entries emptied whenever
 * full hit 90% and held up to 12 MB, 8 MB of it the 8 KB pool slabs their copies were cut from.
 */
export const ENDPOINT_SLOTS = 4096;
/**
 * Identities whose label fields are remembered, direct-mapped by number: ~0.7 KB each with a pod's
 * labels, so at most a few MB; a cluster of 3,000 workloads has about as many identities.
 */
const LABEL_RUN_SLOTS = 4096;
/** Label fields longer than this are decoded every time (bounds the slots at 8 MB). */
const MAX_LABEL_RUN_BYTES = 2048;
/** An endpoint longer than this is decoded every time, never copied into the cache. */
const MAX_CACHED_ENDPOINT_BYTES = 16 * 1024;
/** 9999-12-31T23:59:59Z: later (and negative) seconds go the previous way. */
const MAX_SECONDS = 253402300799;

/** Enum value name by number, from the loaded proto definition. */
type EnumTable = ReadonlyMap<number, string>;

/** '00' ... '59'. */
const TWO_DIGITS: readonly string[] = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/**
 * number → what flow/decode.ts makes of proto-loader's value for it (the name, or the number when
 * the proto does not know it), computed once per number. FALLBACK where the normaliser throws.
 */
class EnumResolver<T> {
  readonly #small: (T | typeof FALLBACK | undefined)[] = [];
  readonly #large = new Map<number, T | typeof FALLBACK>();

  constructor(
    private readonly table: EnumTable,
    private readonly normalise: (value: string | number) => T,
  ) {}

  get(n: number): T {
    let r = n >= 0 && n < 256 ? this.#small[n] : this.#large.get(n);
    if (r === undefined) {
      try {
        r = this.normalise(this.table.get(n) ?? n);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        r = FALLBACK;
      }
      if (n >= 0 && n < 256) this.#small[n] = r;
      else if (this.#large.size < 1024) this.#large.set(n, r);
    }
    if (r === FALLBACK) throw FALLBACK;
    return r;
  }
}

export class FlowDecoder {
  readonly #legacy: WireDecoder;
  readonly #verdict: EnumResolver<Verdict>;
  readonly #flowType: EnumResolver<FlowType | undefined>;
  readonly #direction: EnumResolver<TrafficDirection>;
  readonly #observationPoint: EnumResolver<string>;
  readonly #traceReason: EnumResolver<string | undefined>;
  readonly #ipVersion: EnumResolver<IpInfo['ipVersion']>;
  readonly #l7Type: EnumResolver<Layer7['type']>;
  readonly #dropReasonNames: EnumTable;

  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  readonly #strings = new ShortStringCache();
  readonly #endpoints: (CachedEndpoint | undefined)[];
  readonly #endpointMask: number;
  /** Label runs by identity, direct-mapped (LABEL_RUN_SLOTS). */
  readonly #labelRuns: (LabelRun | undefined)[];
  readonly #labelRunMask: number;
  /** Endpoints whose labels were their identity's remembered bytes, not decoded (tests count them). */
  labelRunsReused = 0;
  #nodeBytes: Buffer = Buffer.alloc(0);
  #nodeName = '';
  readonly #tcpFlags: (TcpFlags | undefined)[] = [];
  /** Responses that went the previous way (not exactly one flow, or a value the fast path leaves to it). */
  fallbacks = 0;
  readonly #eventTypes: (EventType | undefined)[] = [];

  /** `endpointSlots`: a power of two (tests make it tiny). */
  constructor(definition: PackageDefinition, options: { readonly endpointSlots?: number } = {}) {
    const slots = options.endpointSlots ?? ENDPOINT_SLOTS;
    if (slots < 1 || (slots & (slots - 1)) !== 0) throw new Error(`endpoint slots must be a power of two, not ${slots}`);
    this.#endpoints = new Array<CachedEndpoint | undefined>(slots).fill(undefined);
    this.#endpointMask = slots - 1;
    this.#labelRuns = new Array<LabelRun | undefined>(LABEL_RUN_SLOTS).fill(undefined);
    this.#labelRunMask = LABEL_RUN_SLOTS - 1;
    this.#legacy = new WireDecoder(definition);
    const table = (name: string): EnumTable => {
      const entry = definition[name] as unknown as { type?: { value?: { name: string; number: number }[] } } | undefined;
      const values = entry?.type?.value;
      if (!values) throw new Error(`enum ${name} missing from the proto definition`);
      return new Map(values.map((v) => [v.number, v.name]));
    };
    // The same normalisations as flow/decode.ts decodeFlow applies to proto-loader's values.
    this.#verdict = new EnumResolver(table('flow.Verdict'), (v) => optEnum(v, 'flow.verdict', VERDICT_BY_NUMBER, 'VERDICT_UNKNOWN') ?? 'VERDICT_UNKNOWN');
    this.#flowType = new EnumResolver(table('flow.FlowType'), (v) => optEnum(v, 'flow.Type', FLOW_TYPE_BY_NUMBER, 'UNKNOWN_TYPE'));
    this.#direction = new EnumResolver(
      table('flow.TrafficDirection'),
      (v) => optEnum(v, 'flow.traffic_direction', TRAFFIC_DIRECTION_BY_NUMBER, 'TRAFFIC_DIRECTION_UNKNOWN') ?? 'TRAFFIC_DIRECTION_UNKNOWN',
    );
    this.#observationPoint = new EnumResolver(table('flow.TraceObservationPoint'), (v) => (typeof v === 'string' ? v : observationPointName(v)));
    this.#traceReason = new EnumResolver(table('flow.TraceReason'), (v) => optEnum(v, 'flow.trace_reason', TRACE_REASON_BY_NUMBER, 'TRACE_REASON_UNKNOWN'));
    this.#ipVersion = new EnumResolver(table('flow.IPVersion'), (v) => optEnum(v, 'flow.IP.ipVersion', IP_VERSION_BY_NUMBER, 'IP_NOT_USED'));
    this.#l7Type = new EnumResolver(table('flow.L7FlowType'), (v) => optEnum(v, 'flow.l7.type', L7_TYPE_BY_NUMBER, 'UNKNOWN_L7_TYPE') ?? 'UNKNOWN_L7_TYPE');
    this.#dropReasonNames = table('flow.DropReason');
  }

  /**
   * One GetFlowsResponse → the event, or the DecodeError `decodeEvent` reports for it. Throws
   * WireError on malformed bytes.
   */
  decode = (buf: Buffer): DecodeResult => {
    this.#buf = buf;
    this.#pos = 0;
    let flow: Flow;
    try {
      const f = this.#response(buf.length);
      if (f === undefined) return this.#previousPath(buf);
      flow = f;
    } catch (e) {
      if (e === FALLBACK) return this.#previousPath(buf);
      throw e;
    }
    return { ok: true, event: { kind: 'flow', flow } };
  };

  /** WireDecoder → proto-loader-shaped object → decodeEvent, for everything but plain flows. */
  #previousPath(buf: Buffer): DecodeResult {
    this.fallbacks++;
    return decodeEvent(this.#legacy.decode(buf));
  }

  // ---- messages -----------------------------------------------------------------------------

  /** The flow of a response holding exactly one flow; undefined for anything else. */
  #response(end: number): Flow | undefined {
    let flowStart = -1;
    let flowEnd = -1;
    let nodeStart = -1;
    let nodeEnd = -1;
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag) {
        case (1 << 3) | 2: {
          if (flowStart >= 0) return undefined; // a repeated member: the previous path decides
          flowEnd = this.#len();
          flowStart = this.#pos;
          this.#pos = flowEnd;
          break;
        }
        case (2 << 3) | 2:
        case (3 << 3) | 2:
          return undefined; // node status, lost events
        case (1000 << 3) | 2:
          nodeEnd = this.#len();
          nodeStart = this.#pos;
          this.#pos = nodeEnd;
          break;
        case (1001 << 3) | 2:
          this.#skipMessage(this.#len()); // the envelope time: flows carry their own (still checked)
          break;
        default:
          if (tag >>> 3 === 1 || tag >>> 3 === 2 || tag >>> 3 === 3 || tag >>> 3 === 1000 || tag >>> 3 === 1001) {
            throw new WireError(`field ${tag >>> 3}: unexpected wire type ${tag & 7}`);
          }
          this.#skip(tag, end);
      }
    }
    if (flowStart < 0) return undefined;
    const envelopeNode = nodeStart < 0 ? undefined : this.#envelopeNode(nodeStart, nodeEnd);
    this.#pos = flowStart;
    return this.#flow(flowEnd, envelopeNode);
  }

  /** The response's node name; the same bytes as the previous response give the same string. */
  #envelopeNode(start: number, end: number): string {
    const buf = this.#buf;
    const known = this.#nodeBytes;
    const n = end - start;
    if (known.length === n) {
      let i = 0;
      while (i < n && known[i] === buf[start + i]) i++;
      if (i === n) return this.#nodeName;
    }
    this.#pos = start;
    const name = this.#text(end);
    this.#nodeBytes = Buffer.from(buf.subarray(start, end));
    this.#nodeName = name;
    return name;
  }

  #flow(end: number, envelopeNode: string | undefined): Flow {
    let hasTime = false;
    let seconds = 0;
    let nanos = 0;
    let uuid: string | undefined;
    let verdict: Verdict = 'VERDICT_UNKNOWN';
    let dropNumeric: number | undefined;
    let dropDesc: number | undefined;
    let ip: IpInfo | undefined;
    let l4: Layer4 | undefined;
    let hasL4 = false;
    let source = EMPTY_ENDPOINT;
    let destination = EMPTY_ENDPOINT;
    let type: FlowType | undefined;
    let hasType = false;
    let nodeName: string | undefined;
    let sourceNames: string[] | undefined;
    let destinationNames: string[] | undefined;
    let l7: Layer7 | undefined;
    let reply: boolean | undefined;
    let isReply: boolean | undefined;
    let eventType: EventType | undefined;
    let sourceService: Service | undefined;
    let destinationService: Service | undefined;
    let trafficDirection: TrafficDirection = 'TRAFFIC_DIRECTION_UNKNOWN';
    let policyMatchType: number | undefined;
    let observationPoint: string | undefined;
    let traceReason: string | undefined;
    let hasTraceReason = false;
    let egressAllowedBy: PolicyRef[] | undefined;
    let ingressAllowedBy: PolicyRef[] | undefined;
    let egressDeniedBy: PolicyRef[] | undefined;
    let ingressDeniedBy: PolicyRef[] | undefined;
    let summary: string | undefined;

    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: {
          const tEnd = this.#lenOf(tag, end);
          hasTime = true;
          seconds = 0;
          nanos = 0;
          while (this.#pos < tEnd) {
            const t = this.#tag();
            if (t === ((1 << 3) | 0)) seconds = this.#int64Number();
            else if (t === ((2 << 3) | 0)) nanos = this.#uint32() | 0;
            else this.#skipKnown(t, tEnd, 1, 2);
          }
          this.#endAt(tEnd);
          break;
        }
        case 34: uuid = this.#uniqueText(this.#lenOf(tag, end)); break;
        case 2: verdict = this.#verdict.get(this.#varintOf(tag) | 0); break;
        case 3: dropNumeric = this.#varintOf(tag) >>> 0; break;
        case 25: dropDesc = this.#varintOf(tag) | 0; break;
        case 5: ip = this.#ip(this.#lenOf(tag, end)); break;
        case 6: {
          hasL4 = true;
          l4 = this.#layer4(this.#lenOf(tag, end));
          break;
        }
        case 8: source = this.#endpoint(this.#lenOf(tag, end)); break;
        case 9: destination = this.#endpoint(this.#lenOf(tag, end)); break;
        case 10: {
          hasType = true;
          type = this.#flowType.get(this.#varintOf(tag) | 0);
          break;
        }
        case 11: nodeName = this.#stringOf(tag, end); break;
        case 13: (sourceNames ??= []).push(this.#stringOf(tag, end)); break;
        case 14: (destinationNames ??= []).push(this.#stringOf(tag, end)); break;
        case 15: l7 = this.#layer7(this.#lenOf(tag, end)); break;
        case 16: reply = this.#varintOf(tag) !== 0; break;
        case 26: {
          const bEnd = this.#lenOf(tag, end);
          let value = false;
          while (this.#pos < bEnd) {
            const t = this.#tag();
            if (t === ((1 << 3) | 0)) value = this.#uint32() !== 0;
            else this.#skipKnown(t, bEnd, 1);
          }
          this.#endAt(bEnd);
          isReply = value;
          break;
        }
        case 19: eventType = this.#eventType(this.#lenOf(tag, end)); break;
        case 20: sourceService = this.#service(this.#lenOf(tag, end)); break;
        case 21: destinationService = this.#service(this.#lenOf(tag, end)); break;
        case 22: trafficDirection = this.#direction.get(this.#varintOf(tag) | 0); break;
        case 23: policyMatchType = this.#varintOf(tag) >>> 0; break;
        case 24: observationPoint = this.#observationPoint.get(this.#varintOf(tag) | 0); break;
        case 36: {
          hasTraceReason = true;
          traceReason = this.#traceReason.get(this.#varintOf(tag) | 0);
          break;
        }
        case 21001: (egressAllowedBy ??= []).push(this.#policy(this.#lenOf(tag, end))); break;
        case 21002: (ingressAllowedBy ??= []).push(this.#policy(this.#lenOf(tag, end))); break;
        case 21004: (egressDeniedBy ??= []).push(this.#policy(this.#lenOf(tag, end))); break;
        case 21005: (ingressDeniedBy ??= []).push(this.#policy(this.#lenOf(tag, end))); break;
        case 100000: summary = this.#stringOf(tag, end); break;
        default: this.#skip(tag, end);
      }
    }
    this.#endAt(end);

    // What flow/decode.ts rejects or special-cases goes the previous way.
    if (!hasTime || nanos < 0 || nanos > 999_999_999 || seconds < 0 || seconds > MAX_SECONDS) throw FALLBACK;
    let dropReason: string | undefined;
    let dropReasonCode: number | undefined;
    if (dropDesc !== undefined || dropNumeric !== undefined) {
      const desc = dropDesc === undefined ? undefined : (this.#dropReasonNames.get(dropDesc) ?? dropDesc);
      let drop: { name: string; code?: number };
      try {
        drop = decodeDropReason(desc, dropNumeric, 'flow.drop_reason_desc');
      } catch (e) {
        if (e instanceof DecodeError) throw FALLBACK;
        throw e;
      }
      if (drop.name !== DROP_REASON_PLACEHOLDER) {
        dropReason = drop.name;
        dropReasonCode = drop.code;
      }
    }
    return {
      time: this.#iso(seconds, nanos),
      timeMs: seconds * 1000 + Math.floor(nanos / 1e6),
      uuid: uuid || undefined,
      verdict,
      dropReason,
      dropReasonCode,
      ip,
      l4: hasL4 ? l4 : undefined,
      source,
      destination,
      type: hasType ? type : undefined,
      nodeName: nodeName ?? envelopeNode,
      sourceNames: sourceNames ?? EMPTY_STRINGS,
      destinationNames: destinationNames ?? EMPTY_STRINGS,
      l7,
      // CLI <= 0.10 and old agents only set the deprecated `reply` bool; absent there means unknown.
      isReply: isReply ?? (reply === true ? true : undefined),
      eventType,
      sourceService,
      destinationService,
      trafficDirection,
      policyMatchType,
      traceObservationPoint: observationPoint,
      traceReason: hasTraceReason ? traceReason : undefined,
      egressAllowedBy: egressAllowedBy ?? NO_POLICIES,
      ingressAllowedBy: ingressAllowedBy ?? NO_POLICIES,
      egressDeniedBy: egressDeniedBy ?? NO_POLICIES,
      ingressDeniedBy: ingressDeniedBy ?? NO_POLICIES,
      summary,
    };
  }

  // Consecutive flows usually share the second; where they do not (a recording of a week sent in
  // a minute: every flow its own second), they share the day, and the time of day is three lookups
  // instead of a Date and its ISO text per flow.
  #isoSecond = Number.NaN;
  #isoBase = '';
  #isoDay = Number.NaN;
  /** `YYYY-MM-DDT` of #isoDay. */
  #isoDayBase = '';

  /** RFC 3339 with nine fraction digits, as flow/timestamp.ts fromEpoch writes it (whole `seconds` in 0..MAX_SECONDS: four-digit years). */
  #iso(seconds: number, nanos: number): string {
    if (seconds !== this.#isoSecond) {
      const day = Math.floor(seconds / 86_400);
      if (day !== this.#isoDay) {
        this.#isoDayBase = new Date(day * 86_400_000).toISOString().slice(0, 11);
        this.#isoDay = day;
      }
      const s = seconds - day * 86_400;
      this.#isoBase = `${this.#isoDayBase}${TWO_DIGITS[Math.floor(s / 3600)]}:${TWO_DIGITS[Math.floor(s / 60) % 60]}:${TWO_DIGITS[s % 60]}`;
      this.#isoSecond = seconds;
    }
    return `${this.#isoBase}.${String(nanos).padStart(9, '0')}Z`;
  }

  /** A frozen Endpoint, shared by every flow whose endpoint has the same bytes. */
  #endpoint(end: number): Endpoint {
    const start = this.#pos;
    const buf = this.#buf;
    const key = endpointKey(buf, start, end);
    const slot = key & this.#endpointMask;
    const cached = this.#endpoints[slot];
    if (cached !== undefined && cached.key === key && cached.bytes.length === end - start && buf.compare(cached.bytes, 0, end - start, start, end) === 0) {
      this.#pos = end;
      return cached.value;
    }
    let id: number | undefined;
    let identity: number | undefined;
    let clusterName: string | undefined;
    let namespace: string | undefined;
    let labels: string[] | undefined;
    /** The identity's known list, when the endpoint's first label fields are its bytes. */
    let known: readonly string[] | undefined;
    /** Where the endpoint's run of consecutive label fields starts and ends (-1: none, or not one run). */
    let runStart = -1;
    let runEnd = -1;
    let podName: string | undefined;
    let workloads: Workload[] | undefined;
    while (this.#pos < end) {
      const tagStart = this.#pos;
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: id = this.#varintOf(tag) >>> 0; break;
        case 2: identity = this.#varintOf(tag) >>> 0; break;
        case 7: clusterName = this.#stringOf(tag, end); break;
        case 3: namespace = this.#stringOf(tag, end); break;
        case 4: {
          if (labels === undefined && known === undefined) {
            runStart = tagStart;
            if (identity !== undefined) known = this.#knownLabels(identity, tagStart, end);
          } else {
            if (runEnd !== tagStart) runStart = -1;
            // More labels after the identity's: decoded on top of a copy of its list.
            if (labels === undefined && known !== undefined) labels = [...known];
          }
          if (labels !== undefined || known === undefined) (labels ??= []).push(this.#stringOf(tag, end));
          runEnd = this.#pos;
          break;
        }
        case 5: podName = this.#stringOf(tag, end); break;
        case 6: {
          const wEnd = this.#lenOf(tag, end);
          let name = '';
          let kind = '';
          while (this.#pos < wEnd) {
            const t = this.#tag();
            if (t === ((1 << 3) | 2)) name = this.#text(this.#len(wEnd));
            else if (t === ((2 << 3) | 2)) kind = this.#text(this.#len(wEnd));
            else this.#skipKnown(t, wEnd, 1, 2);
          }
          this.#endAt(wEnd);
          (workloads ??= []).push({ name, kind });
          break;
        }
        default: this.#skip(tag, end);
      }
    }
    this.#endAt(end);
    const value: Endpoint = Object.freeze({
      id,
      identity,
      clusterName,
      namespace: namespace || undefined,
      labels: labels !== undefined ? this.#labelsOf(identity, labels, runStart, runEnd) : (known ?? EMPTY_STRINGS),
      podName: podName || undefined,
      workloads: Object.freeze(workloads ?? []),
    });
    if (end - start <= MAX_CACHED_ENDPOINT_BYTES) {
      // Its own allocation, not a slice of a shared pool slab that any one survivor keeps whole.
      const bytes = Buffer.allocUnsafeSlow(end - start);
      buf.copy(bytes, 0, start, end);
      this.#endpoints[slot] = { key, bytes, value };
    }
    return value;
  }

  /**
   * The identity's label list if the label fields at `start` are the bytes it was decoded from
   * (the reader is moved past them), else undefined. Pod churn makes most endpoints miss the
   * endpoint cache (a new pod name), yet their labels are their identity's: decoding each label
   * and comparing the list with the shared one (label-lists.ts) was ~5% of observe's CPU.
   */
  #knownLabels(identity: number, start: number, end: number): readonly string[] | undefined {
    const entry = this.#labelRuns[identity & this.#labelRunMask];
    if (entry === undefined || entry.identity !== identity) return undefined;
    const n = entry.bytes.length;
    if (start + n > end || this.#buf.compare(entry.bytes, 0, n, start, start + n) !== 0) return undefined;
    this.#pos = start + n;
    this.labelRunsReused++;
    return entry.labels;
  }

  /** The shared list of decoded `labels`, remembered with their bytes when they were one run of fields. */
  #labelsOf(identity: number | undefined, labels: string[], runStart: number, runEnd: number): readonly string[] {
    const shared = sharedLabels(identity, labels);
    if (identity !== undefined && runStart >= 0 && runEnd - runStart <= MAX_LABEL_RUN_BYTES) {
      // Its own allocation, as the endpoint cache's copies (a slice would keep a whole slab).
      const bytes = Buffer.allocUnsafeSlow(runEnd - runStart);
      this.#buf.copy(bytes, 0, runStart, runEnd);
      this.#labelRuns[identity & this.#labelRunMask] = { identity, bytes, labels: shared };
    }
    return shared;
  }

  #service(end: number): Service {
    let name: string | undefined;
    let namespace: string | undefined;
    while (this.#pos < end) {
      const tag = this.#tag();
      if (tag === ((1 << 3) | 2)) name = this.#text(this.#len(end));
      else if (tag === ((2 << 3) | 2)) namespace = this.#text(this.#len(end));
      else this.#skipKnown(tag, end, 1, 2);
    }
    this.#endAt(end);
    return { name, namespace };
  }

  #ip(end: number): IpInfo {
    let source: string | undefined;
    let destination: string | undefined;
    let sourceXlated: string | undefined;
    let ipVersion: IpInfo['ipVersion'];
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: source = this.#stringOf(tag, end); break;
        case 5: sourceXlated = this.#stringOf(tag, end); break;
        case 2: destination = this.#stringOf(tag, end); break;
        case 3: ipVersion = this.#ipVersion.get(this.#varintOf(tag) | 0); break;
        case 4: this.#varintOf(tag); break; // encrypted: not kept
        default: this.#skip(tag, end);
      }
    }
    this.#endAt(end);
    return { source, destination, sourceXlated, ipVersion };
  }

  /** The last member of the `protocol` oneof wins, as in proto-loader; none: undefined. */
  #layer4(end: number): Layer4 | undefined {
    let l4: Layer4 | undefined;
    while (this.#pos < end) {
      const tag = this.#tag();
      const field = tag >>> 3;
      if (field < 1 || field > 7) {
        this.#skip(tag, end);
        continue;
      }
      const mEnd = this.#lenOf(tag, end);
      switch (field) {
        case 1: l4 = this.#tcp(mEnd); break;
        case 2: l4 = this.#ports('UDP', mEnd); break;
        case 5: l4 = this.#ports('SCTP', mEnd); break;
        case 3: l4 = this.#icmp('ICMPv4', mEnd); break;
        case 4: l4 = this.#icmp('ICMPv6', mEnd); break;
        default:
          // VRRP, IGMP: only the protocol is kept; their fields are still checked.
          this.#skipMessage(mEnd);
          l4 = field === 6 ? VRRP : IGMP;
      }
    }
    this.#endAt(end);
    return l4;
  }

  #tcp(end: number): Layer4 {
    let sourcePort = 0;
    let destinationPort = 0;
    let flags: TcpFlags | undefined;
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: sourcePort = this.#varintOf(tag) >>> 0; break;
        case 2: destinationPort = this.#varintOf(tag) >>> 0; break;
        case 3: flags = this.#flags(this.#lenOf(tag, end)); break;
        default: this.#skip(tag, end);
      }
    }
    this.#endAt(end);
    return flags === undefined ? { protocol: 'TCP', sourcePort, destinationPort } : { protocol: 'TCP', sourcePort, destinationPort, flags };
  }

  /** One frozen object per combination of set flags, as flow/decode.ts shares them. */
  #flags(end: number): TcpFlags {
    let mask = 0;
    while (this.#pos < end) {
      const tag = this.#tag();
      const field = tag >>> 3;
      if (field >= 1 && field <= 9) {
        if (this.#varintOf(tag) !== 0) mask |= 1 << (field - 1);
        else mask &= ~(1 << (field - 1));
      } else {
        this.#skip(tag, end);
      }
    }
    this.#endAt(end);
    let flags = this.#tcpFlags[mask];
    if (flags === undefined) {
      const built: Record<string, boolean> = {};
      for (let i = 0; i < TCP_FLAG_NAMES.length; i++) if (mask & (1 << i)) built[TCP_FLAG_NAMES[i] as string] = true;
      flags = Object.freeze(built);
      this.#tcpFlags[mask] = flags;
    }
    return flags;
  }

  #ports(protocol: 'UDP' | 'SCTP', end: number): Layer4 {
    let sourcePort = 0;
    let destinationPort = 0;
    while (this.#pos < end) {
      const tag = this.#tag();
      if (tag === ((1 << 3) | 0)) sourcePort = this.#uint32() >>> 0;
      else if (tag === ((2 << 3) | 0)) destinationPort = this.#uint32() >>> 0;
      else this.#skipKnown(tag, end, 1, 2);
    }
    this.#endAt(end);
    return { protocol, sourcePort, destinationPort };
  }

  #icmp(protocol: 'ICMPv4' | 'ICMPv6', end: number): Layer4 {
    let icmpType = 0;
    let icmpCode = 0;
    while (this.#pos < end) {
      const tag = this.#tag();
      if (tag === ((1 << 3) | 0)) icmpType = this.#uint32() >>> 0;
      else if (tag === ((2 << 3) | 0)) icmpCode = this.#uint32() >>> 0;
      else this.#skipKnown(tag, end, 1, 2);
    }
    this.#endAt(end);
    return { protocol, icmpType, icmpCode };
  }

  #eventType(end: number): EventType {
    let type = 0;
    let subType = 0;
    while (this.#pos < end) {
      const tag = this.#tag();
      if (tag === ((1 << 3) | 0)) type = this.#uint32() | 0;
      else if (tag === ((2 << 3) | 0)) subType = this.#uint32() | 0;
      else this.#skipKnown(tag, end, 1, 2);
    }
    this.#endAt(end);
    // A handful of (type, sub_type) pairs exist; share one frozen object per pair.
    if (type < 0 || type > 255 || subType < 0 || subType > 255) return { type, subType };
    const key = type * 256 + subType;
    let shared = this.#eventTypes[key];
    if (shared === undefined) {
      shared = Object.freeze({ type, subType });
      this.#eventTypes[key] = shared;
    }
    return shared;
  }

  #policy(end: number): PolicyRef {
    let name: string | undefined;
    let namespace: string | undefined;
    let kind: string | undefined;
    let labels: string[] | undefined;
    let revision: string | undefined;
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: name = this.#stringOf(tag, end); break;
        case 2: namespace = this.#stringOf(tag, end); break;
        case 3: (labels ??= []).push(this.#stringOf(tag, end)); break;
        case 4: revision = this.#uint64StringOf(tag); break;
        case 5: kind = this.#stringOf(tag, end); break;
        default: this.#skip(tag, end);
      }
    }
    this.#endAt(end);
    return { name, namespace, kind, labels: labels ?? EMPTY_STRINGS, revision };
  }

  #layer7(end: number): Layer7 {
    let type: Layer7['type'] = 'UNKNOWN_L7_TYPE';
    let latencyNs: string | undefined;
    let dns: DnsRecord | undefined;
    let http: HttpRecord | undefined;
    let kafka: KafkaRecord | undefined;
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: type = this.#l7Type.get(this.#varintOf(tag) | 0); break;
        case 2: latencyNs = this.#uint64StringOf(tag); break;
        // `record` is a oneof: the last member wins.
        case 100: {
          dns = this.#dns(this.#lenOf(tag, end));
          http = undefined;
          kafka = undefined;
          break;
        }
        case 101: {
          http = this.#http(this.#lenOf(tag, end));
          dns = undefined;
          kafka = undefined;
          break;
        }
        case 102: {
          kafka = this.#kafka(this.#lenOf(tag, end));
          dns = undefined;
          http = undefined;
          break;
        }
        default: this.#skip(tag, end);
      }
    }
    this.#endAt(end);
    return { type, latencyNs, dns, http, kafka };
  }

  #dns(end: number): DnsRecord {
    let query = '';
    let ips: string[] | undefined;
    let ttl: number | undefined;
    let cnames: string[] | undefined;
    let rcode: number | undefined;
    let qtypes: string[] | undefined;
    let rrtypes: string[] | undefined;
    let observationSource: string | undefined;
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: query = this.#stringOf(tag, end); break;
        case 2: (ips ??= []).push(this.#stringOf(tag, end)); break;
        case 3: ttl = this.#varintOf(tag) >>> 0; break;
        case 4: (cnames ??= []).push(this.#stringOf(tag, end)); break;
        case 5: observationSource = this.#stringOf(tag, end); break;
        case 6: rcode = this.#varintOf(tag) >>> 0; break;
        case 7: (qtypes ??= []).push(this.#stringOf(tag, end)); break;
        case 8: (rrtypes ??= []).push(this.#stringOf(tag, end)); break;
        default: this.#skip(tag, end);
      }
    }
    this.#endAt(end);
    return {
      query: query.toLowerCase(),
      ips: ips ?? EMPTY_STRINGS,
      ttl,
      cnames: cnames ?? EMPTY_STRINGS,
      rcode,
      qtypes: qtypes ?? EMPTY_STRINGS,
      rrtypes: rrtypes ?? EMPTY_STRINGS,
      observationSource,
    };
  }

  #http(end: number): HttpRecord {
    let code: number | undefined;
    let method: string | undefined;
    let url: string | undefined;
    let protocol: string | undefined;
    const headers: HttpHeader[] = [];
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: code = this.#varintOf(tag) >>> 0; break;
        case 2: method = this.#stringOf(tag, end); break;
        case 3: url = this.#stringOf(tag, end); break;
        case 4: protocol = this.#stringOf(tag, end); break;
        case 5: {
          const hEnd = this.#lenOf(tag, end);
          let key = '';
          let value = '';
          while (this.#pos < hEnd) {
            const t = this.#tag();
            if (t === ((1 << 3) | 2)) key = this.#text(this.#len(hEnd));
            else if (t === ((2 << 3) | 2)) value = this.#text(this.#len(hEnd));
            else this.#skipKnown(t, hEnd, 1, 2);
          }
          this.#endAt(hEnd);
          headers.push({ key, value });
          break;
        }
        default: this.#skip(tag, end);
      }
    }
    this.#endAt(end);
    return { code, method, url, protocol, headers };
  }

  #kafka(end: number): KafkaRecord {
    let errorCode: number | undefined;
    let apiVersion: number | undefined;
    let apiKey: string | undefined;
    let correlationId: number | undefined;
    let topic: string | undefined;
    while (this.#pos < end) {
      const tag = this.#tag();
      switch (tag >>> 3) {
        case 1: errorCode = this.#varintOf(tag) | 0; break;
        case 2: apiVersion = this.#varintOf(tag) | 0; break;
        case 3: apiKey = this.#stringOf(tag, end); break;
        case 4: correlationId = this.#varintOf(tag) | 0; break;
        case 5: topic = this.#stringOf(tag, end); break;
        default: this.#skip(tag, end);
      }
    }
    this.#endAt(end);
    return { errorCode, apiVersion, apiKey, correlationId, topic };
  }

  /** Walks a message we keep nothing of, so that malformed bytes inside it still fail. */
  #skipMessage(end: number): void {
    while (this.#pos < end) this.#skip(this.#tag(), end);
    this.#endAt(end);
  }

  // ---- scalars ------------------------------------------------------------------------------

  /** A varint that fits 32 bits (tags, lengths, int32/uint32); the high bits of longer ones are dropped, as protobufjs does. */
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
            // Negative int32 values use 10 bytes: skip the high ones.
            let extra = 0;
            while (b >= 0x80) {
              if (pos >= buf.length || ++extra > 5) throw new WireError('truncated or overlong varint');
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

  #varintOf(tag: number): number {
    if ((tag & 7) !== 0) throw new WireError(`field ${tag >>> 3}: expected a varint, got wire type ${tag & 7}`);
    return this.#uint32();
  }

  /** An int64/uint64 varint read unsigned, as a number; FALLBACK beyond 2^53 (flow/decode.ts sees a string). */
  #int64Number(): number {
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
    if (hi === 0) return lo;
    if (hi < 0x200000) return hi * 4294967296 + lo;
    throw FALLBACK;
  }

  /** uint64 as its exact decimal string (what proto-loader gives with `longs: String`). */
  #uint64StringOf(tag: number): string {
    if ((tag & 7) !== 0) throw new WireError(`field ${tag >>> 3}: expected a varint, got wire type ${tag & 7}`);
    const start = this.#pos;
    try {
      return String(this.#int64Number());
    } catch (e) {
      if (e !== FALLBACK) throw e;
      this.#pos = start;
      return this.#bigUint64String();
    }
  }

  #bigUint64String(): string {
    const buf = this.#buf;
    let v = 0n;
    let shift = 0n;
    let pos = this.#pos;
    for (;;) {
      const b = buf[pos++] as number;
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) break;
    }
    this.#pos = pos;
    return BigInt.asUintN(64, v).toString();
  }

  /** The end of a length-delimited value starting at the current position, within `limit`. */
  #len(limit: number = this.#buf.length): number {
    const len = this.#uint32();
    const end = this.#pos + len;
    if (end > limit) throw new WireError(end > this.#buf.length ? 'length beyond the message' : 'field overruns its enclosing message');
    return end;
  }

  #lenOf(tag: number, limit: number): number {
    if ((tag & 7) !== 2) throw new WireError(`field ${tag >>> 3}: expected a length-delimited value, got wire type ${tag & 7}`);
    return this.#len(limit);
  }

  #endAt(end: number): void {
    if (this.#pos !== end) throw new WireError('field overruns its enclosing message');
  }

  #stringOf(tag: number, limit: number): string {
    return this.#text(this.#lenOf(tag, limit));
  }

  /** The UTF-8 text from the current position to `end`. */
  #text(end: number): string {
    const buf = this.#buf;
    const start = this.#pos;
    this.#pos = end;
    const n = end - start;
    if (n === 0) return '';
    if (n <= SHORT_TEXT_MAX) return this.#strings.get(buf, start, end);
    return buf.toString('utf8', start, end);
  }

  /** Text that never repeats (a uuid): the string cache would only lose its entries to it. */
  #uniqueText(end: number): string {
    const start = this.#pos;
    this.#pos = end;
    return this.#buf.toString('utf8', start, end);
  }

  /** Skips an unknown field; a known field number (`known`) with another wire type is an error. */
  #skipKnown(tag: number, limit: number, ...known: number[]): void {
    if (known.includes(tag >>> 3)) throw new WireError(`field ${tag >>> 3}: unexpected wire type ${tag & 7}`);
    this.#skip(tag, limit);
  }

  #skip(tag: number, limit: number): void {
    if (tag >>> 3 === 0) throw new WireError('field number 0');
    switch (tag & 7) {
      case 0:
        this.#skipVarint();
        break;
      case 1:
        this.#pos += 8;
        break;
      case 2:
        this.#pos = this.#len(limit);
        break;
      case 5:
        this.#pos += 4;
        break;
      default:
        throw new WireError(`unsupported wire type ${tag & 7} (field ${tag >>> 3})`);
    }
    if (this.#pos > limit) throw new WireError('field overruns its enclosing message');
  }

  #skipVarint(): void {
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; ; i++) {
      if (pos >= buf.length || i >= 10) throw new WireError('truncated or overlong varint');
      if ((buf[pos++] as number) < 0x80) break;
    }
    this.#pos = pos;
  }
}

/** An identity's label fields as they came on the wire, and the shared list they decode to. */
interface LabelRun {
  readonly identity: number;
  readonly bytes: Buffer;
  readonly labels: readonly string[];
}

interface CachedEndpoint {
  readonly key: number;
  readonly bytes: Buffer;
  readonly value: Endpoint;
}

/** Strings up to this many bytes go through the short-string cache (long node names are ~40). */
const SHORT_TEXT_MAX = 64;
const STRING_SLOTS = 4096;

/**
 * Short strings repeat from flow to flow (IPs, node, service and header names, DNS answers): each
 * distinct byte sequence becomes one string, found again by hashing and comparing its bytes. That
 * costs less than building a new string, leaves less garbage, and keeps the hash V8 stores in the
 * string, which the Maps downstream (edge aggregation, peer cache) use. Direct-mapped: a new byte
 * sequence replaces whatever shared its slot, so many distinct strings only cost misses.
 */
class ShortStringCache {
  readonly #bytes = new Uint8Array(STRING_SLOTS * SHORT_TEXT_MAX);
  /** Byte length per slot; 0 marks an empty slot (the empty string never comes here). */
  readonly #lengths = new Uint8Array(STRING_SLOTS);
  readonly #values: string[] = new Array<string>(STRING_SLOTS).fill('');

  /** The text of buf[start, end), 0 < end - start <= SHORT_TEXT_MAX. */
  get(buf: Buffer, start: number, end: number): string {
    const n = end - start;
    let h = 0x811c9dc5 ^ n;
    for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
    const slot = (h ^ (h >>> 15)) & (STRING_SLOTS - 1);
    const bytes = this.#bytes;
    const at = slot * SHORT_TEXT_MAX;
    if (this.#lengths[slot] === n) {
      let i = 0;
      while (i < n && bytes[at + i] === buf[start + i]) i++;
      if (i === n) return this.#values[slot] as string;
    }
    const text = shortText(buf, start, end);
    for (let i = 0; i < n; i++) bytes[at + i] = buf[start + i] as number;
    this.#lengths[slot] = n;
    this.#values[slot] = text;
    return text;
  }
}

/** One array of character codes per length, filled and read again for each short string. */
const CODES: number[][] = Array.from({ length: SHORT_TEXT_MAX + 1 }, (_, n) => new Array<number>(n).fill(0));

/**
 * Short ASCII strings are cheaper to build here than through a native call; from their codes in
 * one step, not a character at a time: that made a string per character (~0.3 KB of garbage a flow
 * from the pod names and addresses churn brings, a twentieth of what observe allocated).
 */
function shortText(buf: Buffer, start: number, end: number): string {
  const codes = CODES[end - start] as number[];
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c >= 0x80) return buf.toString('utf8', start, end);
    codes[i - start] = c;
  }
  return String.fromCharCode.apply(null, codes);
}

const VRRP: Layer4 = Object.freeze({ protocol: 'VRRP' });
const IGMP: Layer4 = Object.freeze({ protocol: 'IGMP' });

const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;

/**
 * The endpoint cache key: FNV-1a over the length, the first 12 bytes (ID, identity), the pod name and
 * the last 16 bytes. Pods of one Deployment share identity, labels, owner and cluster, so the pod
 * name is what tells them apart; it is found by walking the top-level fields (a few per label).
 * Only a key: a hit is verified against the cached bytes, so a malformed endpoint can only miss.
 */
function endpointKey(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  const head = Math.min(end, start + 12);
  for (let i = start; i < head; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  let p = start;
  while (p < end) {
    const tag = buf[p++] as number;
    if (tag === ((5 << 3) | 2)) {
      const len = buf[p++] as number;
      if (len >= 0x80) break; // a pod name over 127 bytes: the tail must do
      const podEnd = Math.min(end, p + len);
      for (let i = p; i < podEnd; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
      break;
    }
    if ((tag & 7) === 2 && tag < 0x80) {
      let len = buf[p++] as number;
      if (len >= 0x80) {
        len &= 0x7f;
        let shift = 7;
        let b: number;
        do {
          b = buf[p++] as number;
          len += (b & 0x7f) * 2 ** shift;
          shift += 7;
        } while (b >= 0x80 && shift < 35);
      }
      p += len;
    } else if ((tag & 7) === 0 && tag < 0x80) {
      while (p < end && (buf[p++] as number) >= 0x80);
    } else {
      break; // not a field of ours: the tail must do
    }
  }
  for (let i = Math.max(head, end - 16); i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  return h & 0x3fffffff; // a small integer: Map keys stay unboxed
}
