import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

/**
 * `check --explain FROM TO PORT[/PROTO]` (issue 16) on a database replayed from lines shaped like
 * real Hubble output (the poc1 sample, Cilium 1.20): a client in blue-ns (team=blue), x/a, and the
 * API server on a control-plane node (kube-apiserver + remote-node).
 */
const sample = JSON.parse(readFileSync(join(SAMPLES_DIR, 'ephico2real2-cilium-poc__26-flow-stranger-to-shop.observer.json'), 'utf8').split('\n')[0] as string) as {
  flow: Record<string, unknown> & { source: Record<string, unknown>; destination: Record<string, unknown>; l4: { TCP: { destination_port: number } } };
};

const pod = (ns: string, app: string, nsLabels: string[], identity: number): Record<string, unknown> => ({
  identity,
  cluster_name: 'poc1',
  namespace: ns,
  labels: [`k8s:app=${app}`, ...nsLabels.map((l) => `k8s:io.cilium.k8s.namespace.labels.${l}`), 'k8s:io.cilium.k8s.policy.cluster=poc1', `k8s:io.kubernetes.pod.namespace=${ns}`],
  pod_name: `${app}-6d7d797759-4ddlt`,
  workloads: [{ name: app, kind: 'Deployment' }],
});

let n = 0;
function line(source: Record<string, unknown>, destination: Record<string, unknown>, port: number, extra: Record<string, unknown> = {}): string {
  const f = structuredClone(sample);
  Object.assign(f.flow, extra);
  f.flow.verdict = 'FORWARDED';
  delete f.flow['drop_reason'];
  delete f.flow['drop_reason_desc'];
  f.flow.uuid = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  f.flow.source = source;
  f.flow.destination = destination;
  f.flow.l4.TCP.destination_port = port;
  return JSON.stringify(f);
}

const client = pod('blue-ns', 'client', ['kubernetes.io/metadata.name=blue-ns', 'team=blue'], 117659);
const a = pod('x', 'a', ['kubernetes.io/metadata.name=x'], 94334);
const api = { identity: 7, labels: ['reserved:kube-apiserver', 'reserved:remote-node'] };

const POLICIES = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: a, namespace: x}
spec:
  endpointSelector: {matchLabels: {app: a}}
  ingress:
    - fromEndpoints: [{matchLabels: {k8s:io.cilium.k8s.namespace.labels.team: blue}}]
      toPorts: [{ports: [{port: "443", protocol: TCP}]}]
    - fromEntities: [remote-node]
      toPorts: [{ports: [{port: "8443", protocol: TCP}]}]
  egress:
    - toEntities: [kube-apiserver]
      toPorts: [{ports: [{port: "443", protocol: TCP}]}]
