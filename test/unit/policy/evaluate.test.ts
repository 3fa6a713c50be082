import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/policy/index.js';
import { APISERVER, ccnp, cnp, HOST, knp, outcome, pod, policies, REMOTE_NODE, tcp, WORLD } from './policy-helpers.js';

const web = pod('ns', { app: 'web' });
const db = pod('ns', { app: 'db' }, { namedPorts: { pg: { port: 5432, protocol: 'TCP' } } });
const other = pod('other', { app: 'web' });

describe('default deny and enforcement', () => {
  it('no policy: nothing enforced', () => {
    const d = tcp(policies(), web, db, 80);
    expect(d.allowed).toBe(true);
    expect(d.egress.verdict).toBe('not-enforced');
    expect(d.ingress.reason).toBe('no policy selects the destination for ingress');
  });

  it('ingress: [{}] turns on default deny and allows nothing; the reason names the selecting policy', () => {
    const d = tcp(policies(cnp('deny', '{endpointSelector: {}, ingress: [{}]}')), web, db, 80);
    expect(outcome(d)).toBe('ingress:default-deny');
    expect(d.dropReason).toBe('POLICY_DENIED');
    expect(d.ingress.reason).toBe('default deny: selected by CiliumNetworkPolicy ns/deny, no rule allows');
    expect(d.ingress.selectedBy.map((p) => p.name)).toEqual(['deny']);
  });

  it('ingress: [] contributes nothing for that direction', () => {
    const set = policies(cnp('p', '{endpointSelector: {}, ingress: [], egress: [{toEndpoints: [{}]}]}'));
    expect(tcp(set, web, db, 80).ingress.verdict).toBe('not-enforced');
  });

  it('egressDeny alone makes egress default deny', () => {
    const set = policies(cnp('p', '{endpointSelector: {}, egressDeny: [{toEntities: [world]}]}'));
    expect(outcome(tcp(set, web, db, 80))).toBe('egress:default-deny');
    expect(outcome(tcp(set, web, WORLD, 80))).toBe('egress:explicit-deny');
  });

  it('enableDefaultDeny: false keeps allow-by-default, deny rules still apply; the agent flag can turn that off', () => {
    const set = policies(cnp('p', '{endpointSelector: {}, enableDefaultDeny: {egress: false}, egress: [{toEndpoints: [{matchLabels: {app: db}}]}], egressDeny: [{toEntities: [world]}]}'));
    expect(tcp(set, web, WORLD, 80).egress.verdict).toBe('explicit-deny');
    const toOther = tcp(set, web, other, 80);
    expect(toOther.egress.verdict).toBe('allowed');
    expect(toOther.egress.defaultDeny).toBe(false);
    expect(toOther.egress.reason).toMatch(/non-default-deny/);
    expect(tcp(set, web, db, 80).egress.rules.map((r) => r.path)).toEqual(['spec.egress[0]']);
    expect(outcome(tcp(set, web, other, 80, { nonDefaultDenyPolicies: false }))).toBe('egress:default-deny');
  });

  it('a side allowed or denied by several rules names each of them (allows sorted), and lists each rule once, sorted (reasons are remembered per rule)', () => {
    const set = policies(
      cnp('zeta', '{endpointSelector: {}, ingress: [{fromEndpoints: [{}]}, {fromEndpoints: [{matchLabels: {app: web}}]}]}'),
      cnp('alpha', '{endpointSelector: {}, ingress: [{fromEndpoints: [{}]}]}'),
    );
    for (let i = 0; i < 2; i++) {
      const d = tcp(set, web, db, 80);
      expect(d.ingress.reason).toBe('allowed by CiliumNetworkPolicy ns/alpha spec.ingress[0], CiliumNetworkPolicy ns/zeta spec.ingress[0], CiliumNetworkPolicy ns/zeta spec.ingress[1]');
      expect(d.ingress.rules.map((r) => `${r.name} ${r.path}`)).toEqual(['alpha spec.ingress[0]', 'zeta spec.ingress[0]', 'zeta spec.ingress[1]']);
    }
    const denied = policies(
      cnp('b', '{endpointSelector: {}, ingressDeny: [{fromEndpoints: [{}]}], ingress: [{fromEndpoints: [{}]}]}'),
      cnp('a', '{endpointSelector: {}, ingressDeny: [{fromEndpoints: [{matchLabels: {app: web}}]}]}'),
    );
    const d = tcp(denied, web, db, 80);
    expect(d.ingress.reason).toBe('denied by CiliumNetworkPolicy ns/b spec.ingressDeny[0], CiliumNetworkPolicy ns/a spec.ingressDeny[0]');
    expect(d.ingress.rules.map((r) => r.name)).toEqual(['a', 'b']);
  });

  it('any default-deny rule wins over enableDefaultDeny: false', () => {
    const set = policies(
      cnp('soft', '{endpointSelector: {}, enableDefaultDeny: {ingress: false}, ingress: [{fromEntities: [world]}]}'),
      cnp('hard', '{endpointSelector: {}, ingress: [{fromEntities: [host]}]}'),
    );
    expect(outcome(tcp(set, web, db, 80))).toBe('ingress:default-deny');
  });

  it('enforcement modes: always makes every endpoint default deny, never disables policy', () => {
    expect(outcome(tcp(policies(), web, db, 80, { enforcementMode: 'always' }))).toBe('egress:default-deny');
    expect(tcp(policies(), web, db, 80, { enforcementMode: 'always' }).egress.reason).toBe('default deny: enforcement mode always, no rule allows');
    const deny = policies(cnp('deny', '{endpointSelector: {}, ingress: [{}]}'));
    expect(tcp(deny, web, db, 80, { enforcementMode: 'never' }).allowed).toBe(true);
  });

  it('init endpoints are always default deny', () => {
    const init = { labels: ['reserved:init'], identity: 5 };
    expect(outcome(tcp(policies(), init, db, 80))).toBe('egress:default-deny');
  });

  it('local host → pod ingress is implicitly allowed unless allow-localhost=policy; remote nodes are not', () => {
    const set = policies(cnp('deny', '{endpointSelector: {}, ingress: [{}]}'));
    const d = tcp(set, HOST, db, 8080);
    expect(d.allowed).toBe(true);
    expect(d.ingress.implicit).toBe('local-host');
    expect(outcome(tcp(set, HOST, db, 8080, { allowLocalhost: 'policy' }))).toBe('ingress:default-deny');
    expect(outcome(tcp(set, REMOTE_NODE, db, 8080))).toBe('ingress:default-deny');
  });

  it('an explicit deny beats the local-host exemption', () => {
    const set = policies(cnp('p', '{endpointSelector: {}, ingressDeny: [{fromEntities: [host]}]}'));
    expect(outcome(tcp(set, HOST, db, 80))).toBe('ingress:explicit-deny');
  });

  it('the host is enforced only with the host firewall, and only by nodeSelector policies', () => {
    const set = policies(ccnp('hostfw', '{nodeSelector: {}, ingress: [{fromEntities: [cluster]}]}'), ccnp('pods', '{endpointSelector: {}, egress: [{}]}'));
    expect(tcp(set, WORLD, HOST, 22).allowed).toBe(true);
    expect(outcome(tcp(set, WORLD, HOST, 22, { hostFirewall: true }))).toBe('ingress:default-deny');
    expect(tcp(set, web, HOST, 22, { hostFirewall: true }).ingress.rules.map((r) => r.name)).toEqual(['hostfw']);
    // The pods CCNP (endpointSelector {}) does not select the host's egress.
    expect(tcp(set, HOST, WORLD, 443, { hostFirewall: true }).egress.verdict).toBe('not-enforced');
  });

  it('world and remote nodes are not Cilium endpoints: their side is not enforced', () => {
    const set = policies(ccnp('all', '{endpointSelector: {}, ingress: [{}], egress: [{}]}'));
    expect(tcp(set, WORLD, REMOTE_NODE, 80).allowed).toBe(true);
  });
});

