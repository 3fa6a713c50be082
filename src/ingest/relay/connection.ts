/**
 * A gRPC channel to Hubble Relay (or an agent) speaking our proto subset. @grpc/grpc-js is imported
 * lazily on first use.
 */
import type * as Grpc from '@grpc/grpc-js';
import { type DecodeResult, decodeEvent } from '../../flow/index.js';
import { FlowDecoder } from './flow-decoder.js';
import { installFastFraming } from './grpc-framing.js';
import { loadObserverProto, type ObserverMethods } from './proto.js';
import type { RelayTarget } from './target.js';
import { WireDecoder } from './wire-decoder.js';

/**
 * grpc-js has no BDP-based window growth: with the 64 KiB HTTP/2 default one stream carries at most
 * window / RTT (a few thousand flows/s behind a port-forward), see performance-limits.md A.2.
 */
export const FLOW_CONTROL_WINDOW = 8 * 1024 * 1024;
/** The relay runs grpc-go's default enforcement (min 5 min between pings): never ping more often. */
export const KEEPALIVE_MS = 5 * 60 * 1000;

export interface ConnectionOptions {
  readonly flowControlWindow?: number;
  /** Cap of grpc-js's own subchannel reconnect backoff (ours runs on top of it). */
  readonly maxReconnectBackoffMs?: number;
  /**
   * How responses become events (all give the same result): `flow` (default) decodes the wire bytes
   * straight into `Flow`; `wire` builds proto-loader-shaped objects by hand, then `decodeEvent`;
   * `proto-loader` uses proto-loader's decode + toObject, then `decodeEvent` (slowest).
   */
  readonly decoder?: ResponseDecoder;
}

export type ResponseDecoder = 'flow' | 'wire' | 'proto-loader';

/** ServerStatusResponse, normalised. Counters are numbers (exact up to 2^53). */
export interface ServerStatus {
  readonly numFlows: number;
  readonly maxFlows: number;
  readonly seenFlows: number;
  readonly uptimeNs: string;
  /** Set only by Hubble Relay: this is how a relay is told from an agent. */
  readonly numConnectedNodes?: number;
  readonly numUnavailableNodes?: number;
  readonly unavailableNodes: readonly string[];
  readonly version?: string;
  readonly flowsRate?: number;
}

/** How a GetFlows stream ended. */
export type StreamEnd =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: number; readonly codeName: string; readonly details: string; readonly byUs: boolean };

export interface FlowStream {
  /** Ends the stream from our side; `done` then resolves with `byUs: true`. */
  cancel(): void;
  pause(): void;
  resume(): void;
  readonly done: Promise<StreamEnd>;
}

/** A unary call or the connection failed; `codeName` is the gRPC status name (UNAVAILABLE, …). */
export class RelayError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    readonly details: string,
  ) {
    super(`${codeName}: ${details}`);
    this.name = 'RelayError';
  }
}

export class ObserverConnection {
  readonly #grpc: typeof Grpc;
  readonly #client: Grpc.Client;
  readonly #methods: ObserverMethods;
  readonly #decodeResponse: (bytes: Buffer) => DecodeResult;
  readonly target: RelayTarget;

  private constructor(grpc: typeof Grpc, client: Grpc.Client, methods: ObserverMethods, target: RelayTarget, decoder: ResponseDecoder) {
    this.#grpc = grpc;
    this.#client = client;
    this.#methods = methods;
    this.target = target;
    this.#decodeResponse = responseDecoder(decoder, methods);
  }

  /** Creates the channel (no I/O yet: grpc-js connects on the first call). */
  static async open(target: RelayTarget, options: ConnectionOptions = {}): Promise<ObserverConnection> {
    const [grpc, methods] = await Promise.all([import('@grpc/grpc-js'), loadObserverProto()]);
    installFastFraming();
    const channelOptions: Grpc.ChannelOptions = {
      'grpc-node.flow_control_window': options.flowControlWindow ?? FLOW_CONTROL_WINDOW,
      'grpc.keepalive_time_ms': KEEPALIVE_MS,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 0,
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': options.maxReconnectBackoffMs ?? 5000,
      // Flows are ~1-3 KB; a relay never sends one near this, but do not fail a stream over a big one.
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // Channelz (grpc-js's introspection service, which we never serve) stamps Date.now() and
      // bumps counters for every message received.
      'grpc.enable_channelz': 0,
    };
    if (target.tls?.serverName) channelOptions['grpc.ssl_target_name_override'] = target.tls.serverName;
    const client = new grpc.Client(target.address, credentials(grpc, target), channelOptions);
    return new ObserverConnection(grpc, client, methods, target, options.decoder ?? 'flow');
  }

  /** The name of a gRPC status code (14 → UNAVAILABLE). */
  codeName(code: number): string {
    return this.#grpc.status[code] ?? String(code);
  }

