/**
 * The fast way through a recorded line: `{"flow":{…},"node_name":…,"time":…}` exactly as
 * `hubble observe -o json|jsonpb` and the exporter write it (proto field names, enum names,
 * numbers as numbers), read in one pass straight into the normalised `Flow`.
 *
 * JSON.parse builds every member of a ~1.7 KB flow (ethernet, interface, node labels, two label
 * lists) only for the decoder to read a third of them. Here values we ignore are checked for JSON
 * structure and stepped over (strings by `indexOf`, which is native), and an endpoint whose text
 * equals one seen before is not parsed again: its frozen `Endpoint` is shared.
 *
 * Anything else gives `undefined`, and the caller decodes the line the general way
 * (JSON.parse + decodeEvent): other event kinds, bare or camelCase flows,
 * nulls, numbers written as strings, enum numbers, unknown enum names, a type we do not expect,
 * malformed JSON. So every error message still comes from the general decoder, and a line
 * read here decodes to exactly (`toStrictEqual`) what the general way gives
 * (test/property/decode-line.test.ts). One leniency: raw control characters inside a string are
 * not looked for (JSON.parse rejects them); no JSON encoder writes them.
 */
import { ENDPOINT_CACHE_CHARS, MAX_CACHED_ENDPOINT_CHARS } from './cache-bounds.js';
import {
  EMPTY_ENDPOINT,
  NO_POLICIES,
  TCP_FLAG_NAMES,
  decodeEndpoint,
  decodeL7,
  decodePolicies,
  sharedEventType,
  sharedTcpFlags,
} from './decode.js';
import { DROP_REASON_PLACEHOLDER, decodeDropReason } from './drop-reason.js';
import { FLOW_TYPE_BY_NUMBER, IP_VERSION_BY_NUMBER, TRACE_REASON_BY_NUMBER, TRAFFIC_DIRECTION_BY_NUMBER, VERDICT_BY_NUMBER } from './enums.js';
import { DecodeError } from './json-fields.js';
import type {
  Endpoint,
  EventType,
  Flow,
  FlowType,
  HubbleEvent,
  IpInfo,
  Layer4,
  Layer7,
  PolicyRef,
  Service,
  TrafficDirection,
  Verdict,
} from './model.js';
import { ownCopy } from './own-copy.js';
import { parseTimestamp } from './timestamp.js';

/** Thrown (never as an Error: no stack to capture) when the line must go the general way. */
const GENERAL = Symbol('decode the general way');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const MAX_DEPTH = 64;

const VERDICTS = new Set<string>(VERDICT_BY_NUMBER);
const FLOW_TYPES = new Set<string>(FLOW_TYPE_BY_NUMBER);
const DIRECTIONS = new Set<string>(TRAFFIC_DIRECTION_BY_NUMBER);
const TRACE_REASONS = new Set<string>(TRACE_REASON_BY_NUMBER);
const IP_VERSIONS = new Set<string>(IP_VERSION_BY_NUMBER);

/**
 * lowerCamelCase spellings the general decoder also accepts. Where a flow mixes spellings its
 * "first one wins" rule depends on key order, so such flows go that way.
 */
const CAMEL_FLOW_KEYS = new Set([
  'ip',
  'type',
  'nodeName',
  'eventType',
  'trafficDirection',
  'isReply',
  'summary',
  'traceObservationPoint',
  'traceReason',
  'dropReason',
  'dropReasonDesc',
  'sourceNames',
  'destinationNames',
  'sourceService',
  'destinationService',
  'policyMatchType',
  'egressAllowedBy',
  'ingressAllowedBy',
  'egressDeniedBy',
  'ingressDeniedBy',
]);

// Bounded like decode.ts's endpoint cache; the texts are copies, so no line stays alive through them.
const MAX_ENDPOINTS = 8192;
const ENDPOINTS_PER_PREFIX = 64;
/** Enough of an endpoint's text to tell most apart (ID and identity come first). */
const ENDPOINT_PREFIX = 40;

