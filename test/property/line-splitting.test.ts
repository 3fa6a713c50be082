import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { LineSplitter, forEachLine, forEachLineInRange } from '../../src/ingest/index.js';
import { tempDir } from '../helpers/paths.js';

type Seen = (string | { overlong: number })[];

const MAX = 40;
const dir = tempDir('line-splitting-');
afterAll(() => dir.remove());

/** What a reader must produce: split on \n, one CR before it dropped, over-long lines reported by size. */
function expected(text: string): Seen {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((p) => {
    const bytes = Buffer.byteLength(p);
    if (bytes > MAX) return { overlong: bytes };
    return p.endsWith('\r') ? p.slice(0, -1) : p;
  });
}

const lineArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', '\r', 'crlf\r', 'é ü 日本', '{"flow":{}}'),
  fc.string({ minLength: MAX + 1, maxLength: MAX + 30 }),
);
const textArb = fc
  .tuple(fc.array(lineArb.map((l) => l.replace(/\n/g, ' ')), { maxLength: 30 }), fc.boolean())
  .map(([lines, trailingNewline]) => lines.join('\n') + (trailingNewline && lines.length > 0 ? '\n' : ''));

function collector(): { seen: Seen; onLine: (l: string, n: number) => void; onOverlong: (n: number, b: number) => void; numbers: number[] } {
  const seen: Seen = [];
  const numbers: number[] = [];
  return {
    seen,
    numbers,
    onLine: (l, n) => {
      seen.push(l);
      numbers.push(n);
    },
    onOverlong: (n, bytes) => {
      seen.push({ overlong: bytes });
      numbers.push(n);
    },
  };
}

describe('line splitting', () => {
  it('LineSplitter gives the same numbered lines however the bytes are chunked', () => {
    fc.assert(
      fc.property(textArb, fc.array(fc.nat(), { maxLength: 8 }), (text, cuts) => {
        const bytes = Buffer.from(text);
        const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
        const c = collector();
        const splitter = new LineSplitter(c.onLine, c.onOverlong, MAX);
        let from = 0;
        for (const p of [...points, bytes.length]) {
          // A reused buffer: the splitter must copy what it carries over.
          const chunk = Buffer.from(bytes.subarray(from, p));
          splitter.push(chunk);
          chunk.fill(0x78);
          from = p;
        }
        const total = splitter.end();
        expect(c.seen).toEqual(expected(text));
        expect(c.numbers).toEqual(c.seen.map((_, i) => i + 1));
        expect(total).toBe(c.seen.length);
      }),
      { numRuns: 300 },
    );
  });

  it('adjacent byte ranges of a file read every line exactly once, in order', () => {
    let run = 0;
    fc.assert(
      fc.property(textArb, fc.array(fc.nat(), { maxLength: 5 }), (text, cuts) => {
        const file = dir.file(`r${run++}.txt`);
        writeFileSync(file, text);
        const size = Buffer.byteLength(text);
        const bounds = [0, ...new Set(cuts.map((c) => (size === 0 ? 0 : c % size)))].sort((a, b) => a - b);
        const all: Seen = [];
        for (let i = 0; i < bounds.length; i++) {
          const start = bounds[i] as number;
          const end = i + 1 < bounds.length ? (bounds[i + 1] as number) : size;
          if (end <= start && i + 1 < bounds.length) continue;
          const c = collector();
          const n = forEachLineInRange(file, start, end, c.onLine, c.onOverlong, undefined, MAX);
          expect(n).toBe(c.seen.length);
          expect(c.numbers).toEqual(c.seen.map((_, k) => k + 1));
          all.push(...c.seen);
        }
        expect(all).toEqual(expected(text));
      }),
      { numRuns: 300 },
    );
  });

  it('the async reader numbers lines across stream chunks and keeps an unterminated last line', async () => {
    const c = collector();
    async function* chunks(): AsyncIterable<Buffer> {
      yield Buffer.from('{"a":1}\r\n{"b"');
      yield Buffer.from(':2}\n\n');
      yield Buffer.from('last');
    }
    const n = await forEachLine(chunks(), c.onLine, c.onOverlong);
    expect(c.seen).toEqual(['{"a":1}', '{"b":2}', '', 'last']);
    expect(n).toBe(4);
  });
});
