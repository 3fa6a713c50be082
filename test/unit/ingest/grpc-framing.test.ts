import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastWrite, installFastFraming, originalFraming } from '../../../src/ingest/relay/grpc-framing.js';

const require = createRequire(import.meta.url);
type Decoder = { write(data: Buffer): Buffer[]; readState: number; readSizeRemaining: number; readMessageRemaining: number; maxReadMessageLength: number };
const { StreamDecoder } = require('@grpc/grpc-js/build/src/stream-decoder.js') as { StreamDecoder: new (max: number) => Decoder };
const { CompressionFilter } = require('@grpc/grpc-js/build/src/compression-filter.js') as {
  CompressionFilter: new (options: object, shared: object) => { receiveMessage(m: Buffer | Promise<Buffer>): Promise<Buffer> };
};

type Write = (this: Decoder, data: Buffer) => Buffer[];

function framed(body: Buffer, flag = 0): Buffer {
  const m = Buffer.alloc(5 + body.length);
  m[0] = flag;
  m.writeUInt32BE(body.length, 1);
  body.copy(m, 5);
  return m;
}

/** Feeds `stream` cut at `cuts` to a fresh decoder using `write`; the messages, or the error. */
function frames(write: Write, stream: Buffer, cuts: readonly number[], max = -1): { messages: Buffer[]; state: number } | { error: string } {
  const decoder = new StreamDecoder(max);
  const messages: Buffer[] = [];
  let at = 0;
  try {
    for (const cut of [...cuts, stream.length]) {
      for (const m of write.call(decoder, stream.subarray(at, cut))) messages.push(Buffer.from(m));
      at = cut;
    }
  } catch (e) {
    return { error: (e as Error).message };
  }
  return { messages, state: decoder.readState };
}

describe('grpc-js fast framing', () => {
  it('installs on the grpc-js version we ship', () => {
    expect(installFastFraming()).toBe(true);
    expect(originalFraming()).toBeTypeOf('function');
  });

  it('splits any stream, cut anywhere, into exactly the messages (or the error) grpc-js gives', () => {
    installFastFraming();
    const original = originalFraming() as Write;
    const fast = fastWrite(original);
    const message = fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(0, 0, 0, 1)).map(([body, flag]) => framed(Buffer.from(body), flag));
    fc.assert(
      fc.property(fc.array(message, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 10 }), fc.constantFrom(-1, 100), (messages, rawCuts, max) => {
        const stream = Buffer.concat(messages);
        const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const want = frames(original, stream, cuts, max);
        expect(frames(fast, stream, cuts, max)).toEqual(want);
        if (max === -1) expect(want).toEqual({ messages, state: 0 });
      }),
      { numRuns: 500 },
    );
  });

  it('hands whole messages on as views of the chunk they arrived in, not copies', () => {
    installFastFraming();
    const parts = Buffer.concat([framed(Buffer.from('first')), framed(Buffer.from('second'))]);
    const chunk = Buffer.alloc(parts.length); // its own ArrayBuffer, not the shared pool
    parts.copy(chunk);
    const [a, b] = new StreamDecoder(-1).write(chunk) as [Buffer, Buffer];
    expect(a.buffer).toBe(chunk.buffer);
    expect(b.buffer).toBe(chunk.buffer);
    expect(b.subarray(5).toString()).toBe('second');
  });

  it('strips the prefix of an uncompressed message and still refuses a compressed one without an encoding', async () => {
    installFastFraming();
    const filter = new CompressionFilter({}, {});
    expect((await filter.receiveMessage(framed(Buffer.from('body')))).toString()).toBe('body');
    expect((await filter.receiveMessage(Promise.resolve(framed(Buffer.from('later'))))).toString()).toBe('later');
    await expect(filter.receiveMessage(framed(Buffer.from('zipped'), 1))).rejects.toThrow(/compressed/);
  });
});
