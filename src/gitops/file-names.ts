/**
 * File names for generated policies. Distinct policies always get distinct names: the namespace
 * (a DNS-1123 label, never a dot) is followed by a dot, so `team-a/api` and `team/a-api` become
 * `cnp-team-a.api.yaml` and `cnp-team.a-api.yaml`. A name that is not a plain DNS name, or too
 * long for a file system (255 bytes), is cut and given a hash of the whole identity instead.
 */
import { createHash } from 'node:crypto';

const KIND_PREFIX: Readonly<Record<string, string>> = {
  CiliumNetworkPolicy: 'cnp',
  CiliumClusterwideNetworkPolicy: 'ccnp',
  NetworkPolicy: 'netpol',
};

export interface PolicyIdentity {
  readonly kind: string;
  readonly namespace?: string | undefined;
  readonly name: string;
}

/** Longest base we produce; leaves room under NAME_MAX (255) for `.yaml` and a disambiguating suffix. */
const MAX_BASE = 180;
const SAFE_NAMESPACE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const SAFE_NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

export const identityKey = (p: PolicyIdentity): string => `${p.kind}/${p.namespace ?? ''}/${p.name}`;

export function shortHash(text: string, length = 10): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

export function policyFileName(p: PolicyIdentity): string {
  const prefix = KIND_PREFIX[p.kind] ?? 'policy';
  const ns = p.namespace ?? '';
  const plain = ns === '' ? `${prefix}-${p.name}` : `${prefix}-${ns}.${p.name}`;
  const safe = (ns === '' || SAFE_NAMESPACE.test(ns)) && SAFE_NAME.test(p.name) && !p.name.includes('..') && KIND_PREFIX[p.kind] !== undefined;
  if (safe && plain.length <= MAX_BASE) return `${plain}.yaml`;
  // `~` never appears in a DNS name, so a hashed name cannot equal a plain one.
  const slug = plain.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/\.{2,}/g, '.').slice(0, MAX_BASE - 12);
  return `${slug}~${shortHash(identityKey(p))}.yaml`;
}

/** Name used when the preferred one is taken by a file that is not ours: stable across runs. */
export function alternativeFileName(preferred: string, p: PolicyIdentity): string {
  return `${preferred.replace(/\.yaml$/, '')}~${shortHash(`alt:${identityKey(p)}`, 8)}.yaml`;
}
