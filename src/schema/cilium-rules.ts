import { parsePrefix, prefixContainsPrefix } from '../net/cidr.js';
import { portNumber } from './names.js';
import { child, count, index, isRecord, present, records } from './path.js';
import type { ObjectRule } from './types.js';

/**
 * Cross-field rules Cilium applies when it parses a policy (pkg/policy/api rule_validation.go:
 * Rule/IngressRule/EgressRule/PortRule/PortProtocol/CIDRRule Validate/Sanitize). The API server does not
 * check these; the agent rejects the policy, so a document breaking one never takes effect.
 */

export const exactlyOne =
  (keys: readonly string[]): ObjectRule =>
  (o, path, report) => {
    const set = keys.filter((k) => present(o, k));
    if (set.length === 0) report(path, `needs one of ${keys.join(', ')}`);
    else if (set.length > 1) report(child(path, set[1] as string), `cannot be combined with ${set[0] as string}: set only one of ${keys.join(', ')}`);
  };

/** endPort (0 = unset) needs a numeric port and must not be below it. */
export const endPortRule: ObjectRule = (o, path, report) => {
  const end = o['endPort'];
  if (typeof end !== 'number' || end === 0 || typeof o['port'] !== 'string') return;
  const start = portNumber(o['port']);
  if (start === undefined) report(child(path, 'endPort'), `needs a numeric port, not the named port ${JSON.stringify(o['port'])}`);
  else if (end < start) report(child(path, 'endPort'), `must be >= port (${start}), got ${end}`);
};

/** At most one L3 peer kind per rule ("combining X and Y is not supported yet"). */
export const oneL3Kind =
  (members: readonly string[]): ObjectRule =>
  (o, path, report) => {
    const set = members.filter((m) => count(o, m) > 0);
    if (set.length > 1) {
      report(child(path, set[1] as string), `cannot be combined with ${set[0] as string} in one rule; write one rule per kind of peer`);
    }
  };

export const icmpsWithoutPorts: ObjectRule = (o, path, report) => {
  if (count(o, 'icmps') > 0 && count(o, 'toPorts') > 0) report(child(path, 'icmps'), 'cannot be combined with toPorts in one rule; write a separate rule for ICMP');
};

export const oneL7Type: ObjectRule = (o, path, report) => {
  const kinds = ['http', 'kafka', 'dns', 'l7proto'].filter((k) => present(o, k));
  if (kinds.length > 1) report(path, `only one kind of L7 rule per port rule, found ${kinds.join(' and ')}`);
  if (count(o, 'l7') > 0 && !present(o, 'l7proto')) report(child(path, 'l7'), 'needs l7proto (the L7 protocol these rules are for)');
};

/** toPorts[] entry of an allow rule; `ingress` for ingress rules. */
export const portRuleChecks =
  (ingress: boolean): ObjectRule =>
  (o, path, report) => {
    const rules = isRecord(o['rules']) ? o['rules'] : {};
    const dns = count(rules, 'dns') > 0;
    const hasL7 = dns || count(rules, 'http') > 0 || count(rules, 'kafka') > 0 || count(rules, 'l7') > 0;
    const rulesPath = child(path, 'rules');
    if (ingress && dns) report(child(rulesPath, 'dns'), 'DNS rules are not allowed on ingress');
    if (dns && count(o, 'ports') === 0) report(child(rulesPath, 'dns'), 'DNS rules need their port (53) listed in ports');
    if (count(o, 'serverNames') > 0 && hasL7 && !present(o, 'terminatingTLS')) {
      report(child(path, 'serverNames'), 'serverNames cannot be combined with L7 rules unless terminatingTLS is set');
    }
    if (present(o, 'listener') && ingress) report(child(path, 'listener'), 'a listener is not allowed on ingress');
    if (present(o, 'listener') && hasL7) report(child(path, 'listener'), 'a listener cannot be combined with L7 rules');
    if (!hasL7) return;
    records(o['ports']).forEach((p, i) => checkL7Port(p, index(child(path, 'ports'), i), dns, report));
  };

function checkL7Port(p: Readonly<Record<string, unknown>>, path: string, dns: boolean, report: (path: string, message: string) => void): void {
  const proto = typeof p['protocol'] === 'string' ? p['protocol'] : undefined;
  if (dns && proto !== undefined && !['UDP', 'TCP', 'ANY'].includes(proto)) {
    report(child(path, 'protocol'), `DNS rules apply only to UDP, TCP or ANY, not ${proto}`);
  }
  if (!dns && proto !== 'TCP') {
    report(child(path, 'protocol'), `L7 rules apply only to TCP; got ${proto === undefined ? 'no protocol (ANY)' : proto}`);
  }
  const port = typeof p['port'] === 'string' ? portNumber(p['port']) : undefined;
  if (port === 0) report(child(path, 'port'), 'L7 rules cannot be used with port 0 (all ports)');
  if (port !== undefined && typeof p['endPort'] === 'number' && p['endPort'] > port) {
    report(child(path, 'endPort'), 'port ranges are not allowed with L7 rules');
  }
}

/** One of cidr / cidrGroupRef / cidrGroupSelector; `except` only with cidr, each inside it. */
export const cidrRuleExclusive: ObjectRule = (o, path, report) => {
  exactlyOne(['cidr', 'cidrGroupRef', 'cidrGroupSelector'])(o, path, report);
  if (count(o, 'except') === 0) return;
  if (!present(o, 'cidr')) return report(child(path, 'except'), 'except is only allowed together with cidr');
  const outer = typeof o['cidr'] === 'string' ? parsePrefix(o['cidr']) : undefined;
  if (!outer) return;
  (o['except'] as unknown[]).forEach((e, i) => {
    const inner = typeof e === 'string' ? parsePrefix(e) : undefined;
    if (inner && !prefixContainsPrefix(outer, inner)) report(index(child(path, 'except'), i), `${e as string} is not inside cidr ${o['cidr'] as string}`);
  });
};
