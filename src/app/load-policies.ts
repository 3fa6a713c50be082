/**
 * Reads policy files from disk (or stdin) and parses them with the pure parser. Files,
 * directories (recursive, `*.yaml`, `*.yml`, `*.json`, sorted) and `-` for stdin. Bad documents
 * come back as values; a path that cannot be read stops the run with an InputError.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { parsePolicies, PolicyInputLimitError, PolicySetBuilder, type Policy, type PolicyParseError, type PolicyParseNote, type PolicySet } from '../policy/index.js';

export interface LoadPoliciesOptions {
  /** Namespace for namespaced policies without `metadata.namespace`. Default `default`. */
  readonly defaultNamespace?: string;
  /** Reads all of stdin; the CLI passes this in (app/ never touches process.*). Needed for `-`. */
  readonly readStdin?: () => Promise<string>;
}

export interface LoadedPolicies {
  readonly policies: Policy[];
  readonly errors: PolicyParseError[];
  readonly notes: PolicyParseNote[];
  /** Every file read, in order (`-` for stdin). */
  readonly files: string[];
}

const POLICY_FILE = /\.(ya?ml|json)$/i;

export async function loadPolicies(paths: readonly string[], options: LoadPoliciesOptions = {}): Promise<LoadedPolicies> {
  const into = emptyLoad();
  await readPolicyFiles(paths, options, (batch) => addBatch(into, batch));
  return into;
}

export interface LoadedPolicySet extends Omit<LoadedPolicies, 'policies'> {
  /** The loaded policies compiled, in the order `loadPolicies` gives them. */
  readonly set: PolicySet;
  /** How many policies were loaded. */
  readonly count: number;
}

/**
 * `loadPolicies` compiled file by file: only one file's parsed documents are held at a time, so
 * a tree of thousands of policies costs its compiled rules, not every parsed document.
 */
export async function loadPolicySet(paths: readonly string[], options: LoadPoliciesOptions = {}): Promise<LoadedPolicySet> {
  const into = emptySetLoad();
  await readPolicyFiles(paths, options, (batch) => addSetBatch(into, batch));
  return finishSetLoad(into);
}

/** What one or more policy files gave, in file order: what the background reader posts. */
export interface PolicyFileBatch {
  readonly files: string[];
  readonly policies: Policy[];
  readonly errors: PolicyParseError[];
  readonly notes: PolicyParseNote[];
}

export const emptyLoad = (): LoadedPolicies => ({ policies: [], errors: [], notes: [], files: [] });

export function addBatch(into: LoadedPolicies, batch: PolicyFileBatch): void {
  // Loops, not push(...spread): a spread of a huge array overflows the call stack.
  for (const x of batch.policies) into.policies.push(x);
  addProblems(into, batch);
}

interface SetLoad extends Omit<LoadedPolicies, 'policies'> {
  readonly builder: PolicySetBuilder;
  count: number;
}

export const emptySetLoad = (): SetLoad => ({ builder: new PolicySetBuilder(), count: 0, errors: [], notes: [], files: [] });

export function addSetBatch(into: SetLoad, batch: PolicyFileBatch): void {
  for (const x of batch.policies) into.builder.add(x);
  into.count += batch.policies.length;
  addProblems(into, batch);
}

export const finishSetLoad = ({ builder, count, errors, notes, files }: SetLoad): LoadedPolicySet => ({ set: builder.build(), count, errors, notes, files });

function addProblems(into: Omit<LoadedPolicies, 'policies'>, batch: PolicyFileBatch): void {
  for (const e of batch.errors) into.errors.push(e);
  for (const n of batch.notes) into.notes.push(n);
  for (const f of batch.files) into.files.push(f);
}

/** Reads and parses every policy file of `paths` in order, handing each file's result on as it is read. */
export async function readPolicyFiles(paths: readonly string[], options: LoadPoliciesOptions, onFile: (batch: PolicyFileBatch) => void): Promise<void> {
  const parse = (text: string, file: string): void => {
    let r;
    try {
      r = parsePolicies(text, { file, ...(options.defaultNamespace !== undefined && { defaultNamespace: options.defaultNamespace }) });
    } catch (e) {
      if (e instanceof PolicyInputLimitError) throw new InputError(e.file, e.line, undefined, e.reason);
      throw e;
    }
    onFile({ files: [file], policies: r.policies, errors: r.errors, notes: r.notes });
  };
  for (const p of paths) {
    if (p === '-') {
      if (!options.readStdin) throw new UsageError('reading policies from stdin (-) is not available here');
      const text = await options.readStdin();
      if (Buffer.byteLength(text) > MAX_POLICY_FILE_BYTES) throw new InputError('-', undefined, undefined, tooBig());
      parse(text, '-');
      continue;
    }
    for (const file of expand(p)) parse(readText(file), file);
  }
}

/*
 * Synchronous reads: a GitOps tree holds thousands of small files, and awaiting each one in turn
 * left the process idle for as long as parsing them took (a second for 2,800 files).
 */
function expand(path: string): string[] {
  let s;
  try {
    s = statSync(path);
  } catch (e) {
    throw new InputError(path, undefined, undefined, ioReason(e));
  }
  if (!s.isDirectory()) return [path];
  const entries = readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const entry of entries) {
    const child = join(path, entry.name);
    // The directory listing tells files and directories apart: only links (and entries whose
    // type the file system does not say) need a stat of their own, not each of thousands of files.
    const cs = entry.isFile() || entry.isDirectory() ? entry : statOrUndefined(child);
    if (cs?.isDirectory()) out.push(...expand(child));
    else if (cs?.isFile() && POLICY_FILE.test(entry.name)) out.push(child);
  }
  return out;
}

function statOrUndefined(path: string): ReturnType<typeof statSync> {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function readText(file: string): string {
  try {
    if (statSync(file).size > MAX_POLICY_FILE_BYTES) throw new InputError(file, undefined, undefined, tooBig());
    return readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(file, undefined, undefined, ioReason(e));
  }
}

/**
 * Policy files are read whole and one YAML document's tree is held at a time; a 50 MB
 * `kubectl get -o yaml` List fits well within this. Larger inputs are refused, not half-read.
 */
export const MAX_POLICY_FILE_BYTES = 64 * 1024 * 1024;

const tooBig = (): string => `larger than the ${MAX_POLICY_FILE_BYTES / 1024 / 1024} MiB limit for a policy file; split it (one file per policy, or per namespace)`;

function ioReason(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}
