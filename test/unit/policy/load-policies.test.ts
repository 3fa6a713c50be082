import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPolicies } from '../../../src/app/load-policies.js';
import { InputError, UsageError } from '../../../src/errors.js';
import { formatParseProblem } from '../../../src/policy/index.js';
import { tempDir, type TempDir } from '../../helpers/paths.js';

const doc = (name: string): string =>
  `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: ${name}}\nspec: {endpointSelector: {}, ingress: [{}]}\n`;

let dir: TempDir | undefined;
afterEach(() => dir?.remove());

describe('loadPolicies', () => {
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

  it('returns per-document errors with the file name and keeps the good documents', async () => {
    dir = tempDir();
    const f = dir.file('mixed.yaml');
    writeFileSync(f, `${doc('ok')}---\n${doc('bad').replace('ingress: [{}]', 'ingress: [{toPorts: [{ports: [{port: "99999"}]}]}]')}`);
    const r = await loadPolicies([f]);
    expect(r.policies.map((p) => p.name)).toEqual(['ok']);
    expect(r.errors.map(formatParseProblem)).toEqual([`${f}:2: spec.ingress[0].toPorts[0].ports[0].port: unable to parse port: "99999" is not a port number (0-65535) or name`]);
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
