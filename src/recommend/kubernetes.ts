import { MANAGED_BY, type WorkloadTraffic } from './cilium.js';
import { evidenceComment, evidenceOf } from './evidence.js';
import type { GeneratedPolicy, Note, Peer, RecommendOptions } from './model.js';
import { describePeer } from './naming.js';
import { groupByPeer } from './peer-groups.js';
import { type PortPlan, planPorts, portsLabel } from './ports.js';
import { type WorkloadIndex, sortKeys, unwritablePeer } from './selectors.js';
import { workloadKey } from './naming.js';

/**
 * A networking.k8s.io/v1 NetworkPolicy for one workload. What that API cannot say (FQDNs, the
 * kube-apiserver, host and remote-node entities) is not guessed as IP blocks: the direction that
 * needs it is left unenforced and a warning says why, so the rollout breaks nothing.
 */
export function kubernetesPolicyFor(
  t: WorkloadTraffic,
  name: string,
  index: WorkloadIndex,
  o: RecommendOptions,
): { policy: GeneratedPolicy; notes: Note[]; warnings: string[] } {
  const w = t.workload;
  const notes: Note[] = [];
  const warnings: string[] = [];
  const comments = new Map<string, string>();
  const policyTypes: string[] = [];
  const spec: Record<string, unknown> = { podSelector: { matchLabels: sortKeys(w.selector) } };
  comments.set('spec.podSelector', ` pods of ${w.kind} ${w.namespace}/${w.name}`);

  for (const direction of ['ingress', 'egress'] as const) {
    const edges = direction === 'ingress' ? t.inbound : t.outbound;
    const side = direction === 'ingress' ? 'from' : 'to';
    const rules: Record<string, unknown>[] = [];
    const unsupported: string[] = [];
    for (const g of groupByPeer(edges, side).values()) {
      const why = unwritablePeer(g.peer, index);
      if (why !== undefined) {
        notes.push({ policy: name, namespace: w.namespace, kind: 'unsupported', message: `${direction} ${side} ${describePeer(g.peer)} is left out: ${why}` });
        continue;
      }
      const peers = peerTerm(g.peer, w.namespace, index);
      const plan = planPorts(g.edges, o.portRangeMin);
      if (peers === 'unsupported') {
        unsupported.push(`${describePeer(g.peer)} on ${portsLabel(plan)}`);
        continue;
      }
      if (peers === 'implicit') {
        notes.push({ policy: name, namespace: w.namespace, kind: 'info', message: `${direction} from ${describePeer(g.peer)} needs no rule: NetworkPolicy always allows traffic from the pod's own node (kubelet probes)` });
        continue;
      }
      comments.set(`spec.${direction}[${rules.length}]`, evidenceComment(`${side} ${describePeer(g.peer)} on ${portsLabel(plan)}`, evidenceOf(g.edges)));
      for (const r of plan.ranges) notes.push({ policy: name, namespace: w.namespace, kind: 'widening', message: r });
      if (plan.icmp.length > 0) {
        notes.push({ policy: name, namespace: w.namespace, kind: 'unsupported', message: `ICMP ${side} ${describePeer(g.peer)} cannot be expressed in NetworkPolicy` });
      }
      rules.push({ [side]: peers, ...(plan.ports.length > 0 ? { ports: k8sPorts(plan) } : {}) });
    }
    if (unsupported.length > 0) {
      // Never advise an ipBlock for an identity: on Cilium no ipBlock matches the kube-apiserver,
      // host or remote-node (policy-semantics §2.4), the lesson behind users' hand-written CNPs.
      warnings.push(
        `${w.namespace}/${name}: ${direction} left unenforced: NetworkPolicy cannot express ${unsupported.join('; ')}; ` +
          'on Cilium an ipBlock never matches the kube-apiserver, host or remote-node identities and DNS names need toFQDNs: use --kind cilium',
      );
      continue;
    }
    policyTypes.push(direction === 'ingress' ? 'Ingress' : 'Egress');
    spec[direction] = rules;
    if (rules.length === 0) {
      comments.set(`spec.${direction}`, ` no ${direction === 'ingress' ? 'inbound' : 'outbound'} connection was observed: default deny`);
      notes.push({ policy: name, namespace: w.namespace, kind: 'default-deny', message: `no ${direction} traffic observed: ${direction} is denied` });
    }
  }
  spec['policyTypes'] = policyTypes;
  return {
    policy: {
      document: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name, namespace: w.namespace, labels: { ...MANAGED_BY } },
        spec,
      },
      comments,
    },
    notes,
    warnings,
  };
}

function k8sPorts(plan: PortPlan): Record<string, unknown>[] {
  return plan.ports.map((p) => ({ protocol: p.protocol, port: p.port, ...(p.endPort !== undefined ? { endPort: p.endPort } : {}) }));
}

function peerTerm(p: Peer, namespace: string, index: WorkloadIndex): Record<string, unknown>[] | 'unsupported' | 'implicit' {
  switch (p.kind) {
    case 'workload': {
      const info = index.get(workloadKey({ namespace: p.namespace, kind: p.workloadKind, name: p.name }));
      const podSelector = { matchLabels: sortKeys(info?.selector ?? {}) };
      if (p.namespace === namespace) return [{ podSelector }];
      return [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': p.namespace } }, podSelector }];
    }
    case 'cidr':
      return [{ ipBlock: { cidr: p.cidr } }];
    case 'entity':
      if (p.entity === 'host') return 'implicit';
      if (p.entity === 'world') return [{ ipBlock: { cidr: '0.0.0.0/0' } }];
      return 'unsupported';
    case 'fqdn':
      return 'unsupported';
    default: {
      const never: never = p;
      return never;
    }
  }
}
