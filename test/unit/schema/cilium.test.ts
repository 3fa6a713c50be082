import { describe, expect, it } from 'vitest';
import { validatePolicyDocument } from '../../../src/schema/index.js';
import { type Doc, ccnp, cnp, edited } from './fixtures.js';

type Case = readonly [name: string, doc: Doc, expected: readonly (readonly [path: string, message: RegExp])[]];

const e1 = 'spec.egress[1].toPorts[0].ports';
const http = 'spec.egress[4].toPorts[0]';
const dns = 'spec.egress[0].toPorts[0]';
const fortyOne = Array.from({ length: 41 }, (_, i) => ({ port: String(1000 + i), protocol: 'TCP' }));

const cases: readonly Case[] = [
  // Unknown fields: typos are errors, with a hint.
  ['typo toEndpoint', edited(cnp(), { 'spec.egress[1].toEndpoint': [{}], 'spec.egress[1].toEndpoints': undefined }), [['spec.egress[1].toEndpoint', /^unknown field "toEndpoint" \(did you mean "toEndpoints"\?\)$/]]],
  ['typo at spec level', edited(cnp(), { 'spec.egres': [] }), [['spec.egres', /did you mean "egress"/]]],
  ['typo in enableDefaultDeny', edited(ccnp(), { 'specs[0].enableDefaultDeny': { egres: false } }), [['specs[0].enableDefaultDeny.egres', /unknown field "egres" \(did you mean "egress"\?\)/]]],
  ['L7 rules in a deny rule', edited(ccnp(), { 'specs[1].egressDeny[0].toPorts[0].rules': { http: [{}] } }), [['specs[1].egressDeny[0].toPorts[0].rules', /unknown field "rules"/]]],
  ['toFQDNs in a deny rule', edited(ccnp(), { 'specs[1].egressDeny[0].toFQDNs': [{ matchName: 'a.b' }] }), [['specs[1].egressDeny[0].toFQDNs', /unknown field/]]],
  // Types and enums.
  ['protocol ICMP', edited(cnp(), { [`${e1}[0].protocol`]: 'ICMP' }), [[`${e1}[0].protocol`, /must be one of TCP, UDP, SCTP, ANY; got "ICMP"/]]],
  ['protocol lowercase', edited(cnp(), { [`${e1}[0].protocol`]: 'tcp' }), [[`${e1}[0].protocol`, /must be one of/]]],
  ['port as integer', edited(cnp(), { 'spec.ingress[0].toPorts[0].ports[0].port': 8080 }), [['spec.ingress[0].toPorts[0].ports[0].port', /must be a string, got integer 8080/]]],
  ['port out of range', edited(cnp(), { 'spec.ingress[0].toPorts[0].ports[0].port': '70000' }), [['spec.ingress[0].toPorts[0].ports[0].port', /neither a port number 0-65535 nor a port name/]]],
  ['port name too long', edited(cnp(), { [`${e1}[1].port`]: 'grpc-health-check' }), [[`${e1}[1].port`, /neither a port number/]]],
  ['port missing', edited(cnp(), { [`${e1}[1].port`]: undefined }), [[`${e1}[1].port`, /^is required$/]]],
  ['endPort below port', edited(cnp(), { [`${e1}[0].endPort`]: 29999 }), [[`${e1}[0].endPort`, /must be >= port \(30000\), got 29999/]]],
  ['endPort with a named port', edited(cnp(), { [`${e1}[1].endPort`]: 9000 }), [[`${e1}[1].endPort`, /needs a numeric port, not the named port "grpc"/]]],
  ['endPort as string', edited(cnp(), { [`${e1}[0].endPort`]: '30010' }), [[`${e1}[0].endPort`, /must be an integer/]]],
  ['endPort above 65535', edited(cnp(), { [`${e1}[0].endPort`]: 65536 }), [[`${e1}[0].endPort`, /must be <= 65535/]]],
  ['41 ports in one toPorts entry', edited(cnp(), { [e1]: fortyOne }), [[e1, /at most 40 items, has 41/]]],
  ['unknown entity', edited(cnp(), { 'spec.egress[4].toEntities[0]': 'kube-api-server' }), [['spec.egress[4].toEntities[0]', /must be one of all, world, .*kube-apiserver, world-ipv4, world-ipv6/]]],
  ['null inside a list', edited(cnp(), { 'spec.egress[4].toEntities[1]': null }), [['spec.egress[4].toEntities[1]', /must be a string, got null/]]],
  ['enableDefaultDeny as string', edited(ccnp(), { 'specs[0].enableDefaultDeny.egress': 'false' }), [['specs[0].enableDefaultDeny.egress', /must be a boolean, got string "false"/]]],
  ['authentication mode', edited(cnp(), { 'spec.egress[1].authentication': { mode: 'mtls' } }), [['spec.egress[1].authentication.mode', /must be one of disabled, required, test-always-fail/]]],
  // CIDRs.
  ['CIDR without prefix length', edited(cnp(), { 'spec.ingress[2].fromCIDRSet[0].cidr': '203.0.113.7' }), [['spec.ingress[2].fromCIDRSet[0].cidr', /not a valid CIDR/]]],
  ['IPv4 octet over 255', edited(cnp(), { 'spec.ingress[2].fromCIDRSet[0].cidr': '300.0.0.1/32' }), [['spec.ingress[2].fromCIDRSet[0].cidr', /not a valid CIDR/]]],
  ['IPv6 with :::', edited(cnp(), { 'spec.egress[3].toCIDRSet[0].cidr': '2001:db8:::/32' }), [['spec.egress[3].toCIDRSet[0].cidr', /not a valid CIDR/]]],
  ['IPv6 prefix over 128', edited(cnp(), { 'spec.egress[3].toCIDRSet[0].except[0]': '2001:db8::/129' }), [['spec.egress[3].toCIDRSet[0].except[0]', /not a valid CIDR/]]],
  ['except outside cidr', edited(cnp(), { 'spec.egress[3].toCIDRSet[0].except[0]': '2001:db9::/48' }), [['spec.egress[3].toCIDRSet[0].except[0]', /2001:db9::\/48 is not inside cidr 2001:db8::\/32/]]],
  ['except of another family', edited(cnp(), { 'spec.egress[3].toCIDRSet[0].except[0]': '10.0.0.0/8' }), [['spec.egress[3].toCIDRSet[0].except[0]', /not inside cidr/]]],
  ['CIDR rule without cidr', edited(cnp(), { 'spec.egress[3].toCIDRSet[0].cidr': undefined }), [
    ['spec.egress[3].toCIDRSet[0]', /needs one of cidr, cidrGroupRef, cidrGroupSelector/],
    ['spec.egress[3].toCIDRSet[0].except', /only allowed together with cidr/],
  ]],
  ['cidr and cidrGroupRef', edited(cnp(), { 'spec.ingress[2].fromCIDRSet[0].cidrGroupRef': 'office' }), [['spec.ingress[2].fromCIDRSet[0].cidrGroupRef', /cannot be combined with cidr/]]],
  // One kind of peer per rule.
  ['toFQDNs with toEndpoints', edited(cnp(), { 'spec.egress[2].toEndpoints': [{ matchLabels: { app: 'x' } }] }), [['spec.egress[2].toFQDNs', /cannot be combined with toEndpoints in one rule/]]],
  ['toCIDR with toEndpoints', edited(cnp(), { 'spec.egress[1].toCIDR': ['10.0.0.0/8'] }), [['spec.egress[1].toCIDR', /cannot be combined with toEndpoints/]]],
  ['fromEntities with fromEndpoints', edited(cnp(), { 'spec.ingress[0].fromEntities': ['world'] }), [['spec.ingress[0].fromEntities', /cannot be combined with fromEndpoints/]]],
  ['icmps with toPorts', edited(cnp(), { 'spec.ingress[1].toPorts': [{ ports: [{ port: '80' }] }] }), [['spec.ingress[1].icmps', /cannot be combined with toPorts/]]],
  // FQDNs.
  ['matchName with a space', edited(cnp(), { 'spec.egress[2].toFQDNs[0].matchName': 'api example.com' }), [['spec.egress[2].toFQDNs[0].matchName', /not a valid DNS name/]]],
  ['matchName with a wildcard', edited(cnp(), { 'spec.egress[2].toFQDNs[0].matchName': '*.example.com' }), [['spec.egress[2].toFQDNs[0].matchName', /not a valid DNS name/]]],
  ['matchName with ..', edited(cnp(), { 'spec.egress[2].toFQDNs[0].matchName': 'api..example.com' }), [['spec.egress[2].toFQDNs[0].matchName', /not a valid DNS name/]]],
  ['matchPattern too long', edited(cnp(), { [`${dns}.rules.dns[0].matchPattern`]: `${'a'.repeat(250)}.*.com` }), [[`${dns}.rules.dns[0].matchPattern`, /at most 255 characters/]]],
  ['empty FQDN selector', edited(cnp(), { 'spec.egress[2].toFQDNs[0]': {} }), [['spec.egress[2].toFQDNs[0]', /needs one of matchName, matchPattern/]]],
  ['matchName and matchPattern', edited(cnp(), { 'spec.egress[2].toFQDNs[0].matchPattern': '*.example.com' }), [['spec.egress[2].toFQDNs[0].matchPattern', /cannot be combined with matchName/]]],
  // L7.
  ['HTTP on UDP', edited(cnp(), { [`${http}.ports[0].protocol`]: 'UDP' }), [[`${http}.ports[0].protocol`, /L7 rules apply only to TCP; got UDP/]]],
  ['HTTP without protocol', edited(cnp(), { [`${http}.ports[0].protocol`]: undefined }), [[`${http}.ports[0].protocol`, /L7 rules apply only to TCP; got no protocol \(ANY\)/]]],
  ['HTTP on port 0', edited(cnp(), { [`${http}.ports[0].port`]: '0' }), [[`${http}.ports[0].port`, /L7 rules cannot be used with port 0/]]],
  ['HTTP on a port range', edited(cnp(), { [`${http}.ports[0].endPort`]: 6450 }), [[`${http}.ports[0].endPort`, /port ranges are not allowed with L7 rules/]]],
  ['DNS on SCTP', edited(cnp(), { [`${dns}.ports[0].protocol`]: 'SCTP' }), [[`${dns}.ports[0].protocol`, /DNS rules apply only to UDP, TCP or ANY, not SCTP/]]],
  ['DNS on a port range', edited(cnp(), { [`${dns}.ports[1].endPort`]: 60 }), [[`${dns}.ports[1].endPort`, /port ranges are not allowed/]]],
  ['DNS without ports', edited(cnp(), { [`${dns}.ports`]: undefined }), [[`${dns}.rules.dns`, /need their port \(53\) listed/]]],
  ['DNS on ingress', edited(cnp(), { 'spec.ingress[0].toPorts[0].rules': { dns: [{ matchPattern: '*' }] } }), [['spec.ingress[0].toPorts[0].rules.dns', /DNS rules are not allowed on ingress/]]],
  ['HTTP and DNS together', edited(cnp(), { [`${dns}.rules.http`]: [{}] }), [[`${dns}.rules`, /only one kind of L7 rule per port rule, found http and dns/]]],
  ['serverNames with HTTP, no TLS', edited(cnp(), { [`${http}.serverNames`]: ['kubernetes.default'] }), [[`${http}.serverNames`, /unless terminatingTLS is set/]]],
  ['headerMatches without name', edited(cnp(), { [`${http}.rules.http[0].headerMatches`]: [{ value: 'x' }] }), [[`${http}.rules.http[0].headerMatches[0].name`, /^is required$/]]],
  // ICMP.
  ['ICMP type over 255', edited(cnp(), { 'spec.ingress[1].icmps[0].fields[0].type': 300 }), [['spec.ingress[1].icmps[0].fields[0].type', /must be <= 255/]]],
  ['ICMP type name unknown', edited(cnp(), { 'spec.ingress[1].icmps[0].fields[1].type': 'Ping' }), [['spec.ingress[1].icmps[0].fields[1].type', /not an ICMP type/]]],
  ['ICMP family', edited(cnp(), { 'spec.ingress[1].icmps[0].fields[0].family': 'IPv5' }), [['spec.ingress[1].icmps[0].fields[0].family', /must be one of IPv4, IPv6/]]],
  // Selectors.
  ['operator Equals', edited(ccnp(), { 'specs[1].endpointSelector.matchExpressions[0].operator': 'Equals' }), [['specs[1].endpointSelector.matchExpressions[0].operator', /must be one of In, NotIn, Exists, DoesNotExist/]]],
  ['In without values', edited(ccnp(), { 'specs[1].endpointSelector.matchExpressions[0].operator': 'In' }), [['specs[1].endpointSelector.matchExpressions[0].values', /must be non-empty for operator In/]]],
  ['Exists with values', edited(ccnp(), { 'specs[1].endpointSelector.matchExpressions[0].values': ['a'] }), [['specs[1].endpointSelector.matchExpressions[0].values', /must be empty for operator Exists/]]],
  ['expression without key', edited(ccnp(), { 'specs[1].endpointSelector.matchExpressions[0].key': undefined }), [['specs[1].endpointSelector.matchExpressions[0].key', /^is required$/]]],
  ['matchLabels value not a string', edited(cnp(), { 'spec.endpointSelector.matchLabels.app': 5 }), [['spec.endpointSelector.matchLabels.app', /must be a string, got integer 5/]]],
  ['matchLabels value with a space', edited(cnp(), { 'spec.endpointSelector.matchLabels.app': 'front end' }), [['spec.endpointSelector.matchLabels.app', /not a valid label value/]]],
  ['matchLabels as a list', edited(cnp(), { 'spec.endpointSelector.matchLabels': ['app=frontend'] }), [['spec.endpointSelector.matchLabels', /must be a mapping, got a list/]]],
  // Rule structure.
  ['no endpointSelector', edited(cnp(), { 'spec.endpointSelector': undefined }), [['spec.endpointSelector', /^is required$/]]],
  ['nodeSelector in a CNP', edited(cnp(), { 'spec.endpointSelector': undefined, 'spec.nodeSelector': {} }), [['spec.nodeSelector', /only allowed in a CiliumClusterwideNetworkPolicy/]]],
  ['both selectors in a CCNP', edited(ccnp(), { 'specs[0].nodeSelector': {} }), [['specs[0].nodeSelector', /cannot be combined with endpointSelector/]]],
  ['no rules at all', edited(cnp(), { 'spec.ingress': undefined, 'spec.egress': [] }), [['spec', /needs at least one rule in ingress, ingressDeny, egress or egressDeny/]]],
  ['no spec', edited(cnp(), { spec: undefined }), [['spec', /is required \(or specs\)/]]],
  ['empty specs', edited(ccnp(), { specs: [] }), [['specs', /at least 1 item/]]],
  // Metadata and type.
  ['no name', edited(cnp(), { 'metadata.name': undefined }), [['metadata.name', /^is required$/]]],
  ['name over 63', edited(cnp(), { 'metadata.name': 'a'.repeat(64) }), [['metadata.name', /at most 63 characters, is 64/]]],
  ['name over 253', edited(cnp(), { 'metadata.name': 'a'.repeat(254) }), [['metadata.name', /at most 253 characters/]]],
  ['name with capitals', edited(cnp(), { 'metadata.name': 'Frontend' }), [['metadata.name', /not a DNS-1123 subdomain/]]],
  ['namespace with a dot', edited(cnp(), { 'metadata.namespace': 'shop.eu' }), [['metadata.namespace', /not a DNS-1123 label/]]],
  ['label key with a space', edited(cnp(), { 'metadata.labels["bad key"]': 'x' }), [['metadata.labels["bad key"]', /invalid key "bad key"/]]],
  ['CCNP with a namespace', edited(ccnp(), { 'metadata.namespace': 'ops' }), [['metadata.namespace', /cluster-scoped/]]],
  ['wrong apiVersion', edited(cnp(), { apiVersion: 'cilium.io/v1' }), [['apiVersion', /must be cilium.io\/v2 for kind CiliumNetworkPolicy, got string "cilium.io\/v1"/]]],
  ['no apiVersion', edited(cnp(), { apiVersion: undefined }), [['apiVersion', /^is required$/]]],
  ['no kind', edited(cnp(), { kind: undefined }), [['kind', /^is required$/]]],
  ['unknown kind', edited(cnp(), { kind: 'CiliumNetworkPolicies' }), [['kind', /unsupported kind "CiliumNetworkPolicies"/]]],
];

