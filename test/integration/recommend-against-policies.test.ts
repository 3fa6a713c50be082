import { cpSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { isFile, REPO_ROOT, tempDir } from '../helpers/paths.js';

/** `recommend --policies DIR` against the hand-written examples/policies, over the home-lab recording. */
const RECORDING = join(REPO_ROOT, 'recordings/home-lab.jsonl.gz');
const POLICIES = join(REPO_ROOT, 'examples/policies');
const haveRecording = isFile(RECORDING);

function files(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const n of readdirSync(dir).sort()) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(root, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(root);
  return out;
}

/** Every line of `before` is still in `after`, in order: an edit that only adds. */
function onlyAdds(before: string, after: string): boolean {
  const a = after.split('\n');
  let j = 0;
  for (const line of before.split('\n')) {
    while (j < a.length && a[j] !== line) j++;
    if (j === a.length) return false;
    j++;
  }
  return true;
}

describe.skipIf(!haveRecording)('recommend --policies: against the policies already in the repository', () => {
  const tmp = tempDir();
  const db = tmp.file('home-lab.db');
  const dir = tmp.file('policies');
  beforeAll(async () => {
    expect((await runCli(['--db', db, 'replay', RECORDING])).code).toBe(0);
    cpSync(POLICIES, dir, { recursive: true });
  }, 120_000);
  afterAll(() => tmp.remove());

  it('-o diff proposes rules added to the user policy that selects the workload, for exactly what it drops', async () => {
    const r = await runCli(['--db', db, 'recommend', '-n', 'dbms', '--policies', dir, '-o', 'diff']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Against your policies: 22 observed edges already allowed; 3 additions (rules, or ports to an existing rule) to 2 of your files; 0 new policies');
    // The egress rule to kube-apiserver allows 443; the traffic is 6443: the port is added to that rule, not a second rule.
    expect(r.stderr).toMatch(/postgres-cluster\.yaml: CiliumNetworkPolicy dbms\/postgres-cluster spec\.egress\[2\]: port TCP\/6443 added to the rule\n/);
    expect(r.stderr).toContain('Note: 2 observed edges are dropped by a deny rule of yours; not proposed');
    // Diffs of the two files, additions only, no second policy for a selected workload.
    const heads = r.stdout.split('\n').filter((l) => l.startsWith('+++ '));
    expect(heads.map((h) => h.replace(/^\+\+\+ b\/.*\/policies\//, ''))).toEqual(['dbms/dragonfly.yaml', 'dbms/postgres-cluster.yaml']);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'))).toEqual([]);
    expect(r.stdout).toMatch(/\n {13}- port: "443"\n {15}protocol: TCP\n\+ {12}# Added by hubble-advisor[^\n]*\n\+ {12}# to entity kube-apiserver on TCP\/6443[^\n]*\n\+ {12}- port: "6443"\n/);
    expect(r.stdout).toContain('+            k8s:io.kubernetes.pod.namespace: cnpg-system');
    expect(r.stdout).toContain('+            k8s:io.kubernetes.pod.namespace: observability');
    expect(r.stdout).not.toContain('+    - toEntities:');
    // Nothing was written.
    expect(files(dir)).toEqual(files(POLICIES));
  });

  it('--write edits in place (comments, order, formatting kept), touches no other file; a re-run proposes nothing and check finds only the user\'s own denies', async () => {
    const before = files(dir);
    const w = await runCli(['--db', db, 'recommend', '-n', 'dbms', '--policies', dir, '--write', '-o', 'diff']);
    expect(w.code, w.stderr).toBe(0);
    const after = files(dir);
    const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
    expect(changed).toEqual(['dbms/dragonfly.yaml', 'dbms/postgres-cluster.yaml']);
    for (const k of changed) {
      expect(onlyAdds(before[k] ?? '', after[k] ?? ''), k).toBe(true);
      expect(parseAllDocuments(after[k] ?? '').every((d) => d.errors.length === 0)).toBe(true);
    }
    const again = await runCli(['--db', db, 'recommend', '-n', 'dbms', '--policies', dir, '-o', 'diff']);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain('0 additions');
    const check = await runCli(['--db', db, 'check', '-n', 'dbms', '--policies', dir, '-o', 'json', '--fail-on', 'none']);
    const wouldDrop = (JSON.parse(check.stdout) as { wouldDrop: { from: { name: string }; to: { name: string }; reason: string }[] }).wouldDrop;
    expect(wouldDrop.map((d) => `${d.from.name}->${d.to.name} ${d.reason}`).sort()).toEqual(['radarr->postgres POLICY_DENY', 'sonarr->postgres POLICY_DENY']);
  });

  it('workloads no user policy enforces get new policies; the selected one gets none', async () => {
    const r = await runCli(['--db', db, 'recommend', '-n', 'network', '--policies', dir]);
    expect(r.code, r.stderr).toBe(0);
    const names = parseAllDocuments(r.stdout).map((d) => (d.toJS() as { metadata?: { name?: string } } | null)?.metadata?.name).filter(Boolean);
    expect(names.length).toBeGreaterThan(0);
    expect(names.some((n) => String(n).includes('cloudflared'))).toBe(false);
  });

  it('-o diff and --write need --policies', async () => {
    expect((await runCli(['--db', db, 'recommend', '-n', 'dbms', '--write'])).code).toBe(2);
    expect((await runCli(['--db', db, 'recommend', '-n', 'dbms', '-o', 'diff'])).code).toBe(2);
  });
});
