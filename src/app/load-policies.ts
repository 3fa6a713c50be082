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
  const policies: Policy[] = [];
  const r = await readPolicyFiles(paths, options, (p) => {
    // Loops, not push(...spread): a spread of a huge array overflows the call stack.
    for (const x of p) policies.push(x);
  });
  return { policies, ...r };
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
  const builder = new PolicySetBuilder();
  let count = 0;
  const r = await readPolicyFiles(paths, options, (p) => {
    for (const x of p) builder.add(x);
    count += p.length;
  });
  return { set: builder.build(), count, ...r };
}

async function readPolicyFiles(
  paths: readonly string[],
  options: LoadPoliciesOptions,
  onPolicies: (policies: readonly Policy[]) => void,
): Promise<Omit<LoadedPolicies, 'policies'>> {
  const out: Omit<LoadedPolicies, 'policies'> = { errors: [], notes: [], files: [] };
  const parse = (text: string, file: string): void => {
    let r;
    try {
      r = parsePolicies(text, { file, ...(options.defaultNamespace !== undefined && { defaultNamespace: options.defaultNamespace }) });
    } catch (e) {
      if (e instanceof PolicyInputLimitError) throw new InputError(e.file, e.line, undefined, e.reason);
      throw e;
    }
    onPolicies(r.policies);
    for (const e of r.errors) out.errors.push(e);
    for (const n of r.notes) out.notes.push(n);
    out.files.push(file);
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
  return out;
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
  const entries = readdirSync(path, { withFileTypes: true });
  const names = entries.map((e) => e.name).sort();
  const out: string[] = [];
  for (const name of names) {
    const child = join(path, name);
    const cs = statOrUndefined(child);
    if (cs?.isDirectory()) out.push(...expand(child));
    else if (cs?.isFile() && POLICY_FILE.test(name)) out.push(child);
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
