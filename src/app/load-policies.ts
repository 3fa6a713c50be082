/**
 * Reads policy files from disk (or stdin) and parses them with the pure parser. Files,
 * directories (recursive, `*.yaml`, `*.yml`, `*.json`, sorted) and `-` for stdin. Bad documents
 * come back as values; a path that cannot be read stops the run with an InputError.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { parsePolicies, PolicyInputLimitError, type Policy, type PolicyParseError, type PolicyParseNote } from '../policy/index.js';

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
  const out: LoadedPolicies = { policies: [], errors: [], notes: [], files: [] };
  const parse = (text: string, file: string): void => {
    let r;
    try {
      r = parsePolicies(text, { file, ...(options.defaultNamespace !== undefined && { defaultNamespace: options.defaultNamespace }) });
    } catch (e) {
      if (e instanceof PolicyInputLimitError) throw new InputError(e.file, e.line, undefined, e.reason);
      throw e;
    }
    // Loops, not push(...spread): a spread of a huge array overflows the call stack.
    for (const p of r.policies) out.policies.push(p);
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
    for (const file of await expand(p)) parse(await readText(file), file);
  }
  return out;
}

async function expand(path: string): Promise<string[]> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    throw new InputError(path, undefined, undefined, ioReason(e));
  }
  if (!s.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const names = entries.map((e) => e.name).sort();
  const out: string[] = [];
  for (const name of names) {
    const child = join(path, name);
    const cs = await stat(child).catch(() => undefined);
    if (cs?.isDirectory()) out.push(...(await expand(child)));
    else if (cs?.isFile() && POLICY_FILE.test(name)) out.push(child);
  }
  return out;
}

async function readText(file: string): Promise<string> {
  try {
    if ((await stat(file)).size > MAX_POLICY_FILE_BYTES) throw new InputError(file, undefined, undefined, tooBig());
    return await readFile(file, 'utf8');
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
