/**
 * Reads policy files from disk (or stdin) and parses them with the pure parser. Files,
 * directories (recursive, `*.yaml`, `*.yml`, `*.json`, sorted) and `-` for stdin. Bad documents
 * come back as values; a path that cannot be read stops the run with an InputError.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { parsePolicies, type Policy, type PolicyParseError, type PolicyParseNote } from '../policy/index.js';

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
    const r = parsePolicies(text, { file, ...(options.defaultNamespace !== undefined && { defaultNamespace: options.defaultNamespace }) });
    out.policies.push(...r.policies);
    out.errors.push(...r.errors);
    out.notes.push(...r.notes);
    out.files.push(file);
  };
  for (const p of paths) {
    if (p === '-') {
      if (!options.readStdin) throw new UsageError('reading policies from stdin (-) is not available here');
      parse(await options.readStdin(), '-');
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
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(file, undefined, undefined, ioReason(e));
  }
}

function ioReason(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}
