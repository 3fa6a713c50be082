import { describe, expect, it } from 'vitest';
import { evaluate, fqdnMatches, type Peer } from '../../../src/policy/index.js';
import { cnp, outcome, pod, policies, tcp, WORLD } from './policy-helpers.js';

const web = pod('ns', { app: 'web' });
const db = pod('ns', { app: 'db' }, { namedPorts: { pg: { port: 5432, protocol: 'TCP' }, metrics: { port: 9090, protocol: 'UDP' } } });
const egress = (rule: string) => policies(cnp('p', `{endpointSelector: {matchLabels: {app: web}}, egress: [${rule}]}`));

describe('ports', () => {
  it('protocol ANY covers TCP, UDP and SCTP but not ICMP', () => {
    const set = egress('{toEndpoints: [{}], toPorts: [{ports: [{port: "53"}]}]}');
    for (const protocol of ['TCP', 'UDP', 'SCTP'] as const) expect(evaluate(set, { source: web, destination: db, protocol, port: 53 }).allowed).toBe(true);
    expect(outcome(evaluate(set, { source: web, destination: db, protocol: 'ICMPv4', icmpType: 8 }))).toBe('egress:default-deny');
  });

  it('L3-only rules allow ICMP too', () => {
    const set = egress('{toEndpoints: [{}]}');
    expect(evaluate(set, { source: web, destination: db, protocol: 'ICMPv6', icmpType: 128 }).allowed).toBe(true);
  });

  it('port "0" = all ports of the protocol; endPort is an inclusive range', () => {
    const all = egress('{toEndpoints: [{}], toPorts: [{ports: [{port: "0", protocol: UDP}]}]}');
    expect(evaluate(all, { source: web, destination: db, protocol: 'UDP', port: 4242 }).allowed).toBe(true);
    expect(tcp(all, web, db, 4242).allowed).toBe(false);
    const range = egress('{toEndpoints: [{}], toPorts: [{ports: [{port: "8000", endPort: 8010, protocol: TCP}]}]}');
    expect([7999, 8000, 8010, 8011].map((p) => tcp(range, web, db, p).allowed)).toEqual([false, true, true, false]);
  });

  it('named ports resolve on the receiving endpoint, protocol included', () => {
    const set = egress('{toEndpoints: [{}], toPorts: [{ports: [{port: pg}, {port: metrics, protocol: TCP}]}]}');
    expect(tcp(set, web, db, 5432).allowed).toBe(true);
    expect(tcp(set, web, db, 5433).allowed).toBe(false);
    expect(tcp(set, web, pod('ns', { app: 'x' }), 5432).allowed).toBe(false);
    expect(evaluate(set, { source: web, destination: db, protocol: 'UDP', port: 9090 }).allowed).toBe(false);
  });

  it('icmps rules match type and family, by number or name', () => {
    const set = egress('{toEndpoints: [{}], icmps: [{fields: [{type: EchoRequest}, {type: 128, family: IPv6}]}]}');
    expect(evaluate(set, { source: web, destination: db, protocol: 'ICMPv4', icmpType: 8 }).allowed).toBe(true);
    expect(evaluate(set, { source: web, destination: db, protocol: 'ICMPv4', icmpType: 13 }).allowed).toBe(false);
    expect(evaluate(set, { source: web, destination: db, protocol: 'ICMPv6', icmpType: 128 }).allowed).toBe(true);
    expect(tcp(set, web, db, 80).allowed).toBe(false);
  });
});