  serverStatus(timeoutMs: number): Promise<ServerStatus> {
    const m = this.#methods.serverStatus;
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        {},
        new this.#grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, value) => {
          if (err) reject(new RelayError(err.code, this.codeName(err.code), err.details || err.message));
          else resolve(normaliseStatus(value));
        },
      );
    });
  }

  /**
   * Starts GetFlows; `onResponse` gets each response, decoded (or the reason it could not be
   * normalised), synchronously, in order. Malformed bytes fail the stream (INTERNAL), as grpc-js
   * does for a deserializer that throws. If `onResponse` throws, the call is cancelled and `done`
   * rejects with that error.
   *
   * The call is made on the channel directly rather than through `makeServerStreamRequest`: that
   * wraps every message in interceptor listeners and an object-mode Readable (push, 'data' event,
   * _read, maybeReadMore), a few µs per flow that buy us nothing. Here the next message is asked
   * for (`startRead`) only after `onResponse` returned, so nothing queues up on our side; grpc-js
   * holds at most the HTTP/2 flow-control window of unread bytes.
   */
  getFlows(request: object, onResponse: (value: DecodeResult) => void): FlowStream {
    const grpc = this.#grpc;
    const m = this.#methods.getFlows;
    const decode = this.#decodeResponse;
    const call = this.#client.getChannel().createCall(m.path, Infinity, undefined, null, null);
    let byUs = false;
    let paused = false;
    let reading = false;
    let readError: { code: number; details: string } | undefined;
    let failure: { error: unknown } | undefined;
    const read = (): void => {
      if (reading || paused || readError || failure) return;
      reading = true;
      call.startRead();
    };
    const done = new Promise<StreamEnd>((resolve, reject) => {
      call.start(new grpc.Metadata(), {
        onReceiveMetadata: () => {},
        onReceiveMessage: (bytes: Buffer) => {
          reading = false;
          if (readError || failure) return;
          let value: DecodeResult;
          try {
            value = decode(bytes);
          } catch (e) {
            readError = { code: grpc.status.INTERNAL, details: `Response message parsing error: ${e instanceof Error ? e.message : String(e)}` };
            call.cancelWithStatus(readError.code, readError.details);
            return;
          }
          try {
            onResponse(value);
          } catch (e) {
            failure = { error: e };
            byUs = true;
            call.cancelWithStatus(grpc.status.CANCELLED, 'Cancelled on client');
            return;
          }
          read();
        },
        onReceiveStatus: (received: Grpc.StatusObject) => {
          if (failure) return reject(failure.error);
          const status = readError ?? received;
          if (status.code === grpc.status.OK) resolve({ ok: true });
          else resolve({ ok: false, code: status.code, codeName: this.codeName(status.code), details: status.details, byUs });
        },
      });
      call.sendMessageWithContext({}, m.requestSerialize(request));
      call.halfClose();
      read();
    });
    return {
      cancel() {
        byUs = true;
        call.cancelWithStatus(grpc.status.CANCELLED, 'Cancelled on client');
      },
      pause: () => {
        paused = true;
      },
      resume: () => {
        paused = false;
        read();
      },
      done,
    };
  }

  close(): void {
    this.#client.close();
  }
}

function responseDecoder(kind: ResponseDecoder, methods: ObserverMethods): (bytes: Buffer) => DecodeResult {
  switch (kind) {
    case 'flow':
      return new FlowDecoder(methods.definition).decode;
    case 'wire': {
      const wire = new WireDecoder(methods.definition);
      return (bytes) => decodeEvent(wire.decode(bytes));
    }
    case 'proto-loader':
      return (bytes) => decodeEvent(methods.getFlows.responseDeserialize(bytes));
    default: {
      const never: never = kind;
      throw new Error(`unknown decoder ${String(never)}`);
    }
  }
}

function credentials(grpc: typeof Grpc, target: RelayTarget): Grpc.ChannelCredentials {
  const tls = target.tls;
  if (!tls) return grpc.credentials.createInsecure();
  const verify: Grpc.VerifyOptions = tls.allowInsecure
    ? { rejectUnauthorized: false, checkServerIdentity: () => undefined }
    : {};
  return grpc.credentials.createSsl(tls.rootCerts ?? null, tls.clientKey ?? null, tls.clientCert ?? null, verify);
}

function normaliseStatus(value: unknown): ServerStatus {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const num = (x: unknown): number => (typeof x === 'number' ? x : typeof x === 'string' && x !== '' ? Number(x) : 0);
  const wrapped = (x: unknown): number | undefined =>
    typeof x === 'object' && x !== null ? num((x as { value?: unknown }).value) : undefined;
  return {
    numFlows: num(v['num_flows']),
    maxFlows: num(v['max_flows']),
    seenFlows: num(v['seen_flows']),
    uptimeNs: typeof v['uptime_ns'] === 'string' ? v['uptime_ns'] : String(num(v['uptime_ns'])),
    numConnectedNodes: wrapped(v['num_connected_nodes']),
    numUnavailableNodes: wrapped(v['num_unavailable_nodes']),
    unavailableNodes: Array.isArray(v['unavailable_nodes']) ? (v['unavailable_nodes'] as unknown[]).map(String) : [],
    version: typeof v['version'] === 'string' ? v['version'] : undefined,
    flowsRate: typeof v['flows_rate'] === 'number' ? v['flows_rate'] : undefined,
  };
}
