import { describe, expect, it } from 'vitest';
import { REDACTED, decodeEvent, isSecretName, redactFlow, redactText, redactUrl } from '../../../src/flow/index.js';

describe('redactUrl', () => {
  it.each([
    ['http://app/api?token=abc123&page=2', `http://app/api?token=${REDACTED}&page=2`],
    ['https://x/cb?code=s3cr3t&state=1', `https://x/cb?code=${REDACTED}&state=1`],
    ['/login?password=hunter2', `/login?password=${REDACTED}`],
    ['https://user:pw@host/path', `https://${REDACTED}@host/path`],
    ['http://app/api/orders', 'http://app/api/orders'],
    ['http://app/a?X-Amz-Signature=f00#frag', `http://app/a?X-Amz-Signature=${REDACTED}#frag`],
  ])('%s', (url, want) => expect(redactUrl(url)).toBe(want));
});

describe('redactFlow', () => {
  it('removes Authorization and Cookie headers and URL tokens, keeping everything else', () => {
    const r = decodeEvent({
      flow: {
        time: '2026-11-20T10:00:00Z',
        verdict: 'FORWARDED',
        Type: 'L7',
        l7: {
          type: 'REQUEST',
          http: {
            method: 'GET',
            url: 'http://grafana/api/ds?api_key=AKIA123&orgId=1',
            headers: [
              { key: 'Authorization', value: 'Bearer eyJhbGciOi' },
              { key: 'cookie', value: 'session=abc' },
              { key: 'User-Agent', value: 'curl' },
            ],
          },
        },
        Summary: 'HTTP/1.1 GET http://grafana/api/ds?api_key=AKIA123&orgId=1',
      },
    });
    if (!r.ok || r.event.kind !== 'flow') throw new Error('decode failed');
    const f = redactFlow(r.event.flow);
    const text = JSON.stringify(f);
    expect(text).not.toContain('eyJhbGciOi');
    expect(text).not.toContain('session=abc');
    expect(text).not.toContain('AKIA123');
    expect(f.l7?.http?.headers).toContainEqual({ key: 'User-Agent', value: 'curl' });
    expect(f.l7?.http?.url).toBe(`http://grafana/api/ds?api_key=${REDACTED}&orgId=1`);
  });

  it('an HTTP flow without secrets is returned as the same object; one secret header still gets redacted', () => {
    const http = (headers: { key: string; value: string }[], url: string) =>
      decodeEvent({
        flow: {
          time: '2026-11-10T00:00:15Z',
          verdict: 'FORWARDED',
          l7: { type: 'REQUEST', http: { method: 'GET', url, headers } },
          Summary: `HTTP/1.1 GET ${url}`,
        },
      });
    const clean = http([{ key: 'User-Agent', value: 'curl' }], 'http://grafana/api/health?orgId=1');
    if (!clean.ok || clean.event.kind !== 'flow') throw new Error('decode failed');
    expect(redactFlow(clean.event.flow)).toBe(clean.event.flow);
    const secret = http([{ key: 'User-Agent', value: 'curl' }, { key: 'Cookie', value: 'sid=s3cr3t' }], 'http://grafana/api/health?orgId=1');
    if (!secret.ok || secret.event.kind !== 'flow') throw new Error('decode failed');
    const redacted = redactFlow(secret.event.flow);
    expect(redacted).not.toBe(secret.event.flow);
    expect(JSON.stringify(redacted)).not.toContain('s3cr3t');
    expect(redacted.summary).toBe(secret.event.flow.summary);
  });
});

describe('redaction by pattern (issue 15: what got through the fixed list)', () => {
  it.each([
    ['http://app/a?jwt=x1&bearer=x2&pass=x3&client_secret=x4', `http://app/a?jwt=${REDACTED}&bearer=${REDACTED}&pass=${REDACTED}&client_secret=${REDACTED}`],
    ['http://app/a?page=1;token=x1', `http://app/a?page=1;token=${REDACTED}`],
    ['http://app/cb#access_token=x1&state=ok', `http://app/cb#access_token=${REDACTED}&state=ok`],
    ['http://app/a?%74oken=x1', `http://app/a?%74oken=${REDACTED}`],
    ['http://app/a?token%3Dx1', `http://app/a?token%3D${REDACTED}`],
    ['https://user:pa@ss@host/p', `https://${REDACTED}@host/p`],
    ['user:pw@host:8080/p', `${REDACTED}@host:8080/p`],
    ['//user:pw@host/p', `//${REDACTED}@host/p`],
    ['/users/@me?page=2', '/users/@me?page=2'],
    ['http://app/p;jsessionid=x1?a=1', `http://app/p;jsessionid=${REDACTED}?a=1`],
  ])('%s', (url, want) => expect(redactUrl(url)).toBe(want));

  it.each(['X-Vault-Token', 'Private-Token', 'apikey', 'Api-Key', 'X-Goog-Api-Key', 'X-Access-Token', 'Authentication', 'X-Forwarded-Authorization', 'Authorization ', 'X-Session', 'X-Csrf', 'Passwd', 'X-Signature', 'X-Credential', 'JWT'])(
    'header %s is a secret',
    (name) => expect(isSecretName(name)).toBe(true),
  );

  it.each([':authority', 'Host', 'User-Agent', 'Accept', 'Content-Type', 'X-Request-Id', 'Keep-Alive'])('header %s is not', (name) => expect(isSecretName(name)).toBe(false));

  it('finds credentials in free text', () => {
    expect(redactText('GET /x Authorization: Bearer abc.def')).toBe(`GET /x Authorization: Bearer ${REDACTED}`);
    expect(redactText('proxy Basic dXNlcjpwdw==')).toBe(`proxy Basic ${REDACTED}`);
    expect(redactText('retry with password=hunter2 now')).toBe(`retry with password=${REDACTED} now`);
    expect(redactText('TCP Flags: SYN, ACK')).toBe('TCP Flags: SYN, ACK');
  });
});
