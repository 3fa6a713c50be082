import { describe, expect, it } from 'vitest';
import { contains, parsePrefix } from '../../../src/schema/cidr.js';
import { ciliumPort, k8sPortName, labelKey, labelValue, objectName } from '../../../src/schema/names.js';

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
    expect(parsePrefix(s)).toMatchObject({ family, bits });
  });

  it.each(['10.0.0.0', '10.0.0/8', '10.0.0.256/8', '010.0.0.0/8', '10.0.0.0/33', '10.0.0.0/08', '2001:db8:::/32', '1:2:3:4:5:6:7:8:9/64', '1::2::3/64', 'fe80::1%eth0/64', '::/129', ' 10.0.0.0/8', ''])(
    'rejects %j',
    (s) => {
      expect(parsePrefix(s)).toBeUndefined();
    },
  );

  it.each([
    ['1.0.0.0/8', '1.1.1.1/32', true],
    ['1.0.0.0/8', '1.0.0.0/8', true],
    ['1.0.0.0/8', '2.0.0.0/16', false],
    ['1.0.0.0/8', '0.0.0.0/0', false],
    ['2606:4700:4700::/96', '2606:4700:4700::1111/128', true],
    ['2606:4700:4700::/96', '2606:4700:4701::1/128', false],
    ['::/0', '10.0.0.0/8', false],
  ])('%s contains %s: %s', (outer, inner, want) => {
    expect(contains(parsePrefix(outer)!, parsePrefix(inner)!)).toBe(want);
  });
});

describe('names and ports', () => {
  it.each([
    [ciliumPort, '0', true],
    [ciliumPort, '65535', true],
    [ciliumPort, 'http-8080', true],
    [ciliumPort, 'DNS', true],
    [ciliumPort, '65536', false],
    [ciliumPort, '080', false],
    [ciliumPort, 'http--x', false],
    [ciliumPort, '-http', false],
    [ciliumPort, '8080-9090', false],
    [k8sPortName, 'serve-80-tcp', true],
    [k8sPortName, 'dns', true],
    [k8sPortName, 'DNS', false],
    [k8sPortName, '80', false],
    [k8sPortName, 'a-very-long-name-x', false],
    [labelKey, 'app', true],
    [labelKey, 'app.kubernetes.io/managed-by', true],
    [labelKey, 'kubernetes.io/metadata.name', true],
    [labelKey, 'io.cilium.k8s.policy.cluster', true],
    [labelKey, '/app', false],
    [labelKey, 'app/', false],
    [labelKey, 'a b', false],
    [labelKey, 'x'.repeat(64), false],
    [labelValue, '', true],
    [labelValue, 'kube-dns', true],
    [labelValue, 'kube-dns-', false],
    [labelValue, 'x'.repeat(64), false],
    [objectName, 'client-egress-to-fqdns-one.one.one.one', true],
    [objectName, 'a'.repeat(63), true],
    [objectName, 'a'.repeat(64), false],
    [objectName, 'web_api', false],
    [objectName, '', false],
  ] as const)('%#: %s -> %s', (check, value, ok) => {
    expect(check(value) === undefined).toBe(ok);
  });
});
