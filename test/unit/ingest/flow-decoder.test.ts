import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecodeResult, decodeEvent } from '../../../src/flow/index.js';
import { FlowDecoder } from '../../../src/ingest/relay/flow-decoder.js';
import { decodeResponse, encodeResponse, fromProtoJson, observerDefinition, syntheticFlows } from '../../helpers/fake-relay.js';
import { SAMPLES_DIR } from '../../helpers/paths.js';

type Obj = Record<string, unknown>;

const sampleLines: { file: string; line: Obj }[] = readdirSync(SAMPLES_DIR)
  .sort()
  .flatMap((file) =>
    readFileSync(join(SAMPLES_DIR, file), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => ({ file, line: JSON.parse(l) as Obj })),
  );

/** The previous live path: proto-loader's object for the bytes, normalised by decodeEvent. */
const previousPath = (bytes: Buffer): DecodeResult => decodeEvent(decodeResponse(bytes));

/** Templates as scripts/bench-observe.ts builds them (every sample flow, with a node name). */
const benchTemplates = (): Obj[] =>
  sampleLines.flatMap(({ line }) => {
    const ev = fromProtoJson(line);
    const flow = ev['flow'] as Obj | undefined;
    return flow ? [{ ...flow, node_name: flow['node_name'] ?? ev['node_name'] ?? 'node-1' }] : [];
  });

