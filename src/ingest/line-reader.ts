import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Lines longer than this are reported and skipped without being buffered whole. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

const NEWLINE = 0x0a;
const CHUNK_BYTES = 1024 * 1024;

export type LineHandler = (line: string, lineNo: number) => void;
export type OverlongHandler = (lineNo: number, bytes: number) => void;

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
 * Splits a byte stream into lines with 1-based numbers, calling `onLine` synchronously for each
 * (readline costs as much as the whole parse; see performance-limits.md). `afterChunk` runs between
 * chunks, where the caller commits batches and reports progress.
 */
export async function forEachLine(
  source: AsyncIterable<Buffer>,
  onLine: LineHandler,
  onOverlong: OverlongHandler,
  afterChunk?: () => void | Promise<void>,
): Promise<number> {
  let lineNo = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;
  for await (const chunk of source) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      lineNo++;
      if (skipping) {
        onOverlong(lineNo, pendingBytes + nl - start);
        skipping = false;
        pendingBytes = 0;
      } else if (pendingBytes > 0) {
        pending.push(chunk.subarray(start, nl));
        emit(Buffer.concat(pending, pendingBytes + nl - start), lineNo);
        pending = [];
        pendingBytes = 0;
      } else {
        emit(chunk, lineNo, start, nl);
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.length - start;
      if (skipping || pendingBytes + rest > MAX_LINE_BYTES) {
        // Keep only the count: memory stays bounded whatever the input.
        skipping = true;
        pending = [];
        pendingBytes += rest;
      } else {
        pending.push(Buffer.from(chunk.subarray(start)));
        pendingBytes += rest;
      }
    }
    if (afterChunk) await afterChunk();
  }
  if (skipping) {
    lineNo++;
    onOverlong(lineNo, pendingBytes);
  } else if (pendingBytes > 0) {
    lineNo++;
    emit(Buffer.concat(pending, pendingBytes), lineNo);
  }
  return lineNo;

  function emit(buf: Buffer, n: number, from = 0, to = buf.length): void {
    // Tolerate CRLF files.
    const end = to > from && buf[to - 1] === 0x0d ? to - 1 : to;
    onLine(buf.toString('utf8', from, end), n);
  }
}
