import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeRelay, fromProtoJson } from '../helpers/fake-relay.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

/** Every planted secret starts with this, so one search finds any of them. */
const MARK = 'Zq9SECRET';

const SECRET_HEADERS = [
  'X-Vault-Token', 'Private-Token', 'apikey', 'Api-Key', 'X-Goog-Api-Key', 'X-Access-Token', 'Authentication',
  'X-Forwarded-Authorization', 'Authorization ', 'authorization', 'Cookie', 'Set-Cookie', 'Proxy-Authorization',
  'X-CSRF-Token', 'X-XSRF-TOKEN', 'X-Amz-Security-Token', 'X-Session-Id', 'Password', 'X-Passwd', 'X-Hub-Signature',
  'X-Credential', 'X-JWT-Assertion', 'X-Bearer', 'X-Secret', 'X-Api-Key',
];
const SECRET_PARAMS = ['token', 'access_token', 'jwt', 'bearer', 'pass', 'password', 'passwd', 'client_secret', 'api_key', 'apikey', 'key', 'sig', 'signature', 'session', 'sessionid', 'X-Amz-Credential', 'X-Amz-Signature', 'auth', 'code', 'csrf_token'];

const secret = fc.stringMatching(/^[A-Za-z0-9]{6,16}$/).map((s) => `${MARK}${s}`);
/** A parameter name as a client may send it: as is, upper-cased, or with characters percent-encoded. */
const paramName = fc.tuple(fc.constantFrom(...SECRET_PARAMS), fc.constantFrom('plain', 'upper', 'encoded')).map(([n, how]) =>
  how === 'upper' ? n.toUpperCase() : how === 'encoded' ? n.replace(/[a-z_]/g, (c) => `%${c.charCodeAt(0).toString(16)}`) : n,
);
const sep = fc.constantFrom('&', ';');

/** An HTTP record and Summary with secrets in every place one can hide, plus harmless parts to keep. */
const l7 = fc
  .record({
    user: secret,
    pass1: secret,
    pass2: secret,
    scheme: fc.constantFrom('http://', 'https://', '//', ''),
    qName: paramName,
    qSecret: secret,
    qSep: sep,
    fName: paramName,
    fSecret: secret,
    fSep: sep,
    matrix: secret,
    headers: fc.uniqueArray(fc.constantFrom(...SECRET_HEADERS), { minLength: 1, maxLength: 6 }),
    headerSecrets: fc.array(secret, { minLength: 6, maxLength: 6 }),
    refUser: secret,
    refQ: secret,
    bearer: secret,
    basic: secret,
    summaryQ: secret,
  })
  .map((r) => {
    const url = `${r.scheme}${r.user}:${r.pass1}@${r.pass2}@api.shop:8080/v1/orders;jsessionid=${r.matrix}?page=2${r.qSep}${r.qName}=${r.qSecret}#state=ok${r.fSep}${r.fName}=${r.fSecret}`;
    return {
      url,
      headers: [
        ...r.headers.map((key, i) => ({ key, value: r.headerSecrets[i] as string })),
        { key: 'Referer', value: `https://${r.refUser}@shop.example/cart?token=${r.refQ}` },
        { key: 'X-Request-Id', value: 'keep-me-42' },
      ],
      summary: `HTTP/1.1 GET ${url} Authorization: Bearer ${r.bearer} Proxy-Authorization: Basic ${r.basic} next=/x?password=${r.summaryQ}`,
      secrets: [r.user, r.pass1, r.pass2, r.qSecret, r.fSecret, r.matrix, ...r.headerSecrets.slice(0, r.headers.length), r.refUser, r.refQ, r.bearer, r.basic, r.summaryQ],
    };
  });

function flowObject(i: number, h: { url: string; headers: { key: string; value: string }[]; summary: string }, time: string | { seconds: string; nanos: number }) {
  return {
    flow: {
      time,
      uuid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      verdict: ['DROPPED', 'FORWARDED', 'AUDIT'][i % 3],
      ...(i % 3 === 0 ? { drop_reason_desc: 'POLICY_DENIED' } : {}),
      Type: 'L7',
      IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 43210 + i, destination_port: 8080 } },
      source: { identity: 70000, namespace: 'shop', labels: ['k8s:app=web'], pod_name: 'web-1' },
      destination: { identity: 70001, namespace: 'shop', labels: ['k8s:app=api'], pod_name: 'api-1' },
      traffic_direction: 'EGRESS',
      l7: { type: 'REQUEST', http: { method: 'GET', protocol: 'HTTP/1.1', url: h.url, headers: h.headers } },
      Summary: h.summary,
      node_name: 'kind-worker',
    },
    node_name: 'kind-worker',
  };
}

function databaseBytes(db: string): string {
  return ['', '-wal', '-shm', '-journal'].map((s) => (existsSync(db + s) ? readFileSync(db + s).toString('latin1') : '')).join('');
}

describe('no secret reaches the database or any output', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('plants secrets in every place a flow carries text; replay and observe store and print none of them', async () => {
    const planted = fc.sample(l7, { numRuns: 60, seed: 1515 });
    const lines = planted.map((h, i) => JSON.stringify(flowObject(i, h, `2021-11-10T10:40:${String(10 + (i % 40)).padStart(2, '0')}.000000005Z`)));
    // Bad lines whose raw values are secrets: reported by field and reason only.
    const badSecret = `${MARK}badline`;
    lines.push(`{"flow":{"time":"${badSecret}"}}`, `{"flow":{"verdict":"${badSecret}2"}}`, `{"flow": ${badSecret}3`);
    const file = tmp.file('secrets.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);

    const outputs: string[] = [];
    const db = tmp.file('secrets.db');
    const replay = await runCli(['--db', db, 'replay', file]);
    expect(replay.code, replay.stderr).toBe(3);
    outputs.push(replay.stdout, replay.stderr);

    const relay = await FakeRelay.start({
      events: [
        ...planted.map((h, i) => fromProtoJson(flowObject(1000 + i, h, `2021-11-10T10:41:${String(10 + (i % 40)).padStart(2, '0')}.000000005Z`))),
      ],
    });
    try {
      const observe = await runCli(['--db', db, 'observe', '--server', relay.address, '--since', '2021-01-01T00:00:00Z', '--until', '2022-01-01T00:00:00Z']);
      expect(observe.code, observe.stderr).toBe(0);
      outputs.push(observe.stdout, observe.stderr);
    } finally {
      await relay.stop();
    }

    for (const argv of [['status'], ['status', '-o', 'json'], ['edges', '-A'], ['edges', '-A', '-o', 'json'], ['edges', '-A', '-o', 'wide'], ['drops', '-A'], ['drops', '-A', '-o', 'json']]) {
      const r = await runCli(['--db', db, ...argv]);
      outputs.push(r.stdout, r.stderr);
    }
    const all = outputs.join('\n') + databaseBytes(db);
    expect(all).toContain('HUBBLE_ADVISOR_REDACTED'); // the flows are there, redacted
    expect(all).toContain('keep-me-42'); // harmless headers are kept
    const leaks = [...new Set([...all.matchAll(new RegExp(`${MARK}[A-Za-z0-9]*`, 'g'))].map((m) => m[0]))];
    expect(leaks).toEqual([]);
    expect(planted.flatMap((p) => p.secrets).every((s) => s.startsWith(MARK))).toBe(true);
  }, 120_000);
});
