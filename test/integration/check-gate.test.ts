import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { isFile, REPO_ROOT, tempDir } from '../helpers/paths.js';
import type { PeerJson } from '../helpers/peer-json.js';

/** `check` as a CI gate, its coverage and `--against`, over the bundled home-lab recording and examples/policies. */
const RECORDING = join(REPO_ROOT, 'recordings/home-lab.jsonl.gz');
const POLICIES = join(REPO_ROOT, 'examples/policies');
const FIXTURE_REPO = join(REPO_ROOT, 'test/fixtures/gitops-repo');
const haveRecording = isFile(RECORDING);

interface EdgeJson { from: PeerJson; to: PeerJson; protocol: string; port: number }
interface CheckJson {
  wouldDrop: EdgeJson[];
  unusedRules: { policy: string; path: string }[];
  coverage: { namespace: string; workloads: number; ingressSelected: number; ingressEnforced: number; egressSelected: number; egressEnforced: number; selectedNotEnforced: string[]; unselected: string[] }[];
  noTraffic: boolean;
}
interface DiffJson { newlyDropped: EdgeJson[]; newlyAllowed: EdgeJson[]; edgesCompared: number }
const label = (p: PeerJson): string => (p.kind === 'workload' ? `${p.namespace}/${p.name}` : (p.entity ?? p.kind));
const edge = (e: EdgeJson): string => `${label(e.from)} -> ${label(e.to)} ${e.protocol}/${e.port}`;

