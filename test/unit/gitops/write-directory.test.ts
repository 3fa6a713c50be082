import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { policyFiles, writePolicyDirectory } from '../../../src/app/write-policies.js';
import { isOwnedText, MARKER, nodeWriterFs, type PolicyFile, policyFileName, writePolicyFiles, type WriterFs } from '../../../src/gitops/index.js';
import type { TempDir } from '../../helpers/paths.js';
import { cnp, copyRepo, recommendation, snapshot } from './gitops-helpers.js';

let repo: TempDir | undefined;
afterEach(() => repo?.remove());

const policiesDir = (r: TempDir): string => join(r.path, 'apps/dbms/policies');
const withoutKey = (s: Record<string, string>, ...keys: string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(s).filter(([k]) => !keys.includes(k)));

const twoPolicies = recommendation([cnp('dbms', 'postgres', 'postgres', '5432'), cnp('dbms', 'pgbouncer', 'pgbouncer', '6432')]);

describe('recommend --out inside a GitOps repository', () => {
  it('leaves every file it did not write byte-identical, whatever its name, and edits kustomization.yaml in place', () => {
    repo = copyRepo();
    const before = snapshot(repo.path);
    const kBefore = readFileSync(join(policiesDir(repo), 'kustomization.yaml'), 'utf8');
    const w = writePolicyDirectory(policiesDir(repo), twoPolicies);
    expect(w.written).toEqual(['cnp-dbms.pgbouncer.yaml', 'cnp-dbms.postgres.yaml']);
    const after = snapshot(repo.path);
    const k = 'apps/dbms/policies/kustomization.yaml';
    // Everything that was there is still there with the same bytes (the hand-written cnp-dbms-postgres.yaml too) ...
    expect(withoutKey(after, k, 'apps/dbms/policies/cnp-dbms.pgbouncer.yaml', 'apps/dbms/policies/cnp-dbms.postgres.yaml')).toEqual(withoutKey(before, k));
    // ... and the kustomization only gained our two entries, after the user's, comments and blank line kept.
    expect(readFileSync(join(repo.path, k), 'utf8')).toBe(`${kBefore}  - cnp-dbms.pgbouncer.yaml\n  - cnp-dbms.postgres.yaml\n`);
    for (const f of w.written) {
      const text = readFileSync(join(policiesDir(repo), f), 'utf8');
      expect(text.startsWith(`${MARKER}\n`)).toBe(true);
      const doc = parseAllDocuments(text)[0]?.toJS() as { metadata: { labels: Record<string, string> } };
      expect(doc.metadata.labels['app.kubernetes.io/managed-by']).toBe('hubble-advisor');
    }
  });

  it('a second identical run changes no byte (and touches no file)', () => {
    repo = copyRepo();
    writePolicyDirectory(policiesDir(repo), twoPolicies);
    const once = snapshot(repo.path, true);
    const w = writePolicyDirectory(policiesDir(repo), twoPolicies);
    expect(snapshot(repo.path, true)).toEqual(once);
    expect(w.written).toEqual([]);
    expect(w.unchanged).toEqual(['cnp-dbms.pgbouncer.yaml', 'cnp-dbms.postgres.yaml']);
    expect(w.kustomization.change).toBe('unchanged');
    // A re-run takes a file holding exactly what it writes as its own without parsing it: that is
    // exact only because everything it writes passes the full ownership test.
    for (const f of w.unchanged) expect(isOwnedText(readFileSync(join(policiesDir(repo), f), 'utf8'))).toBe(true);
  });

  it('removes only its own files that are no longer recommended, and only their kustomization entries', () => {
    repo = copyRepo();
    const kBefore = readFileSync(join(policiesDir(repo), 'kustomization.yaml'), 'utf8');
    const before = snapshot(repo.path);
    writePolicyDirectory(policiesDir(repo), twoPolicies);
    const w = writePolicyDirectory(policiesDir(repo), recommendation([]));
    expect(w.removed).toEqual(['cnp-dbms.pgbouncer.yaml', 'cnp-dbms.postgres.yaml']);
    expect(snapshot(repo.path)).toEqual(before);
    expect(readFileSync(join(policiesDir(repo), 'kustomization.yaml'), 'utf8')).toBe(kBefore);
  });

  it('a file with our marker line but without our label (or vice versa) is the user\'s', () => {
    repo = copyRepo();
    const dir = policiesDir(repo);
    writeFileSync(join(dir, 'cnp-dbms.postgres.yaml'), `${MARKER}\n# I copied this and made it mine\n${readFileSync(join(dir, 'dragonfly.yaml'), 'utf8').replace('name: dragonfly', 'name: mine')}`);
    const before = snapshot(repo.path);
    const w = writePolicyDirectory(dir, recommendation([cnp('dbms', 'postgres', 'postgres')]));
    expect(w.written).toEqual([expect.stringMatching(/^cnp-dbms\.postgres~[0-9a-f]{8}\.yaml$/)]);
    const after = snapshot(repo.path);
    expect(after['apps/dbms/policies/cnp-dbms.postgres.yaml']).toBe(before['apps/dbms/policies/cnp-dbms.postgres.yaml']);
  });

  it('a policy moved aside by a user\'s file of its name gets the mode of a new file, not the user file\'s', () => {
    repo = copyRepo();
    const dir = policiesDir(repo);
    writeFileSync(join(dir, 'cnp-dbms.postgres.yaml'), '# my notes, not a policy\n', { mode: 0o600 });
    const w = writePolicyDirectory(dir, recommendation([cnp('dbms', 'postgres', 'postgres')]));
    expect(w.written).toEqual([expect.stringMatching(/^cnp-dbms\.postgres~[0-9a-f]{8}\.yaml$/)]);
    expect(lstatSync(join(dir, w.written[0] as string)).mode & 0o777).toBe(0o644);
    expect(lstatSync(join(dir, 'cnp-dbms.postgres.yaml')).mode & 0o777).toBe(0o600);
  });

  it('stages each policy as it comes, so their texts are never all in memory at once', () => {
    repo = copyRepo();
    const dir = policiesDir(repo);
    const files = policyFiles(recommendation([cnp('dbms', 'postgres', 'postgres'), cnp('dbms', 'pgbouncer', 'pgbouncer'), cnp('dbms', 'redis', 'redis')]));
    const stagedBefore: number[] = [];
    function* oneAtATime(): Generator<PolicyFile> {
      for (const f of files) {
        stagedBefore.push(readdirSync(dir).filter((n) => n.startsWith('.hubble-advisor')).length);
        yield f;
      }
    }
    const w = writePolicyFiles(dir, oneAtATime());
    expect(stagedBefore).toEqual([0, 1, 2]);
    expect(w.written).toHaveLength(3);
    expect(readdirSync(dir).filter((n) => n.startsWith('.hubble-advisor'))).toEqual([]);
  });

  it('does not write a policy that a user file in the directory already defines', () => {
    repo = copyRepo();
    const w = writePolicyDirectory(policiesDir(repo), recommendation([cnp('dbms', 'dragonfly', 'dragonfly')]));
    expect(w.written).toEqual([]);
    expect(w.leftToUser).toEqual(['CiliumNetworkPolicy dbms/dragonfly: dragonfly.yaml']);
  });

  it('creates kustomization.yaml only when there is none, and edits a flow-style resources list', () => {
    repo = copyRepo();
    const fresh = join(repo.path, 'apps/new/policies');
    writePolicyDirectory(fresh, twoPolicies);
    expect(readFileSync(join(fresh, 'kustomization.yaml'), 'utf8')).toContain('resources:\n  - cnp-dbms.pgbouncer.yaml\n  - cnp-dbms.postgres.yaml\n');
    const flow = join(repo.path, 'apps/flow');
    mkdirSync(flow);
    writeFileSync(join(flow, 'kustomization.yaml'), '# mine\nresources: [a.yaml] # keep\nnamespace: dbms\n');
    writePolicyDirectory(flow, twoPolicies);
    expect(readFileSync(join(flow, 'kustomization.yaml'), 'utf8')).toBe('# mine\nresources: [ a.yaml, cnp-dbms.pgbouncer.yaml, cnp-dbms.postgres.yaml ] # keep\nnamespace: dbms\n');
  });
});

