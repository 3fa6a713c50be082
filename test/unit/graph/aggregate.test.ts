import { describe, expect, it } from 'vitest';
import { EdgeAggregator, labelFactsCount, requestDirection } from '../../../src/graph/index.js';
import { HOUR, T0, flow, graphOf, immich, lines, pod, postgres1, reserved } from './builders.js';

const describeEnds = (e: Parameters<typeof lines>[0][number]): string => lines([e])[0] as string;

const syn = { SYN: true };
const ack = { ACK: true };

describe('request direction', () => {
  it.each([
    ['is_reply true', flow({ src: postgres1, dst: immich, isReply: true, flags: ack }), 'reply'],
    ['SYN+ACK without is_reply', flow({ src: postgres1, dst: immich, verdict: 'DROPPED', flags: { SYN: true, ACK: true } }), 'reply'],
    ['trace reason REPLY', flow({ src: postgres1, dst: immich, traceReason: 'REPLY' }), 'reply'],
    ['L7 response', flow({ src: postgres1, dst: immich, l7: { type: 'RESPONSE', http: { code: 200, headers: [] } } }), 'reply'],
    ['drop with unknown is_reply', flow({ src: immich, dst: postgres1, verdict: 'DROPPED', flags: syn }), 'request'],
    ['SYN', flow({ src: immich, dst: postgres1, flags: syn }), 'request'],
  ] as const)('%s → %s', (_name, f, want) => {
    expect(requestDirection(f)).toBe(want);
  });

  it('an old agent without is_reply: server port to ephemeral port is a reply, not an edge', () => {
    const f = { ...flow({ src: postgres1, dst: immich, sport: 5432, dport: 51000, flags: ack }), isReply: undefined };
    expect(requestDirection(f)).toBe('reply');
  });

  it('replies never create edges; they are counted as skipped', () => {
    const { edges, delta } = graphOf([
      flow({ src: immich, dst: postgres1, flags: syn }),
      flow({ src: postgres1, dst: immich, sport: 5432, dport: 40000, isReply: true, flags: { SYN: true, ACK: true } }),
      flow({ src: postgres1, dst: immich, sport: 5432, dport: 40000, isReply: true, flags: ack }),
    ]);
    expect(lines(edges)).toEqual(['self-hosted/Deployment/immich-server -> dbms/Cluster/postgres TCP/5432']);
    expect(delta.skipped).toEqual({ reply: 2 });
  });
});

describe('counting one connection seen on both nodes', () => {
  // Client node: policy verdict + trace to-stack (egress). Server node: to-endpoint (ingress).
  const connection = (t: number) => [
    flow({ src: immich, dst: postgres1, flags: syn, t, dir: 'EGRESS', eventType: 5 }),
    flow({ src: immich, dst: postgres1, flags: syn, t, dir: 'EGRESS', traceReason: 'NEW' }),
    flow({ src: immich, dst: postgres1, flags: ack, t: t + 1, dir: 'EGRESS' }),
    flow({ src: immich, dst: postgres1, flags: syn, t: t + 2, dir: 'INGRESS', traceReason: 'NEW' }),
    flow({ src: immich, dst: postgres1, flags: ack, t: t + 3, dir: 'INGRESS' }),
  ];

  it('connections and forwarded count once, not once per node', () => {
    const { edges } = graphOf([...connection(T0), ...connection(T0 + 1000)]);
    expect(edges).toHaveLength(1);
    const e = edges[0]!;
    expect(e.connections).toBe(2);
    expect(e.sides.egress.connections).toBe(2);
    expect(e.sides.egress.verdicts).toBe(2);
    expect(e.sides.ingress.connections).toBe(2);
    expect(e.flows).toBe(6); // the busier side: egress (verdict + SYN + ACK) × 2
    expect(e.forwarded).toBe(6);
    expect(e.dropped).toBe(0);
  });

  it('a connection forwarded at egress and dropped at ingress is dropped, not forwarded', () => {
    const { edges } = graphOf([
      flow({ src: immich, dst: postgres1, flags: syn, dir: 'EGRESS', traceReason: 'NEW' }),
      flow({ src: immich, dst: postgres1, flags: syn, dir: 'INGRESS', verdict: 'DROPPED', dropReason: 'POLICY_DENIED', eventType: 1 }),
      flow({ src: immich, dst: postgres1, flags: syn, t: T0 + 1000, dir: 'INGRESS', verdict: 'DROPPED', dropReason: 'POLICY_DENIED', eventType: 1 }),
    ]);
    const e = edges[0]!;
    expect(e.forwarded).toBe(0);
    expect(e.dropped).toBe(2);
    expect(e.dropReasons).toEqual({ POLICY_DENIED: 2 });
  });

  it('drops on both sides add up; audit takes the busier side', () => {
    const { edges } = graphOf([
      flow({ src: immich, dst: postgres1, flags: syn, dir: 'EGRESS', verdict: 'DROPPED', dropReason: 'POLICY_DENY' }),
      flow({ src: immich, dst: postgres1, flags: syn, t: T0 + 5, dir: 'INGRESS', verdict: 'DROPPED', dropReason: 'POLICY_DENIED' }),
      flow({ src: immich, dst: postgres1, flags: syn, t: T0 + 9, dir: 'EGRESS', verdict: 'AUDIT', eventType: 5 }),
      flow({ src: immich, dst: postgres1, flags: syn, t: T0 + 9, dir: 'INGRESS', verdict: 'AUDIT', eventType: 5 }),
    ]);
    const e = edges[0]!;
    expect(e.dropped).toBe(2);
    expect(e.audit).toBe(1);
    expect(e.dropReasons).toEqual({ POLICY_DENIED: 1, POLICY_DENY: 1 });
  });

  it('REDIRECTED (to the L7 proxy) is let through', () => {
    const { edges } = graphOf([flow({ src: immich, dst: postgres1, flags: syn, verdict: 'REDIRECTED', eventType: 5 })]);
    expect(edges[0]).toMatchObject({ forwarded: 1, redirected: 1, connections: 1 });
  });
});