`;

interface SideJson {
  verdict: string;
  selectedBy: string[];
  rules: { rule: string; matches: boolean; peerMatches: boolean; portMatches: boolean; why: string }[];
  nearMisses: string[];
}
interface ExplainJson {
  allowed: boolean;
  observed: { flows: number } | null;
  notes: string[];
  identities: { allowed: boolean; blockedAt?: string; dropReason?: string; egress: SideJson; ingress: SideJson; sourceLabels: string[] }[];
}

describe('check --explain', () => {
  const tmp = tempDir();
  const db = tmp.file('explain.db');
  afterAll(() => tmp.remove());
  beforeAll(async () => {
    writeFileSync(tmp.file('flows.jsonl'), [line(client, a, 443), line(a, api, 6443), line(api, a, 8443)].join('\n') + '\n');
    writeFileSync(tmp.file('p.yaml'), POLICIES);
    expect((await runCli(['--db', db, 'replay', tmp.file('flows.jsonl')])).code).toBe(0);
  });
  const explain = async (...args: string[]): Promise<ExplainJson> => {
    const r = await runCli(['--db', db, 'check', '--policies', tmp.file('p.yaml'), '--explain', ...args, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as ExplainJson;
  };

  it('an allowed edge: the namespace-label rule matches, observed', async () => {
    const e = await explain('blue-ns/client', 'x/a', '443');
    expect(e.allowed).toBe(true);
    expect(e.observed?.flows).toBe(1);
    const ing = e.identities[0]?.ingress as SideJson;
    expect(ing.verdict).toBe('allowed');
    expect(ing.selectedBy).toEqual(['CiliumNetworkPolicy x/a']);
    expect(ing.rules.map((r) => [r.rule, r.matches])).toEqual([
      ['CiliumNetworkPolicy x/a spec.ingress[0]', true],
      ['CiliumNetworkPolicy x/a spec.ingress[1]', false],
    ]);
    expect(e.identities[0]?.sourceLabels).toContain('k8s:io.cilium.k8s.namespace.labels.team=blue');
  });

  it('the egress to the API server: "you allow 443, the traffic is 6443", and it was observed', async () => {
    const e = await explain('x/a', 'kube-apiserver', '6443/TCP');
    expect(e.allowed).toBe(false);
    const id = e.identities[0];
    expect(id?.blockedAt).toBe('egress');
    expect(id?.dropReason).toBe('POLICY_DENIED');
    expect(id?.egress.rules[0]).toMatchObject({ peerMatches: true, portMatches: false });
    expect(id?.egress.rules[0]?.why).toContain('allows 443/TCP, the traffic is 6443/TCP');
    expect(id?.egress.nearMisses).toEqual(['CiliumNetworkPolicy x/a spec.egress[0] allows this peer on 443/TCP; the traffic is 6443/TCP']);
  });

  it('a never-observed edge: same port from another peer is a near miss', async () => {
    const e = await explain('red-ns/client', 'x/a', '443');
    expect(e.observed).toBeNull();
    expect(e.notes.join('\n')).toContain('never observed');
    expect(e.allowed).toBe(false);
    const ing = e.identities[0]?.ingress as SideJson;
    expect(ing.verdict).toBe('default-deny');
    expect(ing.rules[0]?.why).toContain('needs k8s:io.cilium.k8s.namespace.labels.team=blue');
    expect(ing.nearMisses[0]).toContain('allows 443/TCP from fromEndpoints k8s:io.cilium.k8s.namespace.labels.team=blue');
  });

  it('the API server identity kept with both labels is selected by remote-node; table output', async () => {
    const e = await explain('kube-apiserver', 'x/a', '8443');
    expect(e.allowed).toBe(true);
    expect(e.identities[0]?.sourceLabels).toEqual(['reserved:kube-apiserver', 'reserved:remote-node']);
    const t = await runCli(['--db', db, 'check', '--policies', tmp.file('p.yaml'), '--explain', 'x/a', 'kube-apiserver', '6443']);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('Verdict: DROPPED at egress (POLICY_DENIED)');
    expect(t.stdout).toContain('near misses:');
  });

  it('bad input is a usage error', async () => {
    expect((await runCli(['--db', db, 'check', '--policies', tmp.file('p.yaml'), '--explain', 'x/a', 'kube-apiserver'])).code).toBe(2);
    const bad = await runCli(['--db', db, 'check', '--policies', tmp.file('p.yaml'), '--explain', 'x/a', 'kube-apiserver', '99999']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid port');
  });
});

/** FQDN and CIDR peers: judged with the IPs and names the baseline saw for them. */
describe('check --explain with fqdn: and cidr: peers', () => {
  const tmp = tempDir();
  const db = tmp.file('explain-world.db');
  afterAll(() => tmp.remove());
  const world = { identity: 2, labels: ['reserved:world'] };
  const toWorld = (ip: string, names: string[]) => ({ IP: { source: '10.10.4.3', destination: ip, ipVersion: 'IPv4' }, destination_names: names });
  beforeAll(async () => {
    writeFileSync(
      tmp.file('flows.jsonl'),
      [line(a, world, 443, toWorld('140.82.121.6', ['api.github.com'])), line(a, world, 443, toWorld('203.0.113.7', [])), line(a, world, 443, toWorld('198.51.100.9', []))].join('\n') + '\n',
    );
    writeFileSync(
      tmp.file('egress.yaml'),
      `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: a-egress, namespace: x}
spec:
  endpointSelector: {matchLabels: {app: a}}
  egress:
    - toFQDNs: [{matchName: api.github.com}]
      toPorts: [{ports: [{port: "443", protocol: TCP}]}]
    - toCIDR: [203.0.113.0/24]
      toPorts: [{ports: [{port: "443", protocol: TCP}]}]
`,
    );
    expect((await runCli(['--db', db, 'replay', tmp.file('flows.jsonl')])).code).toBe(0);
  });
  const explain = async (...args: string[]): Promise<ExplainJson> => {
    const r = await runCli(['--db', db, 'check', '--policies', tmp.file('egress.yaml'), '--explain', ...args, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as ExplainJson;
  };

  it('an observed FQDN allowed by toFQDNs; a name the policy does not list is dropped at egress', async () => {
    const ok = await explain('x/a', 'fqdn:api.github.com', '443');
    expect(ok.observed?.flows).toBe(1);
    expect(ok.allowed).toBe(true);
    expect(ok.identities[0]?.egress.rules.map((r) => [r.rule, r.matches])).toEqual([
      ['CiliumNetworkPolicy x/a-egress spec.egress[0]', true],
      ['CiliumNetworkPolicy x/a-egress spec.egress[1]', false],
    ]);
    const other = await explain('x/a', 'fqdn:evil.example.com', '443');
    expect(other.observed).toBeNull();
    expect(other.allowed).toBe(false);
    expect(other.identities[0]?.blockedAt).toBe('egress');
  });

  it('an address inside the toCIDR range is allowed, one outside is not; both observed', async () => {
    const inside = await explain('x/a', 'cidr:203.0.113.7', '443');
    expect(inside.allowed).toBe(true);
    expect(inside.identities[0]?.egress.rules.find((r) => r.matches)?.rule).toBe('CiliumNetworkPolicy x/a-egress spec.egress[1]');
    const outside = await explain('x/a', '198.51.100.9', '443');
    expect(outside.allowed).toBe(false);
    expect(outside.identities[0]?.egress.verdict).toBe('default-deny');
  });
});