describe('validatePolicyDocument: Cilium', () => {
  it('accepts the documents hubble-advisor emits', () => {
    expect(validatePolicyDocument(cnp())).toEqual([]);
    expect(validatePolicyDocument(ccnp())).toEqual([]);
  });

  it('treats null fields as absent, as the API server prunes them', () => {
    expect(validatePolicyDocument(edited(cnp(), { 'spec.description': null, 'spec.egress[2].toPorts[0].rules': null }))).toEqual([]);
  });

  it('accepts the less common fields of the CRD', () => {
    const doc = edited(cnp(), {
      'spec.labels': [{ key: 'owner', value: 'team-a', source: 'k8s' }],
      'spec.enableDefaultDeny': { ingress: true },
      'spec.egress[1].toEndpoints': undefined,
      'spec.egress[1].toServices': [{ k8sService: { serviceName: 'cart', namespace: 'shop' } }, { k8sServiceSelector: { selector: { matchLabels: { tier: 'be' } } } }],
      'spec.egress[1].authentication': { mode: 'required' },
      'spec.ingress[0].fromRequires': [{ matchLabels: { env: 'prod' } }],
      'spec.ingressDeny': [{ fromCIDR: ['198.51.100.0/24'], toPorts: [{ ports: [{ port: '22', protocol: 'TCP' }] }] }],
      'spec.egress[4].toPorts[0].terminatingTLS': { secret: { name: 'tls' } },
      'spec.egress[4].toPorts[0].serverNames': ['kubernetes.default'],
      'spec.egress[4].toPorts[0].rules.http[0].headerMatches': [{ name: 'X-Token', secret: { name: 'tok', namespace: 'shop' }, mismatch: 'LOG' }],
    });
    expect(validatePolicyDocument(doc)).toEqual([]);
  });

  it('rejects a document that is not a mapping', () => {
    expect(validatePolicyDocument('kind: CiliumNetworkPolicy')).toEqual([{ path: '', message: 'a document must be a mapping, got string "kind: CiliumNetworkPolicy"' }]);
    expect(validatePolicyDocument(null)).toEqual([{ path: '', message: 'a document must be a mapping, got null' }]);
  });

  it.each(cases)('%s', (_name, doc, expected) => {
    const issues = validatePolicyDocument(doc);
    expect(issues.map((i) => i.path)).toEqual(expected.map(([path]) => path));
    issues.forEach((issue, i) => expect(issue.message).toMatch((expected[i] as readonly [string, RegExp])[1]));
  });
});
