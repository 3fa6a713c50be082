/**
 * Where and how to reach Hubble Relay, resolved the way the hubble CLI does it
 * (hubble-api.md §5): `--server` (default localhost:4245), a `tls://` prefix turns TLS on and is
 * stripped, `--tls-*` flags configure verification and mTLS.
 */
import { readFileSync } from 'node:fs';
import { InputError, UsageError } from '../../errors.js';

export const DEFAULT_SERVER = 'localhost:4245';
export const DEFAULT_PORT = 4245;

export interface TlsFlags {
  readonly tls: boolean;
  readonly caCertFiles: readonly string[];
  readonly clientCertFile?: string;
  readonly clientKeyFile?: string;
  readonly serverName?: string;
  readonly allowInsecure: boolean;
}

export interface RelayTarget {
  /** What grpc-js dials: `host:port` or `unix:///path`. */
  readonly address: string;
  /** The address as the user names it (source name in the database): `host:port`, no scheme. */
  readonly name: string;
  readonly tls?: TlsConfig;
}

/** TLS material, read from disk before anything connects. */
export interface TlsConfig {
  readonly rootCerts?: Buffer;
  readonly clientKey?: Buffer;
  readonly clientCert?: Buffer;
  readonly serverName?: string;
  readonly allowInsecure: boolean;
}

/** Checks the flags without touching the disk or the network (UsageError on conflicts). */
export function checkTargetFlags(server: string, flags: TlsFlags): { address: string; name: string; tls: boolean } {
  let rest = server.trim();
  if (rest === '') throw new UsageError('--server must not be empty');
  let tls = flags.tls;
  if (/^tls:\/\//i.test(rest)) {
    tls = true;
    rest = rest.slice('tls://'.length);
  }
  let address: string;
  if (/^unix:/i.test(rest)) {
    if (tls) throw new UsageError('TLS is not supported over a unix socket');
    address = rest;
  } else {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) {
      throw new UsageError(`--server "${server}": use host:port, tls://host:port or unix:///path`);
    }
    address = hasPort(rest) ? rest : `${rest}:${DEFAULT_PORT}`;
  }
  const tlsOnly: [string, boolean][] = [
    ['--tls-ca-cert-files', flags.caCertFiles.length > 0],
    ['--tls-client-cert-file', flags.clientCertFile !== undefined],
    ['--tls-client-key-file', flags.clientKeyFile !== undefined],
    ['--tls-server-name', flags.serverName !== undefined],
    ['--tls-allow-insecure', flags.allowInsecure],
  ];
  for (const [flag, set] of tlsOnly) {
    if (set && !tls) throw new UsageError(`${flag} needs --tls (or a tls:// server address)`);
  }
  if ((flags.clientCertFile === undefined) !== (flags.clientKeyFile === undefined)) {
    throw new UsageError('--tls-client-cert-file and --tls-client-key-file must be given together');
  }
  return { address, name: address, tls };
}

/** Resolves the target and reads the certificate files (InputError naming the file on failure). */
export function resolveTarget(server: string, flags: TlsFlags): RelayTarget {
  const { address, name, tls } = checkTargetFlags(server, flags);
  if (!tls) return { address, name };
  const rootCerts =
    flags.caCertFiles.length > 0 ? Buffer.concat(flags.caCertFiles.map((f) => readPem(f, 'CA certificate'))) : undefined;
  return {
    address,
    name,
    tls: {
      rootCerts,
      clientCert: flags.clientCertFile === undefined ? undefined : readPem(flags.clientCertFile, 'client certificate'),
      clientKey: flags.clientKeyFile === undefined ? undefined : readPem(flags.clientKeyFile, 'client key'),
      serverName: flags.serverName,
      allowInsecure: flags.allowInsecure,
    },
  };
}

function hasPort(hostPort: string): boolean {
  if (hostPort.startsWith('[')) return /\]:\d+$/.test(hostPort);
  return /:\d+$/.test(hostPort);
}

function readPem(file: string, what: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(file, undefined, undefined, `cannot read ${what}${code ? ` (${code})` : ''}`);
  }
  if (!data.includes('-----BEGIN ')) throw new InputError(file, undefined, undefined, `${what} is not PEM`);
  // Separate concatenated files even when one lacks a trailing newline.
  return data[data.length - 1] === 0x0a ? data : Buffer.concat([data, Buffer.from('\n')]);
}
