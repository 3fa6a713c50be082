/** Bytes gathered before one write: few system calls, and never the whole output in memory. */
const CHUNK = 1 << 16;

/** Writes `parts` in order through `write`, gathered into chunks of about 64 KB. */
export function writeParts(write: (s: string) => void, parts: Iterable<string>): void {
  let buf = '';
  for (const part of parts) {
    buf += part;
    if (buf.length >= CHUNK) {
      write(buf);
      buf = '';
    }
  }
  if (buf !== '') write(buf);
}
