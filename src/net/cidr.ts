import ipaddr from 'ipaddr.js';

/**
 * The one place that parses IP addresses and prefixes and decides containment, for CIDR rules,
 * ipBlocks, schema checks and edge filters alike. Parsing is as strict as Go's net/netip (which
 * Cilium and the API server use): four-part decimal IPv4 without leading zeros, no zone in a
 * prefix, a prefix length without leading zeros.
 */
export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** `network/length` as written; host bits are ignored when matching (`10.244.0.10/4` covers `0.0.0.0/4`). */
export interface Prefix {
  readonly network: IpAddress;
  readonly length: number;
  readonly text: string;
}

export type Family = 4 | 6;

export const familyOf = (a: IpAddress | Prefix): Family => (('network' in a ? a.network : a).kind() === 'ipv4' ? 4 : 6);

/** An address without a prefix length; an IPv6 zone (`%eth0`) is dropped, as it names no other host. */
export function parseIp(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const zone = text.indexOf('%');
    const bare = zone >= 0 ? text.slice(0, zone) : text;
    return ipaddr.IPv6.isValid(bare) ? ipaddr.IPv6.parse(bare) : undefined;
  }
  // The one-pass check, then the octets from the parts it found: the library's parse runs its four
  // notations' regular expressions again (~5 us an address; a cold read parses every world address).
  const ends = fourPartDecimalEnds(text);
  if (ends === undefined) return undefined;
  const [a, b, c, d] = ends as [number, number, number, number];
  return new ipaddr.IPv4([Number(text.slice(0, a)), Number(text.slice(a + 1, b)), Number(text.slice(b + 1, c)), Number(text.slice(c + 1, d))]);
}

/** Parses `addr/len`; with `bareIpIsHost`, a bare address is its host route (Cilium accepts both in `toCIDR`). */
export function parsePrefix(text: string, bareIpIsHost = false): Prefix | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) {
    if (!bareIpIsHost || text.includes('%')) return undefined;
    const ip = parseIp(text);
    return ip && { network: ip, length: bitsOf(ip), text };
  }
  const addressText = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  if (addressText.includes('%') || !/^(0|[1-9][0-9]{0,2})$/.test(lengthText)) return undefined;
  const ip = parseIp(addressText);
  const length = Number(lengthText);
  if (!ip || length > bitsOf(ip)) return undefined;
  return { network: ip, length, text };
}

const bitsOf = (ip: IpAddress): number => (ip.kind() === 'ipv4' ? 32 : 128);

export function prefixContains(prefix: Prefix, ip: IpAddress): boolean {
  return prefix.network.kind() === ip.kind() && ip.match(prefix.network, prefix.length);
}

export function prefixContainsPrefix(outer: Prefix, inner: Prefix): boolean {
  return inner.length >= outer.length && prefixContains(outer, inner.network);
}

/** Whether `ip` (an address) lies in `cidr` (a prefix or a bare address); false when either is not one. */
export function cidrContains(cidr: string, ip: string): boolean {
  const prefix = parsePrefix(cidr, true);
  const address = parseIp(ip);
  return prefix !== undefined && address !== undefined && prefixContains(prefix, address);
}

/** The host route of an address (`/32` or `/128`, IPv6 in lower case), or undefined when it is not an address. */
export function hostCidr(ip: string): string | undefined {
  return hostRoute(ip)?.cidr;
}

/** `hostCidr` with the address it parsed, for callers that judge the address further. */
export function hostRoute(ip: string): { readonly cidr: string; readonly address: IpAddress } | undefined {
  const address = parseIp(ip);
  if (address === undefined || ip.includes('%')) return undefined;
  return { cidr: address.kind() === 'ipv4' ? `${ip}/32` : `${ip.toLowerCase()}/128`, address };
}

/** An address, or an address with a prefix length, as a `--peer` pattern or a filter accepts. */
export const isIpOrCidr = (s: string): boolean => parsePrefix(s, true) !== undefined;

/**
 * The block of `bits` (IPv4) or `bits6` (IPv6) leading bits an address lies in, as `network/len`
 * (`10.156.2.7` → `10.156.2.0/24`); undefined when it is not an address.
 */
export function blockOf(ip: string, bits = 24, bits6 = 64): string | undefined {
  if (!ip.includes(':') && bits % 8 === 0) {
    // Octet-aligned IPv4 blocks by text: read for every world and cluster address a command
    // loads, where ipaddr.js's parse, mask and print took a tenth of `status` and its validation
    // alone (a parse that tries four notations) ~2 KB of garbage per address.
    const ends = fourPartDecimalEnds(ip);
    if (ends === undefined) return undefined;
    const kept = Math.min(bits / 8, 4);
    let text = kept === 0 ? '0' : ip.slice(0, ends[kept - 1]);
    for (let i = Math.max(kept, 1); i < 4; i++) text += '.0';
    return `${text}/${bits}`;
  }
  const address = parseIp(ip);
  if (address === undefined) return undefined;
  const len = address.kind() === 'ipv4' ? bits : bits6;
  const network = address.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${len}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${len}`);
  return `${network.toString()}/${len}`;
}

/**
 * Where each of the four parts of `ip` ends, when it is what ipaddr.js's `isValidFourPartDecimal`
 * accepts (four decimal parts of 0-255, no leading zeros, nothing else); undefined otherwise.
 * One pass over the text and no garbage but the result.
 */
export function fourPartDecimalEnds(ip: string): readonly number[] | undefined {
  const ends: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : DOT;
    if (c === DOT) {
      if (digits === 0 || value > 255 || ends.length === 4) return undefined;
      ends.push(i);
      value = 0;
      digits = 0;
    } else if (c >= ZERO && c <= ZERO + 9) {
      // A leading zero (`01`), or more digits than any octet has.
      if ((digits === 1 && value === 0) || digits === 3) return undefined;
      value = value * 10 + (c - ZERO);
      digits++;
    } else return undefined;
  }
  return ends.length === 4 ? ends : undefined;
}
const DOT = 0x2e;
const ZERO = 0x30;

/**
 * The text range `[from, to)` that holds every IPv4 address `blockOf` places in `block`, when the
 * block is octet-aligned (`10.156.2.0/24` → `10.156.2.` up to `10.156.2/`, as `/` follows `.`), so
 * a store can read a block through an index on the address text. Undefined for IPv6 and other
 * blocks: their text has no fixed prefix (`::` may swallow any run of zero groups). The range may
 * also hold text that is no address (`10.156.2.300`); callers keep what `blockOf` places there.
 */
export function blockTextRange(block: string): { readonly from: string; readonly to: string } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(8|16|24)$/.exec(block);
  if (m === null) return undefined;
  const prefix = m.slice(1, 1 + Number(m[5]) / 8).join('.');
  return { from: `${prefix}.`, to: `${prefix}/` };
}
