import type { IcmpField, IcmpRule, L7Rules, PortProtocol, PortProtocolName, PortRule } from '../model/index.js';
import { icmpTypeNumber } from '../evaluate/icmp.js';
import { isRecord, join, rejectUnknownKeys, readInt, readList, readObject, readRequiredObject, readString, type Reader } from './reader.js';

/** IANA service name (RFC 6335), the form Kubernetes and Cilium accept for named ports. */
export function isServiceName(s: string): boolean {
  return s.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) && /[a-z]/.test(s) && !s.includes('--');
}

export interface PortRuleContext {
  readonly ingress: boolean;
  readonly deny: boolean;
}

const DENY_PORT_RULE_KEYS = ['ports'];
const PORT_RULE_KEYS = ['ports', 'rules', 'terminatingTLS', 'originatingTLS', 'serverNames', 'listener'];
const PORT_PROTOCOL_KEYS = ['port', 'endPort', 'protocol'];

export function decodePortRule(r: Reader, v: unknown, path: string, ctx: PortRuleContext): PortRule | undefined {
  const o = readRequiredObject(r, v, path, 'an object');
  if (o === undefined) return undefined;
  const known = ctx.deny ? DENY_PORT_RULE_KEYS : PORT_RULE_KEYS;
  if (ctx.deny && o['rules'] !== undefined) return r.fail(join(path, 'rules'), 'deny rules cannot carry L7 rules');
  rejectUnknownKeys(r, o, path, known);
  const ports = readList(r, o['ports'], join(path, 'ports'), (x, p) => decodePortProtocol(r, x, p));
  const rules = ctx.deny ? undefined : decodeL7(r, o['rules'], join(path, 'rules'));
  if (rules !== undefined && l7Type(rules) !== undefined) checkL7(r, rules, ports ?? [], path, ctx);
  return { ...(ports !== undefined && { ports }), ...(rules !== undefined && { rules }) };
}

function decodePortProtocol(r: Reader, v: unknown, path: string): PortProtocol | undefined {
  const o = readRequiredObject(r, v, path, '{port, protocol}');
  if (o === undefined) return undefined;
  rejectUnknownKeys(r, o, path, PORT_PROTOCOL_KEYS);
  const raw = o['port'];
  if (typeof raw === 'number') return r.fail(join(path, 'port'), `must be a string (quote it: "${raw}")`);
  const port = readString(r, raw, join(path, 'port'));
  if (port === undefined || port === '') return r.fail(join(path, 'port'), 'port must be specified');
  const endPort = readInt(r, o['endPort'], join(path, 'endPort'));
  const protocol = decodeProtocol(r, o['protocol'], join(path, 'protocol'));
  if (protocol === undefined) return undefined;
  const lower = port.toLowerCase();
  if (isServiceName(lower)) {
    if (endPort) r.note(join(path, 'endPort'), 'endPort is ignored with a named port');
    return { port: lower, protocol };
  }
  // Cilium parses with Go's base-0 ParseUint: a leading 0 means octal, so "080" is rejected.
  if (!/^(0|[1-9]\d*)$/.test(port) || Number(port) > 65535) {
    return r.fail(join(path, 'port'), `unable to parse port: "${port}" is not a port number (0-65535) or name`);
  }
  if (endPort !== undefined && endPort !== 0) {
    if (endPort > 65535 || endPort < 0) return r.fail(join(path, 'endPort'), `out of range: ${endPort}`);
    if (endPort < Number(port)) return r.fail(join(path, 'endPort'), `endPort ${endPort} is less than port ${port}`);
  }
  return { port: String(Number(port)), protocol, ...(endPort !== undefined && endPort !== 0 && { endPort }) };
}

function decodeProtocol(r: Reader, v: unknown, path: string): PortProtocolName | undefined {
  const s = readString(r, v, path);
  if (s === undefined || s === '' || s === 'ANY') return 'ANY';
  if (s === 'TCP' || s === 'UDP' || s === 'SCTP') return s;
  // The CRD's enum is case-sensitive: the API server rejects `tcp`.
  if (['TCP', 'UDP', 'SCTP', 'ANY'].includes(s.toUpperCase())) {
    return r.fail(path, `Unsupported value: "${s}": supported values: "TCP", "UDP", "SCTP", "ANY" (did you mean "${s.toUpperCase()}"?)`);
  }
  return r.fail(path, `unsupported protocol "${s}" (TCP, UDP, SCTP or ANY; use icmps for ICMP)`);
}

function decodeL7(r: Reader, v: unknown, path: string): L7Rules | undefined {
  const o = readObject(r, v, path);
  if (o === undefined) return undefined;
  rejectUnknownKeys(r, o, path, ['http', 'dns', 'kafka', 'l7proto', 'l7']);
  const objects = (key: string): Record<string, unknown>[] | undefined =>
    readList(r, o[key], join(path, key), (x, p) => (isRecord(x) ? { ...x } : r.fail(p, 'expected an object')));
  const http = readList(r, o['http'], join(path, 'http'), (x, p) => {
    const h = readRequiredObject(r, x, p, 'an object');
    if (h === undefined) return undefined;
    rejectUnknownKeys(r, h, p, ['method', 'path', 'host', 'headers', 'headerMatches']);
    const headers = readList(r, h['headers'], join(p, 'headers'), (y, q) => readString(r, y, q));
    const method = readString(r, h['method'], join(p, 'method'));
    const urlPath = readString(r, h['path'], join(p, 'path'));
    const host = readString(r, h['host'], join(p, 'host'));
    return {
      ...(method !== undefined && { method }),
      ...(urlPath !== undefined && { path: urlPath }),
      ...(host !== undefined && { host }),
      ...(headers !== undefined && { headers }),
    };
  });
  const dns = readList(r, o['dns'], join(path, 'dns'), (x, p) => decodeFqdnLike(r, x, p));
  const kafka = objects('kafka');
  const l7 = objects('l7');
  const l7proto = readString(r, o['l7proto'], join(path, 'l7proto'));
  return {
    ...(http !== undefined && { http }),
    ...(dns !== undefined && { dns }),
    ...(kafka !== undefined && { kafka: kafka.map((k) => ({ ...k })) }),
    ...(l7proto !== undefined && { l7proto }),
    ...(l7 !== undefined && { l7: l7.map(stringValues) }),
  };
}

