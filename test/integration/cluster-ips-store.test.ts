import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, loadGraph, openDatabase, readClusterIpRecords, schemaVersion } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

/** Migration 5 (cluster_ips): filled by ingest in a real SQLite file; a database from before it still reads. */
const tmp = tempDir();
afterAll(() => tmp.remove());

describe('cluster addresses in the store', () => {
  it('replay stores every address seen with a cluster identity, never a world one', async () => {
    const db = tmp.file('gke.db');
    expect((await runCli(['--db', db, 'replay', join(SAMPLES_DIR, 'hubble-otel__basic-sample-348-http-flows.json')])).code).toBe(0);
    const conn = openDatabase(db, { readonly: true });
    try {
      expect(schemaVersion(conn)).toBe(6);
      const rows = readClusterIpRecords(conn);
      expect(rows.find((r) => r.ip === '10.128.0.5')?.peer).toBe('e:host');
      expect(rows.find((r) => r.ip === '10.156.2.7')?.peer).toBe('w:istio-system/~/prometheus');
      expect(rows.filter((r) => ['10.128.0.3', '10.128.0.4', '10.128.0.6'].includes(r.ip))).toEqual([]);
      expect(rows.every((r) => r.flows > 0 && r.firstSeenMs <= r.lastSeenMs)).toBe(true);
    } finally {
      conn.close();
    }
  });

  it('a schema-4 database (no cluster_ips table) opened read-only still loads its graph', () => {
    const db = tmp.file('v4.db');
    openDatabase(db, { migrations: MIGRATIONS.filter((m) => m.version <= 4) }).close();
    const conn = openDatabase(db, { readonly: true });
    try {
      expect(schemaVersion(conn)).toBe(4);
      expect(readClusterIpRecords(conn)).toEqual([]);
      expect(loadGraph(conn).edges).toEqual([]);
    } finally {
      conn.close();
    }
  });
});
