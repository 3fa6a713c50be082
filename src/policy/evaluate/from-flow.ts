/** Builds evaluator peers and requests from our normalised Hubble flow model. */
import type { Endpoint, Flow } from '../../flow/index.js';
import type { EvaluationRequest } from '../evaluate.js';
import type { L7Request } from './l7.js';
import { CLUSTER_LABEL, POD_NAMESPACE_LABEL, type NamedPort, type Peer } from './peer.js';

export interface PeerExtras {
  readonly ip?: string;
  /** DNS names for this peer (Hubble `*_names`, or answers the caller collected). */
  readonly names?: readonly string[];
  readonly namedPorts?: Readonly<Record<string, NamedPort>>;
  readonly managed?: boolean;
}

/**
 * A Peer from a Hubble endpoint: its labels, its numeric identity (1 host, 2 world,
 * 6 remote-node, 7 kube-apiserver, >= 2^24 CIDR/FQDN identities, which carry `reserved:world`),
 * its pod namespace and cluster name as labels when Hubble left them out.
 */
export function peerFromEndpoint(ep: Endpoint, extras: PeerExtras = {}): Peer {
  const labels = [...ep.labels];
  const isPod = ep.namespace !== undefined && ep.namespace !== '' && (ep.identity ?? 256) >= 256;
  if (isPod && !labels.some((l) => l.includes(`:${POD_NAMESPACE_LABEL}=`))) {
    labels.push(`k8s:${POD_NAMESPACE_LABEL}=${ep.namespace ?? ''}`);
  }
  if (isPod && ep.clusterName && !labels.some((l) => l.includes(`:${CLUSTER_LABEL}=`))) {
    labels.push(`k8s:${CLUSTER_LABEL}=${ep.clusterName}`);
  }
  return {
    labels,
    ...(ep.identity !== undefined && { identity: ep.identity }),
    ...(extras.ip !== undefined && { ip: extras.ip }),
    ...(extras.names !== undefined && { names: extras.names }),
    ...(extras.namedPorts !== undefined && { namedPorts: extras.namedPorts }),
    ...(extras.managed !== undefined && { managed: extras.managed }),
  };
}

export interface FlowRequestExtras {
  readonly sourceNamedPorts?: Readonly<Record<string, NamedPort>>;
  readonly destinationNamedPorts?: Readonly<Record<string, NamedPort>>;
  /** Extra DNS names for the destination IP (e.g. from DNS answers seen earlier). */
  readonly destinationNames?: readonly string[];
}

/**
 * The request a flow represents, or `undefined` when its L4 protocol is not one policies speak
 * (VRRP, IGMP, none). The caller should skip replies (`isReply`) before evaluating.
 */
export function requestFromFlow(flow: Flow, extras: FlowRequestExtras = {}): EvaluationRequest | undefined {
  const l4 = flow.l4;
  if (l4 === undefined) return undefined;
  const source = peerFromEndpoint(flow.source, {
    ...(flow.ip?.source !== undefined && { ip: flow.ip.source }),
    names: flow.sourceNames,
    ...(extras.sourceNamedPorts && { namedPorts: extras.sourceNamedPorts }),
  });
  const destination = peerFromEndpoint(flow.destination, {
    ...(flow.ip?.destination !== undefined && { ip: flow.ip.destination }),
    names: [...flow.destinationNames, ...(extras.destinationNames ?? [])],
    ...(extras.destinationNamedPorts && { namedPorts: extras.destinationNamedPorts }),
  });
  const l7 = l7FromFlow(flow);
  const base = { source, destination, ...(l7 && { l7 }) };
  switch (l4.protocol) {
    case 'TCP':
    case 'UDP':
    case 'SCTP':
      return { ...base, protocol: l4.protocol, port: l4.destinationPort };
    case 'ICMPv4':
    case 'ICMPv6':
      return { ...base, protocol: l4.protocol, icmpType: l4.icmpType };
    case 'VRRP':
    case 'IGMP':
      return undefined;
    default: {
      const never: never = l4;
      return never;
    }
  }
}

function l7FromFlow(flow: Flow): L7Request | undefined {
  const l7 = flow.l7;
  if (l7 === undefined || l7.type !== 'REQUEST') return undefined;
  if (l7.http) {
    return {
      http: {
        ...(l7.http.method !== undefined && { method: l7.http.method }),
        ...urlParts(l7.http.url),
        headers: l7.http.headers,
      },
    };
  }
  if (l7.dns) return { dns: { query: l7.dns.query } };
  if (l7.kafka) {
    return { kafka: { ...(l7.kafka.topic !== undefined && { topic: l7.kafka.topic }), ...(l7.kafka.apiKey !== undefined && { apiKey: l7.kafka.apiKey }) } };
  }
  return undefined;
}

function urlParts(url: string | undefined): { path?: string; host?: string } {
  if (url === undefined) return {};
  try {
    const u = new URL(url);
    return { path: u.pathname + u.search, host: u.host };
  } catch {
    return { path: url };
  }
}
