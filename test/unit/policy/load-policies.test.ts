import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPolicies, loadPolicySet } from '../../../src/app/load-policies.js';
import { InputError, UsageError } from '../../../src/errors.js';
import { buildPolicySet, formatParseProblem } from '../../../src/policy/index.js';
import { REPO_ROOT, SHARED, tempDir, type TempDir } from '../../helpers/paths.js';

const doc = (name: string): string =>
  `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: ${name}}\nspec: {endpointSelector: {}, ingress: [{}]}\n`;

let dir: TempDir | undefined;
afterEach(() => dir?.remove());

describe('loadPolicies', () => {
  it('loadPolicySet compiles, file by file, exactly the set buildPolicySet makes of what loadPolicies reads', async () => {
    // Hand-written GitOps files (with kustomizations), the oracle policies (bad documents included),
    // and rules the evaluator cannot model (set notes).
    dir = tempDir();
    writeFileSync(
      dir.file('unmodelled.yaml'),
      'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: u, namespace: x}\nspec: {endpointSelector: {}, egress: [{toServices: [{k8sService: {serviceName: s, namespace: x}}]}, {toCIDRSet: [{cidrGroupRef: g}]}]}\n',
    );
    const paths = [join(REPO_ROOT, 'test/fixtures/gitops-repo'), join(SHARED, 'oracle'), dir.path];
    const loaded = await loadPolicies(paths);
    const streamed = await loadPolicySet(paths);
    expect(loaded.policies.length).toBeGreaterThan(30);
    expect(streamed.set.notes.length).toBeGreaterThan(1);
    expect(streamed.count).toBe(loaded.policies.length);
    expect(streamed.set).toEqual(buildPolicySet(loaded.policies));
    expect(streamed.errors).toEqual(loaded.errors);
    expect(streamed.notes).toEqual(loaded.notes);
    expect(streamed.files).toEqual(loaded.files);
  });

  it('reads files and directories recursively (*.yaml, *.yml, *.json, sorted), skipping other files', async () => {
    dir = tempDir();
    mkdirSync(join(dir.path, 'sub'));
    writeFileSync(dir.file('b.yaml'), doc('b'));
    writeFileSync(dir.file('a.yml'), doc('a'));
    writeFileSync(dir.file('README.md'), '# not a policy');
    writeFileSync(join(dir.path, 'sub', 'c.json'), JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'c' }, spec: { podSelector: {} } }));
    const r = await loadPolicies([dir.path], { defaultNamespace: 'team' });
    expect(r.policies.map((p) => p.name)).toEqual(['a', 'b', 'c']);
    expect(r.files.map((f) => f.slice((dir as TempDir).path.length + 1))).toEqual(['a.yml', 'b.yaml', 'sub/c.json']);
    expect(r.policies.every((p) => p.kind === 'CiliumClusterwideNetworkPolicy' || p.namespace === 'team')).toBe(true);
  });

  it('follows links to policy files and directories, in name order with the other files; a dangling link is skipped', async () => {
    dir = tempDir();
    const outside = tempDir();
    try {
      mkdirSync(join(outside.path, 'team'));
      writeFileSync(join(outside.path, 'team', 'd.yaml'), doc('d'));
      writeFileSync(outside.file('c.yaml'), doc('c'));
      writeFileSync(dir.file('a.yaml'), doc('a'));
      symlinkSync(outside.file('c.yaml'), dir.file('b-link.yaml'));
      symlinkSync(join(outside.path, 'team'), dir.file('c-team'));
      symlinkSync(join(outside.path, 'gone.yaml'), dir.file('dangling.yaml'));
      writeFileSync(dir.file('e.yaml'), doc('e'));
      const r = await loadPolicies([dir.path]);
      expect(r.policies.map((p) => p.name)).toEqual(['a', 'c', 'd', 'e']);
      expect(r.files.map((f) => f.slice((dir as TempDir).path.length + 1))).toEqual(['a.yaml', 'b-link.yaml', 'c-team/d.yaml', 'e.yaml']);
    } finally {
      outside.remove();
    }
  });

  it('returns per-document errors with the file name and keeps the good documents', async () => {
    dir = tempDir();
    const f = dir.file('mixed.yaml');
    writeFileSync(f, `${doc('ok')}---\n${doc('bad').replace('ingress: [{}]', 'ingress: [{toPorts: [{ports: [{port: "99999"}]}]}]')}`);
    const r = await loadPolicies([f]);
    expect(r.policies.map((p) => p.name)).toEqual(['ok']);
    expect(r.errors.map(formatParseProblem)).toEqual([`${f}:9:61: spec.ingress[0].toPorts[0].ports[0].port: unable to parse port: "99999" is not a port number (0-65535) or name`]);
  });

  it('reads stdin for "-" through the injected reader', async () => {
    const r = await loadPolicies(['-'], { readStdin: async () => doc('piped') });
    expect(r.policies.map((p) => `${p.origin.file}:${p.name}`)).toEqual(['-:piped']);
    await expect(loadPolicies(['-'])).rejects.toBeInstanceOf(UsageError);
  });

  it('a path that does not exist stops the run with an InputError', async () => {
    await expect(loadPolicies(['/nonexistent/policies.yaml'])).rejects.toThrow(new InputError('/nonexistent/policies.yaml', undefined, undefined, 'no such file or directory'));
  });
});