/** What a member name means to its object's reader. */
const SKIP = -1;
const DECLINE = -2;
/** What the member iteration gives after the last member of an object. */
const END = -3;

/**
 * The member names of one kind of object, numbered. Hubble writes members in a fixed order, so the
 * name that followed a member last time is compared in place first: no Map lookup for it. Names not listed are learnt (up to a bound) so that they are predicted too.
 */
class MemberNames {
  readonly #codes = new Map<string, number>();
  /** `"name":` by code. */
  readonly quoted: string[] = [];
  /** The reader's action by code: its own case number, SKIP or DECLINE. */
  readonly action: number[] = [];
  /** Code predicted after code i; the last slot is for the first member. */
  readonly next: Int32Array;
  readonly start: number;

  constructor(known: readonly string[], declined: readonly string[] = []) {
    for (const name of known) this.#add(name, this.action.length);
    for (const name of declined) this.#add(name, DECLINE);
    this.next = new Int32Array(MAX_NAMES + 1).fill(-1);
    this.start = MAX_NAMES;
  }

  #add(name: string, action: number): number {
    const code = this.quoted.length;
    this.#codes.set(name, code);
    this.quoted.push(`"${name}":`);
    this.action.push(action);
    return code;
  }

  /** The code of a name read the slow way; an unknown name is learnt as SKIP while there is room. */
  codeOf(name: string): number {
    const code = this.#codes.get(name);
    if (code !== undefined) return code;
    return this.quoted.length < MAX_NAMES ? this.#add(name, SKIP) : MAX_NAMES;
  }
}
/** Codes per object kind; MAX_NAMES itself means "unknown, not learnt" (skipped). */
const MAX_NAMES = 96;

const ENVELOPE_NAMES = new MemberNames(['flow', 'node_name'], ['nodeName']);
const enum EnvelopeMember { Flow, NodeName }

const FLOW_NAMES = new MemberNames(
  [
    'time', 'uuid', 'verdict', 'drop_reason', 'drop_reason_desc', 'IP', 'l4', 'source', 'destination', 'Type',
    'node_name', 'source_names', 'destination_names', 'l7', 'reply', 'is_reply', 'event_type', 'source_service',
    'destination_service', 'traffic_direction', 'policy_match_type', 'trace_observation_point', 'trace_reason',
    'egress_allowed_by', 'ingress_allowed_by', 'egress_denied_by', 'ingress_denied_by', 'Summary',
  ],
  [...CAMEL_FLOW_KEYS],
);
const enum FlowMember {
  Time, Uuid, Verdict, DropReason, DropReasonDesc, Ip, L4, Source, Destination, Type,
  NodeName, SourceNames, DestinationNames, L7, Reply, IsReply, EventType, SourceService,
  DestinationService, TrafficDirection, PolicyMatchType, TraceObservationPoint, TraceReason,
  EgressAllowedBy, IngressAllowedBy, EgressDeniedBy, IngressDeniedBy, Summary,
}

const IP_NAMES = new MemberNames(['source', 'destination', 'source_xlated', 'ipVersion', 'ip_version'], ['sourceXlated']);
const enum IpMember { Source, Destination, SourceXlated, IpVersion, IpVersionSnake }

const L4_NAMES = new MemberNames(['TCP', 'UDP', 'SCTP', 'ICMPv4', 'ICMPv6', 'VRRP', 'IGMP'], ['tcp', 'udp', 'sctp', 'icmpv4', 'icmpv6']);
const L4_PROTOCOLS = ['TCP', 'UDP', 'SCTP', 'ICMPv4', 'ICMPv6', 'VRRP', 'IGMP'] as const;

const PORT_NAMES = new MemberNames(['source_port', 'destination_port', 'flags'], ['sourcePort', 'destinationPort']);
const enum PortMember { Source, Destination, Flags }