describe('deny over allow, attribution', () => {
  const set = policies(
    cnp('allow-all', '{endpointSelector: {}, egress: [{toEndpoints: [{}]}, {toEndpoints: [{matchLabels: {app: db}}], toPorts: [{ports: [{port: "5432"}]}]}]}'),
    cnp('deny-pg', '{endpointSelector: {}, egressDeny: [{toEndpoints: [{matchLabels: {app: db}}], toPorts: [{ports: [{port: "5432", protocol: TCP}]}]}]}'),
  );

  it('reports every matching allow rule', () => {
    const d = tcp(set, web, db, 80);
    expect(d.egress.verdict).toBe('allowed');
    expect(d.egress.rules.map((r) => `${r.name} ${r.section}[${r.ruleIndex}]`)).toEqual(['allow-all egress[0]']);
  });

  it('a matching deny wins and is the only rule reported', () => {
    const d = tcp(set, web, db, 5432);
    expect(outcome(d)).toBe('egress:explicit-deny');
    expect(d.dropReason).toBe('POLICY_DENY');
    expect(d.egress.rules.map((r) => `${r.kind} ${r.namespace}/${r.name} ${r.direction} ${r.path}`)).toEqual(['CiliumNetworkPolicy ns/deny-pg egress spec.egressDeny[0]']);
  });

  it('a deny on one port leaves other ports and ICMP to the allows', () => {
    expect(tcp(set, web, db, 5433).allowed).toBe(true);
    expect(evaluate(set, { source: web, destination: db, protocol: 'ICMPv4', icmpType: 8 }).allowed).toBe(true);
  });
});

