/** IPv4/IPv6 addresses and prefixes as bigints, for CIDR and ipBlock matching. */

export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** A prefix with host bits cleared (`10.244.0.10/4` is read as `0.0.0.0/4`, like Go's netip). */
export interface Prefix {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly length: number;
  readonly text: string;
}

const width = (f: 4 | 6): number => (f === 4 ? 32 : 128);

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith('0'))) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  let tail: bigint | undefined;
  let tailGroups = 0;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tail = parseV4(s.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    s = s.slice(0, lastColon + 1) + '0:0';
    tailGroups = 2;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] | undefined => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0] ?? '');
  const rest = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !rest) return undefined;
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail !== undefined && tailGroups === 2) v = (v & ~0xffffffffn) | tail;
  return v;
}

export function parseIp(s: string): IpAddress | undefined {
  const t = s.trim();
  if (t.includes(':')) {
    const v = parseV6(t);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseV4(t);
  return v === undefined ? undefined : { family: 4, value: v };
}

/** Parses `ip/len`; with `allowBareIp`, a bare address means a full-length prefix. */
export function parsePrefix(s: string, allowBareIp = false): Prefix | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) {
    if (!allowBareIp) return undefined;
    const ip = parseIp(s);
    return ip && { family: ip.family, network: ip.value, length: width(ip.family), text: s };
  }
  const ip = parseIp(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(lenText)) return undefined;
  const length = Number(lenText);
  if (length > width(ip.family)) return undefined;
  return { family: ip.family, network: ip.value & mask(ip.family, length), length, text: s };
}

function mask(f: 4 | 6, length: number): bigint {
  const w = BigInt(width(f));
  const all = (1n << w) - 1n;
  return length === 0 ? 0n : (all >> (w - BigInt(length))) << (w - BigInt(length));
}

export function prefixContains(p: Prefix, ip: IpAddress): boolean {
  return p.family === ip.family && (ip.value & mask(p.family, p.length)) === p.network;
}

export function prefixContainsPrefix(outer: Prefix, inner: Prefix): boolean {
  return (
    outer.family === inner.family &&
    inner.length >= outer.length &&
    (inner.network & mask(outer.family, outer.length)) === outer.network
  );
}
