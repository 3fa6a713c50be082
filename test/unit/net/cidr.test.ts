import { describe, expect, it } from 'vitest';
import { blockOf, cidrContains, familyOf, hostCidr, isIpOrCidr, parseIp, parsePrefix, prefixContains, prefixContainsPrefix } from '../../../src/net/cidr.js';
import { cidrCheck } from '../../../src/schema/names.js';

describe('CIDR parsing', () => {
  it.each([
    ['10.0.0.0/8', 4, 8],
    ['0.0.0.0/0', 4, 0],
    ['203.0.113.7/32', 4, 32],
    ['::/0', 6, 0],
    ['2001:db8::/32', 6, 32],
    ['2001:0db8:0000:0000:0000:0000:0000:0001/128', 6, 128],
    ['::ffff:192.0.2.1/128', 6, 128],
    ['fe80::1:2/64', 6, 64],
  ])('accepts %s', (s, family, bits) => {
    const p = parsePrefix(s);
    expect(p && [familyOf(p), p.length]).toEqual([family, bits]);
    expect(cidrCheck(s)).toBeUndefined();
  });

  it.each(['10.0.0.0', '10.0.0/8', '10.0.0.256/8', '010.0.0.0/8', '10.0.0.0/33', '10.0.0.0/08', '2001:db8:::/32', '1:2:3:4:5:6:7:8:9/64', '1::2::3/64', 'fe80::1%eth0/64', '::/129', ' 10.0.0.0/8', ''])(
    'rejects %j',
    (s) => {
      expect(parsePrefix(s)).toBeUndefined();
      expect(cidrCheck(s)).toMatch(/is not a valid CIDR/);
    },
  );

  it.each([
    ['1.0.0.0/8', '1.1.1.1/32', true],
    ['1.0.0.0/8', '1.0.0.0/8', true],
    ['1.0.0.0/8', '2.0.0.0/16', false],
    ['1.0.0.0/8', '0.0.0.0/0', false],
    ['10.0.0.0/8', '10.0.0.0/7', false],
    ['2606:4700:4700::/96', '2606:4700:4700::1111/128', true],
    ['2606:4700:4700::/96', '2606:4700:4701::1/128', false],
    ['::/0', '10.0.0.0/8', false],
  ])('%s contains %s: %s', (outer, inner, want) => {
    expect(prefixContainsPrefix(parsePrefix(outer)!, parsePrefix(inner)!)).toBe(want);
  });

  it('ignores host bits in the network part, as Go netip does (10.244.0.10/4 covers all of 0.0.0.0/4)', () => {
    expect(prefixContains(parsePrefix('10.244.0.10/4')!, parseIp('15.1.2.3')!)).toBe(true);
    expect(prefixContains(parsePrefix('10.244.0.10/4')!, parseIp('16.0.0.1')!)).toBe(false);
  });

  it('matches addresses only within their family (an IPv4-mapped IPv6 address is IPv6)', () => {
    expect(prefixContains(parsePrefix('0.0.0.0/0')!, parseIp('::ffff:10.0.0.1')!)).toBe(false);
    expect(prefixContains(parsePrefix('::/0')!, parseIp('10.0.0.1')!)).toBe(false);
    expect(cidrContains('::ffff:0:0/96', '::ffff:10.0.0.1')).toBe(true);
  });

  it('reads addresses as strictly as Go netip, and a bare address as a host route only where asked', () => {
    for (const bad of ['10.1', '0x0a.0.0.1', '010.0.0.1', '1.2.3.4 ', '1.2.3.4.5', 'fe80::1::2', '']) expect(parseIp(bad)).toBeUndefined();
    expect(parseIp('fe80::1%eth0')?.toString()).toBe('fe80::1');
    expect(parsePrefix('10.0.0.1')).toBeUndefined();
    expect(parsePrefix('10.0.0.1', true)?.length).toBe(32);
    expect(parsePrefix('2001:db8::1', true)?.length).toBe(128);
    expect(hostCidr('10.0.0.1')).toBe('10.0.0.1/32');
    expect(hostCidr('fe80::1%eth0')).toBeUndefined();
    expect(isIpOrCidr('10.0.0.0/8')).toBe(true);
    expect(isIpOrCidr('10.0.0.0/8/1')).toBe(false);
    expect(cidrContains('not-a-cidr', '10.0.0.1')).toBe(false);
  });

  it('blockOf reads octet-aligned IPv4 blocks by text exactly as the prefix arithmetic does', () => {
    const viaPrefix = (ip: string, bits: number): string | undefined => {
      const a = parseIp(ip);
      if (a === undefined || familyOf(a) !== 4) return undefined;
      const octets = a.toByteArray().map((o, i) => (i < bits / 8 ? o : 0));
      return `${octets.join('.')}/${bits}`;
    };
    for (const ip of ['10.64.51.2', '0.0.0.0', '255.255.255.255', '192.168.1.50', '010.1.2.3', '10.1.2', '1.2.3.4.5', '10.1.2.256', '', 'x.y.z.w']) {
      for (const bits of [8, 16, 24, 32]) expect(blockOf(ip, bits), `${ip}/${bits}`).toBe(viaPrefix(ip, bits));
    }
    expect(blockOf('10.64.51.2')).toBe('10.64.51.0/24');
    expect(blockOf('10.64.51.2', 20)).toBe('10.64.48.0/20');
    expect(blockOf('2001:db8:1:2::7')).toBe('2001:db8:1:2::/64');
  });
});