describe('selectors and namespaces', () => {
  it('a CNP selects only pods of its namespace; an unprefixed foreign namespace selects nothing', () => {
    const set = policies(
      cnp('p', '{endpointSelector: {matchLabels: {app: web}}, egress: [{}]}'),
      cnp('q', '{endpointSelector: {matchLabels: {io.kubernetes.pod.namespace: other}}, ingress: [{}]}'),
    );
    expect(outcome(tcp(set, web, db, 80))).toBe('egress:default-deny');
    expect(tcp(set, other, db, 80).allowed).toBe(true);
    expect(tcp(set, web, other, 80, {}).ingress.verdict).toBe('not-enforced');
  });

  it('a k8s:-prefixed foreign namespace in a CNP subject is overwritten by the policy namespace', () => {
    const set = policies(cnp('p', '{endpointSelector: {matchLabels: {"k8s:io.kubernetes.pod.namespace": other}}, ingress: [{}]}'));
    expect(outcome(tcp(set, web, db, 80))).toBe('ingress:default-deny');
    expect(tcp(set, web, other, 80).allowed).toBe(true);
  });

  it('CNP peers get the policy namespace unless they name one', () => {
    const set = policies(
      cnp('p', '{endpointSelector: {matchLabels: {app: db}}, ingress: [{fromEndpoints: [{matchLabels: {app: web}}]}, {fromEndpoints: [{matchLabels: {app: web, k8s:io.kubernetes.pod.namespace: other}}], toPorts: [{ports: [{port: "81"}]}]}]}'),
    );
    expect(tcp(set, web, db, 80).allowed).toBe(true);
    expect(outcome(tcp(set, other, db, 80))).toBe('ingress:default-deny');
    expect(tcp(set, other, db, 81).allowed).toBe(true);
  });

  it('CCNP fromEndpoints [{}] means every pod in every namespace but no reserved identity', () => {
    const set = policies(ccnp('c', '{endpointSelector: {}, ingress: [{fromEndpoints: [{}]}]}'));
    expect(tcp(set, other, db, 80).allowed).toBe(true);
    expect(outcome(tcp(set, WORLD, db, 80))).toBe('ingress:default-deny');
    expect(outcome(tcp(set, REMOTE_NODE, db, 80))).toBe('ingress:default-deny');
  });

  it('CCNP endpointSelector {} also selects the health endpoint', () => {
    const health = { labels: ['reserved:health'], identity: 4 };
    const set = policies(ccnp('c', '{endpointSelector: {}, ingress: [{}]}'));
    expect(outcome(tcp(set, REMOTE_NODE, health, 4240))).toBe('ingress:default-deny');
    const fixed = policies(ccnp('c', '{endpointSelector: {}, ingress: [{fromEntities: [remote-node, health]}]}'));
    expect(tcp(fixed, REMOTE_NODE, health, 4240).allowed).toBe(true);
  });

  it('peer selectors select only the local cluster unless they name one (policy-default-local-cluster)', () => {
    const remote = pod('ns', { app: 'web' }, { labels: ['k8s:app=web', 'k8s:io.cilium.k8s.policy.cluster=c2'] });
    const set = policies(
      cnp('p', '{endpointSelector: {matchLabels: {app: db}}, ingress: [{fromEndpoints: [{matchLabels: {app: web}}]}, {fromEndpoints: [{matchLabels: {app: web, io.cilium.k8s.policy.cluster: c2}}], toPorts: [{ports: [{port: "81"}]}]}]}'),
    );
    expect(tcp(set, web, db, 80).allowed).toBe(true);
    expect(outcome(tcp(set, remote, db, 80))).toBe('ingress:default-deny');
    expect(tcp(set, remote, db, 81).allowed).toBe(true);
    expect(tcp(set, remote, db, 80, { defaultLocalCluster: false }).allowed).toBe(true);
    expect(tcp(set, { labels: ['k8s:app=web'], namespace: 'ns' }, db, 80).allowed).toBe(true);
  });

  it('reserved-label peer selectors get no namespace', () => {
    const set = policies(cnp('p', '{endpointSelector: {}, ingress: [{fromEndpoints: [{matchLabels: {"reserved:host": ""}}]}]}'));
    expect(tcp(set, HOST, db, 80, { allowLocalhost: 'policy' }).allowed).toBe(true);
  });

  it('matchExpressions NotIn / DoesNotExist', () => {
    const set = policies(cnp('p', '{endpointSelector: {matchExpressions: [{key: app, operator: NotIn, values: [web]}, {key: legacy, operator: DoesNotExist}]}, ingress: [{}]}'));
    expect(outcome(tcp(set, web, db, 80))).toBe('ingress:default-deny');
    expect(tcp(set, db, web, 80).allowed).toBe(true);
    expect(tcp(set, web, pod('ns', { app: 'db', legacy: 'yes' }), 80).allowed).toBe(true);
  });
});

