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
import { editKustomization, KUSTOMIZATION_NAMES, KustomizationError, newKustomization } from './kustomization.js';
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

/**
 * `policies` are read once, in order, and each text is let go once it is staged: at thousands of
 * policies their texts (and the files they replace) are tens of MB.
 */
export function writePolicyFiles(dir: string, policies: Iterable<PolicyFile>, fs: WriterFs = nodeWriterFs): WriteResult {
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
  /** `yaml`: a YAML file small enough to be ours, not judged yet. */
  kind: 'yaml' | 'ours' | 'user' | 'other';
  readonly size: number;
  readonly mode: number;
  /** A user's file's text (what it defines). */
  text?: string;
}

/** The directory's entries, from `lstat` alone: a YAML file is read when it is judged. */
function inspect(dir: string, fs: WriterFs): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const name of fs.readdirSync(dir).sort()) {
    const s = fs.lstatSync(join(dir, name));
    const yaml = s.isFile() && /\.ya?ml$/i.test(name) && s.size <= MAX_INSPECT_BYTES;
    out.set(name, { name, kind: yaml ? 'yaml' : 'other', size: s.size, mode: s.mode });
  }
  return out;
}

/** A policy whose text is staged in a temporary file (or is already, byte for byte, its file). */
interface Staged extends PolicyIdentity {
  /** `policyFileName`. */
  readonly file: string;
  /** Where its text waits; absent when `file` holds exactly that text. */
  temp?: string;
  tempMode?: number;
}

function writeInto(dir: string, policies: Iterable<PolicyFile>, fs: WriterFs): WriteResult {
  const entries = inspect(dir, fs);
  const kustomizationName: string | undefined = KUSTOMIZATION_NAMES.find((n) => entries.has(n));
  let kText0: string | undefined;
  if (kustomizationName !== undefined) {
    const path = join(dir, kustomizationName);
    const s = fs.lstatSync(path);
    if (s.isSymbolicLink()) throw new DirectoryWriteError(path, undefined, 'is a symbolic link; hubble-advisor does not write through links (point --out at the directory it resolves to, or replace the link with a file)');
    if (!s.isFile()) throw new DirectoryWriteError(path, undefined, 'is not a regular file');
    if (s.size > MAX_INSPECT_BYTES) throw new DirectoryWriteError(path, undefined, `larger than ${MAX_INSPECT_BYTES} bytes; not a kustomization to edit`);
    kText0 = fs.readFileSync(path, 'utf8');
  }
  const temps = new Temps(dir, fs);
  try {
    return plan(dir, entries, stage(dir, entries, policies, temps, fs), kustomizationName, kText0, temps, fs);
  } catch (e) {
    temps.removeAll();
    throw e;
  }
}

/**
 * Each policy's text, as it comes, to a temporary file, unless the file of its name holds exactly
 * that text: then that file is ours without being parsed (it carries the marker and the label,
 * as every file written has), and leaving it as it is changes nothing. On a re-run of 3,000
 * policies, parsing every unchanged file was about a third of `recommend --out`.
 */
function stage(dir: string, entries: Map<string, Entry>, policies: Iterable<PolicyFile>, temps: Temps, fs: WriterFs): Staged[] {
  const staged: Staged[] = [];
  for (const p of policies) {
    const file = policyFileName(p);
    const entry = entries.get(file);
    const s: Staged = { kind: p.kind, namespace: p.namespace, name: p.name, file };
    if (entry !== undefined && entry.kind !== 'other' && holds(dir, entry, p.text, fs)) entry.kind = 'ours';
    else {
      s.tempMode = (entry?.mode ?? 0o644) & 0o777;
      s.temp = temps.write(p.text, s.tempMode);
    }
    staged.push(s);
  }
  return staged;
}

/** Whether the file `entry` holds exactly `text` (read only when the sizes agree). */
function holds(dir: string, entry: Entry, text: string, fs: WriterFs): boolean {
  return entry.size === Buffer.byteLength(text) && fs.readFileSync(join(dir, entry.name), 'utf8') === text;
}

