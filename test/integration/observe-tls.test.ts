import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeRelay, loadRecording } from '../helpers/fake-relay.js';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

/** Relay certificates carry names under *.hubble-relay.cilium.io (hubble-api.md §5). */
const SERVER_NAME = 'instance.hubble-relay.cilium.io';
const HISTORY = ['--since', '2021-01-01T00:00:00Z', '--until', '2022-01-01T00:00:00Z', '-o', 'json'];

interface Pem {
  readonly key: string;
  readonly cert: string;
}

/** RSA keys from node:crypto (fast, native); certificates built and signed with node-forge. */
function keyPair(): { pem: string; forgePrivate: forge.pki.rsa.PrivateKey; forgePublic: forge.pki.rsa.PublicKey } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return {
    pem: privateKey,
    forgePrivate: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    forgePublic: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
  };
}

let serial = 1;
function certificate(
  subjectCn: string,
  keys: ReturnType<typeof keyPair>,
  issuer: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } | undefined,
  extensions: object[],
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = String(serial++).padStart(2, '0');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: subjectCn }]);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : [{ name: 'commonName', value: subjectCn }]);
  cert.setExtensions(extensions);
  cert.sign(issuer?.key ?? keys.forgePrivate, forge.md.sha256.create());
  return cert;
}

function makePki(): { ca: string; otherCa: string; server: Pem; client: Pem } {
  const caKeys = keyPair();
  const ca = certificate('hubble-advisor test CA', caKeys, undefined, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  const issuer = { cert: ca, key: caKeys.forgePrivate };
  const serverKeys = keyPair();
  const server = certificate('hubble-relay', serverKeys, issuer, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: SERVER_NAME }] },
  ]);
  const clientKeys = keyPair();
  const client = certificate('hubble-advisor', clientKeys, issuer, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  const otherKeys = keyPair();
  const other = certificate('some other CA', otherKeys, undefined, [{ name: 'basicConstraints', cA: true, critical: true }]);
  return {
    ca: forge.pki.certificateToPem(ca),
    otherCa: forge.pki.certificateToPem(other),
    server: { key: serverKeys.pem, cert: forge.pki.certificateToPem(server) },
    client: { key: clientKeys.pem, cert: forge.pki.certificateToPem(client) },
  };
}

describe('observe over TLS and mTLS (certificates generated in the test)', () => {
  const tmp = tempDir();
  const events = loadRecording(`${SAMPLES_DIR}/hubble-otel__basic-sample-10-flows.json`, { uuids: true });
  let pki: ReturnType<typeof makePki>;
  let tlsRelay: FakeRelay;
  let mtlsRelay: FakeRelay;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    pki = makePki();
    for (const [name, content] of Object.entries({
      'ca.pem': pki.ca,
      'other-ca.pem': pki.otherCa,
      'client.pem': pki.client.cert,
      'client-key.pem': pki.client.key,
    })) {
      files[name] = tmp.file(name);
      writeFileSync(files[name] as string, content);
    }
    tlsRelay = await FakeRelay.start({ events, tls: pki.server });
    mtlsRelay = await FakeRelay.start({ events, tls: { ...pki.server, ca: pki.ca, requireClientCert: true } });
  });
  afterAll(async () => {
    await tlsRelay.stop();
    await mtlsRelay.stop();
    tmp.remove();
  });

  const observe = (db: string, args: string[]) => runCli(['--db', tmp.file(db), 'observe', ...args, ...HISTORY]);

  it('verifies the relay certificate against --tls-ca-cert-files and --tls-server-name', async () => {
    const res = await observe('tls.db', ['--server', tlsRelay.address, '--tls', '--tls-ca-cert-files', files['ca.pem'] as string, '--tls-server-name', SERVER_NAME]);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).flows).toBe(10);
  });

  it('turns TLS on with a tls:// server address (and HUBBLE_SERVER)', async () => {
    const res = await runCli(['--db', tmp.file('tls-env.db'), 'observe', '--tls-ca-cert-files', files['ca.pem'] as string, '--tls-server-name', SERVER_NAME, ...HISTORY], {
      env: { HUBBLE_SERVER: `tls://${tlsRelay.address}` },
    });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ server: tlsRelay.address, flows: 10 });
  });

  it('refuses a certificate from another CA, or for another name (exit 1, clear error)', async () => {
    const wrongCa = await observe('wrong-ca.db', ['--server', `tls://${tlsRelay.address}`, '--tls-ca-cert-files', files['other-ca.pem'] as string, '--tls-server-name', SERVER_NAME, '--timeout', '1s']);
    expect(wrongCa.code).toBe(1);
    expect(wrongCa.stderr).toMatch(/cannot reach Hubble: UNAVAILABLE: .*unable to verify/);
    const wrongName = await observe('wrong-name.db', ['--server', `tls://${tlsRelay.address}`, '--tls-ca-cert-files', files['ca.pem'] as string, '--tls-server-name', 'other.example', '--timeout', '1s']);
    expect(wrongName.code).toBe(1);
  });

  it('--tls-allow-insecure skips verification', async () => {
    const res = await observe('insecure.db', ['--server', `tls://${tlsRelay.address}`, '--tls-allow-insecure']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).flows).toBe(10);
  });

  it('mTLS: presents the client certificate, and fails without one', async () => {
    const common = ['--server', `tls://${mtlsRelay.address}`, '--tls-ca-cert-files', files['ca.pem'] as string, '--tls-server-name', SERVER_NAME];
    const ok = await observe('mtls.db', [...common, '--tls-client-cert-file', files['client.pem'] as string, '--tls-client-key-file', files['client-key.pem'] as string]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).flows).toBe(10);
    const refused = await observe('mtls-none.db', [...common, '--timeout', '1s']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot reach Hubble: UNAVAILABLE: .*certificate required/);
  });
});