describe('L7', () => {
  const http = '{toEndpoints: [{}], toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: GET, path: "/api/.*"}, {method: POST, path: /login, headers: ["X-Token: 1"]}]}}]}';

  it('an L3/L4 match with L7 rules is allowed but proxied; without L7 data it is not judged', () => {
    const d = tcp(egress(http), web, db, 80);
    expect(d.allowed).toBe(true);
    expect(d.egress.verdict).toBe('allowed-l7-proxied');
    expect(d.egress.reason).toMatch(/not judged/);
  });

  it.each([
    ['GET', '/api/users', [], 'allowed-l7-proxied'],
    ['GET', '/other', [], 'l7-denied'],
    ['POST', '/login', [{ key: 'x-token', value: '1' }], 'allowed-l7-proxied'],
    ['POST', '/login', [], 'l7-denied'],
    ['POST', '/login/x', [{ key: 'X-Token', value: '1' }], 'l7-denied'],
  ])('%s %s %j → %s', (method, path, headers, verdict) => {
    const d = tcp(egress(http), web, db, 80, {}, { l7: { http: { method, path, headers } } });
    expect(d.egress.verdict).toBe(verdict);
    expect(d.allowed).toBe(verdict !== 'l7-denied');
    if (!d.allowed) expect(d.dropReason).toBeUndefined();
  });

  it('an L4-only allow on the same port voids the L7 rules; L3-only and port-range allows do not', () => {
    const voided = egress(`${http}, {toEndpoints: [{}], toPorts: [{ports: [{port: "80", protocol: TCP}]}]}`);
    const d = tcp(voided, web, db, 80, {}, { l7: { http: { method: 'DELETE', path: '/' } } });
    expect(d.egress.verdict).toBe('allowed');
    expect(d.egress.reason).toMatch(/voided/);
    expect(d.egress.rules.map((r) => r.path)).toEqual(['spec.egress[0]', 'spec.egress[1]']);
    const range = egress(`${http}, {toEndpoints: [{}], toPorts: [{ports: [{port: "1", endPort: 1000, protocol: TCP}]}]}`);
    expect(tcp(range, web, db, 80, {}, { l7: { http: { method: 'DELETE', path: '/' } } }).egress.verdict).toBe('l7-denied');
    const l3 = egress(`${http}, {toEndpoints: [{}]}`);
    expect(tcp(l3, web, db, 80, {}, { l7: { http: { method: 'DELETE', path: '/' } } }).egress.verdict).toBe('l7-denied');
  });

  it('DNS rules judge the query name', () => {
    const set = egress('{toEndpoints: [{}], toPorts: [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "*.cluster.local"}]}}]}');
    const q = (query: string) => evaluate(set, { source: web, destination: db, protocol: 'UDP', port: 53, l7: { dns: { query } } }).egress.verdict;
    expect(q('db.ns.svc.cluster.local.')).toBe('l7-denied');
    expect(q('svc.cluster.local.')).toBe('allowed-l7-proxied');
  });
});

describe('toFQDNs and CIDR', () => {
  const fqdn = egress('{toFQDNs: [{matchName: api.example.com}, {matchPattern: "*.cdn.example.com"}], toPorts: [{ports: [{port: "443", protocol: TCP}]}]}');
  const ext = (names: string[], ip = '203.0.113.5'): Peer => ({ ...WORLD, ip, names });

  it('matches destination names, never the IP alone', () => {
    expect(tcp(fqdn, web, ext(['API.example.com.']), 443).allowed).toBe(true);
    expect(tcp(fqdn, web, ext(['a.cdn.example.com']), 443).allowed).toBe(true);
    expect(tcp(fqdn, web, ext([]), 443).allowed).toBe(false);
    expect(tcp(fqdn, web, ext(['api.example.com']), 80).allowed).toBe(false);
  });

  it.each([
    ['*.cilium.io', 'sub.cilium.io', true],
    ['*.cilium.io', 'cilium.io', false],
    ['*.cilium.io', 'a.b.cilium.io', false],
    ['**.cilium.io', 'a.b.cilium.io', true],
    ['**.cilium.io', 'cilium.io', false],
    ['part*ial.com', 'partial.com', true],
    ['*', 'anything.at.all', true],
    ['cilium.io.', 'CILIUM.IO', true],
  ])('matchPattern %s vs %s → %s', (pattern, name, want) => {
    expect(fqdnMatches({ matchPattern: pattern }, name)).toBe(want);
  });

  it('toCIDRSet except carves out; CIDR never matches pods even when the IP is inside', () => {
    const set = egress('{toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}]}');
    expect(tcp(set, web, { labels: ['reserved:world'], identity: 2, ip: '10.2.3.4' }, 443).allowed).toBe(true);
    expect(tcp(set, web, { labels: ['reserved:world'], identity: 2, ip: '10.1.3.4' }, 443).allowed).toBe(false);
    expect(tcp(set, web, { ...db, ip: '10.2.3.5' }, 443).allowed).toBe(false);
    expect(tcp(set, web, { labels: ['cidr:10.2.0.0/24'], identity: 16777220 }, 443).allowed).toBe(true);
  });

  it('toCIDR 0.0.0.0/0 selects the world identity without an IP; IPv6 prefixes parse', () => {
    const set = egress('{toCIDR: [0.0.0.0/0, "2001:db8::/32"]}');
    expect(tcp(set, web, { labels: ['reserved:world'], identity: 2 }, 443).allowed).toBe(true);
    expect(tcp(set, web, { labels: ['reserved:world'], identity: 2, ip: '2001:db8::1' }, 443).allowed).toBe(true);
    expect(tcp(set, web, { labels: ['reserved:world'], identity: 2, ip: '2001:db9::1' }, 443).allowed).toBe(false);
  });

  it('toServices is not resolvable offline: it matches nothing and the set carries a note', () => {
    const set = egress('{toServices: [{k8sService: {serviceName: api, namespace: ns}}]}');
    expect(set.notes).toEqual(['ns/p spec.egress[0]: toServices cannot be resolved offline; it matches nothing here']);
    expect(tcp(set, web, db, 80).allowed).toBe(false);
  });
});
