import { describe, expect, it } from 'vitest';
import { validatePolicyDocument } from '../../../src/schema/index.js';
import { type Doc, edited, knp, kustomization } from './fixtures.js';

type Case = readonly [name: string, doc: Doc, expected: readonly (readonly [path: string, message: RegExp])[]];

const eg = 'spec.egress[0]';

const networkPolicyCases: readonly Case[] = [
  ['protocol ICMP', edited(knp(), { 'spec.ingress[0].ports[0].protocol': 'ICMP' }), [['spec.ingress[0].ports[0].protocol', /must be one of TCP, UDP, SCTP; got "ICMP"/]]],
  ['protocol ANY (Cilium only)', edited(knp(), { 'spec.ingress[0].ports[0].protocol': 'ANY' }), [['spec.ingress[0].ports[0].protocol', /must be one of TCP, UDP, SCTP/]]],
  ['numeric port as a string', edited(knp(), { 'spec.ingress[0].ports[0].port': '8080' }), [['spec.ingress[0].ports[0].port', /port name "8080" must be an IANA service name/]]],
  ['port name with capitals', edited(knp(), { [`${eg}.ports[2].port`]: 'DNS' }), [[`${eg}.ports[2].port`, /must be an IANA service name/]]],
  ['port 0', edited(knp(), { 'spec.ingress[0].ports[0].port': 0 }), [['spec.ingress[0].ports[0].port', /must be >= 1, got 0/]]],
  ['port over 65535', edited(knp(), { 'spec.ingress[0].ports[0].port': 65536 }), [['spec.ingress[0].ports[0].port', /must be <= 65535/]]],
  ['port as a float', edited(knp(), { 'spec.ingress[0].ports[0].port': 80.5 }), [['spec.ingress[0].ports[0].port', /must be an integer or a string, got number 80.5/]]],
  ['endPort without port', edited(knp(), { [`${eg}.ports[1].port`]: undefined }), [[`${eg}.ports[1].endPort`, /needs port/]]],
  ['endPort with a named port', edited(knp(), { [`${eg}.ports[2].endPort`]: 60 }), [[`${eg}.ports[2].endPort`, /needs a numeric port, not the named port "dns"/]]],
  ['endPort below port', edited(knp(), { [`${eg}.ports[1].endPort`]: 20000 }), [[`${eg}.ports[1].endPort`, /must be >= port \(30000\), got 20000/]]],
  ['empty peer', edited(knp(), { 'spec.ingress[0].from[0]': {} }), [['spec.ingress[0].from[0]', /must set podSelector, namespaceSelector or ipBlock/]]],
  ['ipBlock with a podSelector', edited(knp(), { 'spec.egress[1].to[0].podSelector': {} }), [['spec.egress[1].to[0].ipBlock', /cannot be combined with podSelector or namespaceSelector/]]],
  ['except equal to cidr', edited(knp(), { 'spec.egress[1].to[0].ipBlock.except[0]': '0.0.0.0/0' }), [['spec.egress[1].to[0].ipBlock.except[0]', /must be a strict subset of cidr 0.0.0.0\/0/]]],
  ['invalid cidr', edited(knp(), { 'spec.egress[1].to[0].ipBlock.cidr': '10.0.0.0/33' }), [['spec.egress[1].to[0].ipBlock.cidr', /not a valid CIDR/]]],
  ['ipBlock without cidr', edited(knp(), { 'spec.egress[1].to[0].ipBlock.cidr': undefined }), [['spec.egress[1].to[0].ipBlock.cidr', /^is required$/]]],
  ['policyTypes lowercase', edited(knp(), { 'spec.policyTypes[0]': 'ingress' }), [['spec.policyTypes[0]', /must be one of Ingress, Egress/]]],
  ['policyTypes duplicate', edited(knp(), { 'spec.policyTypes[1]': 'Ingress' }), [['spec.policyTypes[1]', /duplicate entry "Ingress"/]]],
  ['label key starting with -', edited(knp(), { 'spec.podSelector.matchLabels["-app"]': 'x' }), [['spec.podSelector.matchLabels["-app"]', /invalid key "-app"/]]],
  ['label key with bad prefix', edited(knp(), { 'spec.podSelector.matchLabels["Example.com/app"]': 'x' }), [['spec.podSelector.matchLabels["Example.com/app"]', /prefix .*not a DNS-1123 subdomain/]]],
  ['Cilium source prefix in a NetworkPolicy', edited(knp(), { 'spec.podSelector.matchLabels["k8s:app"]': 'x' }), [['spec.podSelector.matchLabels["k8s:app"]', /invalid key/]]],
  ['NotIn without values', edited(knp(), { 'spec.podSelector.matchExpressions': [{ key: 'tier', operator: 'NotIn' }] }), [['spec.podSelector.matchExpressions[0].values', /must be non-empty for operator NotIn/]]],
  ['typo form', edited(knp(), { 'spec.ingress[0].form': [], 'spec.ingress[0].from': undefined }), [['spec.ingress[0].form', /unknown field "form" \(did you mean "from"\?\)/]]],
  ['status is not a NetworkPolicy field', edited(knp(), { status: {} }), [['status', /unknown field "status"/]]],
  ['beta apiVersion', edited(knp(), { apiVersion: 'networking.k8s.io/v1beta1' }), [['apiVersion', /must be networking.k8s.io\/v1 for kind NetworkPolicy/]]],
  ['no metadata', edited(knp(), { metadata: undefined }), [['metadata', /^is required$/]]],
];

