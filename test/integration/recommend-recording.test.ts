import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { validatePolicyYaml } from '../../src/schema/index.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, tempDir } from '../helpers/paths.js';

/** Golden policies for the bundled home-lab recording, plus the facts that matter asserted in code. */
const recording = join(REPO_ROOT, 'recordings/home-lab.jsonl.gz');
const golden = (name: string): string => join(REPO_ROOT, 'test/golden/recommend', name);

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  specs?: Record<string, unknown>[];
}

function docs(yaml: string): Doc[] {
  return parseAllDocuments(yaml).map((d) => d.toJS() as Doc).filter(Boolean);
}

describe('recommend on the bundled home-lab recording', () => {
  const tmp = tempDir();
  const db = tmp.file('home-lab.db');
  const outputs: Record<string, string> = {};
  beforeAll(async () => {
    const r = await runCli(['--db', db, 'replay', recording]);
    expect(r.code).toBe(0);
    for (const [name, args] of Object.entries({
      dbms: ['-n', 'dbms'],
      all: ['-A'],
      baseline: ['-n', 'dbms', '--baseline'],
      kubernetes: ['-n', 'dbms', '--kind', 'kubernetes'],
    })) {
      const out = await runCli(['--db', db, 'recommend', ...args]);
      expect(out.code, out.stderr).toBe(0);
      outputs[name] = out.stdout;
    }
  });
  afterAll(() => tmp.remove());

  it.each(['dbms', 'all', 'baseline', 'kubernetes'])('%s matches its golden file and the schema', async (name) => {
    await expect(outputs[name]).toMatchFileSnapshot(golden(`${name}.yaml`));
    expect(validatePolicyYaml(outputs[name] as string)).toEqual([]);
  });

  it('the postgres cluster allows 8000 from the CNPG operator and 5432/8000 between its instances', () => {
    const pg = docs(outputs['dbms'] as string).find((d) => d.metadata.name === 'postgres');
    const ingress = pg?.spec?.['ingress'] as Record<string, unknown>[];
    const fromOperator = ingress.find((r) => JSON.stringify(r['fromEndpoints'] ?? '').includes('"k8s:io.kubernetes.pod.namespace":"cnpg-system"'));
    expect(JSON.stringify(fromOperator?.['toPorts'])).toContain('"port":"8000"');
    const fromPeers = ingress.find((r) => JSON.stringify(r['fromEndpoints']) === JSON.stringify([{ matchLabels: { 'cnpg.io/cluster': 'postgres' } }]));
    expect(fromPeers?.['toPorts']).toEqual([{ ports: [{ port: '5432', protocol: 'TCP' }, { port: '8000', protocol: 'TCP' }] }]);
  });

  it('kubelet probes come from the host entity, and the API server is an entity on the observed port', () => {
    const pg = docs(outputs['dbms'] as string).find((d) => d.metadata.name === 'postgres');
    expect(pg?.spec?.['ingress']).toContainEqual({ fromEntities: ['host'], toPorts: [{ ports: [{ port: '8000', protocol: 'TCP' }] }] });
    expect(pg?.spec?.['egress']).toContainEqual({ toEntities: ['kube-apiserver'], toPorts: [{ ports: [{ port: '6443', protocol: 'TCP' }] }] });
  });

  it('no selector holds pod-template-hash, controller-revision-hash, a pod name or a CNPG instance name', () => {
    for (const text of Object.values(outputs)) {
      expect(text).not.toMatch(/pod-template-hash|controller-revision-hash|statefulset\.kubernetes\.io\/pod-name|cnpg\.io\/instanceName|cnpg\.io\/instanceRole|\brole: (primary|replica)/);
    }
  });

  it('has no rule for a reply or a dropped-only edge: ephemeral ports never appear, the downloads deny stays a note', () => {
    for (const d of docs(outputs['all'] as string)) {
      for (const m of JSON.stringify(d).matchAll(/"port":"(\d+)"/g)) {
        // qbittorrent's peers listen on high ports: those are observed request ports, not replies.
        if (d.metadata.name !== 'qbittorrent') expect(Number(m[1])).toBeLessThan(32768);
      }
    }
    expect(outputs['dbms']).toMatch(/# {2}- dropped: downloads\/sonarr \(Deployment\) -> dbms\/postgres \(Cluster\) TCP\/5432 was dropped \d+ times \(POLICY_DENY/);
  });

  it('every FQDN rule comes with DNS through the proxy', () => {
    for (const d of docs(outputs['all'] as string)) {
      const egress = JSON.stringify(d.spec?.['egress'] ?? []);
      if (egress.includes('toFQDNs')) expect(egress).toContain('"matchPattern":"*"');
    }
  });

  it('--baseline puts DNS in a cluster-wide policy and no per-workload policy repeats it', () => {
    const all = docs(outputs['baseline'] as string);
    expect(all.filter((d) => d.kind === 'CiliumClusterwideNetworkPolicy').map((d) => d.metadata.name)).toEqual([
      'hubble-advisor-baseline-dns',
      'hubble-advisor-baseline-kube-apiserver',
    ]);
    for (const d of all.filter((x) => x.kind === 'CiliumNetworkPolicy')) expect(JSON.stringify(d.spec)).not.toContain('kube-dns');
  });

  it('--kind kubernetes writes NetworkPolicies and warns about what that API cannot say', async () => {
    const all = docs(outputs['kubernetes'] as string);
    expect(new Set(all.map((d) => d.kind))).toEqual(new Set(['NetworkPolicy']));
    expect(outputs['kubernetes']).toMatch(/WARNING|egress left unenforced/);
  });

  it('is deterministic: the same database gives the same bytes, and --out writes files plus a kustomization', async () => {
    const again = await runCli(['--db', db, 'recommend', '-A']);
    expect(again.stdout).toBe(outputs['all']);
    const dir = tmp.file('out');
    const r = await runCli(['--db', db, 'recommend', '-n', 'dbms', '--out', dir]);
    expect(r.code).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toContain('kustomization.yaml');
    expect(files).toContain('cnp-dbms.postgres.yaml');
    const kustomization = readFileSync(join(dir, 'kustomization.yaml'), 'utf8');
    for (const f of files.filter((x) => x !== 'kustomization.yaml')) expect(kustomization).toContain(`  - ${f}`);
    expect(validatePolicyYaml(kustomization)).toEqual([]);
  });

  it('-n takes comma lists; a namespace without traffic is exit 2 naming the known ones, and --out is left alone', async () => {
    const both = await runCli(['--db', db, 'recommend', '-n', 'dbms,media']);
    expect(both.code).toBe(0);
    expect(new Set(docs(both.stdout).map((d) => d.metadata.namespace))).toEqual(new Set(['dbms', 'media']));
    const dir = tmp.file('kept');
    const first = await runCli(['--db', db, 'recommend', '-n', 'dbms', '--out', dir]);
    expect(first.code).toBe(0);
    const before = readdirSync(dir).sort();
    for (const args of [['-n', 'nosuchns'], ['-n', 'DBMS'], ['-n', 'dbms,nosuchns']]) {
      const r = await runCli(['--db', db, 'recommend', ...args, '--out', dir]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^Error: no traffic observed in namespace "(nosuchns|DBMS)"; namespaces with traffic: cnpg-system, dbms, downloads, /);
      expect(r.stdout).toBe('');
      expect(readdirSync(dir).sort()).toEqual(before);
    }
  });

  it('-o json is a List that kubectl apply takes: only policy documents, evidence in --evidence FILE', async () => {
    const evidence = tmp.file('evidence.json');
    const r = await runCli(['--db', db, 'recommend', '-n', 'dbms', '-o', 'json', '--evidence', evidence]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { apiVersion: string; kind: string; items: Doc[] };
    expect([list.apiVersion, list.kind]).toEqual(['v1', 'List']);
    expect(list.items.map((d) => d.metadata.name)).toEqual(docs(outputs['dbms'] as string).map((d) => d.metadata.name));
    expect(JSON.stringify(list)).not.toContain('evidence');
    const ev = JSON.parse(readFileSync(evidence, 'utf8')) as { policies: { name: string; evidence: Record<string, string> }[] };
    expect(ev.policies.find((p) => p.name === 'postgres')?.evidence['spec.endpointSelector']).toBe('pods of Cluster dbms/postgres');
  });

  it('rejects conflicting flags before reading anything', async () => {
    const r = await runCli(['--db', db, 'recommend', '-A', '-n', 'dbms']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Error: cannot set both -A and --namespace\n');
  });
});
