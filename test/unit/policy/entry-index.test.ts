/**
 * The entry index offers a peer only the entries it could match: the entities, CIDRs and FQDNs
 * of a rule are filed under the reserved labels of the identities they can match, so a pod is
 * not offered the `fromEntities: host` health-check entry or the `toCIDR` egress of every
 * workload's policy (at 3,000 workloads those were ~54,000 candidates a `check`, each merged
 * into the pod's list and matched in vain). Verdicts are the scan's either way
 * (test/property/evaluator-indexes.test.ts); this guards the work.
 */
import { describe, expect, it } from 'vitest';
import { candidateEntries, SCANS_BEFORE_INDEX } from '../../../src/policy/evaluate/entry-index.js';
import { resolvePeer, type Peer } from '../../../src/policy/evaluate/peer.js';
import type { CompiledEntry, DirectionPart } from '../../../src/policy/evaluate/compiled.js';
import { cnp, HOST, policies, pod, REMOTE_NODE, WORLD } from './policy-helpers.js';

const APPS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const fromApps = APPS.map((a) => `{fromEndpoints: [{matchLabels: {app: ${a}}}], toPorts: [{ports: [{port: "80", protocol: TCP}]}]}`);
const toApps = APPS.map((a) => `{toEndpoints: [{matchLabels: {app: ${a}}}]}`);
const set = policies(
  cnp(
    'hub',
    `{endpointSelector: {matchLabels: {app: hub}},
      ingress: [{fromEntities: [host]}, {fromEntities: [world]}, {fromEntities: [cluster]}, ${fromApps.join(', ')}],
      egress: [{toCIDR: [8.8.8.0/24]}, {toFQDNs: [{matchName: api.example.com}]}, {toEntities: [kube-apiserver]}, ${toApps.join(', ')}]}`,
  ),
);
const rule = set.rules[0];
if (rule === undefined) throw new Error('no rule compiled');

/** The candidates once the part is indexed (it is scanned in full the first few times). */
function candidates(part: DirectionPart, peer: Peer): string[] {
  const resolved = resolvePeer(peer);
  let got: readonly CompiledEntry[] = [];
  for (let i = 0; i <= SCANS_BEFORE_INDEX; i++) got = candidateEntries(part, resolved);
  return got.map((e) => e.ref.path);
}

const APISERVER_NODE: Peer = { labels: ['reserved:kube-apiserver', 'reserved:remote-node'], identity: 7, ip: '10.96.0.1' };

describe('the entry index', () => {
  it('offers a pod its own entries and the cluster entity, not the host or world entity', () => {
    expect(candidates(rule.ingress, pod('ns', { app: 'c' }))).toEqual(['spec.ingress[2]', 'spec.ingress[5]']);
  });

  it('offers the host the host entity and the cluster entity; a world address the world entity', () => {
    expect(candidates(rule.ingress, HOST)).toEqual(['spec.ingress[0]', 'spec.ingress[2]']);
    expect(candidates(rule.ingress, WORLD)).toEqual(['spec.ingress[1]', 'spec.ingress[2]']);
  });

  it('offers CIDR and FQDN entries to addresses outside the cluster only, CIDRs to nodes too', () => {
    expect(candidates(rule.egress, pod('ns', { app: 'b' }))).toEqual(['spec.egress[4]']);
    expect(candidates(rule.egress, WORLD)).toEqual(['spec.egress[0]', 'spec.egress[1]']);
    // CIDR rules match nodes in policy-cidr-match-mode=nodes: the index cannot know the mode.
    expect(candidates(rule.egress, REMOTE_NODE)).toEqual(['spec.egress[0]']);
    expect(candidates(rule.egress, APISERVER_NODE)).toEqual(['spec.egress[0]', 'spec.egress[2]']);
  });
});
