import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../../src/flow/index.js';
import type { Flow, HubbleEvent } from '../../../src/flow/index.js';

const baseFlow = {
  time: '2026-11-20T10:00:00.123456789Z',
  uuid: 'a6f1c1e2-0000-4000-8000-000000000001',
  verdict: 'FORWARDED',
  IP: { source: '10.0.1.5', destination: '10.0.2.7', ipVersion: 'IPv4' },
  l4: { TCP: { source_port: 40000, destination_port: 5432, flags: { SYN: true } } },
  source: { ID: 12, identity: 4242, namespace: 'self-hosted', labels: ['k8s:app=immich'], pod_name: 'immich-7d9c9b7c4d-x2x9z', workloads: [{ name: 'immich', kind: 'Deployment' }] },
  destination: { identity: 777, namespace: 'dbms', labels: ['k8s:cnpg.io/cluster=postgres'], pod_name: 'postgres-1' },
  Type: 'L3_L4',
  node_name: 'home-lab/node-a',
  event_type: { type: 4 },
  traffic_direction: 'EGRESS',
  is_reply: false,
};

function flowOf(e: HubbleEvent): Flow {
  if (e.kind !== 'flow') throw new Error(`expected a flow, got ${e.kind}`);
  return e.flow;
}

function decodeOk(v: unknown): HubbleEvent {
  const r = decodeEvent(v);
  if (!r.ok) throw new Error(r.error.message);
  return r.event;
}

describe('decodeEvent: recorded formats', () => {
  it('reads a jsonpb envelope with original proto names', () => {
    const f = flowOf(decodeOk({ flow: baseFlow, node_name: 'home-lab/node-a', time: baseFlow.time }));
    expect(f.time).toBe('2026-11-20T10:00:00.123456789Z');
    expect(f.timeMs).toBe(Date.parse('2026-11-20T10:00:00.123Z'));
    expect(f.l4).toEqual({ protocol: 'TCP', sourcePort: 40000, destinationPort: 5432, flags: { SYN: true } });
    expect(f.source.workloads).toEqual([{ name: 'immich', kind: 'Deployment' }]);
    expect(f.destination.podName).toBe('postgres-1');
    expect(f.eventType).toEqual({ type: 4, subType: 0 });
    expect(f.isReply).toBe(false);
    expect(f.trafficDirection).toBe('EGRESS');
  });

  it('reads a legacy bare flow (hubble CLI <= 0.10 -o json) and the deprecated reply bool', () => {
    const { is_reply: _omit, ...legacy } = baseFlow;
    const f = flowOf(decodeOk({ ...legacy, reply: true }));
    expect(f.isReply).toBe(true);
    expect(flowOf(decodeOk(legacy)).isReply).toBeUndefined();
  });

  it('accepts lowerCamelCase names, enum numbers and uint64 numbers as protojson readers do', () => {
    const f = flowOf(
      decodeOk({
        flow: {
          time: '2026-11-20T10:00:00Z',
          verdict: 2,
          dropReasonDesc: 181,
          trafficDirection: 1,
          isReply: false,
          l4: { UDP: { sourcePort: 5353, destinationPort: 53 } },
          source: { podName: 'a-0', namespace: 'x' },
          destinationNames: ['example.com'],
          ingressDeniedBy: [{ name: 'deny-x', namespace: 'x', kind: 'CiliumNetworkPolicy', revision: 6 }],
        },
      }),
    );
    expect(f.verdict).toBe('DROPPED');
    expect(f.dropReason).toBe('POLICY_DENY');
    expect(f.dropReasonCode).toBe(181);
    expect(f.trafficDirection).toBe('INGRESS');
    expect(f.l4).toEqual({ protocol: 'UDP', sourcePort: 5353, destinationPort: 53 });
    expect(f.destinationNames).toEqual(['example.com']);
    expect(f.ingressDeniedBy[0]).toMatchObject({ name: 'deny-x', revision: '6' });
  });

  it('reads proto-loader objects from GetFlows ({seconds, nanos}, {value} wrappers, oneof markers)', () => {
    const f = flowOf(
      decodeOk({
        response_types: 'flow',
        flow: {
          ...baseFlow,
          time: { seconds: '1763632800', nanos: 5 },
          is_reply: { value: true },
          l4: { protocol: 'TCP', TCP: { source_port: 5432, destination_port: 40000 } },
        },
        node_name: 'n',
        time: { seconds: '1763632800', nanos: 5 },
      }),
    );
    expect(f.time).toBe('2025-11-20T10:00:00.000000005Z');
    expect(f.isReply).toBe(true);
  });

  it('keeps drop reasons newer than our table as numbers, and falls back to the deprecated numeric field', () => {
    expect(flowOf(decodeOk({ flow: { ...baseFlow, verdict: 'DROPPED', drop_reason_desc: 250 } })).dropReason).toBe('250');
    expect(flowOf(decodeOk({ flow: { ...baseFlow, verdict: 'DROPPED', drop_reason: 133 } })).dropReason).toBe('POLICY_DENIED');
  });

  it('ignores unknown fields (newer agents add them)', () => {
    const f = flowOf(decodeOk({ flow: { ...baseFlow, brand_new_field: { x: 1 } }, extra: true }));
    expect(f.verdict).toBe('FORWARDED');
  });

  it('accepts field-masked flows with empty endpoints', () => {
    const f = flowOf(decodeOk({ flow: { time: baseFlow.time, verdict: 'DROPPED', source: {}, destination: {} } }));
    expect(f.source.labels).toEqual([]);
    expect(f.l4).toBeUndefined();
  });
});

