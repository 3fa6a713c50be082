import { describe, expect, it } from 'vitest';
import type { Endpoint, Flow } from '../../../src/flow/index.js';
import { evaluate, peerFromEndpoint, requestFromFlow } from '../../../src/policy/index.js';
import { cnp, policies } from './policy-helpers.js';

const endpoint = (e: Partial<Endpoint>): Endpoint => ({ labels: [], workloads: [], ...e });

function flow(f: Partial<Flow>): Flow {
  return {
    time: '2025-01-01T00:00:00.000000000Z',
    timeMs: 0,
    verdict: 'DROPPED',
    source: endpoint({}),
    destination: endpoint({}),
    sourceNames: [],
    destinationNames: [],
    trafficDirection: 'EGRESS',
    egressAllowedBy: [],
    ingressAllowedBy: [],
    egressDeniedBy: [],
    ingressDeniedBy: [],
    ...f,
  };
}

describe('peerFromEndpoint', () => {
  it('adds the pod namespace and cluster labels Hubble left out', () => {
    const p = peerFromEndpoint(endpoint({ identity: 4321, namespace: 'shop', clusterName: 'prod', labels: ['k8s:app=web'] }), { ip: '10.0.0.5' });
    expect(p.labels).toEqual(['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=shop', 'k8s:io.cilium.k8s.policy.cluster=prod']);
    expect(p).toMatchObject({ identity: 4321, ip: '10.0.0.5' });
  });

  it('keeps reserved identities as they are (the evaluator derives reserved labels from the number)', () => {
    expect(peerFromEndpoint(endpoint({ identity: 2, labels: ['reserved:world'] }))).toEqual({ labels: ['reserved:world'], identity: 2 });
  });
});

describe('requestFromFlow', () => {
  const src = endpoint({ identity: 5000, namespace: 'ns', labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=ns'] });
  const world = endpoint({ identity: 16777217, labels: ['reserved:world', 'cidr:104.16.0.1/32'] });

  it('builds a TCP request with the destination names and judges toFQDNs with them', () => {
    const f = flow({
      source: src,
      destination: world,
      ip: { source: '10.0.0.5', destination: '104.16.0.1' },
      l4: { protocol: 'TCP', sourcePort: 40000, destinationPort: 443, flags: { SYN: true } },
      destinationNames: ['api.example.com'],
    });
    const req = requestFromFlow(f);
    expect(req).toMatchObject({ protocol: 'TCP', port: 443, destination: { ip: '104.16.0.1', names: ['api.example.com'] } });
    const set = policies(cnp('p', '{endpointSelector: {}, egress: [{toFQDNs: [{matchName: api.example.com}]}]}'));
    expect(evaluate(set, req as NonNullable<typeof req>).allowed).toBe(true);
    expect(evaluate(set, requestFromFlow({ ...f, destinationNames: [] }) as NonNullable<typeof req>).allowed).toBe(false);
  });

  it('carries ICMP type and HTTP request facts; skips VRRP/IGMP', () => {
    const icmp = requestFromFlow(flow({ source: src, destination: world, l4: { protocol: 'ICMPv4', icmpType: 8, icmpCode: 0 } }));
    expect(icmp).toMatchObject({ protocol: 'ICMPv4', icmpType: 8 });
    const http = requestFromFlow(
      flow({
        source: src,
        destination: world,
        l4: { protocol: 'TCP', sourcePort: 1, destinationPort: 80 },
        l7: { type: 'REQUEST', http: { method: 'GET', url: 'http://shop:8080/cart?id=1', headers: [{ key: 'X-A', value: 'b' }] } },
      }),
    );
    expect(http?.l7).toEqual({ http: { method: 'GET', path: '/cart?id=1', host: 'shop:8080', headers: [{ key: 'X-A', value: 'b' }] } });
    expect(requestFromFlow(flow({ l4: { protocol: 'VRRP' } }))).toBeUndefined();
    expect(requestFromFlow(flow({}))).toBeUndefined();
  });
});
