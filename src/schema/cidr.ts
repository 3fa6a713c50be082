import type { StringCheck } from './types.js';

/** A parsed `addr/bits` prefix; `addr` holds the address as a 32- or 128-bit integer. */
export interface Prefix {
  readonly family: 4 | 6;
  readonly addr: bigint;
  readonly bits: number;
}

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function parseIPv6(s: string): bigint | undefined {
  let body = s;
  const tail: bigint[] = [];
  if (s.includes('.')) {
    // An embedded IPv4 address stands for the last two groups (::ffff:192.0.2.1).
    const lastColon = s.lastIndexOf(':');
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail.push(v4 >> 16n, v4 & 0xffffn);
    body = s.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const split = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = split(halves[0] as string);
  const rest = halves.length === 2 ? split(halves[1] as string) : [];
  const want = 8 - tail.length;
  // `::` stands for at least one group of zeros.
  if (halves.length === 2 && head.length + rest.length >= want) return undefined;
  const groups = halves.length === 2 ? [...head, ...Array<string>(want - head.length - rest.length).fill('0'), ...rest] : head;
  if (groups.length !== want || !groups.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return undefined;
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(parseInt(g, 16));
  for (const t of tail) n = (n << 16n) | t;
  return n;
}

/** Parses `a.b.c.d/n` or an IPv6 prefix (no zone); undefined when invalid. */
export function parsePrefix(s: string): Prefix | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = s.slice(0, slash);
  const len = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(len)) return undefined;
  const bits = Number(len);
  if (!ip.includes(':')) {
    const addr = parseIPv4(ip);
    return addr !== undefined && bits <= 32 ? { family: 4, addr, bits } : undefined;
  }
  const addr = parseIPv6(ip);
  return addr !== undefined && bits <= 128 ? { family: 6, addr, bits } : undefined;
}

/** Whether `inner` lies inside `outer` (same family, at least as long, same network bits). */
export function contains(outer: Prefix, inner: Prefix): boolean {
  if (outer.family !== inner.family || inner.bits < outer.bits) return false;
  const width = BigInt(outer.family === 4 ? 32 : 128);
  const shift = width - BigInt(outer.bits);
  return outer.addr >> shift === inner.addr >> shift;
}

export const cidrCheck: StringCheck = (s) =>
  parsePrefix(s) === undefined ? `${JSON.stringify(s)} is not a valid CIDR (an IPv4 or IPv6 address with a /prefix length)` : undefined;
