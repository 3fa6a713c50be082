/**
 * Enum tables from Hubble's flow.proto (Cilium v1.19). protojson writes enum names, but readers
 * must also accept numbers (protojson's reader does, and unknown future values arrive as numbers).
 */
import type { FlowType, LostEventSource, NodeState, TrafficDirection, Verdict } from './model.js';

export const VERDICT_BY_NUMBER: readonly Verdict[] = [
  'VERDICT_UNKNOWN',
  'FORWARDED',
  'DROPPED',
  'ERROR',
  'AUDIT',
  'REDIRECTED',
  'TRACED',
  'TRANSLATED',
];

export const FLOW_TYPE_BY_NUMBER: readonly FlowType[] = ['UNKNOWN_TYPE', 'L3_L4', 'L7', 'SOCK'];

export const TRAFFIC_DIRECTION_BY_NUMBER: readonly TrafficDirection[] = [
  'TRAFFIC_DIRECTION_UNKNOWN',
  'INGRESS',
  'EGRESS',
];

export const L7_TYPE_BY_NUMBER = ['UNKNOWN_L7_TYPE', 'REQUEST', 'RESPONSE', 'SAMPLE'] as const;

export const LOST_SOURCE_BY_NUMBER: readonly LostEventSource[] = [
  'UNKNOWN_LOST_EVENT_SOURCE',
  'PERF_EVENT_RING_BUFFER',
  'OBSERVER_EVENTS_QUEUE',
  'HUBBLE_RING_BUFFER',
];

export const NODE_STATE_BY_NUMBER: readonly NodeState[] = [
  'UNKNOWN_NODE_STATE',
  'NODE_CONNECTED',
  'NODE_UNAVAILABLE',
  'NODE_GONE',
  'NODE_ERROR',
];

export const IP_VERSION_BY_NUMBER = ['IP_NOT_USED', 'IPv4', 'IPv6'] as const;

export const TRACE_REASON_BY_NUMBER = [
  'TRACE_REASON_UNKNOWN',
  'NEW',
  'ESTABLISHED',
  'REPLY',
  'RELATED',
  'REOPENED',
  'SRV6_ENCAP',
  'SRV6_DECAP',
  'ENCRYPT_OVERLAY',
] as const;

const OBSERVATION_POINTS: Readonly<Record<number, string>> = {
  0: 'UNKNOWN_POINT',
  1: 'TO_PROXY',
  2: 'TO_HOST',
  3: 'TO_STACK',
  4: 'TO_OVERLAY',
  101: 'TO_ENDPOINT',
  5: 'FROM_ENDPOINT',
  6: 'FROM_PROXY',
  7: 'FROM_HOST',
  8: 'FROM_STACK',
  9: 'FROM_OVERLAY',
  10: 'FROM_NETWORK',
  11: 'TO_NETWORK',
  12: 'FROM_CRYPTO',
  13: 'TO_CRYPTO',
};

export function observationPointName(n: number): string {
  return OBSERVATION_POINTS[n] ?? String(n);
}

