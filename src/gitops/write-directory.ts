/**
 * Writes generated policies into a directory that may be part of a user's GitOps repository.
 *
 * - Only files we wrote (see ownership.ts) are ever replaced or removed; every other entry keeps
 *   its bytes, whatever its name. Symlinks are never followed, written through or removed.
 * - A file of ours whose bytes would not change is not touched: a second identical run changes
 *   nothing. A policy that a user's file in the directory already defines is left to the user.
 * - The kustomization is edited in place (kustomization.ts), or created when there is none.
 * - All new contents are written to temporary files first; then old files are moved aside and the
 *   new ones renamed in. A failure at any step (disk full, a name the file system refuses) undoes
 *   the steps taken, so the directory is left exactly as it was.
 */
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { alternativeFileName, identityKey, policyFileName, type PolicyIdentity } from './file-names.js';
import { editKustomization, KUSTOMIZATION_NAMES, KustomizationError, listResources, newKustomization } from './kustomization.js';
import { definedObjects, isOwnedText } from './ownership.js';

/** The few file operations the writer uses; tests inject failures through it. */
export interface WriterFs {
  mkdirSync(path: string, options: { recursive: true }): unknown;
  rmdirSync(path: string): void;
  readdirSync(path: string): string[];
  lstatSync(path: string): { isFile(): boolean; isSymbolicLink(): boolean; isDirectory(): boolean; size: number; mode: number };
  readFileSync(path: string, encoding: 'utf8'): string;
  writeFileSync(path: string, data: string, options: { flag: 'wx'; mode: number }): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

export const nodeWriterFs: WriterFs = {
  mkdirSync: (p, o) => nodeFs.mkdirSync(p, o),
  rmdirSync: (p) => nodeFs.rmdirSync(p),
  readdirSync: (p) => nodeFs.readdirSync(p),
  lstatSync: (p) => nodeFs.lstatSync(p),
  readFileSync: (p, e) => nodeFs.readFileSync(p, e),
  writeFileSync: (p, d, o) => nodeFs.writeFileSync(p, d, o),
  renameSync: (a, b) => nodeFs.renameSync(a, b),
  unlinkSync: (p) => nodeFs.unlinkSync(p),
};

export interface PolicyFile extends PolicyIdentity {
  /** Full file text, starting with the ownership MARKER line. */
  readonly text: string;
}

export interface WriteResult {
  /** Every file of ours the directory now holds, sorted. */
  readonly files: readonly string[];
  readonly written: readonly string[];
  readonly removed: readonly string[];
  readonly unchanged: readonly string[];
  /** Policies a user's file in the directory already defines: `kind ns/name: file`. */
  readonly leftToUser: readonly string[];
  /** The kustomization file name, and whether it was created, edited or left as it was. */
  readonly kustomization: { readonly file: string; readonly change: 'created' | 'edited' | 'unchanged' };
}

/** A directory we will not write into as it is: `file[:line]: reason`, exit 1, nothing changed. */
export class DirectoryWriteError extends InputError {
  constructor(file: string, line: number | undefined, reason: string) {
    super(file, line, undefined, reason);
    this.name = 'DirectoryWriteError';
  }
}

/** Bigger files are never ours (a policy file is a few KB), and not read. */
const MAX_INSPECT_BYTES = 8 * 1024 * 1024;

export function writePolicyFiles(dir: string, policies: readonly PolicyFile[], fs: WriterFs = nodeWriterFs): WriteResult {
  const created = ensureDir(dir, fs);
  try {
    return writeInto(dir, policies, fs);
  } catch (e) {
    if (created) tryQuietly(() => fs.rmdirSync(dir));
    throw e;
  }
}

function ensureDir(dir: string, fs: WriterFs): boolean {
  try {
    const s = fs.lstatSync(dir);
    if (s.isDirectory()) return false;
    if (s.isSymbolicLink()) return false; // the user named it; mkdir below fails if it is not a directory
    throw new DirectoryWriteError(dir, undefined, 'exists and is not a directory');
  } catch (e) {
    if (!isCode(e, 'ENOENT')) throw e;
  }
  fs.mkdirSync(dir, { recursive: true });
  return true;
}

interface Entry {
  readonly name: string;
  readonly kind: 'ours' | 'user' | 'other';
  readonly text?: string;
  readonly mode: number;
}

/**
 * The directory's entries, each YAML file judged ours or the user's. A file whose bytes are exactly
 * what this run writes under its name is ours without being parsed: it carries the marker and the
 * label (every file written has them), and leaving it as it is changes nothing either way. On a
 * re-run of 3,000 policies, parsing every unchanged file was about a third of `recommend --out`.
 */
function inspect(dir: string, fs: WriterFs, expected: ReadonlyMap<string, string>): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const name of fs.readdirSync(dir).sort()) {
    const s = fs.lstatSync(join(dir, name));
    if (!s.isFile() || !/\.ya?ml$/i.test(name) || s.size > MAX_INSPECT_BYTES) {
      out.set(name, { name, kind: 'other', mode: s.mode });
      continue;
    }
    const text = fs.readFileSync(join(dir, name), 'utf8');
    out.set(name, { name, kind: expected.get(name) === text || isOwnedText(text) ? 'ours' : 'user', text, mode: s.mode });
  }
  return out;
}