describe('loadPolicies: malformed and oversized input is one located error (InputError, exit 1), never a crash', () => {
  const load = async (text: string): Promise<InputError> => {
    dir = tempDir();
    const f = dir.file('p.yaml');
    writeFileSync(f, text);
    const e = await loadPolicies([f]).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message.split('\n')).toHaveLength(1);
    return e as InputError;
  };

  it('an alias bomb', async () => {
    const levels = 'abcdefghij'.split('');
    const bomb = [`a: &a [${Array(10).fill('x').join(',')}]`, ...levels.slice(1).map((l, i) => `${l}: &${l} [${Array(10).fill(`*${levels[i]}`).join(',')}]`)].join('\n');
    const e = await load(`${bomb}\n`);
    expect(e.message).toMatch(/p\.yaml:1: document 1: more than 100 alias expansions \(an alias bomb\?\); refusing the file$/);
  });

  it('endless --- lines stop at the limit, quickly', async () => {
    const t0 = Date.now();
    const e = await load('---\n'.repeat(2_000_000));
    expect(e.message).toMatch(/p\.yaml:10001: more than 10000 empty YAML documents \(endless ---\?\); refusing the file$/);
    expect(Date.now() - t0).toBeLessThan(20_000); // 2M lines all read took 22 s and 2 GB before; this stops at 10k
  });

  it('one YAML document over the per-document limit names the limit', async () => {
    const item = '- {apiVersion: cilium.io/v2, kind: CiliumNetworkPolicy, metadata: {name: x}, spec: {endpointSelector: {}, ingress: [{}]}}\n';
    const e = await load(`kind: List\nitems:\n${item.repeat(Math.ceil((17 * 1024 * 1024) / item.length))}`);
    expect(e.message).toMatch(/p\.yaml:1: a YAML document of 17\.\d MiB is over the 16 MiB limit per document; split it/);
  });

  it('a big JSON List (kubectl get -o json) loads without the spread push that overflowed the stack', async () => {
    dir = tempDir();
    const f = dir.file('all.json');
    const items = Array.from({ length: 150_000 }, (_, i) => ({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: `p${i}`, namespace: 'x' }, spec: { endpointSelector: {}, ingress: [{}] } }));
    writeFileSync(f, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const r = await loadPolicies([f]);
    expect(r.policies).toHaveLength(150_000);
  }, 60_000);

  it('a template is skipped with a warning, the other files still load', async () => {
    dir = tempDir();
    writeFileSync(dir.file('a.yaml'), doc('a'));
    writeFileSync(dir.file('chart.yaml'), 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: {{ include "app.fullname" . }}\n');
    const r = await loadPolicies([dir.path]);
    expect(r.policies.map((p) => p.name)).toEqual(['a']);
    expect(r.errors).toEqual([]);
    expect(r.notes.map(formatParseProblem)).toEqual([`${dir.file('chart.yaml')}:4:9: skipped: a template ({{ include "app.fullname" . }}), not a manifest; render it first (helm template, kustomize build)`]);
  });
});
