import { cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { loadPolicies, triageFromDatabase } from '../../src/app/index.js';
import { openDatabase } from '../../src/store/index.js';
import { applyJsonPatch, type JsonPatchOp, type PolicyPatch } from '../../src/triage/index.js';
import { applyInOrder, canonical, permutations } from '../helpers/patch-orders.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, SAMPLES_DIR, tempDir } from '../helpers/paths.js';
import type { PeerJson } from '../helpers/peer-json.js';

interface PatchJson { action: string; direction: string; policy: { kind: string; namespace?: string; name: string; file: string; doc: number }; ops: JsonPatchOp[]; yaml: string }
interface DropJson { from: PeerJson; to: PeerJson; protocol: string; port: number; reason: string; verdict: string; policyDrop: boolean; policies: string[]; policiesFrom: string; deniedBy: string[]; attempts: number; flows: number; patches: PatchJson[]; allowedAfterPatches?: boolean; summary: string }
interface WouldDropJson { from: PeerJson; to: PeerJson; protocol: string; port: number; side: string; reason: string; policy: string[] }
interface CheckJson { wouldDrop: WouldDropJson[]; unusedRules: { policy: string; path: string }[]; coverage: { namespace: string; workloads: number; unselected: string[] }[] }

const label = (p: PeerJson): string => (p.kind === 'workload' ? `${p.namespace}/${p.name}` : (p.entity ?? p.cidr ?? p.kind));
const edge = (e: { from: PeerJson; to: PeerJson; protocol: string; port: number }): string => `${label(e.from)} -> ${label(e.to)} ${e.protocol}/${e.port}`;

/** Applies a patch to document `doc` (1-based) of a policy file, as `kubectl patch --type json` would. */
function patchFile(file: string, doc: number, ops: readonly JsonPatchOp[]): void {
  const docs = [...parseAllDocuments(readFileSync(file, 'utf8'))].map((d) => d.toJS() as unknown);
  docs[doc - 1] = applyJsonPatch(docs[doc - 1], ops);
  writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
}

describe('drops and check on a sample', () => {
  const tmp = tempDir();
  const db = tmp.file('s.db');
  beforeAll(async () => {
    const sample = join(SAMPLES_DIR, 'ephico2real2-cilium-poc__26-flow-stranger-to-shop.observer.json');
    expect((await runCli(['--db', db, 'replay', sample])).code).toBe(0);
    writeFileSync(
      tmp.file('shop.yaml'),
      'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: shop, namespace: cf2cnp-lab}\nspec:\n  endpointSelector: {matchLabels: {app: shop}}\n  ingress: [{fromEndpoints: [{matchLabels: {app: pos}}]}]\n---\nkind: CiliumNetworkPolicy\napiVersion: cilium.io/v2\nmetadata: {name: broken}\nspec: {ingress: [{toPorts: [{ports: [{port: "99999"}]}]}]}\n',
    );
  });
  afterAll(() => tmp.remove());

  it('drops -o json: the drop, its policy and a patch; bad documents on stderr as FILE:DOC: field: reason, the rest still load', async () => {
    const r = await runCli(['--db', db, 'drops', '--policies', tmp.file('shop.yaml'), '-o', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^${tmp.file('shop.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: spec\\.ingress\\[0\\]\\.toPorts\\[0\\]\\.ports\\[0\\]\\.port: `, 'm'));
    const drops = JSON.parse(r.stdout) as DropJson[];
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ reason: 'POLICY_DENIED', verdict: 'default-deny', policies: ['CiliumNetworkPolicy cf2cnp-lab/shop'], allowedAfterPatches: true });
    expect(drops[0]?.patches[0]?.yaml).toContain('# CiliumNetworkPolicy cf2cnp-lab/shop');
    expect(drops[0]?.patches[0]?.yaml).toContain('kubectl patch cnp -n cf2cnp-lab shop --type json');
    expect(drops[0]?.patches[0]?.yaml).toContain('# order: applies before or after the other patches shown for this policy');
  });

  it('table and yaml outputs render; flag errors come before any I/O; a missing --policies path is a one-line error', async () => {
    expect((await runCli(['--db', db, 'drops', '--policies', tmp.file('shop.yaml')])).stdout).toContain('- op: add');
    expect((await runCli(['--db', db, 'drops', '--policies', tmp.file('shop.yaml'), '-o', 'yaml'])).stdout).toContain('verdict: default-deny');
    expect((await runCli(['--db', tmp.file('nope.db'), 'drops', '-A', '-n', 'x', '--policies', 'x'])).code).toBe(2);
    // Without --policies, drops lists the dropped flows grouped by edge and reason (issue 14).
    const plain = await runCli(['--db', db, 'drops']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^LAST SEEN\s+FROM\s+TO/);
    expect((await runCli(['--db', db, 'check'])).code).toBe(2);
    const missing = await runCli(['--db', db, 'check', '--policies', tmp.file('missing.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('no such file or directory');
  });
});

const RECORDING = join(REPO_ROOT, 'recordings/home-lab.jsonl.gz');
const POLICIES = join(REPO_ROOT, 'examples/policies');
const haveRecording = (() => {
  try {
    return statSync(RECORDING).isFile() && statSync(POLICIES).isDirectory();
  } catch {
    return false;
  }
})();

describe.skipIf(!haveRecording)('drops and check on the bundled home-lab recording with examples/policies', () => {
  const tmp = tempDir();
  const db = tmp.file('home-lab.db');
  let drops: DropJson[] = [];
  let check: CheckJson;
  beforeAll(async () => {
    expect((await runCli(['--db', db, 'replay', RECORDING])).code).toBe(0);
    const d = await runCli(['--db', db, 'drops', '--policies', POLICIES, '-o', 'json']);
    expect(d.code).toBe(0);
    drops = JSON.parse(d.stdout) as DropJson[];
    const c = await runCli(['--db', db, 'check', '--policies', POLICIES, '-o', 'json']);
    expect(c.code).toBe(4); // the CI gate: observed edges would be dropped
    check = JSON.parse(c.stdout) as CheckJson;
  }, 120_000);
  afterAll(() => tmp.remove());

  it('every drop of examples/policies/README.md is attributed to the policy that caused it', () => {
    const byEdge = new Map(drops.map((d) => [`${edge(d)} ${d.reason}`, d]));
    const expectPolicies = (key: string, must: string[]): DropJson => {
      const d = byEdge.get(key);
      expect(d, key).toBeDefined();
      for (const p of must) expect(d?.policies, key).toContain(p);
      return d as DropJson;
    };
    // 1: operator → instance manager, default deny at the postgres ingress.
    expect(expectPolicies('cnpg-system/cnpg-cloudnative-pg -> dbms/postgres TCP/8000 POLICY_DENIED', ['CiliumNetworkPolicy dbms/postgres-cluster', 'CiliumNetworkPolicy dbms/default-deny']).verdict).toBe('default-deny');
    // 2: explicit deny, named by Hubble, for sonarr and radarr.
    for (const app of ['sonarr', 'radarr']) {
      const d = expectPolicies(`downloads/${app} -> dbms/postgres TCP/5432 POLICY_DENY`, ['CiliumNetworkPolicy dbms/deny-from-downloads']);
      expect(d).toMatchObject({ verdict: 'explicit-deny', policiesFrom: 'hubble', deniedBy: ['CiliumNetworkPolicy dbms/deny-from-downloads'] });
      expect(d.patches[0]?.action).toBe('narrow-deny');
    }
    // 3: the Prometheus scrape of Dragonfly.
    const prom = drops.filter((d) => d.to.name === 'dragonfly' && d.port === 6379);
    expect(prom).toHaveLength(1);
    expect(prom[0]?.policies).toEqual(expect.arrayContaining(['CiliumNetworkPolicy dbms/dragonfly', 'CiliumNetworkPolicy dbms/default-deny']));
    // 4: postgres → kube-apiserver on 6443 (the egress rule says 443).
    const api = expectPolicies('dbms/postgres -> kube-apiserver TCP/6443 POLICY_DENIED', ['CiliumNetworkPolicy dbms/postgres-cluster']);
    expect(api.patches[0]?.ops[0]).toMatchObject({ op: 'add', path: '/spec/egress/-', value: { toEntities: ['kube-apiserver'], toPorts: [{ ports: [{ port: '6443', protocol: 'TCP' }] }] } });
    // 5: conntrack exhaustion is no policy's fault.
    const ct = drops.filter((d) => d.reason === 'CT_MAP_INSERTION_FAILED');
    expect(ct.length).toBeGreaterThan(0);
    for (const d of ct) expect(d).toMatchObject({ policyDrop: false, verdict: 'not-policy', patches: [], policies: [] });
    // Nothing else, and every policy drop comes with patches the evaluator accepts.
    const policyDrops = drops.filter((d) => d.policyDrop);
    expect(policyDrops).toHaveLength(5);
    for (const d of policyDrops) expect(d.allowedAfterPatches, edge(d)).toBe(true);
  });

  it('check reports exactly those edges as would-drop, with side, reason and policy', () => {
    expect(check.wouldDrop.map((w) => `${edge(w)} ${w.side} ${w.reason}`).sort()).toEqual([
      'cnpg-system/cnpg-cloudnative-pg -> dbms/postgres TCP/8000 ingress POLICY_DENIED',
      'dbms/postgres -> kube-apiserver TCP/6443 egress POLICY_DENIED',
      'downloads/radarr -> dbms/postgres TCP/5432 ingress POLICY_DENY',
      'downloads/sonarr -> dbms/postgres TCP/5432 ingress POLICY_DENY',
      'observability/prometheus-kube-prometheus-stack-prometheus -> dbms/dragonfly TCP/6379 ingress POLICY_DENIED',
    ]);
    expect(check.unusedRules).toEqual(expect.arrayContaining([expect.objectContaining({ policy: 'CiliumNetworkPolicy dbms/postgres-cluster' })]));
    expect(check.coverage.find((c) => c.namespace === 'kube-system')?.unselected).toEqual(['Deployment/coredns']);
  });

  it('each suggested patch, applied to a copy of examples/policies, makes check report the edge as allowed', async () => {
    for (const d of drops.filter((x) => x.policyDrop)) {
      const dir = tmp.file(`policies-${d.from.name}-${d.to.name ?? d.to.entity}-${d.port}`);
      cpSync(POLICIES, dir, { recursive: true });
      for (const p of d.patches) patchFile(join(dir, relative(POLICIES, p.policy.file)), p.policy.doc, p.ops);
      const c = await runCli(['--db', db, 'check', '--policies', dir, '-o', 'json', '--fail-on', 'none']);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stderr).toBe('');
      const after = JSON.parse(c.stdout) as CheckJson;
      expect(after.wouldDrop.map(edge), edge(d)).not.toContain(edge(d));
      expect(after.wouldDrop).toHaveLength(check.wouldDrop.length - 1);
    }
  }, 120_000);

  it('the standalone patches of all drops apply to examples/policies in every order (fast-json-patch) and then let every drop through', async () => {
    const conn = openDatabase(db, { readonly: true });
    try {
      const { policies } = await loadPolicies([POLICIES]);
      const fixed = triageFromDatabase(conn, { policies }).drops.filter((d) => d.explanation.allowedAfterPatches === true);
      expect(fixed).toHaveLength(5);
      const patches = fixed.flatMap((d) => d.explanation.patches);
      // sonarr and radarr are narrowed out of the same deny selector, which has no matchExpressions yet:
      // both patches create it with both NotIn values, and say so.
      const deny = patches.filter((p) => p.policy.name === 'deny-from-downloads');
      expect(deny.map((p) => p.composition)).toEqual([0, 1].map(() => ({ how: 'merged', mergedDrops: 1, paths: ['/spec/ingressDeny/0/fromEndpoints/0/matchExpressions'] })));
      expect(deny.map((p) => p.ops)).toEqual([0, 1].map(() => [{ op: 'add', path: '/spec/ingressDeny/0/fromEndpoints/0/matchExpressions', value: [{ key: expect.any(String), operator: 'NotIn', values: expect.arrayContaining(['sonarr', 'radarr']) }] }]));
      const target = (p: PolicyPatch): string => `${p.policy.origin?.file}#${p.policy.origin?.doc}`;
      const targets = [...new Set(patches.map(target))];
      const originals = new Map([...new Set(patches.map((p) => p.policy.origin?.file ?? ''))].map((f) => [f, [...parseAllDocuments(readFileSync(f, 'utf8'))].map((d) => d.toJS() as unknown)]));
      const dir = tmp.file('policies-any-order');
      cpSync(POLICIES, dir, { recursive: true });
      let orders = 0;
      for (const t of targets) {
        let first: unknown;
        for (const order of permutations(patches.filter((p) => target(p) === t))) {
          for (const [file, docs] of originals) {
            const patched = docs.map((doc, i) => {
              const here = `${file}#${i + 1}`;
              return applyInOrder(doc, (here === t ? order : patches.filter((p) => target(p) === here)).map((p) => p.ops));
            });
            if (file === t.slice(0, t.lastIndexOf('#'))) {
              const mine = canonical(patched[Number(t.slice(t.lastIndexOf('#') + 1)) - 1]);
              if (first === undefined) first = mine;
              else expect(mine, t).toEqual(first);
            }
            writeFileSync(join(dir, relative(POLICIES, file)), patched.map((d) => stringify(d)).join('---\n'));
          }
          const after = triageFromDatabase(conn, { policies: (await loadPolicies([dir])).policies });
          const verdicts = new Map(after.drops.map((d) => [d.group.key, d.explanation.verdict]));
          for (const d of fixed) expect(verdicts.get(d.group.key), `${d.group.key} after ${order.map((p) => p.description).join(' / ')}`).toBe('now-allowed');
          orders++;
        }
      }
      expect(orders).toBeGreaterThanOrEqual(targets.length + 1);
    } finally {
      conn.close();
    }
  }, 120_000);

  it('drops --combine: one patch per policy; all of them applied, check reports none of the dropped edges', async () => {
    const r = await runCli(['--db', db, 'drops', '--policies', POLICIES, '--combine', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const fix = JSON.parse(r.stdout) as { fixable: number; allowedAfter: number; patches: DropJson['patches'] };
    const policyDrops = drops.filter((x) => x.policyDrop && x.patches.length > 0);
    expect(fix.fixable).toBe(policyDrops.length);
    expect(fix.allowedAfter).toBe(fix.fixable);
    const targets = fix.patches.map((p) => `${p.policy.file}#${p.policy.doc}`);
    expect(new Set(targets).size).toBe(targets.length);
    const dir = tmp.file('policies-combined');
    cpSync(POLICIES, dir, { recursive: true });
    for (const p of fix.patches) patchFile(join(dir, relative(POLICIES, p.policy.file)), p.policy.doc, p.ops);
    const c = await runCli(['--db', db, 'check', '--policies', dir, '-o', 'json', '--fail-on', 'none']);
    expect(c.code, c.stderr).toBe(0);
    const after = JSON.parse(c.stdout) as CheckJson;
    for (const d of policyDrops) expect(after.wouldDrop.map(edge)).not.toContain(edge(d));
    const yaml = await runCli(['--db', db, 'drops', '--policies', POLICIES, '--combine']);
    expect(yaml.stdout).toMatch(/^# \d+ patch(es)? for \d+ policy drops?; with all applied, the policies allow \d+ of them\n---\n/);
    expect(yaml.stdout).toContain('kubectl patch');
  }, 120_000);
});


