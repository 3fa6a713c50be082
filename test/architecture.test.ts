import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/paths.js';

/** The dependency rules of architecture-and-style.md §3.3, read from the import lines under src/. */
const SRC = join(REPO_ROOT, 'src');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Import {
  readonly file: string;
  readonly spec: string;
  readonly target?: string;
}

const files = walk(SRC);
const imports: Import[] = files.flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => {
    const spec = (m[1] ?? m[2]) as string;
    return spec.startsWith('.') ? { file, spec, target: resolve(dirname(file), spec) } : { file, spec };
  });
});

const moduleOf = (path: string): string => relative(SRC, path).split('/')[0] ?? '';
const PURE = ['flow', 'net', 'graph', 'policy', 'recommend', 'schema', 'triage', 'report'];

describe('architecture', () => {
  it('flow/ imports nothing from the project and no Node I/O', () => {
    const bad = imports.filter((i) => moduleOf(i.file) === 'flow' && ((i.target && moduleOf(i.target) !== 'flow') || i.spec.startsWith('node:')));
    expect(bad).toEqual([]);
  });

  it('the pure core never touches the file system, network, gRPC, SQLite or commander', () => {
    const forbidden = /^(node:(fs|net|http|https|child_process|worker_threads)|@grpc\/|better-sqlite3|commander)/;
    const bad = imports.filter((i) => PURE.includes(moduleOf(i.file)) && forbidden.test(i.spec));
    expect(bad).toEqual([]);
  });

  it('graph/ depends only on flow/; policy/ on flow/ and graph/; recommend/ on schema/ (its formats) and the graph model (types only); schema/ stands alone; report/ on model types; net/ (address arithmetic) is a leaf anyone may use', () => {
    const allowed: Record<string, string[]> = {
      net: ['net'],
      graph: ['graph', 'flow', 'net'],
      policy: ['policy', 'flow', 'graph', 'net'],
      recommend: ['recommend', 'net', 'schema', 'graph'],
      schema: ['schema', 'net'],
      triage: ['triage', 'flow', 'graph', 'policy', 'net'],
      report: ['report', 'flow', 'graph', 'net', 'policy', 'recommend', 'triage', 'schema', 'store', 'app'],
    };
    const bad = imports.filter((i) => {
      const from = moduleOf(i.file);
      if (!i.target || !(from in allowed)) return false;
      return !(allowed[from] as string[]).includes(moduleOf(i.target));
    });
    expect(bad).toEqual([]);
  });

  it('recommend/ imports only types from graph/ (the one model of the edge graph), nothing it would run', () => {
    const bad = files
      .filter((f) => moduleOf(f) === 'recommend')
      .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/^(?:import|export) (?!type )[^;]*from '\.\.\/graph\//gm)].map(() => relative(SRC, f)));
    expect(bad).toEqual([]);
  });

  it('report/ imports only types from store/ and app/', () => {
    const bad = files
      .filter((f) => moduleOf(f) === 'report')
      .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/^import (?!type )[^;]*from '\.\.\/(store|app)\//gm)].map(() => f));
    expect(bad).toEqual([]);
  });

  it('@grpc only in ingest/, better-sqlite3 only in store/, commander and process.* only in cli/', () => {
    const bad = imports.filter(
      (i) =>
        (i.spec.startsWith('@grpc/') && moduleOf(i.file) !== 'ingest') ||
        (i.spec === 'better-sqlite3' && moduleOf(i.file) !== 'store') ||
        (i.spec === 'commander' && moduleOf(i.file) !== 'cli'),
    );
    expect(bad).toEqual([]);
    const processUse = files.filter((f) => moduleOf(f) !== 'cli' && /\bprocess\.(argv|env|exit|exitCode|stdout|stderr|stdin|on)\b|\.isTTY\b/.test(readFileSync(f, 'utf8')));
    expect(processUse.map((f) => relative(SRC, f))).toEqual([]);
  });

  it('SQL statements are prepared only in store/', () => {
    const sqlUse = files.filter((f) => moduleOf(f) !== 'store' && /\.(prepare|pragma)\(|\bdb\.exec\(/.test(readFileSync(f, 'utf8')));
    expect(sqlUse.map((f) => relative(SRC, f))).toEqual([]);
  });

  it('nothing but cli/ imports app/', () => {
    const bad = imports.filter((i) => i.target && moduleOf(i.target) === 'app' && !['cli', 'app'].includes(moduleOf(i.file)));
    expect(bad.map((i) => relative(SRC, i.file))).toEqual([]);
  });

  it('README "How it is built" names every folder of src/ and nothing that is gone', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## How it is built'), readme.indexOf('\n## ', readme.indexOf('## How it is built') + 1));
    const named = [...section.matchAll(/^  ([a-z-]+)\/\s/gm)].map((m) => m[1]).sort();
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory()).sort();
    expect(named).toEqual(folders);
  });
});