describe.skipIf(!haveRecording)('check as a CI gate', () => {
  const tmp = tempDir();
  const db = tmp.file('home-lab.db');
  const emptyDb = tmp.file('empty.db');
  beforeAll(async () => {
    expect((await runCli(['--db', db, 'replay', RECORDING])).code).toBe(0);
    writeFileSync(tmp.file('empty.jsonl'), '');
    expect((await runCli(['--db', emptyDb, 'replay', tmp.file('empty.jsonl')])).code).toBe(0);
  }, 120_000);
  afterAll(() => tmp.remove());

  it('exits 4 when an observed edge would be dropped, and says why on the last stderr line; --fail-on none only reports', async () => {
    const r = await runCli(['--db', db, 'check', '--policies', POLICIES]);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('Error: check failed: 5 observed edge(s) would be dropped');
    const none = await runCli(['--db', db, 'check', '--policies', POLICIES, '--fail-on', 'none']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(r.stdout);
  });

  it('exits 4 when a policy document cannot be read, whatever --fail-on says', async () => {
    const dir = tmp.file('broken');
    cpSync(POLICIES, dir, { recursive: true });
    writeFileSync(join(dir, 'typo.yaml'), 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: typo, namespace: dbms}\nspec:\n  endpointSelector: {}\n  ingress:\n    - fromEndpoint: [{}]\n');
    const r = await runCli(['--db', db, 'check', '--policies', dir, '--fail-on', 'none']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`${join(dir, 'typo.yaml')}:7:7: spec.ingress[0].fromEndpoint: unknown field "fromEndpoint" (did you mean "fromEndpoints"?)`);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('Error: check failed: 1 policy document(s) could not be read');
  });

  it('--fail-on unused-rule and lint; a bad value is a usage error (exit 2)', async () => {
    const unused = await runCli(['--db', db, 'check', '--policies', POLICIES, '--fail-on', 'unused-rule']);
    expect(unused.code).toBe(4);
    expect(unused.stderr).toMatch(/Error: check failed: \d+ allow rule\(s\) no observed edge used\n$/);
    const dir = tmp.file('lint');
    mkdirSync(dir);
    writeFileSync(join(dir, 'ccnp.yaml'), 'apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: c, namespace: dbms}\nspec: {endpointSelector: {}, egress: [{toEntities: [all]}]}\n');
    expect((await runCli(['--db', db, 'check', '--policies', dir])).code).toBe(0);
    const lint = await runCli(['--db', db, 'check', '--policies', dir, '--fail-on', 'would-drop,lint']);
    expect(lint.code).toBe(4);
    expect(lint.stderr).toContain('metadata.namespace: ignored: the policy is cluster-wide');
    expect((await runCli(['--db', db, 'check', '--policies', dir, '--fail-on', 'drops'])).code).toBe(2);
  });

  it('coverage tells enforced from selected: the non-enforcing DNS CCNP selects workloads without enforcing anything', async () => {
    const r = await runCli(['--db', db, 'check', '--policies', join(POLICIES, 'cluster'), '-o', 'json', '--fail-on', 'none']);
    const c = JSON.parse(r.stdout) as CheckJson;
    const downloads = c.coverage.find((x) => x.namespace === 'downloads');
    expect(downloads?.egressSelected).toBe(downloads?.workloads);
    expect(downloads?.egressEnforced).toBe(0);
    expect(downloads?.ingressEnforced).toBe(0);
    expect(downloads?.selectedNotEnforced).toHaveLength(downloads?.workloads ?? -1);
    const all = JSON.parse((await runCli(['--db', db, 'check', '--policies', POLICIES, '-o', 'json', '--fail-on', 'none'])).stdout) as CheckJson;
    const dbms = all.coverage.find((x) => x.namespace === 'dbms');
    expect(dbms?.ingressEnforced).toBe(dbms?.workloads);
  });

  it('leaves the default-deny `- {}` placeholders out of unused rules', async () => {
    const c = JSON.parse((await runCli(['--db', db, 'check', '--policies', POLICIES, '-o', 'json', '--fail-on', 'none'])).stdout) as CheckJson;
    expect(c.unusedRules.length).toBeGreaterThan(0);
    expect(c.unusedRules.filter((u) => u.policy === 'CiliumNetworkPolicy dbms/default-deny')).toEqual([]);
  });

  it('on a database without traffic says there is nothing to judge by, and lists no rule as unused', async () => {
    const r = await runCli(['--db', emptyDb, 'check', '--policies', POLICIES, '-o', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: no traffic to judge by');
    const c = JSON.parse(r.stdout) as CheckJson;
    expect(c).toMatchObject({ noTraffic: true, unusedRules: [], wouldDrop: [] });
    expect((await runCli(['--db', emptyDb, 'check', '--policies', POLICIES])).stdout).toMatch(/^The database holds no forwarded traffic/);
  });

  it('--against OLD lists the observed edges the change newly drops and newly allows, and fails on new drops', async () => {
    const fixed = tmp.file('fixed');
    cpSync(POLICIES, fixed, { recursive: true });
    const pc = join(fixed, 'dbms/postgres-cluster.yaml');
    // The egress rule says 443; the apiserver listens on 6443 (one of the five would-drops).
    writeFileSync(pc, readFileSync(pc, 'utf8').replace(/port: "443"/, 'port: "6443"'));
    const better = await runCli(['--db', db, 'check', '--policies', fixed, '--against', POLICIES, '-o', 'json']);
    expect(better.code, better.stderr).toBe(0);
    const d = JSON.parse(better.stdout) as DiffJson;
    expect(d.newlyAllowed.map(edge)).toEqual(['dbms/postgres -> kube-apiserver TCP/6443']);
    expect(d.newlyDropped).toEqual([]);
    const worse = await runCli(['--db', db, 'check', '--policies', POLICIES, '--against', fixed]);
    expect(worse.code).toBe(4);
    expect(worse.stdout).toContain('Newly dropped by the change (1):');
    expect(worse.stdout).toContain('Newly allowed: none.');
    expect(worse.stderr.trim().split('\n').at(-1)).toBe('Error: check failed: the change newly drops 1 observed edge(s)');
  });

  it('reads the fixture GitOps repository whole (kustomizations are skipped quietly, not lints)', async () => {
    const r = await runCli(['--db', db, 'check', '--policies', FIXTURE_REPO, '--fail-on', 'lint', '--fail-on', 'would-drop', '-o', 'json']);
    expect(r.stderr).not.toContain('could not be read');
    expect(r.stderr).not.toMatch(/check failed: .*lint/);
  });
});
