import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPoliciesInBackground, loadPolicySetInBackground } from '../../../src/app/load-policies-background.js';
import { loadPolicies, loadPolicySet } from '../../../src/app/load-policies.js';
import { InputError } from '../../../src/errors.js';
import { formatParseProblem } from '../../../src/policy/index.js';
import { HOSTILE_PIECES, hostileText } from '../../helpers/hostile-text.js';
import { runCli } from '../../helpers/cli.js';
import { REPO_ROOT, SHARED, tempDir, type TempDir } from '../../helpers/paths.js';

/**
 * `check` and `drops` read their policy files on a second thread while they read the database.
 * What that thread hands back must be exactly what the in-thread loaders give: the same policies,
 * errors, notes and files in the same order (and the same compiled set), and the same one-line
 * error, naming the file and line, when a file cannot be read.
 */
let dir: TempDir | undefined;
afterEach(() => dir?.remove());

/** Policy files we did not write: hostile names, labels and ports, as YAML and JSON, some broken on purpose. */
function hostileFiles(d: TempDir): void {
  const policy = fc.record({
    name: hostileText,
    namespace: hostileText,
    key: hostileText,
    value: hostileText,
    port: fc.oneof(fc.integer({ min: -1, max: 70000 }), hostileText),
    peer: hostileText,
  });
  fc.sample(policy, { numRuns: 80, seed: 17 }).forEach((p, i) => {
    const doc = {
      apiVersion: 'cilium.io/v2',
      kind: i % 7 === 0 ? 'CiliumClusterwideNetworkPolicy' : 'CiliumNetworkPolicy',
      // Half with names Kubernetes takes, so the hostile labels and peers reach the decoder.
      metadata: i % 2 === 0 ? { name: `p${i}`, namespace: 'ns' } : { name: p.name, namespace: p.namespace },
      spec: {
        endpointSelector: { matchLabels: { [i % 2 === 0 ? 'app' : p.key]: p.value } },
        ingress: [{ fromEndpoints: [{ matchLabels: { app: p.peer } }], toPorts: [{ ports: [{ port: String(i % 2 === 0 ? 1000 + i : p.port), protocol: 'TCP' }] }] }],
        egress: [{ toFQDNs: [{ matchPattern: i % 2 === 0 ? '*.example.com' : p.peer }] }],
      },
    };
    if (i % 5 === 0) writeFileSync(d.file(`p${i}.json`), JSON.stringify(doc));
    else writeFileSync(d.file(`p${i}.yaml`), `# ${p.peer.replace(/[\n\r\u0085\u2028\u2029]/g, ' ')}\n${stringify(doc)}---\n${stringify({ ...doc, metadata: { name: `${p.name}2` } })}`);
  });
  // Hostile raw text: YAML 1.1 words, anchors, tags, block scalars, broken indentation.
  HOSTILE_PIECES.forEach((piece, i) => writeFileSync(d.file(`raw${i}.yaml`), `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: ${piece}\nspec:\n  endpointSelector: {}\n  ingress: [{}]\n`));
  writeFileSync(d.file('anchors.yaml'), 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: x}\nspec:\n  endpointSelector: &s {matchLabels: {app: on}}\n  ingress: [{fromEndpoints: [*s]}]\n');
  writeFileSync(d.file('block.yaml'), 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: b\n  namespace: !!str 0o17\n  annotations:\n    note: |\n      two\n      lines\nspec: {endpointSelector: {}, egress: [{toPorts: [{ports: [{port: yes}]}]}]}\n');
}

describe('policies read on a second thread', () => {
  it('give exactly what the in-thread loaders give: GitOps fixture, oracles, hostile and broken files', async () => {
    dir = tempDir();
    hostileFiles(dir);
    const paths = [join(REPO_ROOT, 'test/fixtures/gitops-repo'), join(SHARED, 'oracle'), dir.path];
    const plain = await loadPolicies(paths);
    const plainSet = await loadPolicySet(paths);
    const background = await loadPoliciesInBackground(paths);
    const backgroundSet = await loadPolicySetInBackground(paths);
    // Enough of each kind that a lost or reordered batch shows.
    expect(plain.files.length).toBeGreaterThan(200);
    expect(plain.policies.length).toBeGreaterThan(100);
    expect(plain.errors.length).toBeGreaterThan(20);
    expect(plain.notes.length).toBeGreaterThan(10);
    expect(background).toStrictEqual(plain);
    expect(backgroundSet.set).toStrictEqual(plainSet.set);
    expect({ ...backgroundSet, set: undefined }).toStrictEqual({ ...plainSet, set: undefined });
    // Errors still name file, line and field.
    expect(background.errors.map(formatParseProblem)).toEqual(plain.errors.map(formatParseProblem));
    expect(background.errors.some((e) => e.line !== undefined && e.field !== '')).toBe(true);
  }, 60_000);

  it('the default namespace reaches the reader thread', async () => {
    dir = tempDir();
    writeFileSync(dir.file('a.yaml'), 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a}\nspec: {endpointSelector: {}, ingress: [{}]}\n');
    const r = await loadPoliciesInBackground([dir.path], { defaultNamespace: 'team' });
    expect(r.policies.map((p) => p.kind === 'CiliumClusterwideNetworkPolicy' ? '' : p.namespace)).toEqual(['team']);
  }, 30_000);

  it('a file that cannot be read is the same one-line InputError, naming file and line', async () => {
    dir = tempDir();
    const missing = dir.file('missing.yaml');
    const expected = new InputError(missing, undefined, undefined, 'no such file or directory');
    await expect(loadPolicySetInBackground([missing])).rejects.toThrow(expected);
    await expect(loadPoliciesInBackground([missing])).rejects.toBeInstanceOf(InputError);
    const bomb = dir.file('bomb.yaml');
    const levels = 'abcdefghij'.split('');
    writeFileSync(bomb, `x: 1\n---\n${[`a: &a [${Array(10).fill('x').join(',')}]`, ...levels.slice(1).map((l, i) => `${l}: &${l} [${Array(10).fill(`*${levels[i]}`).join(',')}]`)].join('\n')}\n`);
    const inThread = await loadPolicies([bomb]).catch((e: unknown) => e);
    const background = await loadPoliciesInBackground([bomb]).catch((e: unknown) => e);
    expect(background).toBeInstanceOf(InputError);
    expect(background).toStrictEqual(inThread);
    expect((background as InputError).message).toMatch(/bomb\.yaml:2: document 2: more than 100 alias expansions/);
  }, 30_000);

  it('stdin (-) is read on the calling thread, in order with the files', async () => {
    dir = tempDir();
    writeFileSync(dir.file('a.yaml'), 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: x}\nspec: {endpointSelector: {}, ingress: [{}]}\n');
    const piped = 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: piped, namespace: x}\nspec: {endpointSelector: {}, ingress: [{}]}\n';
    const r = await loadPolicySetInBackground([dir.path, '-'], { readStdin: async () => piped });
    expect(r.files).toEqual([dir.file('a.yaml'), '-']);
    expect(r.count).toBe(2);
  });
});

describe('check and drops read the database while the policies load', () => {
  it('when both the policies and the database are bad, the policy file is what they name, as when the policies were read first', async () => {
    dir = tempDir();
    const db = dir.file('not-a.db');
    writeFileSync(db, 'this is not a database\n'.repeat(100));
    const missing = dir.file('missing.yaml');
    for (const cmd of ['check', 'drops']) {
      const r = await runCli(['--db', db, cmd, '--policies', missing]);
      expect(r.code, cmd).toBe(1);
      expect(r.stderr, cmd).toBe(`Error: ${missing}: no such file or directory\n`);
    }
    // Good policies and a bad database: their notes first, then the database's error.
    writeFileSync(dir.file('p.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
    for (const cmd of ['check', 'drops']) {
      const r = await runCli(['--db', db, cmd, '--policies', dir.file('p.yaml')]);
      expect(r.code, cmd).not.toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0], cmd).toBe(`Note: ${dir.file('p.yaml')}:2:1: kind: skipped: kind ConfigMap is not a network policy`);
      expect(lines.at(-1), cmd).toBe(`Error: ${db}: not a hubble-advisor database (not an SQLite file)`);
    }
  }, 60_000);
});
