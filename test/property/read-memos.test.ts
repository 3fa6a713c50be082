import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { blockOf, parseIp } from '../../src/net/cidr.js';
import {
  type ClusterIpRecord,
  EMPTY_WORKLOAD_CONFIG,
  type EdgeRecord,
  cidrPeer,
  enclosingRanges,
  hostCidr,
  indexClusterIps,
  parseRawPeerKey,
  type RawPeer,
  rawPeerKey,
  resolveEnd,
  resolveWorkloads,
} from '../../src/graph/index.js';

/**
 * A graph read judges each world address once and shares the result among the rows that name it.
 * What is shared must be what each row alone would get: a verdict that depends on when the edge
 * carried traffic (a reused pod address) is never shared across windows, and a world address
 * parsed once reads as parsing it for each question did.
 */

const POD_PEERS = ['w:shop/Deployment/web', 'w:shop/Deployment/api', 'w:shop/~/api', 'e:health'];
const NODE_PEERS = ['e:host', 'e:remote-node'];
const octet = fc.constantFrom('0', '1', '5', '20', '200', '255');
const podV4 = fc.tuple(fc.constantFrom('10.1.2', '10.1.20'), octet).map(([b, o]) => `${b}.${o}`);
const nodeV4 = fc.tuple(fc.constantFrom('192.168.1'), octet).map(([b, o]) => `${b}.${o}`);
const podV6 = fc.tuple(fc.constantFrom('fd00::', 'FD00::', 'fd00:0:0:0:'), fc.constantFrom('5', 'ff')).map(([a, b]) => `${a}${b}`);
const odd = fc.constantFrom('10.1.2.300', '10.1.2.01', 'not-an-ip', '10.1.2.5%eth0', '::ffff:10.1.2.5', '8.8.8.8', '2606:4700::1111');
const address = fc.oneof(podV4, nodeV4, podV6, odd);
// Few holders and overlapping windows: addresses are often reused, and windows decide who held them.
const window = fc.tuple(fc.integer({ min: 0, max: 400_000 }), fc.integer({ min: 0, max: 200_000 })).map(([a, d]) => ({ firstSeenMs: 1e12 + a, lastSeenMs: 1e12 + a + d }));
const record = fc
  .tuple(fc.oneof(podV4, podV6, nodeV4, odd), fc.constantFrom(...POD_PEERS, ...NODE_PEERS), window)
  .map(([ip, peer, w]): ClusterIpRecord => ({ ip, peer, flows: 1, ...w }));
const end = fc.oneof(address.map((ip) => rawPeerKey({ kind: 'world-ip', ip })), fc.constantFrom(...NODE_PEERS, ...POD_PEERS));
const ends = fc.tuple(end, end, fc.constantFrom(53, 9100)).map(([src, dst, port]): Pick<EdgeRecord, 'from' | 'to' | 'protocol' | 'port'> => ({
  from: parseRawPeerKey(src) as RawPeer,
  to: parseRawPeerKey(dst) as RawPeer,
  protocol: 'TCP',
  port,
}));
const question = fc.tuple(address, fc.constantFrom('from' as const, 'to' as const), fc.option(window, { nil: undefined }));

describe('the cluster-address index, asked many questions', () => {
  it('answers each as an index asked only that question does, windows included', () => {
    const workloads = resolveWorkloads([], EMPTY_WORKLOAD_CONFIG);
    const resolve = (p: RawPeer) => resolveEnd(p, workloads);
    let reusedSeen = 0;
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 40 }), fc.array(ends, { maxLength: 12 }), fc.array(question, { minLength: 1, maxLength: 60 }), (records, rows, questions) => {
        const sorted = [...records].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
        const shared = indexClusterIps(sorted, rows, resolve);
        // Ask every stored address too, inside and outside its holders' windows.
        const all = [...questions, ...records.map((r): [string, 'from', typeof r] => [r.ip, 'from', r])];
        for (const [ip, side, when] of all) {
          const alone = indexClusterIps(sorted, rows, resolve).classify(ip, side, when);
          expect(shared.classify(ip, side, when), `${side} ${ip} ${JSON.stringify(when)}`).toEqual(alone);
          if (alone?.kind === 'unidentified' && /not one of them alone/.test(alone.reason)) reusedSeen++;
        }
      }),
      { numRuns: 300 },
    );
    // The window-dependent verdict was reached, so the property covered it.
    expect(reusedSeen).toBeGreaterThan(0);
  });
});

