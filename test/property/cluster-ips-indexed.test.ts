import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ClusterIpRecord,
  EMPTY_WORKLOAD_CONFIG,
  type EdgeRecord,
  indexClusterIps,
  parseRawPeerKey,
  rawPeerKey,
  type RawPeer,
  resolveEnd,
  resolveWorkloads,
} from '../../src/graph/index.js';
import { loadClusterIps, loadClusterIpsOnDemand, openDatabase, readClusterIpRecords } from '../../src/store/index.js';
import { tempDir } from '../helpers/paths.js';

/**
 * The cluster-address index reads the store a block at a time (octet-aligned IPv4 blocks through
 * the primary key by text range, IPv6 by one scan). Whatever the stored addresses, its verdicts are
 * those of the index built from a scan of every stored address: pods churning through reused
 * addresses, node addresses seen as host and remote-node, IPv6 in several spellings, blocks whose
 * text is a prefix of another's (10.1.2.x and 10.1.20.x), and text that is no address. So are the
 * verdicts of the index that reads nothing up front (`drops`), asked in any order.
 */
const tmp = tempDir();
afterAll(() => tmp.remove());

const POD_PEERS = ['w:shop/Deployment/web', 'w:shop/Deployment/api', 'w:shop/~/api', 'w:mon/StatefulSet/prom', 'e:health', 'e:ingress'];
const NODE_PEERS = ['e:host', 'e:remote-node', 'e:kube-apiserver'];
const PEERS = [...POD_PEERS, ...NODE_PEERS];
const octet = fc.constantFrom('0', '1', '2', '5', '20', '21', '200', '255');
// Pods and nodes live in blocks of their own (as in a cluster), and a few addresses anywhere.
const podV4 = fc.tuple(fc.constantFrom('10.1.2', '10.1.20', '10.1.21'), octet).map(([b, o]) => `${b}.${o}`);
const nodeV4 = fc.tuple(fc.constantFrom('192.168.1', '192.168.10'), octet).map(([b, o]) => `${b}.${o}`);
const podV6 = fc.tuple(fc.constantFrom('fd00::', 'FD00::', 'fd00:0:0:0:', 'fd00:0:0:1::'), fc.constantFrom('5', '1:2', 'ff')).map(([a, b]) => `${a}${b}`);
const nodeV6 = fc.tuple(fc.constantFrom('2001:db8::', '2001:db8:0:0:'), fc.constantFrom('5', '1:2', 'ff')).map(([a, b]) => `${a}${b}`);
const odd = fc.constantFrom('10.1.2.300', '10.1.2.01', '10.1.2', 'not-an-ip', '10.1.2.5%eth0', '::ffff:10.1.2.5', '172.16.0.1', '::1');
const address = fc.oneof(podV4, nodeV4, podV6, nodeV6, odd);
const window = fc.tuple(fc.integer({ min: 0, max: 500_000 }), fc.integer({ min: 0, max: 500_000 })).map(([a, d]) => ({ firstSeenMs: 1e12 + a, lastSeenMs: 1e12 + a + d }));
const held = (ips: fc.Arbitrary<string>, peers: readonly string[]) =>
  fc.tuple(ips, fc.constantFrom(...peers), window, fc.integer({ min: 1, max: 9 })).map(([ip, peer, w, flows]): ClusterIpRecord => ({ ip, peer, flows, ...w }));
const record = fc.oneof({ weight: 3, arbitrary: held(fc.oneof(podV4, podV6), POD_PEERS) }, { weight: 2, arbitrary: held(fc.oneof(nodeV4, nodeV6), NODE_PEERS) }, { weight: 1, arbitrary: held(address, PEERS) });
const worldKey = (ips: fc.Arbitrary<string>) => ips.map((ip) => rawPeerKey({ kind: 'world-ip', ip }));
const end = fc.oneof(worldKey(fc.oneof(nodeV4, nodeV6)), fc.constantFrom(...NODE_PEERS), worldKey(address), fc.constantFrom(...PEERS));
const edge = fc.tuple(end, end, fc.constantFrom('TCP', 'UDP'), fc.constantFrom(53, 9100, 10250));