const kustomizationCases: readonly Case[] = [
  ['no resources', edited(kustomization(), { resources: undefined }), [['resources', /^is required$/]]],
  ['resources as a string', edited(kustomization(), { resources: 'shop/frontend.yaml' }), [['resources', /must be a list/]]],
  ['absolute resource path', edited(kustomization(), { 'resources[0]': '/tmp/frontend.yaml' }), [['resources[0]', /must be a path relative to the kustomization/]]],
  ['duplicate resource', edited(kustomization(), { 'resources[1]': 'shop/frontend.yaml' }), [['resources[1]', /duplicate entry/]]],
  ['empty resource', edited(kustomization(), { 'resources[2]': '' }), [['resources[2]', /must not be empty/]]],
  ['typo resource', edited(kustomization(), { resource: [] }), [['resource', /did you mean "resources"/]]],
  ['bad namespace', edited(kustomization(), { namespace: 'Shop' }), [['namespace', /not a DNS-1123 label/]]],
  ['wrong apiVersion', edited(kustomization(), { apiVersion: 'kustomize.config.k8s.io/v1' }), [['apiVersion', /must be kustomize.config.k8s.io\/v1beta1/]]],
];

describe('validatePolicyDocument: NetworkPolicy', () => {
  it('accepts the documents hubble-advisor emits', () => {
    expect(validatePolicyDocument(knp())).toEqual([]);
  });

  it('accepts an egress rule with a null `to` (all destinations), as in the oracle manifests', () => {
    expect(validatePolicyDocument(edited(knp(), { 'spec.egress[1].to': null }))).toEqual([]);
  });

  it.each(networkPolicyCases)('%s', (_name, doc, expected) => {
    const issues = validatePolicyDocument(doc);
    expect(issues.map((i) => i.path)).toEqual(expected.map(([path]) => path));
    issues.forEach((issue, i) => expect(issue.message).toMatch((expected[i] as readonly [string, RegExp])[1]));
  });
});

describe('validatePolicyDocument: Kustomization', () => {
  it('accepts the kustomization of a policy bundle', () => {
    expect(validatePolicyDocument(kustomization())).toEqual([]);
  });

  it.each(kustomizationCases)('%s', (_name, doc, expected) => {
    const issues = validatePolicyDocument(doc);
    expect(issues.map((i) => i.path)).toEqual(expected.map(([path]) => path));
    issues.forEach((issue, i) => expect(issue.message).toMatch((expected[i] as readonly [string, RegExp])[1]));
  });
});
