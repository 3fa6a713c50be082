/**
 * Lines longer than this are reported and skipped without being buffered whole. A flow line is a
 * few KB; the bound keeps one line (its string and parse) well inside a replay worker's heap cap.
 */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export type LineHandler = (line: string, lineNo: number) => void;
export type OverlongHandler = (lineNo: number, bytes: number) => void;

/**
 * Splits bytes pushed chunk by chunk into numbered lines (1-based), calling `onLine`
 * synchronously for each; `readline` costs as much as the whole parse (performance-limits.md).
 * A line split across chunks is carried over as a copy, so callers may reuse their buffer. A line
 * over `maxLineBytes` is counted and reported to `onOverlong` without ever being held whole, so
 * memory stays bounded whatever the input. CRLF line ends are accepted.
 */
export class LineSplitter {
  #lineNo = 0;
  #carry: Buffer[] = [];
  #carryBytes = 0;
  #skipping = false;

  constructor(
    private readonly onLine: LineHandler,
    private readonly onOverlong: OverlongHandler,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  /** Lines completed so far. */
  get lineNo(): number {
    return this.#lineNo;
  }

  /** Bytes pushed after the last newline: the start of a line not handed on yet. */
  get pendingBytes(): number {
    return this.#carryBytes;
  }

  /** Splits `buf[from, to)`; bytes after its last newline wait for the next push. */
  push(buf: Buffer, from = 0, to = buf.length): void {
    let start = from;
    for (;;) {
      const nl = buf.indexOf(NEWLINE, start);
      if (nl < 0 || nl >= to) break;
      this.#lineNo++;
      if (this.#skipping || this.#carryBytes + nl - start > this.maxLineBytes) {
        this.onOverlong(this.#lineNo, this.#carryBytes + nl - start);
        this.#skipping = false;
      } else if (this.#carryBytes > 0) {
        this.#carry.push(buf.subarray(start, nl));
        this.#emit(Buffer.concat(this.#carry, this.#carryBytes + nl - start), 0, this.#carryBytes + nl - start);
      } else {
        this.#emit(buf, start, nl);
      }
      if (this.#carryBytes > 0) {
        this.#carry = [];
        this.#carryBytes = 0;
      }
      start = nl + 1;
    }
    if (start < to) {
      const rest = to - start;
      if (this.#skipping || this.#carryBytes + rest > this.maxLineBytes) {
        this.#skipping = true;
        this.#carry = [];
      } else {
        this.#carry.push(Buffer.from(buf.subarray(start, to)));
      }
      this.#carryBytes += rest;
    }
  }

  /** The input ended: an unterminated last line is still a line. Returns the number of lines. */
  end(): number {
    if (this.#skipping) {
      this.#lineNo++;
      this.onOverlong(this.#lineNo, this.#carryBytes);
    } else if (this.#carryBytes > 0) {
      this.#lineNo++;
      const whole = Buffer.concat(this.#carry, this.#carryBytes);
      this.#emit(whole, 0, whole.length);
    }
    this.#skipping = false;
    this.#carry = [];
    this.#carryBytes = 0;
    return this.#lineNo;
  }

  #emit(buf: Buffer, from: number, to: number): void {
    const end = to > from && buf[to - 1] === CARRIAGE_RETURN ? to - 1 : to;
    this.onLine(buf.toString('utf8', from, end), this.#lineNo);
  }
}
