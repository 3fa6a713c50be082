/**
 * Every flow expectation of Cilium's connectivity suite (../shared/oracle/cilium-connectivity/
 * expectations.yaml) against its manifests, read in place. Placeholders are filled with the
 * defaults expectations.yaml lists; three it does not list are filled with cilium-cli's defaults
 * (ExternalCIDRv6 2606:4700:4700::/96, ExternalIPv6 2606:4700:4700::1111, ExternalOtherIPv6
 * 2606:4700:4700::1001) and the cluster name is "default" (ClusterNameLocal/Remote, no mesh).
 * The test namespace stays "cilium-test", so the manifests' literal namespace needs no rewrite.
 */
import { describe, expect, it } from 'vitest';
import { buildPolicySet, evaluate, parsePolicies, type Decision, type EvaluationRequest, type L7Request, type Peer } from '../../src/policy/index.js';
import { readOracleText, readOracleYaml } from './oracle-files.js';

interface Expectation {
  flow: string;
  expect: 'allowed' | 'dropped-egress' | 'denied-egress' | 'dropped-ingress' | 'denied-ingress' | 'l7-denied';
}
interface TestCase {
  name: string;
  policies: string[];
  flows: Expectation[];
}
const oracle = readOracleYaml('cilium-connectivity/expectations.yaml') as {
  topology: { external: Record<string, string> };
  tests: TestCase[];
};

const TEMPLATE_VALUES: Record<string, string> = {
  ...oracle.topology.external,
  ExternalCIDRv6: '2606:4700:4700::/96',
  ExternalIPv6: '2606:4700:4700::1111',
  ExternalOtherIPv6: '2606:4700:4700::1001',
  ClusterNameLocal: 'default',
  ClusterNameRemote: 'default',
};

function fillTemplate(text: string): string {
  return text
    .replace(/\{\{\s*trimSuffix\s+\.(\w+)\s+"\."\s*\}\}/g, (_, k: string) => value(k).replace(/\.$/, ''))
    .replace(/\{\{\s*\.(\w+)\s*(\|\s*ipToCIDR\s*)?\}\}/g, (_, k: string, toCidr?: string) => {
      const v = value(k);
      return toCidr ? `${v}/${v.includes(':') ? 128 : 32}` : v;
    });
}

function value(k: string): string {
  const v = TEMPLATE_VALUES[k];
  if (v === undefined) throw new Error(`no default for template value ${k}`);
  return v;
}

const NS = 'cilium-test';
function pod(name: string, labels: Record<string, string>, namespace = NS, ports?: Peer['namedPorts']): Peer {
  return {
    labels: [
      ...Object.entries(labels).map(([k, v]) => `k8s:${k}=${v}`),
      `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${namespace}`,
      'k8s:io.cilium.k8s.policy.cluster=default',
      `k8s:io.cilium.k8s.policy.serviceaccount=${name}`,
    ],
    namespace,
    ...(ports && { namedPorts: ports }),
  };
}
const echoPorts = { 'http-8080': { port: 8080, protocol: 'TCP' as const } };
const world = (ip: string, names: string[] = []): Peer => ({ labels: ['reserved:world'], identity: 2, ip, names });

const PEERS = {
  client: pod('client', { name: 'client', kind: 'client' }),
  client2: pod('client2', { name: 'client2', kind: 'client', other: 'client' }),
  client3: pod('client3', { name: 'client3', kind: 'client', other: 'client-other-node' }),
  echoSame: pod('echo-same-node', { name: 'echo-same-node', kind: 'echo', other: 'echo' }, NS, echoPorts),
  echoOther: pod('echo-other-node', { name: 'echo-other-node', kind: 'echo', first: 'echo' }, NS, echoPorts),
  kubeDns: pod('coredns', { 'k8s-app': 'kube-dns' }, 'kube-system', { dns: { port: 53, protocol: 'UDP' }, 'dns-tcp': { port: 53, protocol: 'TCP' } }),
  ccnp1: pod('client-ccnp', { name: 'client-ccnp', kind: 'ccnp' }, 'cilium-test-ccnp1'),
  ccnp2: pod('client-ccnp', { name: 'client-ccnp', kind: 'ccnp' }, 'cilium-test-ccnp2'),
  oneOneV4a: world('1.1.1.1', ['one.one.one.one']),
  oneOneV4b: world('1.0.0.1', ['one.one.one.one']),
  k8sIo: world('34.107.204.206', ['k8s.io']),
  host: { labels: ['reserved:host'], identity: 1, ip: '172.18.0.2' },
  remoteNode: { labels: ['reserved:remote-node'], identity: 6, ip: '172.18.0.3' },
} satisfies Record<string, Peer>;
type Name = keyof typeof PEERS;