describe('peers: missing vs [] vs [{}]', () => {
  it('no peer field but toPorts = any peer on those ports, world included', () => {
    const set = policies(cnp('p', '{endpointSelector: {}, ingress: [{toPorts: [{ports: [{port: "80", protocol: TCP}]}]}]}'));
    expect(tcp(set, WORLD, db, 80).allowed).toBe(true);
    expect(tcp(set, other, db, 80).allowed).toBe(true);
    expect(outcome(tcp(set, other, db, 81))).toBe('ingress:default-deny');
  });

  it('fromEndpoints: [] selects nothing, even with toPorts', () => {
    const set = policies(cnp('p', '{endpointSelector: {}, ingress: [{fromEndpoints: [], toPorts: [{ports: [{port: "80"}]}]}]}'));
    expect(outcome(tcp(set, web, db, 80))).toBe('ingress:default-deny');
  });

  it('an explicitly empty peer list voids the whole rule, even beside other peer fields', () => {
    const set = policies(cnp('p', '{endpointSelector: {}, ingress: [{fromEndpoints: [], fromEntities: [world]}]}'));
    expect(outcome(tcp(set, WORLD, db, 80))).toBe('ingress:default-deny');
  });

  it('fromEndpoints: [{}] in a CNP = all pods of the namespace, no other namespace, no world', () => {
    const set = policies(cnp('p', '{endpointSelector: {}, ingress: [{fromEndpoints: [{}]}]}'));
    expect(tcp(set, web, db, 80).allowed).toBe(true);
    expect(outcome(tcp(set, other, db, 80))).toBe('ingress:default-deny');
    expect(outcome(tcp(set, WORLD, db, 80))).toBe('ingress:default-deny');
  });

  it('toPorts: [{}] (a port rule without ports) allows nothing; toPorts: [] is L3 only', () => {
    const none = policies(cnp('p', '{endpointSelector: {}, egress: [{toEndpoints: [{}], toPorts: [{}]}]}'));
    expect(outcome(tcp(none, web, db, 80))).toBe('egress:default-deny');
    const l3 = policies(cnp('p', '{endpointSelector: {}, egress: [{toEndpoints: [{}], toPorts: []}]}'));
    expect(tcp(l3, web, db, 80).allowed).toBe(true);
  });
});

describe('NetworkPolicy as Cilium reads it', () => {
  it('policyTypes defaulting: egress rules without policyTypes isolate ingress too', () => {
    const set = policies(knp('n', '{podSelector: {}, egress: [{to: [{podSelector: {}}]}]}'));
    expect(outcome(tcp(set, web, db, 80))).toBe('ingress:default-deny');
    const egressOnly = policies(knp('n', '{podSelector: {}, policyTypes: [Egress], egress: [{to: [{podSelector: {}}]}]}'));
    expect(tcp(egressOnly, web, db, 80).allowed).toBe(true);
    expect(outcome(tcp(egressOnly, web, other, 80))).toBe('egress:default-deny');
  });

  it('a rule without from = every identity; missing protocol = TCP; missing port = all ports of the protocol', () => {
    const set = policies(knp('n', '{podSelector: {}, ingress: [{ports: [{port: 53}]}, {ports: [{protocol: UDP}]}]}'));
    expect(tcp(set, WORLD, db, 53).allowed).toBe(true);
    expect(evaluate(set, { source: WORLD, destination: db, protocol: 'UDP', port: 9999 }).allowed).toBe(true);
    expect(outcome(tcp(set, WORLD, db, 54))).toBe('ingress:default-deny');
    expect(outcome(evaluate(set, { source: WORLD, destination: db, protocol: 'SCTP', port: 53 }))).toBe('ingress:default-deny');
  });

  it('namespaceSelector matches namespace labels; {} = all pods, no reserved identities', () => {
    const nsLabelled = pod('team', { app: 'x', 'io.cilium.k8s.namespace.labels.tier': 'front' });
    const set = policies(knp('n', '{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {tier: front}}}]}, {from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}]}]}'));
    expect(tcp(set, nsLabelled, db, 80).allowed).toBe(true);
    expect(tcp(set, other, db, 80).allowed).toBe(true);
    expect(outcome(tcp(set, pod('other', { app: 'api' }), db, 80))).toBe('ingress:default-deny');
    expect(outcome(tcp(set, WORLD, db, 80))).toBe('ingress:default-deny');
  });

  it('ipBlock matches external IPs with except, never pods or nodes', () => {
    const set = policies(knp('n', '{podSelector: {}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [8.8.8.0/24]}}]}]}'));
    expect(tcp(set, web, { ...WORLD, ip: '1.1.1.1' }, 443).allowed).toBe(true);
    expect(outcome(tcp(set, web, WORLD, 443))).toBe('egress:default-deny');
    expect(outcome(tcp(set, web, { ...db, ip: '10.0.0.9' }, 443))).toBe('egress:default-deny');
    expect(outcome(tcp(set, web, REMOTE_NODE, 443))).toBe('egress:default-deny');
    expect(tcp(set, web, REMOTE_NODE, 443, { cidrMatchNodes: true }).allowed).toBe(true);
  });
});

