import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, SAMPLES_DIR, tempDir } from '../helpers/paths.js';
import type { PeerJson } from '../helpers/peer-json.js';
import { readHomeLabTruth } from '../helpers/truth.js';

/**
 * `report` on the bundled home-lab recording with examples/policies, checked against the generator's
 * ground truth (recordings/home-lab.truth.json) and against `check`'s own coverage, and on the
 * public Hubble samples.
 */
const RECORDING = join(REPO_ROOT, 'recordings/home-lab.jsonl.gz');
const POLICIES = join(REPO_ROOT, 'examples/policies');

const truth = readHomeLabTruth();

/** The rows of the Markdown table under `## heading` (cells unescaped of `\|` only). */
function section(md: string, heading: string): string {
  const start = md.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const end = md.indexOf('\n## ', start + 4);
  return md.slice(start, end < 0 ? undefined : end);
}
function rows(md: string, heading: string): string[][] {
  return section(md, heading)
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| ---'))
    .slice(1)
    .map((l) => l.slice(2, -2).split(' | '));
}
const unescape = (s: string): string => s.replace(/\\([\\`*_[\]|#~])/g, '$1');
const portText = (protocol: string, port: number): RegExp => (protocol === 'TCP' ? new RegExp(`(^|[ :,])${port}(,|$| |<)`) : new RegExp(`${port} [A-Z/]*${protocol}`));

describe('report on the bundled home-lab recording', () => {
  const tmp = tempDir();
  const db = tmp.file('home-lab.db');
  let md = '';
  let mdWithPolicies = '';
  beforeAll(async () => {
    expect((await runCli(['--db', db, 'replay', RECORDING])).code).toBe(0);
    const r = await runCli(['--db', db, 'report']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    md = r.stdout;
    const p = await runCli(['--db', db, 'report', '--policies', POLICIES]);
    expect(p.code).toBe(0);
    mdWithPolicies = p.stdout;
  });
  afterAll(() => tmp.remove());

  it('has a Component | Ingress | Egress row for every workload of the topology, in its namespace', () => {
    for (const w of truth.workloads) {
      const names = rows(md, w.namespace).map((r) => unescape(r[0] as string).replace(/^\*\*(.*?)\*\*.*$/, '$1'));
      expect(names, `${w.namespace}/${w.name}`).toContain(w.name);
    }
  });

  it('merges ports and names peers as people do', () => {
    const postgres = rows(md, 'dbms').find((r) => r[0]?.startsWith('**postgres**')) as string[];
    expect(postgres[0]).toBe('**postgres** (Cluster, svc postgres-rw)');
    expect(postgres[1]?.split('<br>')).toContain('self → 5432, 8000');
    expect(postgres[2]?.split('<br>')).toEqual(expect.arrayContaining(['self:5432, 8000', 'kube-apiserver', 'coredns (kube-system):53 UDP']));
    const sonarr = rows(md, 'downloads').find((r) => r[0] === '**sonarr**') as string[];
    expect(sonarr[2]?.split('<br>')).toEqual(expect.arrayContaining(['postgres (dbms, svc postgres-rw):5432', 'services.sonarr.tv + skyhook.sonarr.tv:443']));
  });

  it('every forwarded cross-namespace workload edge of the truth is in the cross-namespace table', () => {
    const cross = rows(md, 'Cross-namespace communication').map((r) => r.map(unescape));
    const expected = truth.edges.filter((e) => e.forwarded && e.from.kind === 'workload' && e.to.kind === 'workload' && e.from.namespace !== e.to.namespace);
    expect(expected.length).toBeGreaterThan(10);
    for (const e of expected) {
      const hit = cross.find(
        ([from, to, ports]) =>
          (from as string).endsWith(`(${e.from.namespace})`) &&
          (from as string).split(/, | \(/).includes(e.from.name as string) &&
          (to as string).startsWith(`${e.to.name} (${e.to.namespace}`) &&
          portText(e.protocol, e.port).test(ports as string),
      );
      expect(hit, `${e.from.namespace}/${e.from.name} -> ${e.to.namespace}/${e.to.name} ${e.port}/${e.protocol}`).toBeDefined();
    }
  });

  it('every forwarded FQDN edge of the truth is in the external egress table, with its port', () => {
    const external = rows(md, 'External egress').map((r) => r.map(unescape));
    const expected = truth.edges.filter((e) => e.forwarded && e.from.kind === 'workload' && e.to.kind === 'fqdn');
    expect(expected.length).toBeGreaterThan(10);
    for (const e of expected) {
      const row = external.find((r) => r[0] === `${e.from.name} (${e.from.namespace})`);
      const clause = row?.[1]?.split('<br>').find((c) => c.split(':')[0]?.split(' + ').includes(e.to.fqdn as string));
      expect(clause, `${e.from.name} -> ${e.to.fqdn}`).toBeDefined();
      expect(clause?.slice(clause.lastIndexOf(':') + 1)).toMatch(portText(e.protocol, e.port));
    }
  });

  it('entities: API server clients, host probes and remote nodes', () => {
    const entities = rows(md, 'Entities').map((r) => r.map(unescape));
    const clients = entities.find((r) => r[0] === 'kube-apiserver' && r[1] === 'API server clients')?.[2] ?? '';
    const expected = truth.edges.filter((e) => e.forwarded && e.to.entity === 'kube-apiserver' && e.from.kind === 'workload').map((e) => e.from.name as string);
    expect(expected.length).toBeGreaterThan(3);
    for (const n of expected) expect(clients).toContain(n);
    const probes = entities.find((r) => r[0] === 'host' && r[1]?.startsWith('from the local node'))?.[2] ?? '';
    expect(probes.split('<br>').length).toBeGreaterThan(5);
    expect(entities.some((r) => r[0] === 'remote-node')).toBe(true);
  });

  it('baseline health: time span, flows, lost events, sources and convergence per namespace', () => {
    const health = Object.fromEntries(rows(md, 'Baseline health').filter((r) => r.length === 2).map(([k, v]) => [k, unescape(v as string)]));
    expect(health['Flows']).toBe('20,000');
    expect(health['Time span']).toMatch(/^2026-11-10T\S+ to 2026-11-12T\S+ \(2d/);
    expect(health['Lost events']).toContain('5,472');
    expect(health['Sources']).toContain('home-lab.jsonl.gz');
    const convergence = rows(md, 'Baseline health').filter((r) => r.length === 4 && r[0] !== 'Namespace').map((r) => r[0]);
    expect(convergence).toEqual([...new Set(truth.workloads.map((w) => w.namespace))].sort());
  });

  it('is stable: the same bytes on a re-run, and no time of writing unless asked', async () => {
    expect((await runCli(['--db', db, 'report'])).stdout).toBe(md);
    expect(md).not.toContain('Written at');
    const stamped = await runCli(['--db', db, 'report', '--timestamp']);
    expect(stamped.stdout).toMatch(/Written at \d{4}-\d\d-\d\dT/);
  });

  it('with --policies: coverage per namespace agrees with `check`, and the would-drop, dropped and unused tables are filled', async () => {
    const check = JSON.parse((await runCli(['--db', db, 'check', '--policies', POLICIES, '-o', 'json'])).stdout) as {
      coverage: { namespace: string; workloads: number; ingressSelected: number; egressSelected: number; ingressEnforced: number; egressEnforced: number }[];
      wouldDrop: unknown[];
      unusedRules: { policy: string; path: string }[];
    };
    const coverage = rows(mdWithPolicies, 'Policy coverage').filter((r) => r.length === 7);
    expect(coverage.map((r) => [r[0], Number(r[1]), r[2], r[3], r[4], r[5]])).toEqual(
      check.coverage.map((c) => [
        c.namespace,
        c.workloads,
        `${c.ingressSelected}/${c.workloads}`,
        `${c.ingressEnforced}/${c.workloads}`,
        `${c.egressSelected}/${c.workloads}`,
        `${c.egressEnforced}/${c.workloads}`,
      ]),
    );
    // dbms: every workload is behind an ingress default deny (default-deny.yaml).
    expect(coverage.find((r) => r[0] === 'dbms')?.[3]).toBe('3/3');
    expect(rows(mdWithPolicies, 'What the policies would drop')).toHaveLength(check.wouldDrop.length);
    expect(check.wouldDrop.length).toBeGreaterThan(0);
    const dropped = rows(mdWithPolicies, 'Dropped flows').map((r) => r.map(unescape));
    const deny = dropped.find((r) => r[0] === 'downloads/Deployment/radarr' && r[3] === 'POLICY_DENY');
    expect(deny?.[6]).toBe('CiliumNetworkPolicy dbms/deny-from-downloads');
    expect(rows(mdWithPolicies, 'Rules nothing used').map((r) => [unescape(r[0] as string), unescape(r[1] as string)])).toEqual(check.unusedRules.map((u) => [u.policy, u.path]));
    const postgres = rows(mdWithPolicies, 'dbms').find((r) => r[0]?.startsWith('**postgres**'));
    expect(postgres?.[3]).toBe('in: enforced<br>out: enforced');
    expect(section(mdWithPolicies, 'Lints')).toContain('cnpg-instance-manager');
  });

  it('-o html is written as it is made, never held whole: several writes to stdout, the same bytes as --out', async () => {
    const writes: string[] = [];
    const code = await run(['--db', db, 'report', '-o', 'html'], {
      stdout: { write: (s: string) => writes.push(s) },
      stderr: { write: () => true },
      stdin: Readable.from([]),
      env: {},
      stderrIsTTY: false,
    });
    expect(code).toBe(0);
    const page = writes.join('');
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(writes.length).toBeGreaterThan(1);
    expect(Math.max(...writes.map((w) => w.length))).toBeLessThan(page.length / 2);
    const out = tmp.file('map.html');
    const r = await runCli(['--db', db, 'report', '-o', 'html', '--out', out]);
    expect(readFileSync(out, 'utf8')).toBe(page);
    expect(r.stderr).toBe(`Wrote ${out} (HTML, ${Buffer.byteLength(page)} bytes)\n`);
  });

  it('-n limits the namespace sections and writes --out atomically, saying where', async () => {
    const out = tmp.file('NETWORK.md');
    const r = await runCli(['--db', db, 'report', '-n', 'dbms', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Wrote ${out}`);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('\n## dbms\n');
    expect(text).not.toContain('\n## downloads\n');
    expect(readdirSync(tmp.path).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('report on the public Hubble samples', () => {
  const tmp = tempDir();
  const db = tmp.file('samples.db');
  let md = '';
  beforeAll(async () => {
    const files = readdirSync(SAMPLES_DIR).sort().map((f) => join(SAMPLES_DIR, f));
    expect((await runCli(['--db', db, 'replay', ...files])).code).toBe(0);
    const r = await runCli(['--db', db, 'report']);
    expect(r.code).toBe(0);
    md = r.stdout;
  });
  afterAll(() => tmp.remove());

  it('has the samples\' workloads, their DNS-learned FQDN and their entities', async () => {
    const edges = JSON.parse((await runCli(['--db', db, 'edges', '-o', 'json'])).stdout) as { from: PeerJson; to: PeerJson; forwarded: number }[];
    const workloads = new Set(edges.flatMap((e) => [e.from, e.to]).filter((p) => p.kind === 'workload').map((p) => `${p.namespace}|${p.name}`));
    for (const w of workloads) {
      const [ns, name] = w.split('|') as [string, string];
      expect(rows(md, ns).map((r) => unescape(r[0] as string).replace(/^\*\*(.*?)\*\*.*$/, '$1')), w).toContain(name);
    }
    const pos = rows(md, 'External egress').find((r) => r[0] === 'pos (cf2cnp-lab)');
    expect(pos?.[1]).toContain('example.com:443');
    expect(rows(md, 'Entities').map((r) => r[0])).toEqual(expect.arrayContaining(['host', 'remote-node']));
  });
});
