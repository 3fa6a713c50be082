import { parsePrefix, prefixContainsPrefix } from '../net/cidr.js';
import { anything, arr, enumOf, int, intOrStr, obj, str } from './dsl.js';
import { objectMeta } from './metadata.js';
import { cidrCheck, k8sPortName } from './names.js';
import { child, index, present } from './path.js';
import { k8sSelector } from './selectors.js';
import type { ObjectRule } from './types.js';

/** networking.k8s.io/v1 NetworkPolicy (kubernetes/api networking/v1/types.go and its API-server validation). */
export const K8S_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

const endPortRule: ObjectRule = (o, path, report) => {
  if (!present(o, 'endPort')) return;
  const at = child(path, 'endPort');
  if (!present(o, 'port')) report(at, 'needs port');
  else if (typeof o['port'] === 'string') report(at, `needs a numeric port, not the named port ${JSON.stringify(o['port'])}`);
  else if (typeof o['port'] === 'number' && typeof o['endPort'] === 'number' && o['endPort'] < o['port']) {
    report(at, `must be >= port (${o['port']}), got ${o['endPort']}`);
  }
};

const port = obj(
  { protocol: enumOf(K8S_PROTOCOLS), port: intOrStr({ minimum: 1, maximum: 65535 }, { check: k8sPortName }), endPort: int({ minimum: 1, maximum: 65535 }) },
  { rules: [endPortRule] },
);

/** except entries must be strict subsets of cidr. */
const strictExcept: ObjectRule = (o, path, report) => {
  const outer = typeof o['cidr'] === 'string' ? parsePrefix(o['cidr']) : undefined;
  if (!outer || !Array.isArray(o['except'])) return;
  o['except'].forEach((e: unknown, i) => {
    const inner = typeof e === 'string' ? parsePrefix(e) : undefined;
    if (inner && (!prefixContainsPrefix(outer, inner) || inner.length <= outer.length)) {
      report(index(child(path, 'except'), i), `${e as string} must be a strict subset of cidr ${o['cidr'] as string}`);
    }
  });
};

const ipBlock = obj({ cidr: str({ check: cidrCheck }), except: arr(str({ check: cidrCheck })) }, { required: ['cidr'], rules: [strictExcept] });

const peerKinds: ObjectRule = (o, path, report) => {
  const selectors = present(o, 'podSelector') || present(o, 'namespaceSelector');
  if (!selectors && !present(o, 'ipBlock')) report(path, 'must set podSelector, namespaceSelector or ipBlock');
  if (selectors && present(o, 'ipBlock')) report(child(path, 'ipBlock'), 'cannot be combined with podSelector or namespaceSelector');
};

const peer = obj({ podSelector: k8sSelector, namespaceSelector: k8sSelector, ipBlock }, { rules: [peerKinds] });

const spec = obj({
  podSelector: k8sSelector,
  ingress: arr(obj({ ports: arr(port), from: arr(peer) })),
  egress: arr(obj({ ports: arr(port), to: arr(peer) })),
  policyTypes: arr(enumOf(['Ingress', 'Egress']), { maxItems: 2, unique: true }),
});

export const networkPolicy = obj({ apiVersion: anything(), kind: anything(), metadata: objectMeta, spec }, { required: ['metadata'] });
