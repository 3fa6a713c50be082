import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';
import type { PeerJson } from '../helpers/peer-json.js';

/** The public Hubble samples (../shared/samples/hubble, read in place): identity on real data. */
interface EdgeJson {
  from: PeerJson;
  to: PeerJson;
  protocol: string;
  port: number;
  forwarded: number;
  dropped: number;
  dropReasons: Record<string, number>;
  dnsNames: string[];
  httpRequests: string[];
  ips: string[];
}

const label = (p: PeerJson): string =>
  p.kind === 'workload' ? `${p.namespace}/${p.workloadKind}/${p.name}` : `${p.kind}:${p.entity ?? p.fqdn ?? p.cidr}`;
const line = (e: EdgeJson): string => `${label(e.from)} -> ${label(e.to)} ${e.protocol}/${e.port}`;

describe('edges from the public Hubble samples', () => {
  const tmp = tempDir();
  const db = tmp.file('samples.db');
  let all: EdgeJson[] = [];
  beforeAll(async () => {
    const files = readdirSync(SAMPLES_DIR).sort().map((f) => join(SAMPLES_DIR, f));
    expect((await runCli(['--db', db, 'replay', ...files])).code).toBe(0);
    const r = await runCli(['--db', db, 'edges', '-A', '-o', 'json']);
    expect(r.code).toBe(0);
    all = JSON.parse(r.stdout) as EdgeJson[];
  });
  afterAll(() => tmp.remove());

  it('the DNS-learned name comes out as an FQDN, merging the flows seen before the name was known', () => {
    // flows-pos-egress(-named): the same connection to 104.20.23.154 before and after toFQDNs, once
    // with destination_names ["example.com"]; the pos-to-world sample is the same IP too.
    const e = all.find((x) => x.to.kind === 'fqdn' && x.to.fqdn === 'example.com');
    expect(e).toMatchObject({ from: { kind: 'workload', namespace: 'cf2cnp-lab', name: 'pos' }, protocol: 'TCP', port: 443, ips: ['104.20.23.154'] });
    expect(all.filter((x) => x.to.cidr === '104.20.23.154/32')).toEqual([]);
  });

  it('reserved identities come out as entities', () => {
    const entities = new Set(all.flatMap((e) => [e.from, e.to]).filter((p) => p.kind === 'entity').map((p) => p.entity));
    expect([...entities].sort()).toEqual(['health', 'host', 'remote-node']);
    expect(all.map(line)).toEqual(
      expect.arrayContaining([
        'entity:remote-node -> entity:health TCP/4240',
        'entity:host -> entity:health ICMPv4/8',
        'entity:remote-node -> entity:health ICMPv4/8',
      ]),
    );
  });

  it('unresolved world IPs are /32 CIDRs; nothing is left as a bare world entity when the IP is known', () => {
    expect(all.find((e) => e.to.cidr === '35.246.31.234/32')).toMatchObject({ from: { namespace: 'kube-system', workloadKind: 'Deployment', name: 'event-exporter' } });
    expect(all.filter((e) => e.to.entity === 'world' || e.from.entity === 'world')).toEqual([]);
  });

  it('workloads come from owners, labels or stripped pod names, never from a pod name with hashes', () => {
    const names = all.flatMap((e) => [e.from, e.to]).filter((p) => p.kind === 'workload').map((p) => `${p.namespace}/${p.workloadKind}/${p.name}`);
    expect(names.filter((n) => /-[bcdfghjklmnpqrstvwxz2456789]{5}$|-[a-z0-9]{8,10}-/.test(n))).toEqual([]);
    expect(names).toEqual(
      expect.arrayContaining([
        'kube-system/Deployment/coredns', // workloads[]
        'kube-system/DaemonSet/node-local-dns', // k8s-app label, DaemonSet pod-name shape
        'default/Deployment/deathstar', // field-masked: pod name only
        'default/Pod/xwing', // a bare pod
        'cf2cnp-lab/Deployment/shop', // workloads[] on some flows, labels only on others: one workload
      ]),
    );
    expect(names.filter((n) => n.startsWith('cf2cnp-lab/') && n.endsWith('/shop') && n !== 'cf2cnp-lab/Deployment/shop')).toEqual([]);
  });

  it('replies make no edges, drops keep their reasons, DNS and HTTP evidence is on the edges', () => {
    expect(all.filter((e) => e.port >= 32768)).toEqual([]);
    expect(all.find((e) => e.from.name === 'xwing')).toMatchObject({ forwarded: 0, dropped: 1, dropReasons: { POLICY_DENIED: 1 } });
    expect(all.find((e) => e.from.name === 'stranger' && e.to.name === 'shop')).toMatchObject({ forwarded: 0, dropped: 3 });
    const dns = all.find((e) => e.from.name === 'productpage' && e.to.name === 'kube-dns' && e.port === 53);
    expect(dns?.dnsNames).toEqual(expect.arrayContaining(['details.bookinfo.svc.cluster.local', 'reviews.bookinfo.svc.cluster.local']));
    expect(all.find((e) => e.from.name === 'shop-frontend')?.httpRequests).toEqual(['GET /api/orders']);
  });

  it('filters: -n, --from, --to, and flag conflicts are usage errors', async () => {
    const r = await runCli(['--db', db, 'edges', '-n', 'cf2cnp-lab', '--to', 'fqdn:*.com', '-o', 'json']);
    expect((JSON.parse(r.stdout) as EdgeJson[]).map(line)).toEqual(['cf2cnp-lab/Pod/pos -> fqdn:example.com TCP/443']);
    const health = await runCli(['--db', db, 'edges', '--to', 'health', '--from', 'remote-node', '-o', 'json']);
    expect((JSON.parse(health.stdout) as EdgeJson[]).map(line)).toEqual(['entity:remote-node -> entity:health ICMPv4/8', 'entity:remote-node -> entity:health TCP/4240']);
    const conflict = await runCli(['--db', db, 'edges', '-A', '-n', 'x']);
    expect(conflict).toMatchObject({ code: 2, stderr: 'Error: cannot set both -A and --namespace\n' });
    const bad = await runCli(['--db', db, 'edges', '--from', 'a/b/c/d']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid peer "a\/b\/c\/d"/);
  });

  it('--workload-config overrides identity at read time; a bad file names the field', async () => {
    const { writeFileSync } = await import('node:fs');
    const cfg = tmp.file('workloads.yaml');
    writeFileSync(cfg, 'workloadRules:\n  - label: app.kubernetes.io/name\n    kind: App\n    namespaces: [cf2cnp-lab]\n');
    const r = await runCli(['--db', db, 'edges', '-n', 'cf2cnp-lab', '--workload-config', cfg, '-o', 'json']);
    expect(r.code).toBe(0);
    const froms = new Set((JSON.parse(r.stdout) as EdgeJson[]).map((e) => label(e.from)));
    expect([...froms].sort()).toEqual(['cf2cnp-lab/App/pos', 'cf2cnp-lab/App/stranger']);
    writeFileSync(cfg, 'workloadRules:\n  - label: app\n');
    const bad = await runCli(['--db', db, 'edges', '--workload-config', cfg]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`Error: ${cfg}:workloadRules[0].kind: expected a kind such as Cluster\n`);
  });

  it('the table view is readable and a missing database is a one-line error', async () => {
    const t = await runCli(['--db', db, 'edges', '-n', 'default']);
    expect(t.stdout.split('\n')[0]).toMatch(/^FROM\s+TO\s+PORT\s+FLOWS/);
    expect(t.stdout).toMatch(/default\/Pod\/xwing\s+default\/Deployment\/deathstar\s+80\/TCP/);
    const missing = await runCli(['--db', tmp.file('nope.db'), 'edges']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such database/);
  });
});