describe('entities', () => {
  const egress = (entities: string) => policies(cnp('p', `{endpointSelector: {}, egress: [{toEntities: [${entities}]}]}`));

  it.each([
    ['world', WORLD, true],
    ['world', { labels: ['cidr:1.2.3.4/32', 'reserved:world'], identity: 16777300 }, true],
    ['world', { labels: ['fqdn:api.example.com'], identity: 16777301 }, true],
    ['world', HOST, false],
    ['world-ipv4', WORLD, false],
    ['world-ipv4', { labels: ['reserved:world-ipv4'], identity: 9 }, true],
    ['cluster', db, true],
    ['cluster', HOST, true],
    ['cluster', WORLD, false],
    ['cluster', pod('ns', { app: 'x' }, { labels: ['k8s:app=x', 'k8s:io.cilium.k8s.policy.cluster=mesh-2'] }), false],
    ['host', HOST, true],
    ['remote-node', APISERVER, true],
    ['kube-apiserver', APISERVER, true],
    ['kube-apiserver', REMOTE_NODE, false],
    ['all', WORLD, true],
    ['none', WORLD, false],
  ] as const)('toEntities %s → %j: %s', (entity, peer, allowed) => {
    expect(tcp(egress(entity), web, peer, 443).allowed).toBe(allowed);
  });
});

describe('peers that share one label list', () => {
  // `check` hands the evaluator one label list for thousands of world peers, and the evaluator
  // parses each list once: what else a peer carries must still be its own.
  it('keep their own address, numeric identity and namespace', () => {
    const shared = ['reserved:world'];
    const set = policies(cnp('out', '{endpointSelector: {matchLabels: {app: web}}, egress: [{toCIDR: [10.1.0.0/16]}]}'));
    expect(tcp(set, web, { labels: shared, ip: '10.1.2.3' }, 443).allowed).toBe(true);
    expect(tcp(set, web, { labels: shared, ip: '10.2.2.3' }, 443).allowed).toBe(false);
    expect(tcp(set, web, { labels: shared, ip: '10.1.9.9' }, 443).allowed).toBe(true);

    const none: string[] = [];
    const hostOnly = policies(cnp('in', '{endpointSelector: {matchLabels: {app: db}}, ingress: [{fromEntities: [host]}]}'));
    expect(tcp(hostOnly, { labels: none, identity: 1 }, db, 5432).allowed).toBe(true);
    expect(tcp(hostOnly, { labels: none, identity: 2 }, db, 5432).allowed).toBe(false);
    expect(tcp(hostOnly, { labels: none, identity: 1 }, db, 5432).allowed).toBe(true);

    const app = ['k8s:app=web'];
    const fromNs = policies(cnp('in', '{endpointSelector: {matchLabels: {app: db}}, ingress: [{fromEndpoints: [{matchLabels: {app: web}}]}]}'));
    expect(tcp(fromNs, { labels: app, namespace: 'ns' }, db, 5432).allowed).toBe(true);
    expect(tcp(fromNs, { labels: app, namespace: 'other' }, db, 5432).allowed).toBe(false);
    expect(tcp(fromNs, { labels: app }, db, 5432).allowed).toBe(false);
    expect(tcp(fromNs, { labels: app, namespace: 'ns' }, db, 5432).allowed).toBe(true);
  });
});
