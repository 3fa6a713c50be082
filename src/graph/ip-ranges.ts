import { type IpAddress, parseIp, parsePrefix, prefixContains, type Prefix } from '../net/cidr.js';
import type { KnownRange } from './model.js';

/**
 * Well-known ranges an unresolved world IP may sit in. A private or link-local address classified
 * as world is usually a node, a LAN service or cloud metadata, and deserves a look before it
 * becomes a `toCIDR` rule.
 */
const KNOWN_RANGES: readonly (KnownRange & { readonly prefix: Prefix })[] = [
  ['10.0.0.0/8', 'private (RFC 1918)'],
  ['172.16.0.0/12', 'private (RFC 1918)'],
  ['192.168.0.0/16', 'private (RFC 1918)'],
  ['100.64.0.0/10', 'shared address space / CGNAT (RFC 6598)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local (cloud metadata lives at 169.254.169.254)'],
  ['192.0.2.0/24', 'documentation (RFC 5737)'],
  ['198.51.100.0/24', 'documentation (RFC 5737)'],
  ['203.0.113.0/24', 'documentation (RFC 5737)'],
  ['198.18.0.0/15', 'benchmarking (RFC 2544)'],
  ['224.0.0.0/4', 'multicast'],
  ['fc00::/7', 'unique local (RFC 4193)'],
  ['fe80::/10', 'link-local'],
  ['::1/128', 'loopback'],
  ['ff00::/8', 'multicast'],
  ['2001:db8::/32', 'documentation (RFC 3849)'],
  ['64:ff9b::/96', 'NAT64 (RFC 6052)'],
].map(([cidr, name]) => ({ cidr: cidr as string, name: name as string, prefix: parsePrefix(cidr as string) as Prefix }));

/** The known ranges enclosing `ip`, most specific last; empty for public addresses. */
export function enclosingRanges(ip: string): KnownRange[] {
  const address = parseIp(ip);
  return address === undefined ? [] : knownRangesOf(address);
}

/** `enclosingRanges` of an address already parsed. */
export function knownRangesOf(address: IpAddress): KnownRange[] {
  return KNOWN_RANGES.filter((r) => prefixContains(r.prefix, address)).map(({ cidr, name }) => ({ cidr, name }));
}
