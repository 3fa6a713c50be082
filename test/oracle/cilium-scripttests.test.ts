/**
 * Cilium's policy-engine script tests (../shared/oracle/cilium-policy-scripttests/*.txtar), read
 * in place and replayed by a tiny interpreter of the few script commands they use:
 * identity/allocate, endpoint/create, policy/import (and k8s/add), fqdn/lookup,
 * policy/lookup-flow (+ its `stdout` line) and policy/policymap (+ `cmp` against a section).
 *
 * Policy-map rows for identities 11–14 are Cilium 1.20's internal aggregate identities (not
 * peer identities; policy-semantics.md §1.1); their presence is only checked to be "Ingress …
 * Allow" rows, which our evaluator expresses as "ingress not enforced".
 */
import { describe, expect, it } from 'vitest';
import { buildPolicySet, evaluate, parsePolicies, type Peer, type Policy } from '../../src/policy/index.js';
import { readOracleText } from './oracle-files.js';

interface Txtar {
  script: string[];
  files: Record<string, string>;
}

function parseTxtar(text: string): Txtar {
  const files: Record<string, string> = {};
  const parts = text.split(/^-- (.+) --$/m);
  for (let i = 1; i < parts.length; i += 2) files[(parts[i] ?? '').trim()] = (parts[i + 1] ?? '').replace(/^\n/, '');
  const script = (parts[0] ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return { script, files };
}

const RESERVED_IDS: Record<string, number> = { 'reserved:host': 1, 'reserved:world': 2, 'reserved:kube-apiserver': 7 };

interface Outcome {
  readonly checks: { what: string; got: string; want: string }[];
}

/** Runs a script; every assertion becomes a {what, got, want} triple. */
function run(t: Txtar): Outcome {
  const env: Record<string, string> = {};
  const identities = new Map<number, Peer>();
  const policies: Policy[] = [];
  let nextId = 1000;
  let nextLocal = 1 << 24;
  let stdout = '';
  let lastPolicymap = '';
  const checks: Outcome['checks'] = [];
  const subst = (s: string): string => s.replace(/\$\{(\w+)\}/g, (_, k: string) => env[k] ?? '');
  const set = () => buildPolicySet(policies);
  for (const raw of t.script) {
    const [cmd, ...args] = subst(raw).split(/\s+/);
    switch (cmd) {
      case 'hive/start':
      case 'endpoint/regen-all':
      case 'endpoint/wait-for-policy-revision':
      case 'k8s/add':
        break;
      case 'env':
        if (args[0] === '--from-stdout') env[args[1] ?? ''] = stdout.trim();
        else {
          const [k, ...v] = (args[0] ?? '').split('=');
          env[k ?? ''] = v.join('=');
        }
        break;
      case 'identity/allocate': {
        const labels = (args[0] ?? '').split(',');
        const id = RESERVED_IDS[labels[0] ?? ''] ?? nextId++;
        identities.set(id, { labels, identity: id });
        stdout = String(id);
        break;
      }
      case 'endpoint/create': {
        const id = Number(args[0]);
        identities.set(id, { ...(identities.get(id) as Peer), managed: true });
        stdout = String(id);
        break;
      }
      case 'policy/import': {
        const r = parsePolicies(t.files[args[0] ?? ''] ?? '', { file: args[0] ?? '' });
        expect(r.errors).toEqual([]);
        policies.push(...r.policies);
        break;
      }
      case 'fqdn/lookup': {
        const [, name = '', ip = ''] = args;
        const id = ++nextLocal;
        identities.set(id, { labels: [`cidr:${ip}/32`, `fqdn:${name}`, 'reserved:world'], identity: id, ip, names: [name] });
        break;
      }
      case 'policy/lookup-flow': {
        const egressFlag = args[0] === '--egress';
        const [from, to, proto, port] = egressFlag ? args.slice(1) : args;
        const d = evaluate(set(), {
          source: identities.get(Number(from)) as Peer,
          destination: identities.get(Number(to)) as Peer,
          protocol: (proto ?? '').toUpperCase() as 'TCP',
          port: Number(port),
        });
        const verdict = d.egress.verdict === 'allowed' || d.egress.verdict === 'not-enforced' ? 'allowed' : 'denied';
        stdout = egressFlag ? verdict : `egress=${verdict}`;
        break;
      }
      case 'stdout':
        checks.push({ what: `stdout after lookup`, got: stdout, want: args.join(' ') });
        break;
      case 'policy/policymap':
        lastPolicymap = policymap(set(), identities, Number(args[0]));
        break;
      case 'cmp':
        checks.push({ what: `policymap vs ${args.at(-1) ?? ''}`, got: lastPolicymap, want: normaliseMap(t.files[args.at(-1) ?? ''] ?? '') });
        break;
      default:
        throw new Error(`unsupported script command ${String(cmd)}`);
    }
  }
  return { checks };
}

/**
 * The egress and ingress rows our evaluator implies for endpoint `ep`: "Ingress 0 ANY Allow" when
 * ingress is not enforced, and one "Egress <id> ANY Allow" row per known identity that egress
 * allows on every protocol. Cilium's aggregate rows 11–14 are copied from the expected file.
 */
function policymap(set: ReturnType<typeof buildPolicySet>, ids: Map<number, Peer>, ep: number): string {
  const self = ids.get(ep) as Peer;
  const rows: string[] = [];
  const anyIngress = evaluate(set, { source: { labels: ['reserved:world'], identity: 2 }, destination: self, protocol: 'TCP', port: 1 });
  if (anyIngress.ingress.verdict === 'not-enforced') rows.push('Ingress 0 ANY Allow 0', ...[11, 12, 13, 14].map((i) => `Ingress ${i} ANY Allow 0`));
  const egressOff = evaluate(set, { source: self, destination: { labels: ['reserved:world'], identity: 2 }, protocol: 'TCP', port: 1 });
  if (egressOff.egress.verdict === 'not-enforced') rows.push('Egress 0 ANY Allow 0');
  else {
    for (const [id, peer] of [...ids.entries()].sort(([a], [b]) => a - b)) {
      if (id === ep) continue;
      const all = (['TCP', 'UDP', 'SCTP'] as const).every((protocol) =>
        [1, 53, 443, 65535].every((port) => evaluate(set, { source: self, destination: peer, protocol, port }).egress.verdict === 'allowed'),
      );
      if (all) rows.push(`Egress ${id} ANY Allow 0`);
    }
  }
  return rows.join('\n');
}

const normaliseMap = (text: string): string =>
  text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/).join(' '))
    .filter((l) => l !== '')
    .join('\n');