describe('decodeEvent: non-flow events', () => {
  it.each([
    [{ lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: '12', cpu: { value: 3 } }, node_name: 'n1', time: '2026-11-20T10:00:00Z' }, 'lost'],
    [{ source: 'PERF_EVENT_RING_BUFFER', num_events_lost: 4 }, 'lost'],
    [{ node_status: { state_change: 'NODE_ERROR', node_names: ['n1'], message: 'boom' }, time: '2026-11-20T10:00:00Z' }, 'node-status'],
    [{ agent_event: { type: 'AGENT_STARTED' } }, 'other'],
    [{ debug_event: {} }, 'other'],
  ])('%j is a %s event', (line, kind) => {
    expect(decodeOk(line).kind).toBe(kind);
  });

  it('reads lost event counts and cpu', () => {
    const e = decodeOk({ lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: '12', cpu: { value: 3 } }, node_name: 'n1', time: '2026-11-20T10:00:00Z' });
    expect(e).toMatchObject({ kind: 'lost', lost: { source: 'HUBBLE_RING_BUFFER', numEventsLost: 12, cpu: 3, nodeName: 'n1' } });
  });
});

describe('decodeEvent: errors name the field', () => {
  it.each([
    [[1, 2], '(line)', 'expected a JSON object'],
    [{ hello: 'world' }, '(line)', 'not a Hubble event'],
    [{ flow: 'x' }, 'flow', 'expected an object'],
    [{ flow: { verdict: 'FORWARDED' } }, 'flow.time', 'missing'],
    [{ flow: { ...baseFlow, time: 'yesterday' } }, 'flow.time', 'invalid timestamp'],
    [{ flow: { ...baseFlow, verdict: 'MAYBE' } }, 'flow.verdict', 'unknown value'],
    [{ flow: { ...baseFlow, verdict: { x: 1 } } }, 'flow.verdict', 'expected an enum'],
    [{ flow: { ...baseFlow, l4: { TCP: { destination_port: 'http' } } } }, 'flow.l4.TCP.destination_port', 'expected an integer'],
    [{ flow: { ...baseFlow, source: { labels: 'k8s:app=x' } } }, 'flow.source.labels', 'expected a list'],
    [{ flow: { ...baseFlow, source: { labels: ['ok', 7] } } }, 'flow.source.labels[1]', 'expected a string'],
    [{ flow: { ...baseFlow, is_reply: 'no' } }, 'flow.is_reply', 'expected a boolean'],
  ])('%j fails at %s', (line, field, reason) => {
    const r = decodeEvent(line);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe(field);
      expect(r.error.reason).toContain(reason);
    }
  });
});
