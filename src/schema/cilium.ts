import {
  authentication,
  cidr,
  cidrRule,
  defaultDeny,
  entity,
  fqdnSelector,
  groups,
  icmpRule,
  l7Rules,
  listener,
  ports,
  ruleLabels,
  service,
  status,
  tlsContext,
} from './cilium-fields.js';
import { icmpsWithoutPorts, oneL3Kind, portRuleChecks } from './cilium-rules.js';
import { anything, arr, extend, obj, str } from './dsl.js';
import { objectMeta } from './metadata.js';
import { child, count, present } from './path.js';
import { endpointSelector } from './selectors.js';
import type { ObjectNode, ObjectRule } from './types.js';

const INGRESS_L3 = ['fromEndpoints', 'fromCIDR', 'fromCIDRSet', 'fromEntities', 'fromNodes', 'fromGroups'];
const EGRESS_L3 = ['toEndpoints', 'toCIDR', 'toCIDRSet', 'toEntities', 'toServices', 'toGroups', 'toNodes'];

const portRule = (ingress: boolean): ObjectNode =>
  obj(
    { ports, terminatingTLS: tlsContext, originatingTLS: tlsContext, serverNames: arr(str({ minLength: 1 })), listener, rules: l7Rules },
    { rules: [portRuleChecks(ingress)] },
  );

/** Deny rules take ports only: no L7, TLS or listener. */
const portDenyRule = obj({ ports });

const ingressCommon = obj({
  fromEndpoints: arr(endpointSelector),
  fromRequires: arr(endpointSelector),
  fromCIDR: arr(cidr),
  fromCIDRSet: arr(cidrRule),
  fromEntities: arr(entity),
  fromGroups: arr(groups),
  fromNodes: arr(endpointSelector),
  icmps: arr(icmpRule),
});

const egressCommon = obj({
  toEndpoints: arr(endpointSelector),
  toRequires: arr(endpointSelector),
  toCIDR: arr(cidr),
  toCIDRSet: arr(cidrRule),
  toEntities: arr(entity),
  toServices: arr(service),
  toGroups: arr(groups),
  toNodes: arr(endpointSelector),
  icmps: arr(icmpRule),
});

const ingressRule = extend(ingressCommon, { toPorts: arr(portRule(true)), authentication }, [oneL3Kind(INGRESS_L3), icmpsWithoutPorts]);
const ingressDenyRule = extend(ingressCommon, { toPorts: arr(portDenyRule) }, [oneL3Kind(INGRESS_L3), icmpsWithoutPorts]);
const egressRule = extend(egressCommon, { toPorts: arr(portRule(false)), toFQDNs: arr(fqdnSelector), authentication }, [
  oneL3Kind([...EGRESS_L3, 'toFQDNs']),
  icmpsWithoutPorts,
]);
const egressDenyRule = extend(egressCommon, { toPorts: arr(portDenyRule) }, [oneL3Kind(EGRESS_L3), icmpsWithoutPorts]);

const subject =
  (clusterwide: boolean): ObjectRule =>
  (o, path, report) => {
    const es = present(o, 'endpointSelector');
    const ns = present(o, 'nodeSelector');
    if (!es && !ns) report(child(path, 'endpointSelector'), `is required${clusterwide ? ' (or nodeSelector)' : ''}`);
    if (es && ns) report(child(path, 'nodeSelector'), 'cannot be combined with endpointSelector');
    if (ns && !clusterwide) report(child(path, 'nodeSelector'), 'is only allowed in a CiliumClusterwideNetworkPolicy');
  };

const someDirection: ObjectRule = (o, path, report) => {
  if (['ingress', 'ingressDeny', 'egress', 'egressDeny'].every((k) => count(o, k) === 0)) {
    report(path, 'needs at least one rule in ingress, ingressDeny, egress or egressDeny');
  }
};

/** api.Rule: one `spec` (or one entry of `specs`). */
const rule = (clusterwide: boolean): ObjectNode =>
  obj(
    {
      endpointSelector,
      nodeSelector: endpointSelector,
      ingress: arr(ingressRule),
      ingressDeny: arr(ingressDenyRule),
      egress: arr(egressRule),
      egressDeny: arr(egressDenyRule),
      labels: ruleLabels,
      enableDefaultDeny: defaultDeny,
      description: str(),
    },
    { rules: [subject(clusterwide), someDirection] },
  );

const specOrSpecs: ObjectRule = (o, _path, report) => {
  if (!present(o, 'spec') && !present(o, 'specs')) report('spec', 'is required (or specs)');
};

const clusterScoped: ObjectRule = (o, _path, report) => {
  const meta = o['metadata'];
  if (typeof meta === 'object' && meta !== null && present(meta as Record<string, unknown>, 'namespace')) {
    report('metadata.namespace', 'must not be set: a CiliumClusterwideNetworkPolicy is cluster-scoped');
  }
};

const document = (clusterwide: boolean): ObjectNode =>
  obj(
    { apiVersion: anything(), kind: anything(), metadata: objectMeta, spec: rule(clusterwide), specs: arr(rule(clusterwide), { minItems: 1 }), status },
    { required: ['metadata'], rules: clusterwide ? [specOrSpecs, clusterScoped] : [specOrSpecs] },
  );

export const ciliumNetworkPolicy = document(false);
export const ciliumClusterwideNetworkPolicy = document(true);