const TCP_FLAG_MEMBERS = new MemberNames(TCP_FLAG_NAMES);
const ICMP_NAMES = new MemberNames(['type', 'code']);
const EVENT_TYPE_NAMES = new MemberNames(['type', 'sub_type'], ['subType']);
const SERVICE_NAMES = new MemberNames(['name', 'namespace']);

/** A known endpoint: its exact JSON text and what it decodes to. */
interface KnownEndpoint {
  readonly text: string;
  readonly endpoint: Endpoint;
}

export class LineDecoder {
  #s = '';
  #pos = 0;
  /** Endpoint text prefix → endpoints whose text starts so, most recently used first. */
  readonly #endpoints = new Map<string, KnownEndpoint[]>();
  #endpointCount = 0;
  #endpointChars = 0;
  /**
   * Where the next backslash is, at or after the string being read (Infinity: none). Escapes are
   * rare (DNS summaries quote names): a string ending before it is plain, and is found with one
   * indexOf; only the strings holding one are walked and unescaped by JSON.parse.
   */
  #escapeAt = Infinity;
  /** Lines handed back to the general decoder. */
  declined = 0;

  /** The event of a plain flow line, or undefined: decode it with JSON.parse + decodeEvent. */
  decode(line: string): HubbleEvent | undefined {
    this.#s = line;
    this.#pos = 0;
    const escape = line.indexOf('\\');
    this.#escapeAt = escape < 0 ? Infinity : escape;
    try {
      return this.#envelope();
    } catch (e) {
      if (e !== GENERAL && !(e instanceof DecodeError) && !(e instanceof SyntaxError)) throw e;
      this.declined++;
      return undefined;
    } finally {
      this.#s = '';
    }
  }

  #envelope(): HubbleEvent {
    let flow: Flow | undefined;
    let nodeName: string | undefined;
    for (let code = this.#firstMember(ENVELOPE_NAMES); code !== END; code = this.#nextMember(ENVELOPE_NAMES, code)) {
      switch (ENVELOPE_NAMES.action[code] ?? SKIP) {
        case EnvelopeMember.Flow:
          flow = this.#flow();
          break;
        case EnvelopeMember.NodeName:
          // Hubble writes it after the flow, which names its node itself: no copy needed then.
          if (flow !== undefined && flow.nodeName !== undefined) this.#skipString();
          else nodeName = this.#string();
          break;
        case DECLINE:
          throw GENERAL;
        default:
          this.#skipValue(1);
      }
    }
    this.#ws();
    if (this.#pos < this.#s.length) throw GENERAL; // text after the object
    if (flow === undefined) throw GENERAL;
    if (flow.nodeName === undefined && nodeName !== undefined) (flow as { nodeName?: string }).nodeName = nodeName;
    return { kind: 'flow', flow };
  }

  #flow(): Flow {
    let time: string | undefined;
    let uuid: string | undefined;
    let verdict: Verdict = 'VERDICT_UNKNOWN';
    let dropNumeric: number | undefined;
    let dropDesc: string | undefined;
    let ip: IpInfo | undefined;
    let l4: Layer4 | undefined;
    let source = EMPTY_ENDPOINT;
    let destination = EMPTY_ENDPOINT;
    let type: FlowType | undefined;
    let nodeName: string | undefined;
    let sourceNames: readonly string[] = NO_STRINGS;
    let destinationNames: readonly string[] = NO_STRINGS;
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
    let egressAllowedBy = NO_POLICIES;
    let ingressAllowedBy = NO_POLICIES;
    let egressDeniedBy = NO_POLICIES;
    let ingressDeniedBy = NO_POLICIES;
    let summary: string | undefined;

