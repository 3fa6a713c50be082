import { describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../../src/errors.js';
import { Backoff, checkTargetFlags, resolveTarget, type TlsFlags } from '../../../src/ingest/index.js';

const noTls: TlsFlags = { tls: false, caCertFiles: [], allowInsecure: false };

describe('relay target (--server, --tls-*)', () => {
  it.each([
    ['localhost:4245', false, 'localhost:4245', false],
    ['relay.example', false, 'relay.example:4245', false],
    ['tls://relay.example:443', false, 'relay.example:443', true],
    ['[::1]:4245', true, '[::1]:4245', true],
    ['unix:///var/run/cilium/hubble.sock', false, 'unix:///var/run/cilium/hubble.sock', false],
  ] as const)('%s (--tls=%s) dials %s, TLS %s', (server, tls, address, tlsOn) => {
    expect(checkTargetFlags(server, { ...noTls, tls })).toEqual({ address, name: address, tls: tlsOn });
  });

  it.each([
    [{ caCertFiles: ['ca.pem'] }, '--tls-ca-cert-files needs --tls'],
    [{ tls: true, clientCertFile: 'c.pem' }, 'must be given together'],
    [{ serverName: 'x' }, '--tls-server-name needs --tls'],
    [{ allowInsecure: true }, '--tls-allow-insecure needs --tls'],
  ] as const)('rejects %j', (flags, message) => {
    expect(() => checkTargetFlags('localhost:4245', { ...noTls, ...flags })).toThrow(UsageError);
    expect(() => checkTargetFlags('localhost:4245', { ...noTls, ...flags })).toThrow(message);
  });

  it('rejects other schemes and names the unreadable certificate file', () => {
    expect(() => checkTargetFlags('http://relay:80', noTls)).toThrow(UsageError);
    expect(() => resolveTarget('tls://relay:443', { ...noTls, caCertFiles: ['/nonexistent/ca.pem'] })).toThrow(InputError);
    expect(() => resolveTarget('tls://relay:443', { ...noTls, caCertFiles: ['/nonexistent/ca.pem'] })).toThrow('/nonexistent/ca.pem');
  });
});

describe('Backoff', () => {
  it('grows exponentially from under a second to the cap, with jitter, and resets', () => {
    const b = new Backoff({ initialMs: 250, maxMs: 5000, jitter: 0.5, random: () => 0 });
    expect([1, 2, 3, 4, 5, 6, 7].map(() => b.next())).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    b.reset();
    expect(b.next()).toBe(250);
    const jittered = new Backoff({ initialMs: 1000, jitter: 0.5, random: () => 1 });
    expect(jittered.next()).toBe(500);
  });
});
