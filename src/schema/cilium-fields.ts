import { anything, arr, bool, enumOf, int, intOrStr, map, obj, str } from './dsl.js';
import { cidrCheck, ciliumPort, dns1123Subdomain, fqdnName, fqdnPattern } from './names.js';
import { cidrRuleExclusive, endPortRule, exactlyOne, oneL7Type } from './cilium-rules.js';
import { endpointSelector } from './selectors.js';

/**
 * Leaf types of the CiliumNetworkPolicy CRD (cilium.io/v2), from pkg/policy/api (l4.go, l7.go, http.go,
 * fqdn.go, cidr.go, icmp.go, service.go, groups.go, rule.go) and the published CRD's OpenAPI schema.
 */
export const ENTITIES = [
  'all', 'world', 'cluster', 'host', 'init', 'ingress', 'unmanaged', 'remote-node', 'health', 'none', 'kube-apiserver', 'world-ipv4', 'world-ipv6',
] as const;

/** `protocol` of ports[]: ICMP goes through `icmps`, not here. */
export const CILIUM_PROTOCOLS = ['TCP', 'UDP', 'SCTP', 'ANY'] as const;

export const MAX_PORTS = 40;
const MAX_ICMP_FIELDS = 40;

const ICMP_TYPE_NAMES = new Set([
  'EchoReply', 'DestinationUnreachable', 'Redirect', 'Echo', 'EchoRequest', 'RouterAdvertisement', 'RouterSelection', 'TimeExceeded',
  'ParameterProblem', 'Timestamp', 'TimestampReply', 'Photuris', 'ExtendedEchoRequest', 'ExtendedEchoReply', 'PacketTooBig',
  'MulticastListenerQuery', 'MulticastListenerReport', 'MulticastListenerDone', 'RouterSolicitation', 'NeighborSolicitation',
  'NeighborAdvertisement', 'RedirectMessage', 'RouterRenumbering', 'ICMPNodeInformationQuery', 'ICMPNodeInformationResponse',
  'InverseNeighborDiscoverySolicitation', 'InverseNeighborDiscoveryAdvertisement', 'HomeAgentAddressDiscoveryRequest',
  'HomeAgentAddressDiscoveryReply', 'MobilePrefixSolicitation', 'MobilePrefixAdvertisement', 'DuplicateAddressRequestCodeSuffix',
  'DuplicateAddressConfirmationCodeSuffix',
]);

export const cidr = str({ check: cidrCheck });
export const entity = enumOf(ENTITIES);

export const portProtocol = obj(
  { port: str({ check: ciliumPort }), endPort: int({ minimum: 0, maximum: 65535 }), protocol: enumOf(CILIUM_PROTOCOLS) },
  { required: ['port'], rules: [endPortRule] },
);
export const ports = arr(portProtocol, { maxItems: MAX_PORTS });

const secretRef = obj({ name: str({ minLength: 1 }), namespace: str() }, { required: ['name'] });

export const tlsContext = obj({ secret: secretRef, trustedCA: str(), certificate: str(), privateKey: str() }, { required: ['secret'] });

export const listener = obj(
  {
    envoyConfig: obj({ kind: enumOf(['CiliumEnvoyConfig', 'CiliumClusterwideEnvoyConfig']), name: str({ minLength: 1 }) }, { required: ['name'] }),
    name: str({ minLength: 1 }),
    priority: int({ minimum: 1, maximum: 100 }),
  },
  { required: ['envoyConfig', 'name'] },
);

const httpRule = obj({
  path: str(),
  method: str(),
  host: str(),
  headers: arr(str()),
  headerMatches: arr(
    obj(
      { name: str({ minLength: 1 }), value: str(), mismatch: enumOf(['LOG', 'ADD', 'DELETE', 'REPLACE']), secret: secretRef },
      { required: ['name'] },
    ),
  ),
});

const kafkaRule = obj({ role: enumOf(['produce', 'consume']), apiKey: str(), apiVersion: str(), clientID: str(), topic: str({ maxLength: 255 }) });

/** toFQDNs entries and L7 dns rules: exactly one of matchName / matchPattern. */
export const fqdnSelector = obj(
  { matchName: str({ maxLength: 255, check: fqdnName }), matchPattern: str({ maxLength: 255, check: fqdnPattern }) },
  { rules: [exactlyOne(['matchName', 'matchPattern'])] },
);

export const l7Rules = obj(
  { http: arr(httpRule), kafka: arr(kafkaRule), dns: arr(fqdnSelector), l7proto: str(), l7: arr(map(str())) },
  { rules: [oneL7Type] },
);

export const cidrRule = obj(
  { cidr, cidrGroupRef: str({ maxLength: 253, check: dns1123Subdomain }), cidrGroupSelector: endpointSelector, except: arr(cidr) },
  { rules: [cidrRuleExclusive] },
);

const icmpType = intOrStr(
  { minimum: 0, maximum: 255 },
  { check: (s) => (/^(0|[1-9][0-9]{0,2})$/.test(s) && Number(s) <= 255) || ICMP_TYPE_NAMES.has(s) ? undefined : `${JSON.stringify(s)} is not an ICMP type (0-255 or a name such as EchoRequest)` },
);

export const icmpRule = obj({
  fields: arr(obj({ family: enumOf(['IPv4', 'IPv6']), type: icmpType }, { required: ['type'] }), { maxItems: MAX_ICMP_FIELDS }),
});

export const service = obj({
  k8sService: obj({ serviceName: str(), namespace: str() }),
  k8sServiceSelector: obj({ selector: endpointSelector, namespace: str() }, { required: ['selector'] }),
});

export const groups = obj({
  aws: obj({ labels: map(str()), securityGroupsIds: arr(str()), securityGroupsNames: arr(str()), region: str() }),
});

export const authentication = obj({ mode: enumOf(['disabled', 'required', 'test-always-fail']) }, { required: ['mode'] });

export const ruleLabels = arr(obj({ key: str({ minLength: 1 }), value: str(), source: str() }, { required: ['key'] }));

export const defaultDeny = obj({ ingress: bool(), egress: bool() });

export const status = anything();
