/**
 * A cheaper receive path for grpc-js, installed before the first GetFlows call.
 *
 * For every message grpc-js (1.14) receives, its StreamDecoder slices the 1-byte flag, copies the
 * 4-byte length, slices the body and `Buffer.concat`s the three into a new buffer, and then the
 * compression filter strips the 5-byte prefix again in two chained async functions. At ~60,000
 * GetFlows responses per second that is a few hundred MB/s of copying and three promise hops for
 * nothing: we only read the bytes, synchronously, before asking for the next message.
 *
 * So: a message that lies whole inside one HTTP/2 chunk is handed on as a view of that chunk (what
 * grpc-js already does with the parts of a message split across chunks), and an uncompressed
 * message's body is returned straight away as an already resolved promise. Messages split across
 * chunks, compressed messages and oversized ones go through grpc-js's own code, so results and
 * errors are the same.
 *
 * These are grpc-js internals (build/src/stream-decoder.js, compression-filter.js). Before
 * patching, the installer checks their shape and that the new framing splits a test stream, cut at
 * every offset, exactly as the original does; if anything differs (another grpc-js version), it
 * leaves grpc-js alone and observe works as before, only slower.
 */
import { createRequire } from 'node:module';

type Write = (this: StreamDecoderState, data: Buffer) => Buffer[];

/** The fields of grpc-js's StreamDecoder that the fast path reads. */
interface StreamDecoderState {
  readState: number;
  readSizeRemaining: number;
  readMessageRemaining: number;
  maxReadMessageLength: number;
  write(data: Buffer): Buffer[];
}

interface StreamDecoderClass {
  new (maxReadMessageLength: number): StreamDecoderState;
  prototype: { write: Write };
}

type ReceiveMessage = (this: unknown, message: Buffer | Promise<Buffer>) => Promise<Buffer>;

interface CompressionFilterClass {
  prototype: { receiveMessage: ReceiveMessage };
}

// grpc-js's ReadState enum.
const NO_DATA = 0;
const READING_SIZE = 1;
const READING_MESSAGE = 2;

let installed: boolean | undefined;
let originalWrite: Write | undefined;

/** Installs the fast framing once; false when grpc-js does not look as expected (then nothing changed). */
export function installFastFraming(): boolean {
  if (installed !== undefined) return installed;
  installed = false;
  const require = createRequire(import.meta.url);
  let decoderClass: StreamDecoderClass | undefined;
  let filterClass: CompressionFilterClass | undefined;
  try {
    decoderClass = (require('@grpc/grpc-js/build/src/stream-decoder.js') as { StreamDecoder?: StreamDecoderClass }).StreamDecoder;
    filterClass = (require('@grpc/grpc-js/build/src/compression-filter.js') as { CompressionFilter?: CompressionFilterClass }).CompressionFilter;
  } catch {
    return false;
  }
  if (typeof decoderClass?.prototype.write !== 'function' || typeof filterClass?.prototype.receiveMessage !== 'function') return false;
  const original = decoderClass.prototype.write;
  const fast = fastWrite(original);
  if (!framesAlike(decoderClass, original, fast)) return false;
  originalWrite = original;
  decoderClass.prototype.write = fast;
  const receive = filterClass.prototype.receiveMessage;
  filterClass.prototype.receiveMessage = function receiveMessage(message) {
    // Flag 0: readMessage would return `data.slice(5)`, two async functions later.
    if (message instanceof Buffer && message.length >= 5 && message[0] === 0) return Promise.resolve(message.subarray(5));
    return receive.call(this, message);
  };
  installed = true;
  return true;
}

/** grpc-js's own StreamDecoder.write, once `installFastFraming` replaced it (for tests). */
export function originalFraming(): Write | undefined {
  return originalWrite;
}

/**
 * StreamDecoder.write that returns whole messages as views of `data`; whatever is split across
 * chunks (and every error) is left to `original`, fed exactly the bytes it would have seen.
 */
export function fastWrite(original: Write): Write {
  return function write(this: StreamDecoderState, data: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const n = data.length;
    let p = 0;
    while (p < n) {
      const state = this.readState;
      if (state === NO_DATA && n - p >= 5) {
        const size = data.readUInt32BE(p + 1);
        const end = p + 5 + size;
        if (end <= n && (this.maxReadMessageLength === -1 || size <= this.maxReadMessageLength)) {
          out.push(data.subarray(p, end));
          p = end;
          continue;
        }
      }
      // A message (or its length prefix) split across chunks, or one over the limit: grpc-js's code,
      // given only the bytes up to the end of the current part so that the next one comes back here.
      const take = state === READING_SIZE ? this.readSizeRemaining : state === READING_MESSAGE ? this.readMessageRemaining : n - p;
      const end = Math.min(n, p + Math.max(1, take));
      for (const m of original.call(this, end === n && p === 0 ? data : data.subarray(p, end))) out.push(m);
      p = end;
    }
    return out;
  };
}

/**
 * Whether `fast` splits a stream of assorted messages exactly like `original`, whole and cut inside
 * every part of every message (flag, length, body, right after the prefix). A few dozen runs: grpc-js's
 * code is not optimised yet at start-up, and this must stay a few milliseconds.
 */
function framesAlike(decoderClass: StreamDecoderClass, original: Write, fast: Write): boolean {
  const messages = [0, 1, 3, 4, 5, 40, 0, 300].map((size, i) => {
    const m = Buffer.alloc(5 + size, i + 1);
    m[0] = i === 3 ? 1 : 0; // one marked compressed: the decoder passes the flag on
    m.writeUInt32BE(size, 1);
    return m;
  });
  const stream = Buffer.concat(messages);
  const run = (write: Write, cuts: readonly number[]): Buffer[] | string => {
    const decoder = new decoderClass(-1);
    if (decoder.readState !== NO_DATA || typeof decoder.readSizeRemaining !== 'number' || typeof decoder.readMessageRemaining !== 'number') return 'shape';
    const out: Buffer[] = [];
    let at = 0;
    for (const cut of [...cuts, stream.length]) {
      for (const m of write.call(decoder, stream.subarray(at, cut))) out.push(Buffer.from(m));
      at = cut;
    }
    return decoder.readState === NO_DATA ? out : 'unfinished';
  };
  const same = (a: Buffer[] | string, b: Buffer[] | string): boolean =>
    typeof a !== 'string' && typeof b !== 'string' && a.length === b.length && a.every((m, i) => m.equals(b[i] as Buffer));
  const starts: number[] = [];
  let at = 0;
  for (const m of messages) {
    starts.push(at);
    at += m.length;
  }
  const cuts = starts.flatMap((start) => [start + 1, start + 3, start + 5, start + 6]).filter((c, i, all) => c < stream.length && all.indexOf(c) === i);
  return [[], cuts, ...cuts.map((c) => [c])].every((plan) => same(run(original, plan), run(fast, plan)));
}
