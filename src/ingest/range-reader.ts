import { closeSync, openSync, readSync } from 'node:fs';
import { MAX_LINE_BYTES } from './line-reader.js';

const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * Reads the lines that START in [start, end) of a file, synchronously (replay workers own a thread
 * each). A line starting before `end` is read to its newline even past `end`, and a range that does
 * not begin at offset 0 skips the partial line it begins in, so adjacent ranges see every line once.
 * Line numbers are relative to the range (1-based). Returns the number of lines read.
 */
export function forEachLineInRange(
  file: string,
  start: number,
  end: number,
  onLine: (line: string, lineNo: number) => void,
  onOverlong: (lineNo: number, bytes: number) => void,
  afterChunk?: () => void,
): number {
  const fd = openSync(file, 'r');
  try {
    let pos = start;
    let lineNo = 0;
    let skipFirst = start > 0;
    if (skipFirst) pos = start - 1; // a range starting right after a newline must not skip its first line
    let carry: Buffer[] = [];
    let carryBytes = 0;
    let skipping = false;
    let lineStart = pos;
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK_BYTES, pos);
      if (n === 0) break;
      const chunkPos = pos;
      pos += n;
      let from = 0;
      for (;;) {
        const nl = buf.indexOf(NEWLINE, from);
        if (nl < 0 || nl >= n) break;
        if (skipFirst) {
          skipFirst = false;
        } else {
          lineNo++;
          if (skipping) {
            onOverlong(lineNo, carryBytes + nl - from);
            skipping = false;
          } else if (carryBytes > 0) {
            carry.push(buf.subarray(from, nl));
            onLine(trimCr(Buffer.concat(carry, carryBytes + nl - from)), lineNo);
          } else {
            onLine(trimCr(buf, from, nl), lineNo);
          }
        }
        carry = [];
        carryBytes = 0;
        from = nl + 1;
        lineStart = chunkPos + from;
        if (lineStart >= end) return lineNo;
      }
      if (from < n && !skipFirst) {
        const rest = n - from;
        if (skipping || carryBytes + rest > MAX_LINE_BYTES) {
          skipping = true;
          carry = [];
          carryBytes += rest;
        } else {
          carry.push(Buffer.from(buf.subarray(from, n)));
          carryBytes += rest;
        }
      }
      afterChunk?.();
    }
    if (!skipFirst && lineStart < end && (carryBytes > 0 || skipping)) {
      lineNo++;
      if (skipping) onOverlong(lineNo, carryBytes);
      else onLine(trimCr(Buffer.concat(carry, carryBytes)), lineNo);
    }
    return lineNo;
  } finally {
    closeSync(fd);
  }
}

function trimCr(buf: Buffer, from = 0, to = buf.length): string {
  const end = to > from && buf[to - 1] === 0x0d ? to - 1 : to;
  return buf.toString('utf8', from, end);
}
