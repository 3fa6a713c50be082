import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { type LineHandler, LineSplitter, type OverlongHandler } from './line-splitter.js';

const CHUNK_BYTES = 1024 * 1024;

/** Opens a file, or stdin for `-`, as a byte stream. */
export function openInput(name: string, stdin: NodeJS.ReadableStream): AsyncIterable<Buffer> {
  if (name === '-') return stdin as AsyncIterable<Buffer>;
  return createReadStream(name, { highWaterMark: CHUNK_BYTES });
}

/** Transparently gunzips a stream that starts with the gzip magic bytes (files or stdin alike). */
export async function* gunzipIfCompressed(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = first.value as Buffer;
  async function* all(): AsyncIterable<Buffer> {
    yield head;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
    pipeline(Readable.from(all()), gunzip, () => {
      // errors surface through the iteration below
    });
    yield* gunzip as AsyncIterable<Buffer>;
  } else {
    yield* all();
  }
}

/**
 * Splits a byte stream into numbered lines (LineSplitter), calling `onLine` synchronously for each.
 * `afterChunk` runs between chunks, where the caller commits batches and reports progress.
 */
export async function forEachLine(
  source: AsyncIterable<Buffer>,
  onLine: LineHandler,
  onOverlong: OverlongHandler,
  afterChunk?: () => void | Promise<void>,
): Promise<number> {
  const splitter = new LineSplitter(onLine, onOverlong);
  for await (const chunk of source) {
    splitter.push(chunk);
    if (afterChunk) await afterChunk();
  }
  return splitter.end();
}