let n = 0;
/** Which verdicts the runs reached, so the property is known to cover each kind. */
const reached = new Set<string>();
const kindOf = (v: ReturnType<ReturnType<typeof loadClusterIps>['classify']>): string =>
  v === undefined ? 'world' : v.kind === 'peers' ? 'peers' : /probably a node/.test(v.reason) ? 'node' : /pod Hubble/.test(v.reason) ? 'pod block' : 'reused';
describe('the indexed cluster-address lookup', () => {
  it('classifies every address as the scan of all stored addresses does', () => {
    const property = fc.property(fc.array(record, { maxLength: 60 }), fc.array(edge, { maxLength: 30 }), fc.array(fc.tuple(address, window), { maxLength: 40 }), (records, edges, asked) => {
        const file = tmp.file(`ips-${n++}.db`);
        const db = openDatabase(file);
        try {
          const insertIp = db.prepare('INSERT OR IGNORE INTO cluster_ips (ip, peer_key, flows, first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?)');
          for (const r of records) insertIp.run(r.ip, r.peer, r.flows, r.firstSeenMs, r.lastSeenMs);
          const insertEdge = db.prepare('INSERT OR IGNORE INTO edges (src_key, dst_key, protocol, port, first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?, 0, 0)');
          for (const [src, dst, protocol, port] of edges) insertEdge.run(src, dst, protocol, port);
          const ends = edges.map(([src, dst, protocol, port]): Pick<EdgeRecord, 'from' | 'to' | 'protocol' | 'port'> => ({
            from: parseRawPeerKey(src) as RawPeer,
            to: parseRawPeerKey(dst) as RawPeer,
            protocol: protocol as EdgeRecord['protocol'],
            port,
          }));
          const workloads = resolveWorkloads([], EMPTY_WORKLOAD_CONFIG);
          const scanned = indexClusterIps(readClusterIpRecords(db), ends, (p) => resolveEnd(p, workloads));
          const indexed = loadClusterIps(db);
          const onDemand = loadClusterIpsOnDemand(db);
          const worldEnds = ends.flatMap((e) => [e.from, e.to]).flatMap((p) => (p.kind === 'world-ip' ? [p.ip] : []));
          const questions = [...records.map((r): [string, (typeof asked)[number][1]] => [r.ip, r]), ...worldEnds.map((ip): [string, undefined] => [ip, undefined]), ...asked];
          for (const [ip, when] of questions) {
            for (const side of ['from', 'to'] as const) {
              const v = indexed.classify(ip, side, when);
              expect(v, `${side} ${ip}`).toEqual(scanned.classify(ip, side, when));
              reached.add(`${kindOf(v)} ${ip.includes(':') ? 'v6' : 'v4'}`);
              if (when !== undefined) expect(indexed.classify(ip, side), `${side} ${ip}`).toEqual(scanned.classify(ip, side));
            }
          }
          // Asked last to first: what it read for one question must not change another's verdict.
          for (const [ip, when] of [...questions].reverse()) {
            for (const side of ['to', 'from'] as const) {
              expect(onDemand.classify(ip, side, when), `on demand: ${side} ${ip}`).toEqual(scanned.classify(ip, side, when));
              if (when !== undefined) expect(onDemand.classify(ip, side), `on demand: ${side} ${ip}`).toEqual(scanned.classify(ip, side));
            }
          }
        } finally {
          db.close();
        }
      });
    // Random runs reach every kind of verdict almost always; a round that missed one (a run of
    // 100 once reached no node address of IPv6) gets more rounds rather than a flaky failure. Under
    // a fixed seed (CI) each round takes the next seed, or every round would draw the same cases.
    const seed = fc.readConfigureGlobal().seed;
    for (let round = 0; round < 5 && (round === 0 || reached.size < 10); round++) fc.assert(property, { numRuns: 100, ...(seed !== undefined && { seed: seed + round }) });
    expect([...reached].sort()).toEqual(['node v4', 'node v6', 'peers v4', 'peers v6', 'pod block v4', 'pod block v6', 'reused v4', 'reused v6', 'world v4', 'world v6']);
  });
});