    for (let code = this.#firstMember(FLOW_NAMES); code !== END; code = this.#nextMember(FLOW_NAMES, code)) {
      switch (FLOW_NAMES.action[code] ?? SKIP) {
        case FlowMember.Time: time = this.#string(); break;
        case FlowMember.Uuid: uuid = this.#string(); break;
        case FlowMember.Verdict: verdict = this.#enum(VERDICTS) as Verdict; break;
        case FlowMember.DropReason: dropNumeric = this.#integer(); break;
        case FlowMember.DropReasonDesc: dropDesc = this.#string(); break;
        case FlowMember.Ip: ip = this.#ip(); break;
        case FlowMember.L4: l4 = this.#l4(); break;
        case FlowMember.Source: source = this.#endpoint(); break;
        case FlowMember.Destination: destination = this.#endpoint(); break;
        case FlowMember.Type: type = this.#enum(FLOW_TYPES) as FlowType; break;
        case FlowMember.NodeName: nodeName = this.#string(); break;
        case FlowMember.SourceNames: sourceNames = this.#strings(); break;
        case FlowMember.DestinationNames: destinationNames = this.#strings(); break;
        case FlowMember.L7: l7 = decodeL7(this.#parsed(), 'flow.l7'); break;
        case FlowMember.Reply: reply = this.#boolean(); break;
        case FlowMember.IsReply: isReply = this.#boolean(); break;
        case FlowMember.EventType: eventType = this.#eventType(); break;
        case FlowMember.SourceService: sourceService = this.#service(); break;
        case FlowMember.DestinationService: destinationService = this.#service(); break;
        case FlowMember.TrafficDirection: trafficDirection = this.#enum(DIRECTIONS) as TrafficDirection; break;
        case FlowMember.PolicyMatchType: policyMatchType = this.#integer(); break;
        case FlowMember.TraceObservationPoint: observationPoint = this.#string(); break;
        case FlowMember.TraceReason: traceReason = this.#enum(TRACE_REASONS); break;
        case FlowMember.EgressAllowedBy: egressAllowedBy = this.#policies(); break;
        case FlowMember.IngressAllowedBy: ingressAllowedBy = this.#policies(); break;
        case FlowMember.EgressDeniedBy: egressDeniedBy = this.#policies(); break;
        case FlowMember.IngressDeniedBy: ingressDeniedBy = this.#policies(); break;
        case FlowMember.Summary: summary = this.#string(); break;
        case DECLINE: throw GENERAL;
        default: this.#skipValue(2);
      }
    }

    if (time === undefined) throw GENERAL; // "missing": the general decoder says so
    const t = parseTimestamp(time, 'flow.time');
    let dropReason: string | undefined;
    let dropReasonCode: number | undefined;
    if (dropDesc !== undefined || dropNumeric !== undefined) {
      const drop = decodeDropReason(dropDesc, dropNumeric, 'flow.drop_reason_desc');
      if (drop.name !== DROP_REASON_PLACEHOLDER) {
        dropReason = drop.name;
        dropReasonCode = drop.code;
      }
    }
    return {
      time: t.iso,
      timeMs: t.ms,
      uuid: uuid || undefined,
      verdict,
      dropReason,
      dropReasonCode,
      ip,
      l4,
      source,
      destination,
      type,
      nodeName,
      sourceNames,
      destinationNames,
      l7,
      // CLI <= 0.10 and old agents only set the deprecated `reply` bool; absent there means unknown.
      isReply: isReply ?? (reply === true ? true : undefined),
      eventType,
      sourceService,
      destinationService,
      trafficDirection,
      policyMatchType,
      traceObservationPoint: observationPoint,
      traceReason,
      egressAllowedBy,
      ingressAllowedBy,
      egressDeniedBy,
      ingressDeniedBy,
      summary,
    };
  }