describe('a world address read once', () => {
  it('is the host route with its known ranges, or the world entity when it is no address', () => {
    const cases: [string, unknown][] = [
      ['140.82.121.6', { kind: 'cidr', cidr: '140.82.121.6/32' }],
      ['10.1.2.5', { kind: 'cidr', cidr: '10.1.2.5/32', enclosing: [{ cidr: '10.0.0.0/8', name: 'private (RFC 1918)' }] }],
      ['169.254.169.254', { kind: 'cidr', cidr: '169.254.169.254/32', enclosing: [{ cidr: '169.254.0.0/16', name: 'link-local (cloud metadata lives at 169.254.169.254)' }] }],
      ['FD00::5', { kind: 'cidr', cidr: 'fd00::5/128', enclosing: [{ cidr: 'fc00::/7', name: 'unique local (RFC 4193)' }] }],
      ['::ffff:10.1.2.5', { kind: 'cidr', cidr: '::ffff:10.1.2.5/128' }],
      ['2001:db8::1', { kind: 'cidr', cidr: '2001:db8::1/128', enclosing: [{ cidr: '2001:db8::/32', name: 'documentation (RFC 3849)' }] }],
      // A zone names no other host; these are no addresses at all.
      ['fe80::1%eth0', { kind: 'entity', entity: 'world' }],
      ['10.1.2.300', { kind: 'entity', entity: 'world' }],
      ['010.1.2.3', { kind: 'entity', entity: 'world' }],
      ['10.1.2', { kind: 'entity', entity: 'world' }],
      ['', { kind: 'entity', entity: 'world' }],
      [' 10.1.2.3', { kind: 'entity', entity: 'world' }],
      ['1.2.3.4/32', { kind: 'entity', entity: 'world' }],
    ];
    for (const [ip, peer] of cases) expect(cidrPeer(ip), ip).toEqual(peer);
  });

  it('agrees with parsing the address once for its host route and again for its ranges', () => {
    const spelling = fc.oneof(
      fc.ipV4(),
      fc.ipV4Extended(),
      fc.ipV6(),
      fc.ipV6().map((ip) => ip.toUpperCase()),
      fc.tuple(fc.ipV6(), fc.constantFrom('%eth0', '%1', '%')).map(([ip, zone]) => `${ip}${zone}`),
      fc.ipV4().map((ip) => `::ffff:${ip}`),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(spelling, (ip) => {
        const cidr = hostCidr(ip);
        const enclosing = enclosingRanges(ip);
        const expected = cidr === undefined ? { kind: 'entity', entity: 'world' } : enclosing.length > 0 ? { kind: 'cidr', cidr, enclosing } : { kind: 'cidr', cidr };
        expect(cidrPeer(ip)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

/** `blockOf`'s octet-aligned IPv4 answer as the library judges the address (the code before the one-pass check). */
function libraryBlock(ip: string, bits: number): string | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) return undefined;
  const octets = ip.split('.').slice(0, bits / 8);
  while (octets.length < 4) octets.push('0');
  return `${octets.join('.')}/${bits}`;
}

describe('an IPv4 address checked in one pass over its text', () => {
  it('lies in the block the library places it in, and parses as the library parses it; what the library refuses has neither', () => {
    const part = fc.oneof(fc.nat({ max: 300 }).map(String), fc.constantFrom('0', '00', '01', '010', '255', '256', '1000', '', ' 1', '1 ', '0x1', '+1', '١', '1e2', '25\u0035'));
    const dotted = fc.array(part, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.'));
    const text = fc.oneof(
      { weight: 4, arbitrary: fc.ipV4() },
      { weight: 4, arbitrary: dotted },
      { weight: 1, arbitrary: fc.ipV4Extended() },
      { weight: 1, arbitrary: fc.tuple(fc.ipV4(), fc.constantFrom('\n', ' ', '.', '/24', '%eth0', '\u0000')).map(([ip, tail]) => `${ip}${tail}`) },
      { weight: 1, arbitrary: fc.string({ maxLength: 16 }) },
    );
    fc.assert(
      fc.property(text, fc.constantFrom(0, 8, 16, 24, 32, 40), (ip, bits) => {
        expect(blockOf(ip, bits), `${JSON.stringify(ip)} /${bits}`).toBe(ip.includes(':') ? blockOf(ip, bits) : libraryBlock(ip, bits));
        // parseIp takes IPv4 on the same one-pass check.
        if (!ip.includes(':')) expect(parseIp(ip)?.toString(), JSON.stringify(ip)).toBe(ipaddr.IPv4.isValidFourPartDecimal(ip) ? ipaddr.IPv4.parse(ip).toString() : undefined);
      }),
      { numRuns: 5000 },
    );
    for (const [ip, block] of [['10.1.2.300', undefined], ['10.1.2.03', undefined], ['10.1.2.3', '10.1.2.0/24'], ['0.0.0.0', '0.0.0.0/24'], ['255.255.255.255', '255.255.255.0/24'], ['10.1.2.3\n', undefined]] as const) {
      expect(blockOf(ip), ip).toBe(block);
    }
  });
});
