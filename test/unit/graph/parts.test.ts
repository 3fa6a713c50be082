import { describe, expect, it } from 'vitest';
import {
  type Edge,
  PeerPatternError,
  cidrContains,
  convergence,
  enclosingRanges,
  hostCidr,
  httpPathTemplate,
  matchesPeer,
  parsePeerPattern,
} from '../../../src/graph/index.js';
import { HOUR, T0, flow, graphOf, immich, postgres1 } from './builders.js';

describe('httpPathTemplate', () => {
  it.each([
    ['http://immich:2283/api/assets/123?key=secret', '/api/assets/{id}'],
    ['/api/albums/6f1c1e2a-0000-4000-8000-000000000001', '/api/albums/{id}'],
    ['/v2/blobs/sha256/3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b', '/v2/blobs/sha256/{id}'],
    ['/api/users/me#frag', '/api/users/me'],
    ['http://host', '/'],
    ['', '/'],
  ])('%s → %s', (url, want) => {
    expect(httpPathTemplate(url)).toBe(want);
  });
});

describe('IP ranges', () => {
  it('host routes and enclosing well-known ranges', () => {
    expect(hostCidr('140.82.121.6')).toBe('140.82.121.6/32');
    expect(hostCidr('2001:DB8::1')).toBe('2001:db8::1/128');
    expect(hostCidr('not-an-ip')).toBeUndefined();
    expect(enclosingRanges('140.82.121.6')).toEqual([]);
    expect(enclosingRanges('169.254.169.254').map((r) => r.cidr)).toEqual(['169.254.0.0/16']);
    expect(enclosingRanges('fd00::5').map((r) => r.cidr)).toEqual(['fc00::/7']);
    expect(cidrContains('10.0.0.0/8', '10.244.1.5')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(cidrContains('2001:db8::/32', '2001:db8:1::1')).toBe(true);
  });
});

describe('peer patterns', () => {
  const w = { kind: 'workload', namespace: 'dbms', workloadKind: 'Cluster', name: 'postgres' } as const;
  it.each([
    ['dbms/', w, true],
    ['dbms/postgres', w, true],
    ['dbms/cluster/postgres', w, true],
    ['dbms/StatefulSet/postgres', w, false],
    ['kube-apiserver', { kind: 'entity', entity: 'kube-apiserver' }, true],
    ['entity:host', { kind: 'entity', entity: 'host' }, true],
    ['world', { kind: 'fqdn', fqdn: 'github.com' }, true],
    ['entity:world', { kind: 'fqdn', fqdn: 'github.com' }, false],
    ['fqdn:*.github.com', { kind: 'fqdn', fqdn: 'api.github.com' }, true],
    ['fqdn:*.github.com', { kind: 'fqdn', fqdn: 'github.com' }, false],
    ['cidr:192.168.0.0/16', { kind: 'cidr', cidr: '192.168.1.20/32' }, true],
    ['10.0.0.0/8', { kind: 'cidr', cidr: '192.168.1.20/32' }, false],
  ] as const)('%s matches %j: %s', (pattern, peer, want) => {
    expect(matchesPeer(parsePeerPattern(pattern), peer, [])).toBe(want);
  });

  it('a CIDR pattern also matches FQDN edges by their IPs', () => {
    expect(matchesPeer(parsePeerPattern('140.82.0.0/16'), { kind: 'fqdn', fqdn: 'github.com' }, ['140.82.121.6'])).toBe(true);
  });

  it.each(['', 'a/b/c/d', 'entity:nope', 'cidr:10.0.0.0/40', '/x'])('rejects %j', (p) => {
    expect(() => parsePeerPattern(p)).toThrow(PeerPatternError);
  });
});

describe('convergence', () => {
  it('per namespace: edges, last new edge, new edges per hour', () => {
    const { edges } = graphOf([
      flow({ src: immich, dst: postgres1, t: T0 }),
      flow({ src: immich, dst: postgres1, dport: 6379, t: T0 + 3 * HOUR + 5 }),
      flow({ src: immich, dst: postgres1, t: T0 + 10 * HOUR }),
    ]);
    const c = convergence(edges as Edge[]);
    expect(c.map((x) => x.namespace)).toEqual(['dbms', 'self-hosted']);
    expect(c[0]).toMatchObject({
      edges: 2,
      lastNewEdgeMs: T0 + 3 * HOUR + 5,
      lastSeenMs: T0 + 10 * HOUR,
      newEdgesPerHour: [
        { hourMs: T0, edges: 1 },
        { hourMs: T0 + 3 * HOUR, edges: 1 },
      ],
    });
  });
});