  #ip(): IpInfo {
    let source: string | undefined;
    let destination: string | undefined;
    let sourceXlated: string | undefined;
    let ipVersion: string | undefined;
    let ipVersionSnake: string | undefined;
    for (let code = this.#firstMember(IP_NAMES); code !== END; code = this.#nextMember(IP_NAMES, code)) {
      switch (IP_NAMES.action[code] ?? SKIP) {
        case IpMember.Source: source = this.#string(); break;
        case IpMember.Destination: destination = this.#string(); break;
        case IpMember.SourceXlated: sourceXlated = this.#string(); break;
        case IpMember.IpVersion: ipVersion = this.#enum(IP_VERSIONS); break;
        case IpMember.IpVersionSnake: ipVersionSnake = this.#enum(IP_VERSIONS); break;
        case DECLINE: throw GENERAL;
        default: this.#skipValue(3);
      }
    }
    return { source, destination, sourceXlated, ipVersion: (ipVersion ?? ipVersionSnake) as IpInfo['ipVersion'] };
  }

  /** One protocol member, as Hubble writes it; several (or a lowercase spelling) go the general way. */
  #l4(): Layer4 | undefined {
    let l4: Layer4 | undefined;
    for (let code = this.#firstMember(L4_NAMES); code !== END; code = this.#nextMember(L4_NAMES, code)) {
      const action = L4_NAMES.action[code] ?? SKIP;
      if (action === DECLINE) throw GENERAL;
      if (action === SKIP) {
        this.#skipValue(3);
      } else {
        if (l4 !== undefined) throw GENERAL;
        const protocol = L4_PROTOCOLS[action] as (typeof L4_PROTOCOLS)[number];
        switch (protocol) {
          case 'TCP':
          case 'UDP':
          case 'SCTP':
            l4 = this.#ports(protocol);
            break;
          case 'ICMPv4':
          case 'ICMPv6':
            l4 = this.#icmp(protocol);
            break;
          default:
            if (this.#ws() === 0x6e) throw GENERAL; // null
            this.#skipValue(3);
            l4 = { protocol };
        }
      }
    }
    return l4;
  }

  #ports(protocol: 'TCP' | 'UDP' | 'SCTP'): Layer4 {
    let sourcePort = 0;
    let destinationPort = 0;
    let flags = -1;
    for (let code = this.#firstMember(PORT_NAMES); code !== END; code = this.#nextMember(PORT_NAMES, code)) {
      switch (PORT_NAMES.action[code] ?? SKIP) {
        case PortMember.Source: sourcePort = this.#integer(); break;
        case PortMember.Destination: destinationPort = this.#integer(); break;
        case PortMember.Flags:
          if (protocol !== 'TCP') this.#skipValue(4);
          else flags = this.#tcpFlags();
          break;
        case DECLINE: throw GENERAL;
        default: this.#skipValue(4);
      }
    }
    if (protocol !== 'TCP') return { protocol, sourcePort, destinationPort };
    return flags < 0 ? { protocol, sourcePort, destinationPort } : { protocol, sourcePort, destinationPort, flags: sharedTcpFlags(flags) };
  }

  /** The set flags as a bit mask (TCP_FLAG_NAMES order). */
  #tcpFlags(): number {
    let mask = 0;
    for (let code = this.#firstMember(TCP_FLAG_MEMBERS); code !== END; code = this.#nextMember(TCP_FLAG_MEMBERS, code)) {
      const action = TCP_FLAG_MEMBERS.action[code] ?? SKIP;
      if (action < 0) this.#skipValue(5);
      else if (this.#boolean()) mask |= 1 << action;
      else mask &= ~(1 << action);
    }
    return mask;
  }

  #icmp(protocol: 'ICMPv4' | 'ICMPv6'): Layer4 {
    let icmpType = 0;
    let icmpCode = 0;
    for (let code = this.#firstMember(ICMP_NAMES); code !== END; code = this.#nextMember(ICMP_NAMES, code)) {
      switch (ICMP_NAMES.action[code] ?? SKIP) {
        case 0: icmpType = this.#integer(); break;
        case 1: icmpCode = this.#integer(); break;
        default: this.#skipValue(4);
      }
    }
    return { protocol, icmpType, icmpCode };
  }

  #eventType(): EventType {
    let type = 0;
    let subType = 0;
    for (let code = this.#firstMember(EVENT_TYPE_NAMES); code !== END; code = this.#nextMember(EVENT_TYPE_NAMES, code)) {
      switch (EVENT_TYPE_NAMES.action[code] ?? SKIP) {
        case 0: type = this.#integer(); break;
        case 1: subType = this.#integer(); break;
        case DECLINE: throw GENERAL;
        default: this.#skipValue(3);
      }
    }
    return sharedEventType(type, subType);
  }

  #service(): Service {
    let name: string | undefined;
    let namespace: string | undefined;
    for (let code = this.#firstMember(SERVICE_NAMES); code !== END; code = this.#nextMember(SERVICE_NAMES, code)) {
      switch (SERVICE_NAMES.action[code] ?? SKIP) {
        case 0: name = this.#string(); break;
        case 1: namespace = this.#string(); break;
        default: this.#skipValue(3);
      }
    }
    return { name, namespace };
  }

  /**
   * Equal text, equal endpoint. A known endpoint is recognised by comparing its whole text with
   * the line there (a JSON object ends where its text ends, so a match is exactly that value); only an
   * endpoint not seen before is scanned, parsed and decoded.
   */
  #endpoint(): Endpoint {
    const s = this.#s;
    if (this.#ws() !== LBRACE) throw GENERAL;
    const start = this.#pos;
    const prefix = s.slice(start, start + ENDPOINT_PREFIX);
    const candidates = this.#endpoints.get(prefix);
    if (candidates !== undefined) {
      for (let i = 0; i < candidates.length; i++) {
        const known = candidates[i] as KnownEndpoint;
        // slice + === compares natively; startsWith walks character by character.
        if (s.slice(start, start + known.text.length) === known.text) {
          this.#pos = start + known.text.length;
          if (i > 0) {
            candidates[i] = candidates[0] as KnownEndpoint;
            candidates[0] = known;
          }
          return known.endpoint;
        }
      }
    }
    this.#skipValue(2);
    const text = s.slice(start, this.#pos);
    const endpoint = decodeEndpoint(JSON.parse(text), 'flow.endpoint');
    if (Object.isFrozen(endpoint) && text.length <= MAX_CACHED_ENDPOINT_CHARS) this.#remember(ownCopy(prefix), candidates, { text: ownCopy(text), endpoint });
    return endpoint;
  }

  #remember(prefix: string, candidates: KnownEndpoint[] | undefined, known: KnownEndpoint): void {
    // The text and the decoded endpoint hold about the same characters.
    const chars = 2 * known.text.length;
    if (this.#endpointCount >= MAX_ENDPOINTS || this.#endpointChars + chars > ENDPOINT_CACHE_CHARS) {
      this.#endpoints.clear();
      this.#endpointCount = 0;
      this.#endpointChars = 0;
      candidates = undefined;
    }
    this.#endpointChars += chars;
    if (candidates === undefined) {
      this.#endpoints.set(prefix, [known]);
    } else if (candidates.length < ENDPOINTS_PER_PREFIX) {
      candidates.unshift(known);
    } else {
      const evicted = candidates[candidates.length - 1] as KnownEndpoint;
      this.#endpointChars -= 2 * evicted.text.length;
      candidates[candidates.length - 1] = known;
      return;
    }
    this.#endpointCount++;
  }

  #policies(): readonly PolicyRef[] {
    if (this.#ws() !== LBRACKET) throw GENERAL;
    return decodePolicies(this.#parsed(), 'flow.policies');
  }

  /** The next value through JSON.parse, for members rare enough not to deserve their own reader. */
  #parsed(): unknown {
    if (this.#ws() === 0x6e) throw GENERAL; // null
    const start = this.#pos;
    this.#skipValue(2);
    return JSON.parse(this.#s.slice(start, this.#pos));
  }

  #strings(): readonly string[] {
    this.#open(LBRACKET);
    if (this.#ws() === RBRACKET) {
      this.#pos++;
      return [];
    }
    const list: string[] = [];
    for (;;) {
      list.push(this.#string());
      if (!this.#more(RBRACKET)) break;
    }
    return list;
  }

  // ---- tokens -------------------------------------------------------------------------------

  /** Skips whitespace; the next character's code (NaN at the end). */
  #ws(): number {
    const s = this.#s;
    let c = s.charCodeAt(this.#pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = s.charCodeAt(++this.#pos);
    return c;
  }

  #open(bracket: number): void {
    if (this.#ws() !== bracket) throw GENERAL;
    this.#pos++;
  }

  /** After a member: true on a comma (another member follows), false on the closing bracket. */
  #more(close: number): boolean {
    let c = this.#s.charCodeAt(this.#pos);
    if (c <= 0x20) c = this.#ws();
    this.#pos++;
    if (c === COMMA) {
      // JSON allows no trailing comma.
      if (this.#ws() === close) throw GENERAL;
      return true;
    }
    if (c === close) return false;
    throw GENERAL;
  }

  /** Opens an object: the code of its first member, END when it is empty. */
  #firstMember(names: MemberNames): number {
    this.#open(LBRACE);
    if (this.#ws() === RBRACE) {
      this.#pos++;
      return END;
    }
    return this.#member(names, names.start);
  }

  /** After a member's value: the code of the next member, END after the closing brace. */
  #nextMember(names: MemberNames, previous: number): number {
    return this.#more(RBRACE) ? this.#member(names, previous) : END;
  }

  /** A member's name and its colon, as a code of `names`: the predicted one checked in place first. */
  #member(names: MemberNames, previous: number): number {
    const guess = names.next[previous] as number;
    if (guess >= 0) {
      const quoted = names.quoted[guess] as string;
      if (this.#s.slice(this.#pos, this.#pos + quoted.length) === quoted) {
        this.#pos += quoted.length;
        return guess;
      }
    }
    const name = this.#string();
    if (this.#ws() !== COLON) throw GENERAL;
    this.#pos++;
    const code = names.codeOf(name);
    if (code < MAX_NAMES) names.next[previous] = code;
    return code;
  }

  #string(): string {
    const s = this.#s;
    if (s.charCodeAt(this.#pos) !== QUOTE && this.#ws() !== QUOTE) throw GENERAL;
    const start = this.#pos + 1;
    const end = s.indexOf('"', start);
    if (end >= 0 && end < this.#escapeAt) {
      this.#pos = end + 1;
      return s.slice(start, end);
    }
    const escapedEnd = this.#escapedStringEnd(start);
    this.#pos = escapedEnd + 1;
    return JSON.parse(s.slice(start - 1, escapedEnd + 1)) as string;
  }

  /** Steps over the string whose opening quote is at `#pos`. */
  #skipString(): void {
    const s = this.#s;
    if (s.charCodeAt(this.#pos) !== QUOTE && this.#ws() !== QUOTE) throw GENERAL;
    const start = this.#pos + 1;
    const end = s.indexOf('"', start);
    if (end >= 0 && end < this.#escapeAt) {
      this.#pos = end + 1;
      return;
    }
    const escapedEnd = this.#escapedStringEnd(start);
    JSON.parse(s.slice(start - 1, escapedEnd + 1)); // the escapes must be valid JSON
    this.#pos = escapedEnd + 1;
  }

  /** The closing quote of a string that may hold escapes; moves `#escapeAt` past it. */
  #escapedStringEnd(start: number): number {
    const s = this.#s;
    let i = start;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) break;
      if (c !== c) throw GENERAL; // NaN: the line ended inside the string
      i += c === BACKSLASH ? 2 : 1;
    }
    const next = s.indexOf('\\', i + 1);
    this.#escapeAt = next < 0 ? Infinity : next;
    return i;
  }

  #enum(names: ReadonlySet<string>): string {
    const name = this.#string();
    if (!names.has(name)) throw GENERAL;
    return name;
  }

  #boolean(): boolean {
    const c = this.#ws();
    const s = this.#s;
    if (c === 0x74 && s.slice(this.#pos, this.#pos + 4) === 'true') {
      this.#pos += 4;
      return true;
    }
    if (c === 0x66 && s.slice(this.#pos, this.#pos + 5) === 'false') {
      this.#pos += 5;
      return false;
    }
    throw GENERAL;
  }

  /** A JSON integer of at most 15 digits, the way protojson writes 32-bit fields. */
  #integer(): number {
    const s = this.#s;
    let c = this.#ws();
    let negative = false;
    if (c === MINUS) {
      negative = true;
      c = s.charCodeAt(++this.#pos);
    }
    if (c < DIGIT_0 || c > DIGIT_9) throw GENERAL;
    const start = this.#pos;
    let value = 0;
    do {
      value = value * 10 + (c - DIGIT_0);
      c = s.charCodeAt(++this.#pos);
    } while (c >= DIGIT_0 && c <= DIGIT_9);
    const digits = this.#pos - start;
    // A leading zero is not JSON; a fraction or exponent is not an integer we can read here.
    if ((digits > 1 && s.charCodeAt(start) === DIGIT_0) || digits > 15 || c === 0x2e || c === 0x65 || c === 0x45) throw GENERAL;
    return negative ? -value : value;
  }

  /** Steps over one JSON value, checking its structure. */
  #skipValue(depth: number): void {
    if (depth > MAX_DEPTH) throw GENERAL;
    const s = this.#s;
    const c = this.#ws();
    switch (c) {
      case QUOTE:
        this.#skipString();
        return;
      case LBRACE:
        this.#pos++;
        if (this.#ws() === RBRACE) {
          this.#pos++;
          return;
        }
        for (;;) {
          this.#skipString();
          if (this.#ws() !== COLON) throw GENERAL;
          this.#pos++;
          this.#skipValue(depth + 1);
          if (!this.#more(RBRACE)) return;
        }
      case LBRACKET:
        this.#pos++;
        if (this.#ws() === RBRACKET) {
          this.#pos++;
          return;
        }
        for (;;) {
          this.#skipValue(depth + 1);
          if (!this.#more(RBRACKET)) return;
        }
      case 0x74:
        if (s.slice(this.#pos, this.#pos + 4) !== 'true') throw GENERAL;
        this.#pos += 4;
        return;
      case 0x66:
        if (s.slice(this.#pos, this.#pos + 5) !== 'false') throw GENERAL;
        this.#pos += 5;
        return;
      case 0x6e:
        if (s.slice(this.#pos, this.#pos + 4) !== 'null') throw GENERAL;
        this.#pos += 4;
        return;
      default:
        this.#skipNumber();
    }
  }

  /** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
  #skipNumber(): void {
    const s = this.#s;
    let i = this.#pos;
    if (s.charCodeAt(i) === MINUS) i++;
    let c = s.charCodeAt(i);
    if (c === DIGIT_0) {
      c = s.charCodeAt(++i);
    } else if (c > DIGIT_0 && c <= DIGIT_9) {
      do c = s.charCodeAt(++i);
      while (c >= DIGIT_0 && c <= DIGIT_9);
    } else {
      throw GENERAL;
    }
    if (c === 0x2e) {
      i = digitsFrom(s, i + 1);
      c = s.charCodeAt(i);
    }
    if (c === 0x65 || c === 0x45) {
      c = s.charCodeAt(++i);
      if (c === 0x2b || c === MINUS) i++;
      i = digitsFrom(s, i);
    }
    this.#pos = i;
  }
}

const NO_STRINGS: readonly string[] = Object.freeze([]);

/** Index after one or more digits from `i`. */
function digitsFrom(s: string, i: number): number {
  let c = s.charCodeAt(i);
  if (c < DIGIT_0 || c > DIGIT_9) throw GENERAL;
  do c = s.charCodeAt(++i);
  while (c >= DIGIT_0 && c <= DIGIT_9);
  return i;
}