interface Req {
  from: Name;
  to: Name;
  protocol: EvaluationRequest['protocol'];
  port?: number;
  l7?: L7Request;
}
const CLIENTS: Name[] = ['client', 'client2', 'client3'];
const ECHOS: Name[] = ['echoSame', 'echoOther'];
const tcp = (from: Name[], to: Name[], port: number, l7?: L7Request): Req[] =>
  from.flatMap((f) => to.map((t) => ({ from: f, to: t, protocol: 'TCP' as const, port, ...(l7 && { l7 }) })));
const ping = (from: Name[], to: Name[]): Req[] =>
  from.flatMap((f) => to.filter((t) => t !== f).map((t) => ({ from: f, to: t, protocol: 'ICMPv4' as const })));
const get = (path: string, headers: { key: string; value: string }[] = []): L7Request => ({ http: { method: 'GET', path, headers } });

/** Each flow text of expectations.yaml as concrete requests (a missing entry fails the test). */
const FLOWS: Record<string, Req[]> = {
  'client* -> echo*:8080/TCP': tcp(CLIENTS, ECHOS, 8080),
  'client* -> echo*:8080/TCP (pod IP and via endpoints)': tcp(CLIENTS, ECHOS, 8080),
  // Policy applies after service translation: the ClusterIP flow is judged against the backend pod.
  'client* -> echo service ClusterIP:8080/TCP': tcp(CLIENTS, ECHOS, 8080),
  'client* -> 1.1.1.1:443/TCP, 1.0.0.1:443/TCP': tcp(CLIENTS, ['oneOneV4a', 'oneOneV4b'], 443),
  'client* -> 1.1.1.1:443/TCP': tcp(CLIENTS, ['oneOneV4a'], 443),
  'client* -> 1.0.0.1:443/TCP': tcp(CLIENTS, ['oneOneV4b'], 443),
  'client* -> client* ICMP': ping(CLIENTS, CLIENTS),
  'client* -> node IP ICMP': ping(CLIENTS, ['host', 'remoteNode']),
  'client* -> node IPs ICMP': ping(CLIENTS, ['host', 'remoteNode']),
  'client2 -> client, client3 ICMP': ping(['client2'], ['client', 'client3']),
  'client, client3 -> any other client* ICMP': ping(['client', 'client3'], CLIENTS),
  'client2 -> echo*:8080/TCP': tcp(['client2'], ECHOS, 8080),
  'client, client3 -> echo*:8080/TCP': tcp(['client', 'client3'], ECHOS, 8080),
  'client -> echo*:8080/TCP': tcp(['client'], ECHOS, 8080),
  'client (name=client) -> echo*:8080/TCP': tcp(['client'], ECHOS, 8080),
  'client* -> echo-same-node:8080/TCP': tcp(CLIENTS, ['echoSame'], 8080),
  'client* -> echo-other-node:8080/TCP': tcp(CLIENTS, ['echoOther'], 8080),
  'client* -> one.one.one.one:80/TCP': tcp(CLIENTS, ['oneOneV4a', 'oneOneV4b'], 80),
  'client* -> one.one.one.one:443/TCP': tcp(CLIENTS, ['oneOneV4a', 'oneOneV4b'], 443),
  'client* -> one.one.one.one:80/TCP and :443/TCP': [
    ...tcp(CLIENTS, ['oneOneV4a', 'oneOneV4b'], 80),
    ...tcp(CLIENTS, ['oneOneV4a', 'oneOneV4b'], 443),
  ],
  'client* -> k8s.io:443/TCP': tcp(CLIENTS, ['k8sIo'], 443),
  'client* -> kube-dns:53/UDP (any name)': CLIENTS.flatMap((c) => [
    { from: c, to: 'kubeDns' as const, protocol: 'UDP' as const, port: 53 },
    { from: c, to: 'kubeDns' as const, protocol: 'UDP' as const, port: 53, l7: { dns: { query: 'one.one.one.one.' } } },
    { from: c, to: 'kubeDns' as const, protocol: 'UDP' as const, port: 53, l7: { dns: { query: 'k8s.io' } } },
  ]),
  'client2 -> echo*:8080/TCP GET /': tcp(['client2'], ECHOS, 8080, get('/')),
  'client2 -> echo*:8080/TCP other path': tcp(['client2'], ECHOS, 8080, get('/other')),
  'client2 -> one.one.one.one:80/TCP GET /': tcp(['client2'], ['oneOneV4a', 'oneOneV4b'], 80, get('/')),
  'client2 -> echo*:8080/TCP GET / and GET /public': [...tcp(['client2'], ECHOS, 8080, get('/')), ...tcp(['client2'], ECHOS, 8080, get('/public'))],
  'client2 -> echo*:8080/TCP GET /private without header X-Very-Secret-Token: 42': tcp(['client2'], ECHOS, 8080, get('/private')),
  'host-netns pods (hostNetwork, one per node) -> echo*:8080/TCP': tcp(['host', 'remoteNode'], ECHOS, 8080),
  'cilium-test-ccnp2/client-ccnp -> cilium-test-ccnp1/client-ccnp ICMP': ping(['ccnp2'], ['ccnp1']),
  'cilium-test-ccnp1/client-ccnp -> cilium-test-ccnp2/client-ccnp ICMP': ping(['ccnp1'], ['ccnp2']),
  'cilium-test-ccnp1/client-ccnp <-> cilium-test-ccnp2/client-ccnp ICMP': [...ping(['ccnp1'], ['ccnp2']), ...ping(['ccnp2'], ['ccnp1'])],
};