/** Drop reason codes (flow.proto `DropReason`, complete as of v1.19; 159 does not exist). */
const DROP_REASON_NAMES: readonly string[] = [
  'INVALID_SOURCE_MAC', 'INVALID_DESTINATION_MAC', 'INVALID_SOURCE_IP', 'POLICY_DENIED',
  'INVALID_PACKET_DROPPED', 'CT_TRUNCATED_OR_INVALID_HEADER', 'CT_MISSING_TCP_ACK_FLAG',
  'CT_UNKNOWN_L4_PROTOCOL', 'CT_CANNOT_CREATE_ENTRY_FROM_PACKET', 'UNSUPPORTED_L3_PROTOCOL',
  'MISSED_TAIL_CALL', 'ERROR_WRITING_TO_PACKET', 'UNKNOWN_L4_PROTOCOL', 'UNKNOWN_ICMPV4_CODE',
  'UNKNOWN_ICMPV4_TYPE', 'UNKNOWN_ICMPV6_CODE', 'UNKNOWN_ICMPV6_TYPE', 'ERROR_RETRIEVING_TUNNEL_KEY',
  'ERROR_RETRIEVING_TUNNEL_OPTIONS', 'INVALID_GENEVE_OPTION', 'UNKNOWN_L3_TARGET_ADDRESS',
  'STALE_OR_UNROUTABLE_IP', 'NO_MATCHING_LOCAL_CONTAINER_FOUND', 'ERROR_WHILE_CORRECTING_L3_CHECKSUM',
  'ERROR_WHILE_CORRECTING_L4_CHECKSUM', 'CT_MAP_INSERTION_FAILED', 'INVALID_IPV6_EXTENSION_HEADER',
  'IP_FRAGMENTATION_NOT_SUPPORTED', 'SERVICE_BACKEND_NOT_FOUND', '',
  'NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT', 'FAILED_TO_INSERT_INTO_PROXYMAP',
  'REACHED_EDT_RATE_LIMITING_DROP_HORIZON', 'UNKNOWN_CONNECTION_TRACKING_STATE',
  'LOCAL_HOST_IS_UNREACHABLE', 'NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION',
  'UNSUPPORTED_L2_PROTOCOL', 'NO_MAPPING_FOR_NAT_MASQUERADE', 'UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE',
  'FIB_LOOKUP_FAILED', 'ENCAPSULATION_TRAFFIC_IS_PROHIBITED', 'INVALID_IDENTITY', 'UNKNOWN_SENDER',
  'NAT_NOT_NEEDED', 'IS_A_CLUSTERIP', 'FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND',
  'FORBIDDEN_ICMPV6_MESSAGE', 'DENIED_BY_LB_SRC_RANGE_CHECK', 'SOCKET_LOOKUP_FAILED',
  'SOCKET_ASSIGN_FAILED', 'PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL', 'POLICY_DENY',
  'VLAN_FILTERED', 'INVALID_VNI', 'INVALID_TC_BUFFER', 'NO_SID', 'MISSING_SRV6_STATE', 'NAT46', 'NAT64',
  'AUTH_REQUIRED', 'CT_NO_MAP_FOUND', 'SNAT_NO_MAP_FOUND', 'INVALID_CLUSTER_ID',
  'UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP', 'NO_EGRESS_GATEWAY', 'UNENCRYPTED_TRAFFIC', 'TTL_EXCEEDED',
  'NO_NODE_ID', 'DROP_RATE_LIMITED', 'IGMP_HANDLED', 'IGMP_SUBSCRIBED', 'MULTICAST_HANDLED',
  'DROP_HOST_NOT_READY', 'DROP_EP_NOT_READY', 'DROP_NO_EGRESS_IP', 'DROP_PUNT_PROXY',
];
const FIRST_DROP_CODE = 130;

export const POLICY_DENIED = 133;
export const POLICY_DENY = 181;

export function dropReasonName(code: number): string {
  const name = DROP_REASON_NAMES[code - FIRST_DROP_CODE];
  return name ? name : String(code);
}

export function dropReasonCode(name: string): number | undefined {
  const i = DROP_REASON_NAMES.indexOf(name);
  return i >= 0 ? i + FIRST_DROP_CODE : undefined;
}

/** True for drops that a policy change can fix (default deny and explicit deny). */
export function isPolicyDropReason(reason: string | undefined): boolean {
  return reason === 'POLICY_DENIED' || reason === 'POLICY_DENY';
}

/** Reserved identity numbers (pkg/identity/numericidentity.go). */
export const RESERVED_IDENTITIES: Readonly<Record<number, string>> = {
  1: 'host',
  2: 'world',
  3: 'unmanaged',
  4: 'health',
  5: 'init',
  6: 'remote-node',
  7: 'kube-apiserver',
  8: 'ingress',
  9: 'world-ipv4',
  10: 'world-ipv6',
  11: 'encrypted-overlay',
};