function writeInto(dir: string, policies: readonly PolicyFile[], fs: WriterFs): WriteResult {
  const entries = inspect(dir, fs, new Map(policies.map((p) => [policyFileName(p), p.text])));
  const kustomizationName: string | undefined = KUSTOMIZATION_NAMES.find((n) => entries.has(n));
  let kEntry: Entry | undefined;
  if (kustomizationName !== undefined) {
    const path = join(dir, kustomizationName);
    const s = fs.lstatSync(path);
    if (s.isSymbolicLink()) throw new DirectoryWriteError(path, undefined, 'is a symbolic link; hubble-advisor does not write through links (point --out at the directory it resolves to, or replace the link with a file)');
    if (!s.isFile()) throw new DirectoryWriteError(path, undefined, 'is not a regular file');
    if (s.size > MAX_INSPECT_BYTES) throw new DirectoryWriteError(path, undefined, `larger than ${MAX_INSPECT_BYTES} bytes; not a kustomization to edit`);
    kEntry = { name: kustomizationName, kind: 'user', text: fs.readFileSync(path, 'utf8'), mode: s.mode };
  }

  // Policies a user's file here already defines stay the user's.
  const userDefined = new Map<string, string>();
  for (const e of entries.values()) {
    if (e.kind !== 'user' || e.text === undefined || e.name === kustomizationName) continue;
    for (const o of definedObjects(e.text)) {
      userDefined.set(identityKey(o), e.name);
      if (o.namespace === undefined) userDefined.set(`${o.kind}/*/${o.name}`, e.name);
    }
  }
  const leftToUser: string[] = [];
  const planned = new Map<string, PolicyFile>();
  const seen = new Set<string>();
  for (const p of policies) {
    const id = identityKey(p);
    if (seen.has(id)) throw new DirectoryWriteError(dir, undefined, `two generated policies are both ${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}`);
    seen.add(id);
    const userFile = userDefined.get(id) ?? userDefined.get(`${p.kind}/*/${p.name}`);
    if (userFile !== undefined) {
      leftToUser.push(`${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}: ${userFile}`);
      continue;
    }
    let name = policyFileName(p);
    const taken = entries.get(name);
    if ((taken && taken.kind !== 'ours')) name = alternativeFileName(name, p);
    if (planned.has(name) || (entries.get(name)?.kind ?? 'ours') !== 'ours') {
      throw new DirectoryWriteError(join(dir, name), undefined, `file name taken twice (${identityKey(p)} and ${identityKey(planned.get(name) ?? p)})`);
    }
    planned.set(name, p);
  }

  const ours = [...entries.values()].filter((e) => e.kind === 'ours').map((e) => e.name);
  const removed = ours.filter((n) => !planned.has(n));
  const unchanged = [...planned].filter(([n, p]) => entries.get(n)?.text === p.text).map(([n]) => n).sort();
  const unchangedSet = new Set(unchanged);
  const written = [...planned.keys()].filter((n) => !unchangedSet.has(n)).sort();
  const files = [...planned.keys()].sort();

  let kText: string;
  let kChange: WriteResult['kustomization']['change'];
  const kName = kustomizationName ?? 'kustomization.yaml';
  if (kEntry?.text === undefined) {
    kText = newKustomization(files);
    kChange = 'created';
  } else {
    try {
      // Our files the user took out of the list stay out only if they are gone; current ones are listed.
      const listed = new Set(listResources(kEntry.text));
      kText = editKustomization(kEntry.text, { add: files, remove: removed.filter((n) => listed.has(n)) });
    } catch (e) {
      if (e instanceof KustomizationError) throw new DirectoryWriteError(join(dir, kName), e.line, e.reason);
      throw e;
    }
    kChange = kText === kEntry.text ? 'unchanged' : 'edited';
  }

  const changes: Change[] = [
    ...written.map((n) => ({ target: n, text: (planned.get(n) as PolicyFile).text, mode: entries.get(n)?.mode ?? 0o644 })),
    ...removed.map((n) => ({ target: n })),
    ...(kChange === 'unchanged' ? [] : [{ target: kName, text: kText, mode: kEntry?.mode ?? 0o644 }]),
  ];
  commit(dir, changes, new Set(entries.keys()), fs);
  return { files, written, removed, unchanged, leftToUser, kustomization: { file: kName, change: kChange } };
}

