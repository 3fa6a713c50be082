import { quoted } from './k8s-names.js';
import type { Peer } from './model.js';

const MAX_NAME = 63;

/** A DNS-1123 label from any name; over-long names keep a short stable hash (Otterize's approach). */
export function policyName(raw: string): string {
  let name = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (name === '') name = 'policy';
  if (name.length <= MAX_NAME) return name;
  const hash = fnv1a(raw).toString(16).padStart(8, '0').slice(0, 8);
  return `${name.slice(0, MAX_NAME - 9).replace(/-+$/, '')}-${hash}`;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function peerKey(p: Peer): string {
  switch (p.kind) {
    case 'workload':
      return `workload:${p.namespace}/${p.workloadKind}/${p.name}`;
    case 'entity':
      return `entity:${p.entity}`;
    case 'fqdn':
      return `fqdn:${p.fqdn}`;
    case 'cidr':
      return `cidr:${p.cidr}`;
    default: {
      const never: never = p;
      return String(never);
    }
  }
}

/** A peer for humans; strings from flows that are not plain printable ASCII are shown escaped. */
export function describePeer(p: Peer): string {
  switch (p.kind) {
    case 'workload':
      return `${printable(p.namespace)}/${printable(p.name)} (${printable(p.workloadKind)})`;
    case 'entity':
      return `entity ${p.entity}`;
    case 'fqdn':
      return printable(p.fqdn);
    case 'cidr':
      return p.cidr;
    default: {
      const never: never = p;
      return String(never);
    }
  }
}

function printable(s: string): string {
  return /^[\x21-\x7e]+$/.test(s) ? s : quoted(s);
}

export function workloadKey(w: { namespace: string; kind: string; name: string }): string {
  return `${w.namespace}/${w.kind}/${w.name}`;
}
