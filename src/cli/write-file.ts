import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeParts } from '../report/index.js';

/**
 * Writes `parts` to a temporary file beside `path`, then renames it over `path`: a reader never
 * sees half a file, and a failed write leaves `path` as it was (the temporary file is removed).
 * The parts are written as they come, so the whole text is never in memory. Returns the bytes written.
 */
export function writeFileAtomically(path: string, parts: Iterable<string>): number {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  let bytes = 0;
  try {
    try {
      writeParts((s) => {
        const buf = Buffer.from(s);
        for (let at = 0; at < buf.length; ) at += writeSync(fd, buf, at);
        bytes += buf.length;
      }, parts);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed or never created: the original error is what the user needs.
    }
    throw e;
  }
  return bytes;
}