describe('FlowDecoder: wire bytes straight into Flow', () => {
  it.each([...new Set(sampleLines.map((s) => s.file))])('gives exactly the previous path’s event for every line of %s', (file) => {
    const decoder = new FlowDecoder(observerDefinition());
    let flows = 0;
    for (const [i, { line }] of sampleLines.filter((s) => s.file === file).entries()) {
      const bytes = encodeResponse(fromProtoJson(line));
      const want = previousPath(bytes);
      const before = decoder.fallbacks;
      const got = decoder.decode(bytes);
      expect(got, `line ${i + 1}`).toStrictEqual(want);
      // Again: the second decode shares the cached endpoints, and still equals.
      expect(decoder.decode(bytes), `line ${i + 1} (cached)`).toStrictEqual(want);
      if (want.ok && want.event.kind === 'flow') {
        flows++;
        // A flow took the fast path (parity would be trivial otherwise).
        expect(decoder.fallbacks, `line ${i + 1}`).toBe(before);
      }
    }
    expect(flows).toBeGreaterThan(0);
  });

  it.each([1, 2])('with %i endpoint slot(s), every endpoint evicting others, still gives exactly the previous path’s flows', (endpointSlots) => {
    const templates = benchTemplates();
    const decoder = new FlowDecoder(observerDefinition(), { endpointSlots });
    const endpoints = new Set<string>();
    let n = 0;
    for (const bytes of syntheticFlows(templates, templates.length * 2, Date.UTC(2026, 10, 23), 999_999)) {
      const want = previousPath(bytes);
      expect(decoder.decode(bytes), `flow ${n}`).toStrictEqual(want);
      if (want.ok && want.event.kind === 'flow') endpoints.add(JSON.stringify([want.event.flow.source, want.event.flow.destination]));
      n++;
    }
    expect(endpoints.size).toBeGreaterThan(10 * endpointSlots);
  });

  it('gives exactly the previous path’s flows for the synthetic benchmark stream', () => {
    const templates = benchTemplates();
    const decoder = new FlowDecoder(observerDefinition());
    // Two passes over every template (distinct uuids and times), as the benchmark streams them.
    let n = 0;
    for (const bytes of syntheticFlows(templates, templates.length * 2, Date.UTC(2026, 10, 23), 999_999)) {
      expect(decoder.decode(bytes), `flow ${n}`).toStrictEqual(previousPath(bytes));
      n++;
    }
    expect(n).toBe(templates.length * 2);
    expect(decoder.fallbacks).toBe(0);
  });

  it('shares one frozen Endpoint per distinct endpoint bytes (labels decoded once)', () => {
    const decoder = new FlowDecoder(observerDefinition());
    const flow = (podName: string, uuid: string): Buffer =>
      encodeResponse({
        flow: {
          time: { seconds: '1700000000', nanos: 5 },
          uuid,
          source: { ID: 1, identity: 70000, namespace: 'shop', labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=shop'], pod_name: podName },
          destination: { identity: 2, labels: ['reserved:world'] },
        },
      });
    const a = decoder.decode(flow('web-1', 'a'));
    const b = decoder.decode(flow('web-1', 'b'));
    const c = decoder.decode(flow('web-2', 'c'));
    if (!a.ok || !b.ok || !c.ok || a.event.kind !== 'flow' || b.event.kind !== 'flow' || c.event.kind !== 'flow') throw new Error('decode failed');
    expect(b.event.flow.source).toBe(a.event.flow.source);
    expect(b.event.flow.destination).toBe(a.event.flow.destination);
    expect(c.event.flow.source).not.toBe(a.event.flow.source);
    expect(c.event.flow.source.podName).toBe('web-2');
    expect(Object.isFrozen(a.event.flow.source)).toBe(true);
    expect(Object.isFrozen(a.event.flow.source.labels)).toBe(true);
  });

  it('reuses an identity’s labels for its churned pods, and decodes what else an identity carries (relabelled, more or fewer labels, a colliding slot)', () => {
    // One endpoint slot: every new pod misses the endpoint cache, as under churn at 3,000 workloads.
    const decoder = new FlowDecoder(observerDefinition(), { endpointSlots: 1 });
    const web = ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=shop', 'k8s:pod-template-hash=7d9c'];
    const flow = (identity: number, labels: string[], podName: string, i: number): Buffer =>
      encodeResponse({
        flow: {
          time: { seconds: '1700000000', nanos: i },
          uuid: `u${i}`,
          source: { ID: i, identity, namespace: 'shop', labels, pod_name: podName },
          destination: { identity: 2, labels: ['reserved:world'] },
        },
      });
    const source = (bytes: Buffer) => {
      const got = decoder.decode(bytes);
      expect(got).toStrictEqual(previousPath(bytes));
      if (!got.ok || got.event.kind !== 'flow') throw new Error('decode failed');
      return got.event.flow.source;
    };
    const first = source(flow(70000, web, 'web-0', 0));
    for (let i = 1; i <= 5; i++) expect(source(flow(70000, web, `web-${i}`, i)).labels).toBe(first.labels);
    // Both ends of the five later flows (the one slot holds the other end each time).
    expect(decoder.labelRunsReused).toBe(10);
    const cases: [number, string[]][] = [
      [70000, [...web, 'k8s:zone=a']], // the known labels and one more
      [70000, ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=shop', 'k8s:pod-template-hash=8e0d']], // relabelled
      [70000, web.slice(0, 2)], // fewer
      [70000 + 4096, ['k8s:app=db']], // another identity in the same slot
      [70000, web],
      [70000, []],
    ];
    for (const [i, [identity, labels]] of cases.entries()) expect(source(flow(identity, labels, `p-${i}`, 10 + i)).labels).toEqual(labels);
  });

  it('decodes repeated short strings (IPs, node names, DNS answers) right through cache hits, evictions and non-ASCII bytes', () => {
    const decoder = new FlowDecoder(observerDefinition());
    // More distinct strings than the cache has slots, each seen several times in a shuffled order,
    // including multi-byte UTF-8 and strings the same length as their neighbours.
    const ip = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const node = (i: number): string => (i % 3 === 0 ? `nœud-${i}` : `ip-10-0-${i % 250}-${i % 7}.eu-west-1.compute.internal`);
    const order = Array.from({ length: 30_000 }, (_, k) => (k * 7919) % 6000);
    for (const i of order) {
      const bytes = encodeResponse({
        flow: {
          time: { seconds: '1700000000', nanos: i },
          node_name: node(i),
          IP: { source: ip(i), destination: ip(i + 1), ipVersion: 'IPv4' },
          l7: { type: 'RESPONSE', dns: { query: `svc-${i}.example.`, ips: [ip(i * 3)] } },
        },
      });
      const got = decoder.decode(bytes);
      expect(got).toStrictEqual(previousPath(bytes));
      if (!got.ok || got.event.kind !== 'flow') throw new Error('decode failed');
      expect(got.event.flow.ip?.destination).toBe(ip(i + 1));
      expect(got.event.flow.nodeName).toBe(node(i));
    }
    // Bytes that are not valid UTF-8 decode as the previous path decodes them (replacement characters).
    const bad = encodeResponse({ flow: { time: { seconds: '1700000000', nanos: 1 }, node_name: 'n1' } });
    const at = bad.indexOf('n1');
    bad[at] = 0xc3;
    expect(decoder.decode(bad)).toStrictEqual(previousPath(bad));
    expect(decoder.decode(bad)).toStrictEqual(previousPath(bad));
  });

  it('keeps the pods of one Deployment apart in the endpoint cache (same identity, labels, owner and cluster)', () => {
    const decoder = new FlowDecoder(observerDefinition());
    const labels = ['k8s:app=postgres', 'k8s:io.cilium.k8s.policy.cluster=home-lab', 'k8s:io.kubernetes.pod.namespace=dbms'];
    const flow = (i: number): Buffer =>
      encodeResponse({
        flow: {
          time: { seconds: '1700000000', nanos: i },
          source: { ID: 100, identity: 70000, namespace: 'dbms', labels, pod_name: `postgres-7d9f8b6c4-${String(i).padStart(5, 'x')}`, workloads: [{ name: 'postgres-operator-managed-cluster', kind: 'Deployment' }], cluster_name: 'home-lab' },
        },
      });
    const sourceOf = (r: DecodeResult) => (r.ok && r.event.kind === 'flow' ? r.event.flow.source : undefined);
    const first = Array.from({ length: 300 }, (_, i) => sourceOf(decoder.decode(flow(i))));
    const again = Array.from({ length: 300 }, (_, i) => sourceOf(decoder.decode(flow(i))));
    // Every pod hit its own cache entry: no two pods share a key and evict each other.
    expect(again.every((e, i) => e !== undefined && e === first[i])).toBe(true);
    expect(new Set(first.map((e) => e?.podName)).size).toBe(300);
  });

  it('matches the previous path on unusual values: unknown enums, 64-bit values, oneof replacement, deprecated reply, lost events, node status', () => {
    const decoder = new FlowDecoder(observerDefinition());
    const cases: Obj[] = [
      { flow: { time: { seconds: '1' }, verdict: 'DROPPED', drop_reason: 133 } },
      { flow: { time: { seconds: '1' }, drop_reason_desc: 'DROP_PUNT_PROXY', reply: true } },
      { flow: { time: { seconds: '1' }, is_reply: {}, reply: true, event_type: { type: -2, sub_type: 300 } } },
      { flow: { time: { seconds: '1700000000', nanos: 999999999 }, l4: { ICMPv6: { type: 133 } }, l7: { dns: { query: 'A.B.', ips: ['1.1.1.1'], rcode: 3 } } } },
      { flow: { time: { seconds: '1' }, l4: { VRRP: { type: 1, vrid: 2, priority: 3 } }, trace_observation_point: 'TO_ENDPOINT', trace_reason: 'REPLY' } },
      { flow: { time: { seconds: '1' }, l4: { IGMP: { type: 1, group_address: '224.0.0.1' } }, Type: 'SOCK', policy_match_type: 4 } },
      { flow: { time: { seconds: '1' }, l4: { SCTP: { source_port: 1, destination_port: 2 } }, source_service: { name: 's' }, destination_service: { namespace: 'n' } } },
      { flow: { time: { seconds: '1' }, l4: { TCP: { flags: {} } }, uuid: '' } },
      {
        flow: {
          time: { seconds: '1' },
          l7: { type: 'RESPONSE', latency_ns: '18446744073709551615', kafka: { error_code: -1, api_version: 3, api_key: 'produce', correlation_id: -7, topic: 't' } },
          egress_denied_by: [{ name: 'deny-all', namespace: 'shop', revision: '18446744073709551615', labels: ['a=b'], kind: 'CiliumNetworkPolicy' }],
          ingress_allowed_by: [{ name: 'x' }, {}],
          source_names: ['a.example.'],
          destination_names: ['b.example.', 'c.example.'],
        },
      },
      { flow: { time: { seconds: '1' }, l7: { http: { code: 200, method: 'GET', url: 'http://x/?token=abc', headers: [{ key: 'Authorization', value: 'Bearer é' }, {}] } } } },
      { flow: { time: { seconds: '1' }, source: {}, destination: { cluster_name: '', namespace: '', pod_name: '', workloads: [{}, { name: 'w' }] } }, node_name: 'env-node' },
      { flow: { time: { seconds: '1' }, node_name: '' }, node_name: 'env-node' },
      { lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: '18446744073709551615', cpu: { value: -1 }, first: { seconds: '5' } }, node_name: 'n1', time: { seconds: '7', nanos: 9 } },
      { node_status: { state_change: 'NODE_ERROR', node_names: ['a', 'b'], message: 'connection refused' } },
      { node_name: 'n1', time: { seconds: '7' } },
      {},
    ];
    for (const c of cases) {
      const bytes = encodeResponse(c);
      expect(decoder.decode(bytes), JSON.stringify(c)).toStrictEqual(previousPath(bytes));
    }
  });

  it('writes every flow time as the previous path does, flow after flow: the same second, day, or neither', () => {
    const decoder = new FlowDecoder(observerDefinition());
    const timeOf = (r: DecodeResult): string | undefined => (r.ok && r.event.kind === 'flow' ? r.event.flow.time : undefined);
    const check = (seconds: number, nanos: number): void => {
      const bytes = encodeResponse({ flow: { time: { seconds: String(seconds), nanos }, verdict: 'FORWARDED' } });
      const want = timeOf(previousPath(bytes));
      expect(want).toBeDefined();
      expect(timeOf(decoder.decode(bytes)), `${seconds}.${nanos}`).toBe(want);
    };
    // Across midnights and the first and last days a time can have, second by second.
    for (const around of [0, 86_400, 951_782_400, 1_795_132_800, 253_402_300_799 - 120]) {
      for (let s = Math.max(0, around - 61); s <= around + 61 && s <= 253_402_300_799; s++) check(s, s % 7 === 0 ? 0 : 999_999_999);
    }
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 253_402_300_799 }), fc.integer({ min: 0, max: 999_999_999 })), { minLength: 1, maxLength: 20 }), (times) => {
        // Sorted too: neighbours then often share a day.
        for (const [s, n] of [...times, ...[...times].sort((x, y) => x[0] - y[0])]) check(s, n);
      }),
    );
  });

  it('reports the same DecodeError as the previous path (flow without time, nanos out of range)', () => {
    const decoder = new FlowDecoder(observerDefinition());
    for (const c of [{ flow: { verdict: 'FORWARDED' } }, { flow: { time: { seconds: '1', nanos: -5 } } }]) {
      const bytes = encodeResponse(c);
      const got = decoder.decode(bytes);
      expect(got.ok).toBe(false);
      expect(got).toStrictEqual(previousPath(bytes));
    }
  });

  it('keeps enum numbers it does not know the way the normaliser does (verdict 99, a newer drop reason)', () => {
    const decoder = new FlowDecoder(observerDefinition());
    const known = encodeResponse({ flow: { time: { seconds: '1' }, verdict: 'FORWARDED' } });
    // Inside the flow: field 41 (a message), 40 (a varint), verdict = 99, drop_reason_desc = 250.
    const flowBody = Buffer.concat([
      known.subarray(2),
      Buffer.from([0xca, 0x02, 0x03, 0x0a, 0x01, 0x78]),
      Buffer.from([0xc0, 0x02, 0x07]),
      Buffer.from([0x10, 0x63]),
      Buffer.from([0xc8, 0x01, 0xfa, 0x01]),
    ]);
    const bytes = Buffer.concat([Buffer.from([0x0a, flowBody.length]), flowBody]);
    const got = decoder.decode(bytes);
    expect(got).toStrictEqual(previousPath(bytes));
    if (!got.ok || got.event.kind !== 'flow') throw new Error('decode failed');
    expect(got.event.flow.verdict).toBe('VERDICT_UNKNOWN');
    expect(got.event.flow.dropReasonCode).toBe(250);
  });

  describe('malformed bytes are an error, never a wrong Flow', () => {
    const decoder = new FlowDecoder(observerDefinition());
    const valid = encodeResponse({
      flow: {
        time: { seconds: '1700000000', nanos: 1 },
        uuid: 'u',
        IP: { source: '10.0.0.1', destination: '10.0.0.2' },
        l4: { TCP: { source_port: 1, destination_port: 2 } },
        source: { identity: 70000, labels: ['k8s:app=a'] },
      },
      node_name: 'n',
    });

    it('rejects truncated input', () => {
      for (let cut = 1; cut < valid.length; cut++) {
        const bytes = valid.subarray(0, cut);
        let got: DecodeResult | undefined;
        try {
          got = decoder.decode(bytes);
        } catch (e) {
          expect((e as Error).message).toMatch(/invalid GetFlowsResponse/);
          continue;
        }
        // Cut exactly between two top-level fields: still a valid (shorter) message.
        expect(got).toStrictEqual(previousPath(bytes));
      }
    });

    it('rejects a nested field that overruns its message, and a known field with the wrong wire type', () => {
      // uuid (field 34) with a length that runs past the flow but not past the buffer.
      const inner = Buffer.from([0x92, 0x02, 0x05, 0x61]);
      const overrun = Buffer.concat([Buffer.from([0x0a, inner.length]), inner, Buffer.from([0xc2, 0x3e, 0x02, 0x6e, 0x6e])]);
      expect(() => decoder.decode(overrun)).toThrow(/overruns|beyond/);
      // verdict (field 2) as a length-delimited value.
      const wrongType = Buffer.from([0x0a, 0x04, 0x12, 0x02, 0x01, 0x01]);
      expect(() => decoder.decode(wrongType)).toThrow(/field 2: expected a varint/);
    });

    const rich = encodeResponse({
      flow: {
        time: { seconds: '1700000000', nanos: 123456789 },
        uuid: 'b1b0c0de-0000-4000-8000-000000000001',
        verdict: 'DROPPED',
        drop_reason_desc: 'POLICY_DENIED',
        l4: { UDP: { source_port: 53, destination_port: 5353 } },
        source: { ID: 9, identity: 70001, namespace: 'shop', labels: ['k8s:app=web'], pod_name: 'web-1', workloads: [{ name: 'web', kind: 'Deployment' }] },
        l7: { type: 'REQUEST', http: { code: 200, url: 'http://x/?token=t', headers: [{ key: 'Cookie', value: 'c' }] } },
        event_type: { type: 1, sub_type: 2 },
        is_reply: { value: true },
        ingress_denied_by: [{ name: 'p', labels: ['a=b'], revision: '7' }],
        Summary: 'summary',
      },
      node_name: 'node-a',
      time: { seconds: '1700000000' },
    });

    it('any corruption either throws or decodes to exactly the previous path’s result', () => {
      fc.assert(
        fc.property(fc.boolean(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (useRich, edits) => {
          const bytes = Buffer.from(useRich ? rich : valid);
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          let got: DecodeResult;
          try {
            got = decoder.decode(bytes);
          } catch {
            return; // an error is always acceptable for corrupted bytes
          }
          expect(got).toStrictEqual(previousPath(bytes));
        }),
        { numRuns: 5000 },
      );
    });
  });
});