interface Change {
  readonly target: string;
  /** Absent: remove the target. */
  readonly text?: string;
  readonly mode?: number;
}

/** Temp files first, then move aside and rename in; any failure rolls every step back. */
function commit(dir: string, changes: readonly Change[], existing: ReadonlySet<string>, fs: WriterFs): void {
  const tag = `.hubble-advisor-${tempTag()}-${Date.now().toString(36)}`;
  const temps: string[] = [];
  const backups: { target: string; backup: string }[] = [];
  const placed: { target: string; temp: string }[] = [];
  try {
    changes.forEach((c, i) => {
      if (c.text === undefined) return;
      const temp = join(dir, `${tag}-new-${i}.tmp`);
      temps.push(temp);
      fs.writeFileSync(temp, c.text, { flag: 'wx', mode: (c.mode ?? 0o644) & 0o777 });
    });
    changes.forEach((c, i) => {
      const target = join(dir, c.target);
      if (existing.has(c.target)) {
        const backup = join(dir, `${tag}-old-${i}.tmp`);
        fs.renameSync(target, backup);
        backups.push({ target, backup });
      }
      if (c.text !== undefined) {
        const temp = join(dir, `${tag}-new-${i}.tmp`);
        fs.renameSync(temp, target);
        placed.push({ target, temp });
      }
    });
  } catch (e) {
    for (const p of placed.reverse()) tryQuietly(() => fs.renameSync(p.target, p.temp));
    for (const b of backups.reverse()) tryQuietly(() => fs.renameSync(b.backup, b.target));
    for (const t of temps) tryQuietly(() => fs.unlinkSync(t));
    throw e;
  }
  for (const b of backups) tryQuietly(() => fs.unlinkSync(b.backup));
}

let counter = 0;
/** Unique among concurrent writers, without `process` (the architecture keeps that in cli/). */
function tempTag(): string {
  counter++;
  return `${Math.random().toString(36).slice(2, 8)}${counter}`;
}

function tryQuietly(f: () => void): void {
  try {
    f();
  } catch {
    // Best effort while undoing; the original error is what the user needs to see.
  }
}

function isCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}