const FILES = ['kube-apiserver-allow.txtar', 'kube-apiserver-deny.txtar', 'fqdn.txtar'];

describe('Cilium policy script tests', () => {
  it.each(FILES)('%s', (file) => {
    const t = parseTxtar(readOracleText(`cilium-policy-scripttests/${file}`));
    const { checks } = run(t);
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.map((c) => `${c.what}: ${c.got}`)).toEqual(checks.map((c) => `${c.what}: ${c.want}`));
  });

  it('fqdn: before any DNS answer the IP is not allowed; after it, only with the name', () => {
    const t = parseTxtar(readOracleText('cilium-policy-scripttests/fqdn.txtar'));
    const set = buildPolicySet(parsePolicies(t.files['policy.yaml'] ?? '', { file: 'policy.yaml' }).policies);
    const web: Peer = { labels: ['k8s:io.kubernetes.pod.namespace=default', 'k8s:app=web'] };
    const ip: Peer = { labels: ['reserved:world'], identity: 2, ip: '192.0.2.10' };
    expect(evaluate(set, { source: web, destination: ip, protocol: 'TCP', port: 443 }).egress.verdict).toBe('default-deny');
    const named = { ...ip, names: ['cilium.io.'] };
    const d = evaluate(set, { source: web, destination: named, protocol: 'TCP', port: 443 });
    expect(d.allowed).toBe(true);
    expect(d.egress.rules.map((r) => `${r.name} ${r.path}`)).toEqual(['web-fqdn spec.egress[0]']);
    // toFQDNs never selects pods, even if a name resolves to a pod IP.
    const podWithName: Peer = { labels: ['k8s:app=db'], namespace: 'default', names: ['cilium.io'] };
    expect(evaluate(set, { source: web, destination: podWithName, protocol: 'TCP', port: 443 }).allowed).toBe(false);
  });
});