describe('file names', () => {
  it('are distinct for team-a/api and team/a-api, and the kustomization lists each once', () => {
    repo = copyRepo();
    const dir = join(repo.path, 'apps/teams');
    const w = writePolicyDirectory(dir, recommendation([cnp('team-a', 'api', 'api'), cnp('team', 'a-api', 'api')]));
    expect(w.files).toEqual(['cnp-team-a.api.yaml', 'cnp-team.a-api.yaml']);
    expect(readdirSync(dir).sort()).toEqual(['cnp-team-a.api.yaml', 'cnp-team.a-api.yaml', 'kustomization.yaml']);
  });

  it('are distinct for every pair of distinct policies, at most 255 bytes, without path separators', () => {
    // Short DNS-like names collide easily (`a-b/c` vs `a/b-c`); hostile ones exercise the hashed form.
    const dnsLike = fc.stringMatching(/^[ab]([ab-]{0,3}[ab])?$/);
    const hostile = fc.string({ unit: fc.constantFrom('a', '-', '.', 'b', '/', '\u2028', '\n', '..', 'é', '1'), maxLength: 300 });
    const part = fc.oneof(dnsLike, hostile);
    const kind = fc.constantFrom('CiliumNetworkPolicy', 'NetworkPolicy', 'CiliumClusterwideNetworkPolicy');
    const id = fc.record({ kind, namespace: part, name: part });
    fc.assert(
      fc.property(id, id, (a, b) => {
        const [na, nb] = [policyFileName(a), policyFileName(b)];
        for (const n of [na, nb]) {
          expect(Buffer.byteLength(n)).toBeLessThanOrEqual(255);
          expect(n).not.toMatch(/[/\n\r\u2028\u0000]|^\.\.?$/);
        }
        if (a.kind !== b.kind || a.namespace !== b.namespace || a.name !== b.name) expect(na).not.toBe(nb);
      }),
      { numRuns: 3000 },
    );
    // The boundary between namespace and name moved: the pairs a joining scheme confuses.
    fc.assert(
      fc.property(kind, dnsLike, dnsLike, dnsLike, fc.constantFrom('-', '.'), (k, x, y, z, sep) => {
        const a = { kind: k, namespace: `${x}-${y}`, name: z };
        const b = { kind: k, namespace: x, name: `${y}${sep}${z}` };
        expect(policyFileName(a)).not.toBe(policyFileName(b));
      }),
    );
  });
});

