import { describe, expect, it } from 'vitest';
import { cidrCheck, ciliumPort, k8sPortName, labelKey, labelValue, objectName } from '../../../src/schema/names.js';

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