function outcome(d: Decision): Expectation['expect'] {
  for (const s of [d.egress, d.ingress]) {
    const where = s.direction;
    switch (s.verdict) {
      case 'default-deny':
        return `dropped-${where}`;
      case 'explicit-deny':
        return `denied-${where}`;
      case 'l7-denied':
        return 'l7-denied';
      case 'allowed':
      case 'allowed-l7-proxied':
      case 'not-enforced':
        break;
      default: {
        const never: never = s.verdict;
        return never;
      }
    }
  }
  return 'allowed';
}

function load(files: string[]) {
  const text = files.map((f) => fillTemplate(readOracleText(`cilium-connectivity/manifests/${f}`))).join('\n---\n');
  const parsed = parsePolicies(text, { file: files.join('+'), defaultNamespace: NS });
  expect(parsed.errors).toEqual([]);
  return buildPolicySet(parsed.policies);
}

const cases = oracle.tests.flatMap((t) => t.flows.map((f, i) => ({ name: `${t.name} #${i + 1}: ${f.flow} → ${f.expect}`, t, f })));

describe('Cilium connectivity suite expectations', () => {
  it('covers all 30 tests and 59 flow expectations', () => {
    expect(oracle.tests).toHaveLength(30);
    expect(cases).toHaveLength(59);
  });

  it.each(cases)('$name', ({ t, f }) => {
    const reqs = FLOWS[f.flow];
    expect(reqs, `no request mapping for "${f.flow}"`).toBeDefined();
    const set = load(t.policies);
    const got = (reqs ?? []).map((r) => {
      const d = evaluate(set, { source: PEERS[r.from], destination: PEERS[r.to], protocol: r.protocol, ...(r.port !== undefined && { port: r.port }), ...(r.l7 && { l7: r.l7 }), ...(r.protocol === 'ICMPv4' && { icmpType: 8 }) });
      return `${r.from}->${r.to} ${r.port ?? r.protocol}${r.l7?.http?.path ?? ''}: ${outcome(d)}`;
    });
    expect(got).toEqual((reqs ?? []).map((r) => `${r.from}->${r.to} ${r.port ?? r.protocol}${r.l7?.http?.path ?? ''}: ${f.expect}`));
  });
});