describe('symlinks', () => {
  it('a symlinked kustomization.yaml is an error and nothing is written, through it or beside it', () => {
    repo = copyRepo();
    const dir = join(repo.path, 'apps/linked');
    mkdirSync(dir);
    symlinkSync('../dbms/policies/kustomization.yaml', join(dir, 'kustomization.yaml'));
    const before = snapshot(repo.path);
    expect(() => writePolicyDirectory(dir, twoPolicies)).toThrow(/kustomization\.yaml: is a symbolic link/);
    expect(snapshot(repo.path)).toEqual(before);
  });

  it('a symlink named like our file is neither followed nor removed', () => {
    repo = copyRepo();
    const dir = policiesDir(repo);
    symlinkSync('../../media/policies/netpol-media-immich.yaml', join(dir, 'cnp-dbms.postgres.yaml'));
    const before = snapshot(repo.path);
    const w = writePolicyDirectory(dir, recommendation([cnp('dbms', 'postgres', 'postgres')]));
    expect(w.written).toEqual([expect.stringMatching(/^cnp-dbms\.postgres~[0-9a-f]{8}\.yaml$/)]);
    expect(lstatSync(join(dir, 'cnp-dbms.postgres.yaml')).isSymbolicLink()).toBe(true);
    const after = snapshot(repo.path);
    expect(after['apps/media/policies/netpol-media-immich.yaml']).toBe(before['apps/media/policies/netpol-media-immich.yaml']);
    writePolicyDirectory(dir, recommendation([]));
    expect(lstatSync(join(dir, 'cnp-dbms.postgres.yaml')).isSymbolicLink()).toBe(true);
  });
});

/** A file system that fails the n-th call of one operation, as a full disk or a refused name would. */
function failingFs(op: 'writeFileSync' | 'renameSync' | 'unlinkSync', n: number, code: string): { fs: WriterFs; calls: () => number } {
  let calls = 0;
  const fs: WriterFs = {
    ...nodeWriterFs,
    [op]: (...args: unknown[]) => {
      calls++;
      if (calls === n) throw Object.assign(new Error(`${code}: injected failure, ${op}`), { code, syscall: op, path: String(args[0]) });
      return (nodeWriterFs[op] as (...a: unknown[]) => unknown)(...args);
    },
  };
  return { fs, calls: () => calls };
}

describe('all or nothing', () => {
  const next = recommendation([cnp('dbms', 'postgres', 'postgres', '5433'), cnp('dbms', 'redis', 'redis', '6379'), cnp('team-a', 'api', 'api')]);

  for (const [op, code] of [
    ['writeFileSync', 'ENOSPC'],
    ['renameSync', 'ENAMETOOLONG'],
  ] as const) {
    it(`a ${code} at any ${op} leaves the directory exactly as it was`, () => {
      repo = copyRepo();
      const dir = policiesDir(repo);
      writePolicyDirectory(dir, twoPolicies); // an earlier run: some of our files to replace and remove
      const before = snapshot(repo.path);
      let n = 1;
      for (;;) {
        const f = failingFs(op, n, code);
        let failed = false;
        try {
          writePolicyDirectory(dir, next, f.fs);
        } catch (e) {
          failed = true;
          expect((e as { code?: string }).code).toBe(code);
        }
        if (!failed) break; // past the last call: the run went through
        expect(snapshot(repo.path), `failure at ${op} #${n}`).toEqual(before);
        n++;
      }
      expect(n).toBeGreaterThan(3);
      expect(readdirSync(dir).filter((f) => f.startsWith('.hubble-advisor'))).toEqual([]);
    });
  }
});

/** A real full disk: a 64 KiB tmpfs (needs root and mount; the injected failures above run everywhere). */
function mountTinyTmpfs(path: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.runIf(process.getuid?.() === 0)('on a real full disk', () => {
  it('ENOSPC halfway through leaves the directory exactly as it was', () => {
    repo = copyRepo();
    const mnt = join(repo.path, 'tiny');
    mkdirSync(mnt);
    if (!mountTinyTmpfs(mnt)) return; // not allowed here (no CAP_SYS_ADMIN); covered by the injected ENOSPC above
    try {
      const dir = join(mnt, 'policies');
      writePolicyDirectory(dir, twoPolicies);
      const before = snapshot(mnt);
      const big = Array.from({ length: 60 }, (_, i) => cnp('dbms', `svc-${i}`, `svc-${i}-${'x'.repeat(40)}`));
      expect(() => writePolicyDirectory(dir, recommendation(big))).toThrow(/ENOSPC|no space/i);
      expect(snapshot(mnt)).toEqual(before);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
