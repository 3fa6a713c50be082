import { describe, expect, it } from 'vitest';
import { buildPolicySet } from '../../../src/policy/index.js';
import { checkBaseline } from '../../../src/triage/index.js';
import { flow, graphOf, reserved } from '../graph/builders.js';
import { samplePod } from '../../helpers/sample-endpoints.js';
import { cnp, knp, load } from './triage-helpers.js';

/**
 * Issue 16 through the real read path (flows → edge graph → check): what the graph keeps is what
 * the evaluator matches on. Pods are shaped like the poc1 sample (Cilium 1.20).
 */
const a = samplePod('x', 'a', {}, 94334);
const dropped = (flows: Parameters<typeof graphOf>[0], ...docs: string[]): string[] => {
  const { edges, workloads } = graphOf(flows);
  return checkBaseline(edges, workloads, buildPolicySet(load(...docs))).wouldDrop.map(
    (w) => `${w.edge.from.kind === 'workload' ? w.edge.from.namespace : 'entity'} -> ${w.edge.protocol}/${w.edge.port} ${w.side} ${w.reason}`,
  );
};

describe('check judges edges with namespace labels, the cluster and every reserved label', () => {
  const ingressFromBlue = knp('a', '{podSelector: {matchLabels: {app: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}]}]}', 'x');

  it('the issue repro: a NetworkPolicy namespaceSelector admits blue-ns (team=blue), not wouldDrop', () => {
    const blue = samplePod('blue-ns', 'client', { team: 'blue' }, 117659);
    expect(dropped([flow({ src: blue, dst: a, dport: 80, flags: { SYN: true } })], ingressFromBlue)).toEqual([]);
    const red = samplePod('red-ns', 'client', { team: 'red' }, 117660);
    expect(dropped([flow({ src: red, dst: a, dport: 80, flags: { SYN: true } })], ingressFromBlue)).toEqual(['red-ns -> TCP/80 ingress POLICY_DENIED']);
  });

  it('toEntities: [cluster] admits a pod in another namespace of this cluster (cluster name taken from the flows)', () => {
    const b = samplePod('other', 'b', {}, 94335);
    const policy = cnp('a', '{endpointSelector: {matchLabels: {app: a}}, egress: [{toEntities: [cluster]}]}', 'x');
    expect(dropped([flow({ src: a, dst: b, dport: 8080 })], policy)).toEqual([]);
    const remote = samplePod('other', 'c', {}, 94336, 'poc2');
    expect(dropped([flow({ src: a, dst: b, dport: 8080 }), flow({ src: a, dst: remote, dport: 8080 }), flow({ src: a, dst: b, dport: 8081 })], policy)).toEqual([
      'x -> TCP/8080 egress POLICY_DENIED',
    ]);
  });

  it('kube-apiserver + remote-node is selected by remote-node and by kube-apiserver, not by host', () => {
    const api = reserved(7, 'reserved:kube-apiserver', 'reserved:remote-node');
    const flows = [flow({ src: a, dst: api, dport: 6443, dstIp: '172.18.0.3' }), flow({ src: api, dst: a, dport: 8443, srcIp: '172.18.0.3' })];
    const egress = (e: string): string => cnp('a', `{endpointSelector: {matchLabels: {app: a}}, egress: [{toEntities: [${e}]}], ingress: [{fromEntities: [${e}]}]}`, 'x');
    expect(dropped(flows, egress('remote-node'))).toEqual([]);
    expect(dropped(flows, egress('kube-apiserver'))).toEqual([]);
    expect(dropped(flows, egress('host'))).toEqual(['entity -> TCP/8443 ingress POLICY_DENIED', 'x -> TCP/6443 egress POLICY_DENIED']);
  });

  it('the same entity judged with each reserved-label set it carried, whichever came first (check shares one label list per set)', () => {
    const toRemoteNode = cnp('a', '{endpointSelector: {matchLabels: {app: a}}, egress: [{toEntities: [remote-node]}]}', 'x');
    const onOtherNode = reserved(7, 'reserved:kube-apiserver', 'reserved:remote-node');
    const onOwnNode = reserved(1, 'reserved:host', 'reserved:kube-apiserver');
    const to = (api: typeof onOwnNode, ip: string): Parameters<typeof graphOf>[0] => [flow({ src: a, dst: api, dport: 6443, dstIp: ip })];
    for (let i = 0; i < 2; i++) {
      expect(dropped(to(onOtherNode, '172.18.0.3'), toRemoteNode)).toEqual([]);
      expect(dropped(to(onOwnNode, '172.18.0.2'), toRemoteNode)).toEqual(['x -> TCP/6443 egress POLICY_DENIED']);
    }
  });

  it('an edge that carried several identities drops when one of them would', () => {
    // The API server reaches `a` from its own node (host + kube-apiserver) and from another (remote-node).
    const flows = [
      flow({ src: reserved(1, 'reserved:host', 'reserved:kube-apiserver'), dst: a, dport: 8443, srcIp: '172.18.0.2' }),
      flow({ src: reserved(7, 'reserved:kube-apiserver', 'reserved:remote-node'), dst: a, dport: 8443, srcIp: '172.18.0.3' }),
    ];
    const fromHostOnly = cnp('a', '{endpointSelector: {matchLabels: {app: a}}, ingress: [{fromEntities: [host]}]}', 'x');
    expect(dropped(flows, fromHostOnly)).toEqual(['entity -> TCP/8443 ingress POLICY_DENIED']);
    const fromRemote = cnp('a', '{endpointSelector: {matchLabels: {app: a}}, ingress: [{fromEntities: [remote-node]}]}', 'x');
    // The host is always let in (allow-localhost), so remote-node covers both.
    expect(dropped(flows, fromRemote)).toEqual([]);
  });

  it('world-ipv4 identities (dual stack) are selected by world-ipv4 and world, not world-ipv6', () => {
    const flows = [flow({ src: a, dst: reserved(9, 'reserved:world-ipv4'), dport: 443, dstIp: '1.1.1.1' })];
    const to = (e: string): string => cnp('a', `{endpointSelector: {matchLabels: {app: a}}, egress: [{toEntities: [${e}]}]}`, 'x');
    expect(dropped(flows, to('world-ipv4'))).toEqual([]);
    expect(dropped(flows, to('world'))).toEqual([]);
    expect(dropped(flows, to('world-ipv6'))).toEqual(['x -> TCP/443 egress POLICY_DENIED']);
  });
});