describe('evidence on edges', () => {
  it('first/last seen and distinct hours', () => {
    const { edges } = graphOf([
      flow({ src: immich, dst: postgres1, t: T0 + 5 * HOUR }),
      flow({ src: immich, dst: postgres1, t: T0 }),
      flow({ src: immich, dst: postgres1, t: T0 + 10 }),
      flow({ src: immich, dst: postgres1, t: T0 + 2 * HOUR }),
    ]);
    expect(edges[0]).toMatchObject({ firstSeenMs: T0, lastSeenMs: T0 + 5 * HOUR, hoursSeen: 3 });
  });

  it('an hour seen again after another counts once, and the record lists hours in order', () => {
    const { edges, delta } = graphOf([
      flow({ src: immich, dst: postgres1, t: T0 + 5 * HOUR }),
      flow({ src: immich, dst: postgres1, t: T0 }),
      flow({ src: immich, dst: postgres1, t: T0 + 5 * HOUR + 10 }),
      flow({ src: immich, dst: postgres1, t: T0 + 20 }),
    ]);
    expect(edges[0]).toMatchObject({ hoursSeen: 2 });
    expect([...delta.edges.values()][0]!.hours).toEqual([T0 / HOUR, T0 / HOUR + 5]);
  });

  it('one pair on several ports keeps an edge per port, whatever order their flows come in', () => {
    const to = (dport: number, t = T0) => flow({ src: immich, dst: postgres1, dport, t, flags: syn });
    const { edges } = graphOf([to(5432), to(8080), flow({ src: postgres1, dst: immich, dport: 2283, flags: syn }), to(5432), to(9090), to(8080), to(8080), to(5432, T0 + HOUR)]);
    const byEdge = Object.fromEntries(edges.map((e) => [`${describeEnds(e)}`, [e.connections, e.hoursSeen]]));
    expect(byEdge).toEqual({
      'self-hosted/Deployment/immich-server -> dbms/Cluster/postgres TCP/5432': [3, 2],
      'self-hosted/Deployment/immich-server -> dbms/Cluster/postgres TCP/8080': [3, 1],
      'self-hosted/Deployment/immich-server -> dbms/Cluster/postgres TCP/9090': [1, 1],
      'dbms/Cluster/postgres -> self-hosted/Deployment/immich-server TCP/2283': [1, 1],
    });
  });

  it('HTTP method + path templates: ids become {id}, query strings go', () => {
    const req = (url: string, method = 'GET') =>
      flow({ src: immich, dst: postgres1, dport: 8080, dir: 'INGRESS', eventType: 129, l7: { type: 'REQUEST', http: { method, url, headers: [] } } });
    const { edges } = graphOf([
      req('http://api:8080/api/assets/123?token=secret'),
      req('http://api:8080/api/assets/456'),
      req('/api/albums/6f1c1e2a-0000-4000-8000-000000000001/share', 'post'),
      req('http://api:8080/'),
    ]);
    expect(edges[0]!.httpRequests).toEqual(['GET /', 'GET /api/assets/{id}', 'POST /api/albums/{id}/share']);
    expect(edges[0]!.l7Protocols).toEqual(['http']);
  });

  it('DNS query names on the edge to the DNS server', () => {
    const kubeDns = reserved(1234);
    const dns = { ...kubeDns, namespace: 'kube-system', podName: 'coredns-789c5fbdb4-vb8r9', labels: ['k8s:k8s-app=kube-dns'], workloads: [{ kind: 'Deployment', name: 'coredns' }] };
    const { edges } = graphOf([
      flow({ src: immich, dst: dns, proto: 'UDP', dport: 53, eventType: 129, l7: { type: 'REQUEST', dns: { query: 'Api.GitHub.com.', ips: [], cnames: [], qtypes: ['A'], rrtypes: [] } } }),
    ]);
    expect(edges[0]).toMatchObject({ dnsNames: ['api.github.com'], l7Protocols: ['dns'], protocol: 'UDP', port: 53 });
  });
});

