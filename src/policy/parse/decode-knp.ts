import { parsePrefix, prefixContainsPrefix } from '../../net/cidr.js';
import type { IpBlock, KnpPeer, KnpPolicyType, KnpPort, KnpProtocol, KnpSpec } from '../model/index.js';
import { isServiceName } from './decode-ports.js';
import { decodeRequiredSelector, decodeSelector } from './decode-selector.js';
import { join, rejectUnknownKeys, readInt, readList, readObject, readRequiredObject, readString, type Reader } from './reader.js';

/** Decodes a networking.k8s.io/v1 NetworkPolicySpec with the API server's validation. */
export function decodeKnpSpec(r: Reader, v: unknown, path: string): KnpSpec | undefined {
  const o = readRequiredObject(r, v, path, 'a NetworkPolicy spec');
  if (o === undefined) return undefined;
  rejectUnknownKeys(r, o, path, ['podSelector', 'policyTypes', 'ingress', 'egress']);
  const podSelector = decodeRequiredSelector(r, o['podSelector'], join(path, 'podSelector'));
  const policyTypes = readList(r, o['policyTypes'], join(path, 'policyTypes'), (x, p) =>
    x === 'Ingress' || x === 'Egress' ? (x as KnpPolicyType) : r.fail(p, `must be Ingress or Egress, got ${String(x)}`),
  );
  const ingress = readList(r, o['ingress'], join(path, 'ingress'), (x, p) => {
    const e = readObject(r, x, p) ?? {};
    rejectUnknownKeys(r, e, p, ['from', 'ports']);
    const from = readList(r, e['from'], join(p, 'from'), (y, q) => decodePeer(r, y, q));
    const ports = readList(r, e['ports'], join(p, 'ports'), (y, q) => decodePort(r, y, q));
    return { ...(from !== undefined && { from }), ...(ports !== undefined && { ports }) };
  });
  const egress = readList(r, o['egress'], join(path, 'egress'), (x, p) => {
    const e = readObject(r, x, p) ?? {};
    rejectUnknownKeys(r, e, p, ['to', 'ports']);
    const to = readList(r, e['to'], join(p, 'to'), (y, q) => decodePeer(r, y, q));
    const ports = readList(r, e['ports'], join(p, 'ports'), (y, q) => decodePort(r, y, q));
    return { ...(to !== undefined && { to }), ...(ports !== undefined && { ports }) };
  });
  if (podSelector === undefined) return undefined;
  const types = policyTypes ?? [];
  if ((egress?.length ?? 0) > 0 && policyTypes !== undefined && !types.includes('Egress')) {
    r.note(join(path, 'egress'), 'egress rules are ignored because policyTypes does not list Egress (Cilium may still enforce them)');
  }
  if ((ingress?.length ?? 0) > 0 && policyTypes !== undefined && !types.includes('Ingress')) {
    r.note(join(path, 'ingress'), 'ingress rules are ignored because policyTypes does not list Ingress (Cilium may still enforce them)');
  }
  return {
    podSelector,
    ...(policyTypes !== undefined && { policyTypes }),
    ...(ingress !== undefined && { ingress }),
    ...(egress !== undefined && { egress }),
  };
}

function decodePeer(r: Reader, v: unknown, path: string): KnpPeer | undefined {
  const o = readRequiredObject(r, v, path, 'a peer');
  if (o === undefined) return undefined;
  rejectUnknownKeys(r, o, path, ['podSelector', 'namespaceSelector', 'ipBlock']);
  const podSelector = decodeSelector(r, o['podSelector'], join(path, 'podSelector'));
  const namespaceSelector = decodeSelector(r, o['namespaceSelector'], join(path, 'namespaceSelector'));
  const ipBlock = decodeIpBlock(r, o['ipBlock'], join(path, 'ipBlock'));
  if (!podSelector && !namespaceSelector && !ipBlock) {
    return r.fail(path, 'must specify one of podSelector, namespaceSelector or ipBlock');
  }
  if (ipBlock && (podSelector || namespaceSelector)) {
    return r.fail(path, 'may not specify ipBlock together with podSelector or namespaceSelector');
  }
  return {
    ...(podSelector && { podSelector }),
    ...(namespaceSelector && { namespaceSelector }),
    ...(ipBlock && { ipBlock }),
  };
}

function decodeIpBlock(r: Reader, v: unknown, path: string): IpBlock | undefined {
  const o = readObject(r, v, path);
  if (o === undefined) return undefined;
  const cidr = readString(r, o['cidr'], join(path, 'cidr'));
  const prefix = cidr === undefined ? undefined : parsePrefix(cidr);
  if (!prefix) return r.fail(join(path, 'cidr'), `must be a valid CIDR, got ${String(cidr)}`);
  const except = readList(r, o['except'], join(path, 'except'), (x, p) => {
    const s = readString(r, x, p);
    const e = s === undefined ? undefined : parsePrefix(s);
    if (!e) return r.fail(p, `must be a valid CIDR, got ${String(x)}`);
    if (!prefixContainsPrefix(prefix, e) || e.length <= prefix.length) {
      return r.fail(p, `must be a strict subset of ${cidr ?? ''}`);
    }
    return s;
  });
  return { cidr: cidr ?? '', ...(except !== undefined && { except }) };
}

function decodePort(r: Reader, v: unknown, path: string): KnpPort | undefined {
  const o = readRequiredObject(r, v, path, '{protocol, port, endPort}');
  if (o === undefined) return undefined;
  rejectUnknownKeys(r, o, path, ['protocol', 'port', 'endPort']);
  const proto = readString(r, o['protocol'], join(path, 'protocol'));
  if (proto !== undefined && proto !== 'TCP' && proto !== 'UDP' && proto !== 'SCTP') {
    return r.fail(join(path, 'protocol'), `must be TCP, UDP or SCTP, got ${proto}`);
  }
  const raw = o['port'];
  let port: number | string | undefined;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 1 || raw > 65535) return r.fail(join(path, 'port'), `must be 1-65535, got ${raw}`);
    port = raw;
  } else if (typeof raw === 'string') {
    if (/^\d+$/.test(raw)) port = Number(raw);
    else if (isServiceName(raw)) port = raw;
    else return r.fail(join(path, 'port'), `must be a port number or an IANA service name, got "${raw}"`);
  } else if (raw !== undefined && raw !== null) return r.fail(join(path, 'port'), 'must be a number or a name');
  const endPort = readInt(r, o['endPort'], join(path, 'endPort'));
  if (endPort !== undefined) {
    if (typeof port !== 'number') return r.fail(join(path, 'endPort'), 'may only be specified with a numeric port');
    if (endPort < port) return r.fail(join(path, 'endPort'), `endPort ${endPort} is less than port ${port}`);
  }
  return {
    ...(proto !== undefined && { protocol: proto as KnpProtocol }),
    ...(port !== undefined && { port }),
    ...(endPort !== undefined && { endPort }),
  };
}
