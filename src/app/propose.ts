/** `recommend --policies PATH`: the proposal against the user's policies, and applying it (`--write`). */
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import * as nodeFs from 'node:fs';
import { createTwoFilesPatch } from 'diff';
import { isOwnedText, proposeAgainst, type Proposal } from '../gitops/index.js';
import { DEFAULT_OPTIONS, type RecommendOptions } from '../recommend/index.js';
import type { Db } from '../store/index.js';
import { queryEdges, type EdgesQuery } from './edges.js';
import type { LoadedPolicies } from './load-policies.js';
import { InputError } from '../errors.js';

export type ProposeRequest = Pick<RecommendOptions, 'namespaces' | 'kind' | 'baseline'> & Partial<Omit<RecommendOptions, 'namespaces' | 'kind' | 'baseline'>> & { readonly workloadConfig?: EdgesQuery['workloadConfig'] };

/**
 * Files hubble-advisor wrote itself (`--out`) are not the user's policies: they are proposed again
 * (and so kept as they are), never treated as something that already allows the traffic.
 */
export function proposeFromDatabase(db: Db, request: ProposeRequest, loaded: LoadedPolicies): Proposal {
  const { edges, workloads } = queryEdges(db, request.workloadConfig ? { workloadConfig: request.workloadConfig } : {});
  const files = loaded.files.filter((f) => f !== '-').map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  const owned = new Set(files.filter((f) => isOwnedText(f.text)).map((f) => f.file));
  const { workloadConfig: _c, ...options } = request;
  return proposeAgainst({
    edges,
    workloads,
    userPolicies: loaded.policies.filter((p) => !owned.has(p.origin.file)),
    files: files.filter((f) => !owned.has(f.file)),
    options: { ...DEFAULT_OPTIONS, ...options },
  });
}

/** Unified diffs of the edits against the user's files, and of new files (`/dev/null` to NAME). */
export function proposalDiff(p: Proposal, newFiles: readonly { name: string; text: string }[]): string {
  const edits = p.edits.map((e) => createTwoFilesPatch(`a/${shown(e.file)}`, `b/${shown(e.file)}`, e.before, e.after, undefined, undefined, { context: 3 }).replace(/^=+\n/, ''));
  const added = newFiles.map((f) => createTwoFilesPatch('/dev/null', `b/${f.name}`, '', f.text, undefined, undefined, { context: 3 }).replace(/^=+\n/, ''));
  return [...edits, ...added].map((d) => d.replace(/^Index: .*\n/, '')).join('');
}

/** Paths in diff headers: relative to the working directory when inside it, as `git diff` shows them. */
function shown(file: string): string {
  const rel = relative('', file);
  return rel.startsWith('..') || isAbsolute(rel) ? file.replace(/^\/+/, '') : rel;
}

/**
 * Applies the edits in place: every new text is written to a temporary file beside its target
 * first, then all are renamed; a failure before the renames leaves every file as it was. The
 * file's mode is kept. A file changed on disk since it was read is refused.
 */
export function applyEdits(p: Proposal): string[] {
  const temps: { temp: string; target: string }[] = [];
  try {
    for (const e of p.edits) {
      if (readFileSync(e.file, 'utf8') !== e.before) throw new InputError(e.file, undefined, undefined, 'changed since it was read; run again');
      const st = nodeFs.lstatSync(e.file);
      if (!st.isFile()) throw new InputError(e.file, undefined, undefined, 'not a regular file (a symbolic link?); not edited');
      const temp = join(dirname(e.file), `.${basename(e.file)}.hubble-advisor-${Date.now().toString(36)}.tmp`);
      nodeFs.writeFileSync(temp, e.after, { flag: 'wx', mode: st.mode & 0o777 });
      temps.push({ temp, target: e.file });
    }
  } catch (err) {
    for (const t of temps) nodeFs.rmSync(t.temp, { force: true });
    throw err;
  }
  for (const t of temps) nodeFs.renameSync(t.temp, t.target);
  return temps.map((t) => t.target);
}
