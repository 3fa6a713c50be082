/**
 * A rule entry's peer fields as Cilium merges them (mergeEndpointSelectors): any explicitly empty
 * list selects nothing whatever the other fields say, and each field that cannot be resolved
 * offline is told and matches nothing. One row per field the compiler reads by name.
 */
import { describe, expect, it } from 'vitest';
import type { Peer } from '../../../src/policy/index.js';
import { cnp, HOST, outcome, pod, policies, REMOTE_NODE, tcp, WORLD } from './policy-helpers.js';

const WEB = pod('ns', { app: 'web' });
const DB = pod('ns', { app: 'db' });

/** The field left empty, and a peer the entry's other field (`all` entities) would let through. */
const INGRESS_EMPTY = ['fromEndpoints', 'fromNodes', 'fromEntities', 'fromCIDR', 'fromCIDRSet'] as const;
const EGRESS_EMPTY = ['toEndpoints', 'toNodes', 'toEntities', 'toCIDR', 'toCIDRSet'] as const;

const API: Peer = { labels: ['reserved:world'], identity: 2, ip: '8.8.4.4', names: ['api.example.com'] };
/** Each peer field alone, and a peer it lets through. */
const FIELDS: readonly (readonly [string, string, Peer])[] = [
  ['Endpoints', '[{matchLabels: {app: web}}]', WEB],
  ['CIDR', '[8.8.8.0/24]', WORLD],
  ['CIDRSet', '[{cidr: 8.8.8.0/24}]', WORLD],
  ['Entities', '[world]', WORLD],
  ['Nodes', '[{}]', REMOTE_NODE],
];

describe('each peer field of an entry', () => {
  it.each(FIELDS)('from%s and its to- twin let their peer through', (field, list, peer) => {
    const ingress = policies(cnp('p', `{endpointSelector: {matchLabels: {app: db}}, ingress: [{from${field}: ${list}}]}`));
    expect(outcome(tcp(ingress, peer, DB, 80))).toBe('allowed');
    const egress = policies(cnp('p', `{endpointSelector: {matchLabels: {app: db}}, egress: [{to${field}: ${list}}]}`));
    expect(outcome(tcp(egress, DB, peer, 80))).toBe('allowed');
  });

  it('toFQDNs lets a peer of that name through', () => {
    const set = policies(cnp('p', `{endpointSelector: {matchLabels: {app: web}}, egress: [{toFQDNs: [{matchName: api.example.com}]}]}`));
    expect(outcome(tcp(set, WEB, API, 443))).toBe('allowed');
  });
});

describe('an entry with an explicitly empty peer list', () => {
  it.each(INGRESS_EMPTY)('ingress %s: [] selects nothing, whatever else the entry names', (field) => {
    const other = field === 'fromEntities' ? 'fromEndpoints: [{}]' : 'fromEntities: [all]';
    const set = policies(cnp('p', `{endpointSelector: {matchLabels: {app: db}}, ingress: [{${field}: [], ${other}}]}`));
    expect(outcome(tcp(set, WEB, DB, 80))).toBe('ingress:default-deny');
  });

  it.each(EGRESS_EMPTY)('egress %s: [] selects nothing, whatever else the entry names', (field) => {
    const other = field === 'toEntities' ? 'toEndpoints: [{}]' : 'toEntities: [all]';
    const set = policies(cnp('p', `{endpointSelector: {matchLabels: {app: web}}, egress: [{${field}: [], ${other}}]}`));
    expect(outcome(tcp(set, WEB, DB, 80))).toBe('egress:default-deny');
  });

  it('but an empty toFQDNs list is ignored: the other fields decide', () => {
    const set = policies(cnp('p', `{endpointSelector: {matchLabels: {app: web}}, egress: [{toFQDNs: [], toEntities: [world]}]}`));
    expect(outcome(tcp(set, WEB, WORLD, 443))).toBe('allowed');
    expect(outcome(tcp(set, WEB, HOST, 443))).toBe('egress:default-deny');
  });
});

describe('peers that cannot be resolved offline', () => {
  it('are told once per entry and field, and match nothing', () => {
    const set = policies(
      cnp(
        'p',
        `{endpointSelector: {matchLabels: {app: web}},
          ingress: [{fromCIDRSet: [{cidrGroupRef: corp}]}, {fromGroups: [{aws: {securityGroupsIds: [sg-1]}}]}],
          egress: [{toServices: [{k8sService: {serviceName: api, namespace: ns}}]}, {toGroups: [{aws: {securityGroupsIds: [sg-2]}}]}]}`,
      ),
    );
    expect(set.notes).toEqual([
      'ns/p spec.ingress[0]: CIDR group corp cannot be resolved offline; it matches nothing here',
      'ns/p spec.ingress[1]: fromGroups cannot be resolved offline; it matches nothing here',
      'ns/p spec.egress[0]: toServices cannot be resolved offline; it matches nothing here',
      'ns/p spec.egress[1]: toGroups cannot be resolved offline; it matches nothing here',
    ]);
    expect(outcome(tcp(set, WORLD, WEB, 80))).toBe('ingress:default-deny');
    expect(outcome(tcp(set, WEB, WORLD, 80))).toBe('egress:default-deny');
  });
});