const stringValues = (o: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(o).map(([k, x]) => [k, String(x)]));

/** `{matchName}` or `{matchPattern}` (toFQDNs and DNS L7 rules). */
export function decodeFqdnLike(r: Reader, v: unknown, path: string): { matchName?: string; matchPattern?: string } | undefined {
  const o = readRequiredObject(r, v, path, '{matchName} or {matchPattern}');
  if (o === undefined) return undefined;
  rejectUnknownKeys(r, o, path, ['matchName', 'matchPattern']);
  const name = readString(r, o['matchName'], join(path, 'matchName'));
  const pattern = readString(r, o['matchPattern'], join(path, 'matchPattern'));
  if (!name && !pattern) return r.fail(path, 'one of matchName or matchPattern is required');
  // The CRD's `^([-a-zA-Z0-9_]+[.]?)+$` without its nested quantifier, which backtracks for ever
  // on a long name followed by a character outside the set.
  if (name && !/^[-a-zA-Z0-9_]+(?:\.[-a-zA-Z0-9_]+)*\.?$/.test(name)) return r.fail(join(path, 'matchName'), `invalid DNS name "${name}"`);
  if (pattern && !/^[-a-zA-Z0-9_*]+(?:\.[-a-zA-Z0-9_*]+)*\.?$/.test(pattern)) {
    return r.fail(join(path, 'matchPattern'), `invalid DNS pattern "${pattern}"`);
  }
  return { ...(name && { matchName: name }), ...(pattern && { matchPattern: pattern }) };
}

/** Which L7 protocol a rules block uses, if any (empty lists count as none, like Cilium's IsEmpty). */
export function l7Type(rules: L7Rules): 'http' | 'dns' | 'kafka' | 'l7proto' | undefined {
  if ((rules.http?.length ?? 0) > 0) return 'http';
  if ((rules.dns?.length ?? 0) > 0) return 'dns';
  if ((rules.kafka?.length ?? 0) > 0) return 'kafka';
  if (rules.l7proto) return 'l7proto';
  return undefined;
}

function checkL7(r: Reader, rules: L7Rules, ports: readonly PortProtocol[], path: string, ctx: PortRuleContext): void {
  const types = [rules.http, rules.dns, rules.kafka].filter((x) => x !== undefined).length + (rules.l7proto ? 1 : 0);
  if (types > 1) r.fail(join(path, 'rules'), 'multiple L7 protocol rule types specified in single rule');
  const dns = (rules.dns?.length ?? 0) > 0;
  if (dns && ctx.ingress) r.fail(join(path, 'rules.dns'), 'DNS rules are not allowed on ingress');
  if (dns && ports.length === 0) r.fail(join(path, 'rules.dns'), 'port 53 must be specified for DNS rules');
  ports.forEach((p, i) => {
    if (p.port === '0') r.fail(join(path, `ports[${i}].port`), 'L7 rules can not be used when a port is 0');
    if (!dns && p.protocol !== 'TCP') {
      r.fail(join(path, `ports[${i}].protocol`), `L7 rules can only apply to TCP (not ${p.protocol}) except for DNS rules`);
    }
    if (dns && p.endPort !== undefined) r.fail(join(path, `ports[${i}].endPort`), 'DNS rules do not support port ranges');
  });
}

export function decodeIcmpRule(r: Reader, v: unknown, path: string): IcmpRule | undefined {
  const o = readRequiredObject(r, v, path, '{fields: [...]}');
  if (o === undefined) return undefined;
  rejectUnknownKeys(r, o, path, ['fields']);
  const fields = readList(r, o['fields'], join(path, 'fields'), (x, p) => decodeIcmpField(r, x, p)) ?? [];
  return { fields };
}

function decodeIcmpField(r: Reader, v: unknown, path: string): IcmpField | undefined {
  const o = readRequiredObject(r, v, path, '{type, family}');
  if (o === undefined) return undefined;
  const fam = readString(r, o['family'], join(path, 'family')) ?? 'IPv4';
  if (fam !== 'IPv4' && fam !== 'IPv6') return r.fail(join(path, 'family'), `wrong family: ${fam}`);
  const t = o['type'];
  if (typeof t === 'number' && Number.isInteger(t) && t >= 0 && t <= 255) return { type: t, family: fam };
  if (typeof t === 'string' && icmpTypeNumber(fam, t) !== undefined) return { type: t, family: fam };
  return r.fail(join(path, 'type'), `unknown ICMP type ${String(t)} for ${fam}`);
}
