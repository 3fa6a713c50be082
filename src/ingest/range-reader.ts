import { closeSync, openSync, readSync } from 'node:fs';
import { type LineHandler, LineSplitter, type OverlongHandler } from './line-splitter.js';

const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * Reads the lines that START in [start, end) of a file, synchronously (replay workers own a thread
 * each). A line starting before `end` is read to its newline even past `end`, and a range that does
 * not begin at offset 0 skips the partial line it begins in, so adjacent ranges see every line once.
 * Line numbers are relative to the range (1-based). Returns the number of lines read.
 * `afterChunk` gets the file offset where the next line not yet handed on starts, and the lines so
 * far: [start, offset) is a range of its own, read completely.
 */
export function forEachLineInRange(
  file: string,
  start: number,
  end: number,
  onLine: LineHandler,
  onOverlong: OverlongHandler,
  afterChunk?: (nextLineAt: number, lines: number) => void,
  maxLineBytes?: number,
): number {
  const splitter = new LineSplitter(onLine, onOverlong, maxLineBytes);
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    // The line ending at `start - 1` belongs to the previous range; the last line of this one
    // ends at the first newline at or after `end - 1`.
    let skipping = start > 0;
    let pos = skipping ? start - 1 : 0;
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK_BYTES, pos);
      if (n === 0) break;
      const chunkPos = pos;
      pos += n;
      let from = 0;
      if (skipping) {
        const nl = buf.indexOf(NEWLINE, 0);
        if (nl < 0 || nl >= n) continue;
        skipping = false;
        from = nl + 1;
        if (chunkPos + from >= end) return 0;
      }
      const lastNl = chunkPos + n >= end ? buf.indexOf(NEWLINE, Math.max(from, end - 1 - chunkPos)) : -1;
      if (lastNl >= 0 && lastNl < n) {
        splitter.push(buf, from, lastNl + 1);
        return splitter.lineNo;
      }
      splitter.push(buf, from, n);
      afterChunk?.(pos - splitter.pendingBytes, splitter.lineNo);
    }
    return skipping ? 0 : splitter.end();
  } finally {
    closeSync(fd);
  }
}
