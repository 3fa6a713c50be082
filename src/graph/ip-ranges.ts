import type { KnownRange } from './model.js';

/**
 * Well-known ranges an unresolved world IP may sit in. A private or link-local address classified
 * as world is usually a node, a LAN service or cloud metadata, and deserves a look before it
 * becomes a `toCIDR` rule.
 */
const V4_RANGES: readonly (KnownRange & { readonly base: number; readonly bits: number })[] = [
  v4('10.0.0.0/8', 'private (RFC 1918)'),
  v4('172.16.0.0/12', 'private (RFC 1918)'),
  v4('192.168.0.0/16', 'private (RFC 1918)'),
  v4('100.64.0.0/10', 'shared address space / CGNAT (RFC 6598)'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local (cloud metadata lives at 169.254.169.254)'),
  v4('192.0.2.0/24', 'documentation (RFC 5737)'),
  v4('198.51.100.0/24', 'documentation (RFC 5737)'),
  v4('203.0.113.0/24', 'documentation (RFC 5737)'),
  v4('198.18.0.0/15', 'benchmarking (RFC 2544)'),
  v4('224.0.0.0/4', 'multicast'),
];

const V6_RANGES: readonly (KnownRange & { readonly words: readonly number[]; readonly bits: number })[] = [
  v6('fc00::/7', 'unique local (RFC 4193)'),
  v6('fe80::/10', 'link-local'),
  v6('::1/128', 'loopback'),
  v6('ff00::/8', 'multicast'),
  v6('2001:db8::/32', 'documentation (RFC 3849)'),
  v6('64:ff9b::/96', 'NAT64 (RFC 6052)'),
];

function v4(cidr: string, name: string): KnownRange & { base: number; bits: number } {
  const [addr, bits] = cidr.split('/') as [string, string];
  return { cidr, name, base: parseIPv4(addr) as number, bits: Number(bits) };
}

function v6(cidr: string, name: string): KnownRange & { words: number[]; bits: number } {
  const [addr, bits] = cidr.split('/') as [string, string];
  return { cidr, name, words: parseIPv6(addr) as number[], bits: Number(bits) };
}

export function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

/** Eight 16-bit words, or undefined. Accepts `::` compression and a trailing dotted IPv4. */
export function parseIPv6(s: string): number[] | undefined {
  if (!s.includes(':')) return undefined;
  let text = s.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4n = parseIPv4(text.slice(lastColon + 1));
    if (v4n === undefined) return undefined;
    tail = [Math.floor(v4n / 65536), v4n % 65536];
    text = text.slice(0, lastColon + 1) + '0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0] as string);
  const rest = halves.length === 2 ? parse(halves[1] as string) : [];
  if (!head || !rest) return undefined;
  if (tail.length) rest.splice(rest.length - 1, 1, ...tail);
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...rest];
}

function v6Contains(words: readonly number[], prefix: readonly number[], bits: number): boolean {
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const take = Math.min(16, bits);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if (((words[i] as number) & mask) !== ((prefix[i] as number) & mask)) return false;
  }
  return true;
}

/** The host route of an address (`/32` or `/128`), or undefined when it is not an IP. */
export function hostCidr(ip: string): string | undefined {
  if (parseIPv4(ip) !== undefined) return `${ip}/32`;
  if (parseIPv6(ip) !== undefined) return `${ip.toLowerCase()}/128`;
  return undefined;
}

/** The known ranges enclosing `ip`, most specific last; empty for public addresses. */
export function enclosingRanges(ip: string): KnownRange[] {
  const n = parseIPv4(ip);
  if (n !== undefined) {
    return V4_RANGES.filter((r) => Math.floor(n / 2 ** (32 - r.bits)) === Math.floor(r.base / 2 ** (32 - r.bits))).map(({ cidr, name }) => ({ cidr, name }));
  }
  const w = parseIPv6(ip);
  if (w === undefined) return [];
  return V6_RANGES.filter((r) => v6Contains(w, r.words, r.bits)).map(({ cidr, name }) => ({ cidr, name }));
}

/** Whether `ip` lies in `cidr` (both families; a bare address is a host route). */
export function cidrContains(cidr: string, ip: string): boolean {
  const [addr, bitsText] = cidr.split('/') as [string, string | undefined];
  const a4 = parseIPv4(addr);
  const i4 = parseIPv4(ip);
  if (a4 !== undefined && i4 !== undefined) {
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    return Math.floor(i4 / 2 ** (32 - bits)) === Math.floor(a4 / 2 ** (32 - bits));
  }
  const a6 = parseIPv6(addr);
  const i6 = parseIPv6(ip);
  if (a6 !== undefined && i6 !== undefined) return v6Contains(i6, a6, bitsText === undefined ? 128 : Number(bitsText));
  return false;
}