describe("a workload's label sets across batches", () => {
  // The decoders hand out one frozen label list per identity; churned pods share it.
  const frozenPod = (name: string, labels: Record<string, string>, identity: number) => {
    const p = pod('shop', name, { ...labels, 'io.cilium.k8s.namespace.labels.team': 'web' }, { kind: 'Deployment', name: 'cart' }, identity);
    return { ...p, labels: Object.freeze([...p.labels]) };
  };
  const db = { ...postgres1, labels: Object.freeze([...postgres1.labels]) };

  it('reads a shared label list once, and every batch still records its label set and namespace labels', () => {
    const first = frozenPod('cart-1', { app: 'cart' }, 4001);
    const churned = { ...frozenPod('cart-2', { app: 'cart' }, 4001), labels: first.labels };
    const agg = new EdgeAggregator();
    const made = labelFactsCount();
    const batches = [first, churned, first].map((src, i) => {
      agg.add(flow({ src, dst: db, flags: { SYN: true }, t: T0 + i * HOUR }));
      return agg.take();
    });
    expect(labelFactsCount() - made).toBe(2); // the client's list and the server's
    for (const delta of batches) {
      expect(delta.workloads.get('w:shop/Deployment/cart')?.labelSets).toEqual([['app=cart', 'io.kubernetes.pod.namespace=shop']]);
      expect(delta.namespaces?.get('shop')?.labels).toEqual(['team=web']);
    }
  });

  it('a relabelled identity (a new list) gets its own label set; a list that may still change is read each time', () => {
    const agg = new EdgeAggregator();
    const made = labelFactsCount();
    agg.add(flow({ src: frozenPod('cart-1', { app: 'cart' }, 4001), dst: db, flags: { SYN: true } }));
    agg.add(flow({ src: frozenPod('cart-2', { app: 'cart', tier: 'b' }, 4002), dst: db, flags: { SYN: true } }));
    const open = pod('shop', 'cart-3', { app: 'cart', tier: 'c' }, { kind: 'Deployment', name: 'cart' }, 4003);
    agg.add(flow({ src: open, dst: db, flags: { SYN: true } }));
    expect(agg.take().workloads.get('w:shop/Deployment/cart')?.labelSets).toEqual([
      ['app=cart', 'io.kubernetes.pod.namespace=shop'],
      ['app=cart', 'io.kubernetes.pod.namespace=shop', 'tier=b'],
      ['app=cart', 'io.kubernetes.pod.namespace=shop', 'tier=c'],
    ]);
    (open.labels as string[]).push('k8s:tier=d');
    agg.add(flow({ src: { ...open, identity: 4004 }, dst: db, flags: { SYN: true } }));
    expect(agg.take().workloads.get('w:shop/Deployment/cart')?.labelSets).toEqual([['app=cart', 'io.kubernetes.pod.namespace=shop', 'tier=c', 'tier=d']]);
    expect(labelFactsCount() - made).toBe(4); // two new frozen lists (the server's is known), the open one twice
  });
});