function plan(dir: string, entries: Map<string, Entry>, staged: readonly Staged[], kustomizationName: string | undefined, kText0: string | undefined, temps: Temps, fs: WriterFs): WriteResult {
  // The YAML files not known to be ours by their bytes: ours by the marker and label, or the user's.
  for (const e of entries.values()) {
    if (e.kind !== 'yaml') continue;
    const text = fs.readFileSync(join(dir, e.name), 'utf8');
    e.kind = isOwnedText(text) ? 'ours' : 'user';
    if (e.kind === 'user') e.text = text;
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
  const planned = new Map<string, Staged>();
  const seen = new Set<string>();
  for (const p of staged) {
    const id = identityKey(p);
    if (seen.has(id)) throw new DirectoryWriteError(dir, undefined, `two generated policies are both ${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}`);
    seen.add(id);
    const userFile = userDefined.get(id) ?? userDefined.get(`${p.kind}/*/${p.name}`);
    if (userFile !== undefined) {
      leftToUser.push(`${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}: ${userFile}`);
      temps.remove(p.temp);
      continue;
    }
    let name = p.file;
    const taken = entries.get(name);
    if ((taken && taken.kind !== 'ours')) name = alternativeFileName(name, p);
    if (planned.has(name) || (entries.get(name)?.kind ?? 'ours') !== 'ours') {
      throw new DirectoryWriteError(join(dir, name), undefined, `file name taken twice (${identityKey(p)} and ${identityKey(planned.get(name) ?? p)})`);
    }
    planned.set(name, p);
  }

  const ours = [...entries.values()].filter((e) => e.kind === 'ours').map((e) => e.name);
  const removed = ours.filter((n) => !planned.has(n));
  const unchangedSet = new Set<string>();
  for (const [n, p] of planned) {
    if (p.temp === undefined) unchangedSet.add(n);
    else if (n !== p.file) {
      // Under another name than the one it was staged for: its bytes and mode are checked against that file.
      const entry = entries.get(n);
      const text = fs.readFileSync(p.temp, 'utf8');
      if (entry !== undefined && holds(dir, entry, text, fs)) {
        unchangedSet.add(n);
        temps.remove(p.temp);
        p.temp = undefined;
      } else if (((entry?.mode ?? 0o644) & 0o777) !== p.tempMode) {
        const old = p.temp;
        p.temp = temps.write(text, (entry?.mode ?? 0o644) & 0o777);
        temps.remove(old);
      }
    }
  }
  const unchanged = [...unchangedSet].sort();
  const written = [...planned.keys()].filter((n) => !unchangedSet.has(n)).sort();
  const files = [...planned.keys()].sort();

  let kText: string;
  let kChange: WriteResult['kustomization']['change'];
  const kName = kustomizationName ?? 'kustomization.yaml';
  if (kText0 === undefined) {
    kText = newKustomization(files);
    kChange = 'created';
  } else {
    try {
      // Current files are listed (again, where the user took one out); gone ones come out where
      // listed (an entry not in the list matches nothing to remove). One parse of a list of thousands.
      kText = editKustomization(kText0, { add: files, remove: removed });
    } catch (e) {
      if (e instanceof KustomizationError) throw new DirectoryWriteError(join(dir, kName), e.line, e.reason);
      throw e;
    }
    kChange = kText === kText0 ? 'unchanged' : 'edited';
  }

  const changes: Change[] = [
    ...written.map((n) => ({ target: n, temp: (planned.get(n) as Staged).temp as string })),
    ...removed.map((n) => ({ target: n })),
    ...(kChange === 'unchanged' ? [] : [{ target: kName, temp: temps.write(kText, (entries.get(kName)?.mode ?? 0o644) & 0o777) }]),
  ];
  commit(dir, changes, new Set(entries.keys()), fs);
  temps.placed();
  return { files, written, removed, unchanged, leftToUser, kustomization: { file: kName, change: kChange } };
}

interface Change {
  readonly target: string;
  /** The staged temporary file that replaces it; absent: remove the target. */
  readonly temp?: string;
}

/** The temporary files of one run, beside their targets; removed again on any failure. */
class Temps {
  private readonly tag = `.hubble-advisor-${tempTag()}-${Date.now().toString(36)}`;
  private readonly open = new Set<string>();
  private n = 0;
  constructor(
    private readonly dir: string,
    private readonly fs: WriterFs,
  ) {}

  write(text: string, mode: number): string {
    const temp = join(this.dir, `${this.tag}-new-${this.n++}.tmp`);
    this.open.add(temp);
    this.fs.writeFileSync(temp, text, { flag: 'wx', mode });
    return temp;
  }

  remove(temp: string | undefined): void {
    if (temp === undefined || !this.open.delete(temp)) return;
    this.fs.unlinkSync(temp);
  }

  /** Every remaining one was renamed into place. */
  placed(): void {
    this.open.clear();
  }

  removeAll(): void {
    for (const t of this.open) tryQuietly(() => this.fs.unlinkSync(t));
    this.open.clear();
  }
}

/** Moves the old files aside and renames the staged ones in; any failure rolls every step back. */
function commit(dir: string, changes: readonly Change[], existing: ReadonlySet<string>, fs: WriterFs): void {
  const tag = `.hubble-advisor-${tempTag()}-${Date.now().toString(36)}`;
  const backups: { target: string; backup: string }[] = [];
  const placed: { target: string; temp: string }[] = [];
  try {
    changes.forEach((c, i) => {
      const target = join(dir, c.target);
      if (existing.has(c.target)) {
        const backup = join(dir, `${tag}-old-${i}.tmp`);
        fs.renameSync(target, backup);
        backups.push({ target, backup });
      }
      if (c.temp !== undefined) {
        fs.renameSync(c.temp, target);
        placed.push({ target, temp: c.temp });
      }
    });
  } catch (e) {
    for (const p of placed.reverse()) tryQuietly(() => fs.renameSync(p.target, p.temp));
    for (const b of backups.reverse()) tryQuietly(() => fs.renameSync(b.backup, b.target));
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
