import { describe, expect, it } from 'vitest';
import { type Flow, LineDecoder, decodeEvent } from '../../../src/flow/index.js';
import { MAX_LABEL_LISTS, sharedLabelListCount, sharedLabels } from '../../../src/flow/label-lists.js';
import { FlowDecoder } from '../../../src/ingest/relay/flow-decoder.js';
import { encodeResponse, fromProtoJson, observerDefinition } from '../../helpers/fake-relay.js';

/** Two pods of one workload (same identity and labels, churned names), as Hubble writes them. */
function line(pod: string, identity = 4242, extra: string[] = []): string {
  const labels = ['k8s:app=shop', 'k8s:io.kubernetes.pod.namespace=web', ...extra];
  const ep = { ID: 7, identity, namespace: 'web', labels, pod_name: pod, workloads: [{ name: 'shop', kind: 'Deployment' }] };
  const flow = {
    time: '2026-12-01T10:00:00.000000001Z',
    verdict: 'FORWARDED',
    IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 40000, destination_port: 80 } },
    source: ep,
    destination: { ...ep, ID: 8, pod_name: `${pod}-peer` },
    Type: 'L3_L4',
    traffic_direction: 'EGRESS',
  };
  return JSON.stringify({ flow, node_name: 'n1', time: flow.time });
}

const flowOf = (event: unknown): Flow => (event as { kind: 'flow'; flow: Flow }).flow;

describe('label lists shared by identity', () => {
  it('pods of one identity share one frozen label list, on every decode path', () => {
    const a = line('shop-5d8f-aaaaa');
    const b = line('shop-5d8f-bbbbb');
    const lines = new LineDecoder();
    const la = flowOf(lines.decode(a));
    const lb = flowOf(lines.decode(b));
    expect(lb.source.podName).toBe('shop-5d8f-bbbbb');
    expect(lb.source.labels).toBe(la.source.labels);
    expect(Object.isFrozen(la.source.labels)).toBe(true);

    const ja = decodeEvent(JSON.parse(a));
    const jb = decodeEvent(JSON.parse(b));
    expect(ja.ok && jb.ok).toBe(true);
    expect(flowOf(ja.ok && ja.event).destination.labels).toBe(flowOf(jb.ok && jb.event).destination.labels);

    const wire = new FlowDecoder(observerDefinition());
    const wa = wire.decode(encodeResponse(fromProtoJson(JSON.parse(a))));
    const wb = wire.decode(encodeResponse(fromProtoJson(JSON.parse(b))));
    expect(wa.ok && wb.ok).toBe(true);
    const [fa, fb] = [flowOf(wa.ok && wa.event), flowOf(wb.ok && wb.event)];
    expect(fb.source.labels).toBe(fa.source.labels);
    expect(fb.source.labels).toEqual(['k8s:app=shop', 'k8s:io.kubernetes.pod.namespace=web']);
  });

  it('an identity whose labels changed gets its new labels, not the remembered ones', () => {
    const decode = (text: string): Flow => {
      const r = decodeEvent(JSON.parse(text));
      if (!r.ok) throw new Error(r.error.reason);
      return flowOf(r.event);
    };
    const before = decode(line('p-1', 777));
    const after = decode(line('p-2', 777, ['k8s:tier=new']));
    expect(after.source.labels).toEqual(['k8s:app=shop', 'k8s:io.kubernetes.pod.namespace=web', 'k8s:tier=new']);
    expect(before.source.labels).toEqual(['k8s:app=shop', 'k8s:io.kubernetes.pod.namespace=web']);
    expect(decode(line('p-3', 777)).source.labels).toEqual(before.source.labels);
  });

  it('remembers a bounded number of lists however many identities churn by', () => {
    for (let id = 100_000; id < 100_000 + 2 * MAX_LABEL_LISTS + 5; id++) sharedLabels(id, [`k8s:app=a${id}`]);
    expect(sharedLabelListCount()).toBeGreaterThan(0);
    expect(sharedLabelListCount()).toBeLessThanOrEqual(MAX_LABEL_LISTS);
  });
});
