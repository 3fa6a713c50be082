import { MANAGED_BY } from './cilium.js';
import { dnsEgressRule } from './dns.js';
import { evidenceComment, evidenceOf } from './evidence.js';
import type { GeneratedPolicy, ObservedEdge, RecommendOptions, WorkloadInfo } from './model.js';
import { NAMESPACE_LABEL, sortKeys } from './selectors.js';

/**
 * The cluster-wide foundation. Both policies set `enableDefaultDeny: false` so that selecting every
 * pod does not switch them all to default-deny egress; they only add allows under the per-workload
 * policies (union semantics).
 */
export function baselinePolicies(
  dnsEdges: readonly ObservedEdge[],
  apiserverClients: readonly { workload: WorkloadInfo; edges: readonly ObservedEdge[] }[],
  o: RecommendOptions,
): GeneratedPolicy[] {
  const out: GeneratedPolicy[] = [];
  {
    const comments = new Map<string, string>();
    comments.set('spec', ' every pod may resolve names through the cluster DNS; the L7 dns rule lets toFQDNs policies learn IPs');
    comments.set('spec.egress[0]', dnsEdges.length > 0 ? evidenceComment('DNS lookups by all workloads on UDP/53, TCP/53', evidenceOf(dnsEdges)) : ' DNS on UDP/53, TCP/53 (no lookup observed)');
    out.push({
      document: {
        apiVersion: 'cilium.io/v2',
        kind: 'CiliumClusterwideNetworkPolicy',
        metadata: { name: 'hubble-advisor-baseline-dns', labels: { ...MANAGED_BY } },
        spec: {
          endpointSelector: { matchExpressions: [{ key: NAMESPACE_LABEL, operator: 'Exists' }] },
          enableDefaultDeny: { ingress: false, egress: false },
          egress: [dnsEgressRule(o)],
        },
      },
      comments,
    });
  }
  if (apiserverClients.length > 0) {
    const comments = new Map<string, string>();
    const specs = apiserverClients.map((c, i) => {
      const ports = [...new Set(c.edges.map((e) => `${e.protocol}/${e.port}`))].sort();
      comments.set(`specs[${i}]`, evidenceComment(`${c.workload.namespace}/${c.workload.name} to kube-apiserver`, evidenceOf(c.edges)));
      return {
        endpointSelector: { matchLabels: sortKeys({ ...c.workload.selector, [NAMESPACE_LABEL]: c.workload.namespace }) },
        enableDefaultDeny: { ingress: false, egress: false },
        egress: [
          {
            toEntities: ['kube-apiserver'],
            toPorts: [{ ports: ports.map((p) => ({ port: p.split('/')[1] as string, protocol: p.split('/')[0] as string })) }],
          },
        ],
      };
    });
    out.push({
      document: {
        apiVersion: 'cilium.io/v2',
        kind: 'CiliumClusterwideNetworkPolicy',
        metadata: { name: 'hubble-advisor-baseline-kube-apiserver', labels: { ...MANAGED_BY } },
        // One rule per client workload, each with its own subject.
        specs,
      },
      comments,
    });
  }
  return out;
}
