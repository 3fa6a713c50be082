/**
 * An in-process Hubble Observer server for tests and benchmarks: @grpc/grpc-js on 127.0.0.1,
 * speaking our own proto subset (proto/), so it exercises the same wire format as a real relay.
 *
 * It models the parts of Hubble Relay that a client must survive (hubble-api.md §5):
 * - a ring of events (flows and lost-event markers) served by GetFlows with Hubble's selector
 *   semantics: `since` rewinds to the oldest entry not before it (inclusive), `until` ends the
 *   history, `number` takes the last N, `follow` keeps streaming what `push()` appends, and a plain
 *   `follow` starts at the live tail;
 * - NODE_CONNECTED node-status events at the start of each stream, like the relay;
 * - the whitelist filter fields hubble-advisor sends (verdict, `ns/` pod prefixes, `key=value` labels);
 * - faults: `cutStream()` ends open streams with UNAVAILABLE, `restart()` force-closes the server
 *   and binds the same port again, and `afterResponse` lets a test do either at an exact point;
 * - TLS and mTLS (`tls` option);
 * - a `source` override that streams pre-encoded Buffers as fast as flow control allows (benchmarks).
 *
 * Responses are pre-encoded once with proto-loader's serializer; the server writes raw Buffers.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { LOADER_OPTIONS, PROTO_DIR } from '../../src/ingest/relay/proto.js';

type Obj = Record<string, unknown>;

export interface FakeRelayTls {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** CA that client certificates must chain to (with `requireClientCert`). */
  readonly ca?: string | Buffer;
  readonly requireClientCert?: boolean;
}

export interface StreamContext {
  /** 0 for the first GetFlows call, 1 for the next, … */
  readonly streamIndex: number;
  /** Responses written on this stream (node-status events included). */
  readonly sentOnStream: number;
  /** Flow responses written on this stream. */
  readonly flowsOnStream: number;
  readonly request: Obj;
}

export interface FakeRelayOptions {
  /** 0 (default) picks a free port; `restart()` keeps the port it got. */
  readonly port?: number;
  readonly tls?: FakeRelayTls;
  /** GetFlowsResponse objects (proto-loader shape; see `fromProtoJson`). */
  readonly events?: readonly Obj[];
  /** Node names announced as NODE_CONNECTED at each stream start (none: no node-status event). */
  readonly nodes?: readonly string[];
  /** Overrides (merged into) the ServerStatusResponse. */
  readonly serverStatus?: Obj;
  /** Called after each response is written; may cut the stream or restart the server. */
  readonly afterResponse?: (ctx: StreamContext, relay: FakeRelay) => void;
  /**
   * How `since` rewinds. 'ring' (default): from the first entry not before it, as one agent's
   * time-ordered ring. 'per-entry': every entry not before it, as a relay merging nodes whose times
   * are out of order in the ring (each agent rewinds its own ring); an entry without a time counts
   * as at the time of the entry before it.
   */
  readonly rewind?: 'ring' | 'per-entry';
  /** Pause `ms` after every `flows` flow responses (so that a test can stop a client mid-stream). */
  readonly pace?: { readonly flows: number; readonly ms: number };
  /** Replaces the ring: yields encoded GetFlowsResponse messages for a request (benchmarks). */
  readonly source?: (request: Obj) => Iterable<Buffer>;
}

interface RingEntry {
  readonly timeNs: bigint;
  /** For 'per-entry' rewinds: the entry's time, or for an entry without one the time of the one before it. */
  readonly rewindNs: bigint;
  readonly bytes: Buffer;
  readonly obj: Obj;
  readonly isFlow: boolean;
}

let definitionCache: protoLoader.PackageDefinition | undefined;

