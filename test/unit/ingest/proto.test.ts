import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../../src/flow/index.js';
import { LOADER_OPTIONS, PROTO_DIR, loadObserverProto } from '../../../src/ingest/index.js';
import { WireDecoder } from '../../../src/ingest/relay/wire-decoder.js';
import { decodeResponse, encodeResponse, fromProtoJson, observerDefinition, syntheticFlows, uuidFor } from '../../helpers/fake-relay.js';
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

/** JSON round trip: drops undefined members so objects compare by content. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('proto/ subset', () => {
  it('loads with @grpc/proto-loader and exposes /observer.Observer/GetFlows and ServerStatus', async () => {
    const def = protoLoader.loadSync('observer/observer.proto', { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
    const service = def['observer.Observer'] as unknown as Record<string, { path: string; responseStream: boolean }>;
    expect(service['GetFlows']?.path).toBe('/observer.Observer/GetFlows');
    expect(service['GetFlows']?.responseStream).toBe(true);
    expect(service['ServerStatus']?.path).toBe('/observer.Observer/ServerStatus');
    for (const name of ['flow.Flow', 'flow.FlowFilter', 'flow.LostEvent', 'relay.NodeStatusEvent', 'observer.GetFlowsRequest']) {
      expect(def[name], name).toBeDefined();
    }
    const methods = await loadObserverProto();
    expect(methods.getFlows.path).toBe('/observer.Observer/GetFlows');
  });

  it('uses the upstream field numbers for what we read', () => {
    const fields = (type: string): Record<string, number> => {
      const t = (observerDefinition()[type] as unknown as { type: { field: { name: string; number: number }[] } }).type;
      return Object.fromEntries(t.field.map((f) => [f.name, f.number]));
    };
    expect(fields('flow.Flow')).toMatchObject({
      time: 1, uuid: 34, verdict: 2, drop_reason: 3, drop_reason_desc: 25, IP: 5, l4: 6, source: 8, destination: 9, Type: 10,
      node_name: 11, source_names: 13, destination_names: 14, l7: 15, reply: 16, is_reply: 26, event_type: 19,
      traffic_direction: 22, trace_observation_point: 24, trace_reason: 36, egress_allowed_by: 21001, ingress_denied_by: 21005, Summary: 100000,
    });
    expect(fields('observer.GetFlowsResponse')).toEqual({ flow: 1, node_status: 2, lost_events: 3, node_name: 1000, time: 1001 });
    expect(fields('observer.GetFlowsRequest')).toEqual({ number: 1, first: 9, follow: 3, blacklist: 5, whitelist: 6, since: 7, until: 8 });
    expect(fields('flow.FlowFilter')).toEqual({ source_pod: 2, destination_pod: 4, verdict: 5, source_label: 10, destination_label: 11 });
    expect(fields('flow.LostEvent')).toEqual({ source: 1, num_events_lost: 2, cpu: 3, first: 4, last: 5 });
  });

  it('round-trips a Flow through the wire format', () => {
    const flow = {
      time: { seconds: '1700000000', nanos: 123456789 },
      uuid: 'b1b0c0de-0000-4000-8000-000000000001',
      verdict: 'DROPPED',
      drop_reason_desc: 'POLICY_DENIED',
      IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 43210, destination_port: 8080, flags: { SYN: true } } },
      source: { ID: 12, identity: 16777217, namespace: 'shop', labels: ['k8s:app=web'], pod_name: 'web-1', workloads: [{ name: 'web', kind: 'Deployment' }] },
      destination: { identity: 2, labels: ['reserved:world'] },
      Type: 'L3_L4',
      node_name: 'kind/worker',
      event_type: { type: 1, sub_type: 133 },
      traffic_direction: 'EGRESS',
      is_reply: { value: false },
      egress_denied_by: [{ name: 'deny-all', namespace: 'shop', revision: '18446744073709551615', labels: ['a=b'], kind: 'CiliumNetworkPolicy' }],
    };
    const bytes = encodeResponse({ flow, node_name: 'kind/worker', time: flow.time });
    const back = decodeResponse(bytes);
    expect(back['response_types']).toBe('flow');
    const f = back['flow'] as Obj;
    expect(f).toMatchObject({ ...flow, l4: { ...flow.l4, protocol: 'TCP' } });
    expect(new WireDecoder(observerDefinition()).decode(bytes)).toEqual(back);
  });

  it.each([...new Set(sampleLines.map((s) => s.file))])(
    'decodes every line of %s identically from protojson and from the wire (both decoders)',
    (file) => {
      const decoder = new WireDecoder(observerDefinition());
      for (const [i, { line }] of sampleLines.filter((s) => s.file === file).entries()) {
        const bytes = encodeResponse(fromProtoJson(line));
        const viaLoader = decodeResponse(bytes);
        expect(plain(decoder.decode(bytes)), `line ${i + 1}`).toEqual(plain(viaLoader));
        const fromJson = decodeEvent(line);
        const fromGrpc = decodeEvent(decoder.decode(bytes)); // the second decode hits the endpoint cache
        expect(fromJson.ok && fromGrpc.ok, `line ${i + 1}`).toBe(true);
        if (fromJson.ok && fromGrpc.ok) expect(plain(fromGrpc.event), `line ${i + 1}`).toEqual(plain(fromJson.event));
      }
    },
  );
});

describe('WireDecoder', () => {
  const decoder = new WireDecoder(observerDefinition());

  it('matches proto-loader on lost events, node status, negative int32 and 64-bit values', () => {
    const cases: Obj[] = [
      { lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: '18446744073709551615', cpu: { value: -1 }, first: { seconds: '5' } }, node_name: 'n1', time: { seconds: '7', nanos: 9 } },
      { node_status: { state_change: 'NODE_ERROR', node_names: ['a', 'b'], message: 'connection refused' } },
      { flow: { time: { seconds: '1' }, event_type: { type: -2, sub_type: -133 }, l7: { type: 'REQUEST', latency_ns: '9007199254740993', http: { code: 200, headers: [{ key: 'x', value: 'é' }] } } } },
      { flow: { time: { seconds: '1' }, l4: { ICMPv6: { type: 133 } }, l7: { dns: { query: 'a.b.', ips: ['1.1.1.1'], rcode: 3 } } } },
      { flow: { time: { seconds: '1' }, l4: { VRRP: { type: 1, vrid: 2, priority: 3 } }, drop_reason_desc: 'DROP_PUNT_PROXY' } },
    ];
    for (const c of cases) {
      const bytes = encodeResponse(c);
      expect(plain(decoder.decode(bytes))).toEqual(plain(decodeResponse(bytes)));
    }
  });

  it('skips fields it does not know (newer agents) and keeps unknown enum numbers', () => {
    const known = encodeResponse({ flow: { time: { seconds: '1' }, verdict: 'FORWARDED' } });
    // Flow field 41 (emitter, a message) and 40 (ip_trace_id), appended inside the flow; verdict 99.
    const flowBody = Buffer.concat([
      known.subarray(2),
      Buffer.from([0xca, 0x02, 0x03, 0x0a, 0x01, 0x78]), // 41: {name: "x"}
      Buffer.from([0xc2, 0x02, 0x02, 0x08, 0x07]), // 40: {trace_id: 7}
      Buffer.from([0x10, 0x63]), // verdict = 99
    ]);
    const bytes = Buffer.concat([Buffer.from([0x0a, flowBody.length]), flowBody]);
    const viaWire = decoder.decode(bytes);
    expect(plain(viaWire)).toEqual(plain(decodeResponse(bytes)));
    expect((viaWire['flow'] as Obj)['verdict']).toBe(99);
  });

  it('rejects truncated input instead of reading past the end', () => {
    const bytes = encodeResponse({ flow: { time: { seconds: '1' }, uuid: 'abc' } });
    expect(() => decoder.decode(bytes.subarray(0, bytes.length - 2))).toThrow(/invalid GetFlowsResponse/);
  });

  it('decodes the synthetic benchmark stream (distinct uuids and increasing times)', () => {
    const templates = sampleLines.map((s) => fromProtoJson(s.line)['flow'] as Obj).filter(Boolean);
    const out = [...syntheticFlows(templates, 50, 1_700_000_000_000, 250_000_000)].map((b) => decoder.decode(b));
    expect(out.map((o) => (o['flow'] as Obj)['uuid'])).toEqual(Array.from({ length: 50 }, (_, i) => uuidFor(i)));
    const events = out.map((o) => decodeEvent(o));
    expect(events.every((e) => e.ok)).toBe(true);
    const times = events.map((e) => (e.ok && e.event.kind === 'flow' ? e.event.flow.time : ''));
    expect([...times].sort()).toEqual(times);
    expect(times[4]).toBe('2023-11-14T22:13:21.000000000Z');
  });
});