/** Our proto subset, loaded the way the client loads it. */
export function observerDefinition(): protoLoader.PackageDefinition {
  definitionCache ??= protoLoader.loadSync('observer/observer.proto', { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
  return definitionCache;
}

function method(name: 'GetFlows' | 'ServerStatus'): protoLoader.MethodDefinition<object, object> {
  const service = observerDefinition()['observer.Observer'] as unknown as Record<string, protoLoader.MethodDefinition<object, object>>;
  const m = service[name];
  if (!m) throw new Error(`observer.Observer/${name} missing`);
  return m;
}

/** Encodes one GetFlowsResponse object (proto-loader shape) into wire bytes. */
export function encodeResponse(obj: Obj): Buffer {
  return method('GetFlows').responseSerialize(obj);
}

/** Decodes wire bytes the way the client does (for round-trip tests). */
export function decodeResponse(bytes: Buffer): Obj {
  return method('GetFlows').responseDeserialize(bytes) as Obj;
}

export class FakeRelay {
  readonly requests: Obj[] = [];
  /** Flow responses written over all streams (duplicates after a rewind included). */
  flowsSent = 0;
  streams = 0;
  #server: grpc.Server | undefined;
  #port = 0;
  readonly #options: FakeRelayOptions;
  readonly #ring: RingEntry[] = [];
  readonly #calls = new Set<grpc.ServerWritableStream<Obj, Buffer>>();
  readonly #waiters = new Set<() => void>();
  readonly #startedAt = process.hrtime.bigint();

  private constructor(options: FakeRelayOptions) {
    this.#options = options;
    this.push(...(options.events ?? []));
  }

  static async start(options: FakeRelayOptions = {}): Promise<FakeRelay> {
    const relay = new FakeRelay(options);
    await relay.#listen(options.port ?? 0);
    return relay;
  }

  get port(): number {
    return this.#port;
  }

  /** `127.0.0.1:PORT`, what `--server` takes. */
  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  get ringSize(): number {
    return this.#ring.length;
  }

  /** Appends events to the ring and wakes following streams. */
  push(...events: Obj[]): void {
    for (const obj of events) {
      const time = (obj['time'] ?? (obj['flow'] as Obj | undefined)?.['time']) as { seconds: number | string; nanos?: number } | undefined;
      const timeNs = time ? BigInt(time.seconds) * 1_000_000_000n + BigInt(time.nanos ?? 0) : 0n;
      this.#ring.push({
        timeNs,
        rewindNs: time ? timeNs : (this.#ring.at(-1)?.rewindNs ?? 0n),
        bytes: encodeResponse(obj),
        obj,
        isFlow: obj['flow'] !== undefined,
      });
    }
    for (const wake of [...this.#waiters]) wake();
  }

  /** Ends every open GetFlows stream with UNAVAILABLE, as a relay losing its upstream would. */
  cutStreams(details = 'fake relay: stream cut'): void {
    for (const call of [...this.#calls]) endWithError(call, grpc.status.UNAVAILABLE, details);
  }

  /** Force-closes the server (connections reset) and, after `downMs`, listens on the same port again. */
  async restart(downMs = 200): Promise<void> {
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await this.#listen(this.#port);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const wake of [...this.#waiters]) wake();
    if (!server) return;
    server.forceShutdown();
    this.#calls.clear();
  }

  async #listen(port: number): Promise<void> {
    const server = new grpc.Server({ 'grpc-node.flow_control_window': 8 * 1024 * 1024 });
    const getFlows = method('GetFlows');
    const serverStatus = method('ServerStatus');
    const rawService: grpc.ServiceDefinition = {
      GetFlows: {
        path: getFlows.path,
        requestStream: false,
        responseStream: true,
        requestDeserialize: getFlows.requestDeserialize,
        responseSerialize: (b: Buffer) => b,
        requestSerialize: getFlows.requestSerialize,
        responseDeserialize: (b: Buffer) => b,
      },
      ServerStatus: serverStatus as unknown as grpc.MethodDefinition<object, object>,
    };
    server.addService(rawService, {
      GetFlows: (call: grpc.ServerWritableStream<Obj, Buffer>) => void this.#getFlows(call),
      ServerStatus: (_call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) => cb(null, this.#status()),
    });
    const t = this.#options.tls;
    const creds = t
      ? grpc.ServerCredentials.createSsl(
          t.ca ? Buffer.from(t.ca) : null,
          [{ private_key: Buffer.from(t.key), cert_chain: Buffer.from(t.cert) }],
          t.requireClientCert ?? false,
        )
      : grpc.ServerCredentials.createInsecure();
    this.#port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.#server = server;
  }

  #status(): Obj {
    const flows = this.#ring.filter((e) => e.isFlow).length;
    const nodes = this.#options.nodes ?? [];
    return {
      num_flows: String(flows),
      max_flows: String(Math.max(4095, flows)),
      seen_flows: String(flows),
      uptime_ns: String(process.hrtime.bigint() - this.#startedAt),
      num_connected_nodes: { value: nodes.length },
      num_unavailable_nodes: { value: 0 },
      version: 'fake-relay',
      ...this.#options.serverStatus,
    };
  }

  async #getFlows(call: grpc.ServerWritableStream<Obj, Buffer>): Promise<void> {
    const request = call.request;
    this.requests.push(request);
    const streamIndex = this.streams++;
    this.#calls.add(call);
    let closed = false;
    const onClose = (): void => {
      closed = true;
      this.#calls.delete(call);
      for (const wake of [...this.#waiters]) wake();
    };
    call.on('cancelled', onClose);
    call.on('close', onClose);
    call.on('error', onClose);
    let sentOnStream = 0;
    let flowsOnStream = 0;
    const alive = (): boolean => !closed && this.#calls.has(call);
    const drained = (): Promise<boolean> =>
      new Promise<boolean>((r) => {
        const done = (): void => {
          for (const ev of ['drain', 'close', 'cancelled'] as const) call.off(ev, done);
          r(alive());
        };
        for (const ev of ['drain', 'close', 'cancelled'] as const) call.on(ev, done);
      });
    /** true: go on; false: the stream is gone; a promise: wait for the client to read (backpressure). */
    const write = (bytes: Buffer, isFlow: boolean): boolean | Promise<boolean> => {
      if (!alive()) return false;
      const ok = call.write(bytes);
      sentOnStream++;
      if (isFlow) {
        flowsOnStream++;
        this.flowsSent++;
      }
      this.#options.afterResponse?.({ streamIndex, sentOnStream, flowsOnStream, request }, this);
      if (!alive()) return false;
      const pace = this.#options.pace;
      if (isFlow && pace && flowsOnStream % pace.flows === 0) {
        return new Promise<void>((r) => setTimeout(r, pace.ms)).then(() => (ok || !alive() ? alive() : drained()));
      }
      return ok ? true : drained();
    };
    try {
      const nodes = this.#options.nodes ?? [];
      if (nodes.length > 0) {
        const connected = encodeResponse({ node_status: { state_change: 'NODE_CONNECTED', node_names: [...nodes] }, time: nowTimestamp() });
        const w = write(connected, false);
        if (w !== true && !(await w)) return;
      }
      if (this.#options.source) {
        for (const bytes of this.#options.source(request)) {
          const w = write(bytes, true);
          if (w !== true && !(await w)) return;
        }
        if (!closed) call.end();
        return;
      }
      const since = toNs(request['since']);
      const until = toNs(request['until']);
      const follow = request['follow'] === true;
      const number = request['number'] === undefined ? undefined : Number(request['number']);
      const filters = (request['whitelist'] as Obj[] | undefined) ?? [];
      const perEntry = since !== undefined && this.#options.rewind === 'per-entry';
      let i: number;
      if (perEntry) {
        i = 0;
      } else if (since !== undefined) {
        i = this.#ring.findIndex((e) => e.timeNs >= since);
        if (i < 0) i = this.#ring.length;
      } else if (number !== undefined && number > 0) {
        i = Math.max(0, this.#ring.length - number);
      } else {
        i = follow ? this.#ring.length : 0;
      }
      for (;;) {
        while (i < this.#ring.length) {
          const e = this.#ring[i++] as RingEntry;
          if (perEntry && since !== undefined && e.rewindNs < since) continue;
          if (until !== undefined && e.timeNs > until) {
            if (!follow) return void call.end();
            continue;
          }
          if (e.isFlow && !matches(e.obj['flow'] as Obj, filters)) continue;
          const w = write(e.bytes, e.isFlow);
          if (w !== true && !(await w)) return;
        }
        if (!follow) return void call.end();
        await new Promise<void>((r) => {
          const wake = (): void => {
            this.#waiters.delete(wake);
            r();
          };
          this.#waiters.add(wake);
        });
        if (closed || !this.#calls.has(call) || !this.#server) return;
      }
    } finally {
      this.#calls.delete(call);
    }
  }
}

function endWithError(call: grpc.ServerWritableStream<Obj, Buffer>, code: grpc.status, details: string): void {
  call.emit('error', { code, details, metadata: new grpc.Metadata() });
}

function nowTimestamp(): Obj {
  const ms = Date.now();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

function toNs(t: unknown): bigint | undefined {
  if (typeof t !== 'object' || t === null) return undefined;
  const { seconds, nanos } = t as { seconds?: string | number; nanos?: number };
  return BigInt(seconds ?? 0) * 1_000_000_000n + BigInt(nanos ?? 0);
}

/** The whitelist fields hubble-advisor sends, with Hubble's semantics (filters OR-ed, fields AND-ed). */
function matches(flow: Obj, filters: readonly Obj[]): boolean {
  if (filters.length === 0) return true;
  return filters.some((f) => {
    const src = (flow['source'] ?? {}) as Obj;
    const dst = (flow['destination'] ?? {}) as Obj;
    const list = (k: string): string[] => (f[k] as string[] | undefined) ?? [];
    const pod = (ep: Obj, prefixes: string[]): boolean =>
      prefixes.length === 0 || prefixes.some((p) => `${String(ep['namespace'] ?? '')}/${String(ep['pod_name'] ?? '')}`.startsWith(p));
    const label = (ep: Obj, selectors: string[]): boolean =>
      selectors.length === 0 ||
      selectors.some((s) => ((ep['labels'] as string[] | undefined) ?? []).some((l) => l === s || l.endsWith(`:${s}`)));
    const verdicts = list('verdict');
    return (
      pod(src, list('source_pod')) &&
      pod(dst, list('destination_pod')) &&
      label(src, list('source_label')) &&
      label(dst, list('destination_label')) &&
      (verdicts.length === 0 || verdicts.includes(String(flow['verdict'] ?? 'VERDICT_UNKNOWN')))
    );
  });
}

// ---- recordings -------------------------------------------------------------------------------

/** `2021-11-10T10:40:56.4655977Z` → `{seconds, nanos}` (UTC, 0-9 fraction digits). */
export function timestampFromIso(iso: string): { seconds: string; nanos: number } {
  const m = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) throw new Error(`bad timestamp ${iso}`);
  const seconds = Math.floor(Date.parse(`${m[1]}${m[3]}`) / 1000);
  return { seconds: String(seconds), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

/**
 * A protojson line (`hubble observe -o jsonpb`) → the proto-loader object of the same
 * GetFlowsResponse: timestamps become `{seconds, nanos}` and wrapper types `{value}`; everything
 * else already has the proto field names.
 */
export function fromProtoJson(line: Obj): Obj {
  const out: Obj = { ...line };
  if (typeof out['time'] === 'string') out['time'] = timestampFromIso(out['time']);
  const flow = out['flow'] as Obj | undefined;
  if (flow) {
    const f: Obj = { ...flow };
    if (typeof f['time'] === 'string') f['time'] = timestampFromIso(f['time']);
    if (typeof f['is_reply'] === 'boolean') f['is_reply'] = { value: f['is_reply'] };
    out['flow'] = f;
  }
  const lost = out['lost_events'] as Obj | undefined;
  if (lost) {
    const l: Obj = { ...lost };
    for (const k of ['first', 'last']) if (typeof l[k] === 'string') l[k] = timestampFromIso(l[k] as string);
    if (typeof l['cpu'] === 'number') l['cpu'] = { value: l['cpu'] };
    out['lost_events'] = l;
  }
  return out;
}

export interface RecordingOptions {
  /** Give every flow a deterministic uuid (the samples predate Cilium 1.14). */
  readonly uuids?: boolean;
  /** Repeat the file this many times, shifting times so that they keep increasing. */
  readonly repeat?: number;
}

/** Reads a jsonpb recording into GetFlowsResponse objects for `events`. */
export function loadRecording(file: string, options: RecordingOptions = {}): Obj[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Obj);
  const out: Obj[] = [];
  const repeat = options.repeat ?? 1;
  let shiftS = 0;
  const span = spanSeconds(lines) + 1;
  for (let r = 0; r < repeat; r++) {
    for (const line of lines) {
      const ev = fromProtoJson(line);
      if (shiftS !== 0) shiftTimes(ev, shiftS);
      const flow = ev['flow'] as Obj | undefined;
      if (flow && options.uuids) flow['uuid'] = uuidFor(out.length);
      out.push(ev);
    }
    shiftS += span;
  }
  return out;
}

function spanSeconds(lines: readonly Obj[]): number {
  const times = lines
    .map((l) => (l['flow'] as Obj | undefined)?.['time'] ?? l['time'])
    .filter((t): t is string => typeof t === 'string')
    .map((t) => Date.parse(t));
  return times.length ? Math.ceil((Math.max(...times) - Math.min(...times)) / 1000) : 0;
}

function shiftTimes(ev: Obj, seconds: number): void {
  const shift = (t: unknown): void => {
    if (typeof t === 'object' && t !== null) (t as Obj)['seconds'] = String(Number((t as Obj)['seconds']) + seconds);
  };
  shift(ev['time']);
  shift((ev['flow'] as Obj | undefined)?.['time']);
}

/** A stable uuid-shaped string for flow number i. */
export function uuidFor(i: number): string {
  const hex = i.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

/** A lost-event response as the relay sends it. */
export function lostEvent(source: string, count: number, node: string, time: { seconds: string | number; nanos: number }): Obj {
  return { lost_events: { source, num_events_lost: String(count), cpu: { value: 1 } }, node_name: node, time };
}

/** A node-status response. */
export function nodeStatus(state: string, nodes: readonly string[], message?: string, time?: Obj): Obj {
  return { node_status: { state_change: state, node_names: [...nodes], ...(message ? { message } : {}) }, ...(time ? { time } : {}) };
}

// ---- fast synthetic flows (benchmarks) --------------------------------------------------------

/** Minimal protobuf writing for the synthetic stream; field numbers from proto/. */
function putVarint(buf: Buffer, pos: number, n: number): number {
  let v = n;
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

function varintLength(n: number): number {
  let len = 1;
  for (let v = n; v > 0x7f; v = Math.floor(v / 128)) len++;
  return len;
}

/** google.protobuf.Timestamp body: seconds = 1, nanos = 2 (both varints). */
function timestampLength(seconds: number, nanos: number): number {
  return 1 + varintLength(seconds) + (nanos > 0 ? 1 + varintLength(nanos) : 0);
}

function putTimestamp(buf: Buffer, pos: number, seconds: number, nanos: number): number {
  buf[pos++] = 0x08;
  pos = putVarint(buf, pos, seconds);
  if (nanos > 0) {
    buf[pos++] = 0x10;
    pos = putVarint(buf, pos, nanos);
  }
  return pos;
}

const UUID_LENGTH = 36;

/**
 * Streams `count` distinct flows built from templates (flow objects; their time and uuid are
 * replaced): each message gets a fresh uuid and a time `stepNs` after the previous one. Each
 * message is written into one buffer by hand, so one server core outpaces the client.
 */
export function* syntheticFlows(templates: readonly Obj[], count: number, startMs: number, stepNs = 10_000): Generator<Buffer> {
  const flowType = observerDefinition()['flow.Flow'] as unknown as { serialize(o: object): Buffer };
  const encoded = templates.map((t) => ({
    body: flowType.serialize({ ...t, time: undefined, uuid: undefined }),
    node: Buffer.from(String(t['node_name'] ?? 'node-1')),
  }));
  let seconds = Math.floor(startMs / 1000);
  let nanos = (startMs % 1000) * 1_000_000;
  for (let i = 0; i < count; i++) {
    const t = encoded[i % encoded.length] as { body: Buffer; node: Buffer };
    const tsLen = timestampLength(seconds, nanos);
    // flow = body + time (field 1) + uuid (field 34: tag 0x92 0x02)
    const flowLen = t.body.length + 2 + tsLen + 3 + UUID_LENGTH;
    const total =
      1 + varintLength(flowLen) + flowLen + 2 + varintLength(t.node.length) + t.node.length + 2 + 1 + tsLen;
    const buf = Buffer.allocUnsafe(total);
    let pos = 0;
    buf[pos++] = 0x0a; // GetFlowsResponse.flow = 1
    pos = putVarint(buf, pos, flowLen);
    pos += t.body.copy(buf, pos);
    buf[pos++] = 0x0a; // Flow.time = 1
    buf[pos++] = tsLen;
    pos = putTimestamp(buf, pos, seconds, nanos);
    buf[pos++] = 0x92; // Flow.uuid = 34
    buf[pos++] = 0x02;
    buf[pos++] = UUID_LENGTH;
    pos += buf.write(uuidFor(i), pos, 'latin1');
    buf[pos++] = 0xc2; // GetFlowsResponse.node_name = 1000
    buf[pos++] = 0x3e;
    pos = putVarint(buf, pos, t.node.length);
    pos += t.node.copy(buf, pos);
    buf[pos++] = 0xca; // GetFlowsResponse.time = 1001
    buf[pos++] = 0x3e;
    buf[pos++] = tsLen;
    pos = putTimestamp(buf, pos, seconds, nanos);
    yield pos === total ? buf : buf.subarray(0, pos);
    nanos += stepNs;
    if (nanos >= 1_000_000_000) {
      seconds += Math.floor(nanos / 1_000_000_000);
      nanos %= 1_000_000_000;
    }
  }
}

// ---- raw HTTP/2 streaming (benchmarks) --------------------------------------------------------

/**
 * A minimal gRPC server on node:http2 (h2c, 127.0.0.1) for throughput benchmarks. It answers
 * ServerStatus and streams GetFlows from `source`, writing many length-prefixed messages per
 * HTTP/2 write. grpc-js's server costs ~10-20 µs of CPU per message, so a grpc-js FakeRelay, not
 * the client, would set the pace; a Go relay on another host costs the client nothing either.
 */
export class RawFlowServer {
  readonly #server: import('node:http2').Http2Server;
  readonly port: number;
  requests = 0;

  private constructor(server: import('node:http2').Http2Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(source: (request: Obj) => Iterable<Buffer>, options: { chunkMessages?: number } = {}): Promise<RawFlowServer> {
    const http2 = await import('node:http2');
    const chunkMessages = options.chunkMessages ?? 256;
    const server = http2.createServer({ settings: { initialWindowSize: 8 * 1024 * 1024 } });
    const sessions = new Set<import('node:http2').ServerHttp2Session>();
    server.on('session', (s) => {
      sessions.add(s);
      s.on('close', () => sessions.delete(s));
    });
    const holder: { server?: RawFlowServer } = {};
    server.on('stream', (stream, headers) => {
      const path = String(headers[':path']);
      const body: Buffer[] = [];
      stream.on('data', (d: Buffer) => body.push(d));
      stream.on('end', () => {
        const reqBytes = Buffer.concat(body).subarray(5);
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.on('error', () => {});
        if (path.endsWith('/ServerStatus')) {
          const m = method('ServerStatus');
          stream.end(frame(m.responseSerialize({ num_flows: '0', max_flows: '4095', version: 'raw-flow-server', num_connected_nodes: { value: 1 } })));
          return;
        }
        if (holder.server) holder.server.requests++;
        const request = method('GetFlows').requestDeserialize(reqBytes) as Obj;
        const it = source(request)[Symbol.iterator]();
        const pump = (): void => {
          for (;;) {
            if (stream.destroyed || stream.closed) return;
            const parts: Buffer[] = [];
            let done = false;
            for (let i = 0; i < chunkMessages; i++) {
              const next = it.next();
              if (next.done) {
                done = true;
                break;
              }
              parts.push(frame(next.value));
            }
            if (done) {
              stream.end(Buffer.concat(parts));
              return;
            }
            if (!stream.write(Buffer.concat(parts))) {
              stream.once('drain', pump);
              return;
            }
          }
        };
        pump();
      });
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as import('node:net').AddressInfo).port)),
    );
    const raw = new RawFlowServer(server, port);
    holder.server = raw;
    (raw as unknown as { sessions: typeof sessions }).sessions = sessions;
    return raw;
  }

  async stop(): Promise<void> {
    for (const s of (this as unknown as { sessions: Set<import('node:http2').ServerHttp2Session> }).sessions) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

/** The gRPC length prefix: compressed flag 0, big-endian length. */
function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}
