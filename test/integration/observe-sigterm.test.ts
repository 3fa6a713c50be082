import { afterAll, describe, expect, it } from 'vitest';
import { FakeRelay, fromProtoJson, uuidFor } from '../helpers/fake-relay.js';
import { spawnCli } from '../helpers/cli.js';
import { committedFlows as committed, readDb as read } from '../helpers/db.js';
import { tempDir } from '../helpers/paths.js';

const FLOWS = 60_000;
const BATCH = 500;

/** Distinct DROPPED flows (so triage_flows keeps each one with its uuid), 1 ms apart. */
function ring(): Record<string, unknown>[] {
  const base = Date.parse('2026-01-01T00:00:00Z');
  return Array.from({ length: FLOWS }, (_, i) => {
    const ms = base + i;
    const time = { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
    return fromProtoJson({
      flow: {
        time,
        uuid: uuidFor(i),
        verdict: 'DROPPED',
        drop_reason_desc: 'POLICY_DENIED',
        IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' },
        l4: { TCP: { source_port: 30000 + (i % 30000), destination_port: 443, flags: { SYN: true } } },
        source: { identity: 1234, namespace: 'shop', pod_name: 'web-1', labels: ['k8s:app=web'] },
        destination: { identity: 2, labels: ['reserved:world'] },
        Type: 'L3_L4',
        node_name: 'node-1',
        event_type: { type: 1, sub_type: 133 },
        traffic_direction: 'EGRESS',
      },
      node_name: 'node-1',
      time,
    });
  });
}


describe('observe stopped with SIGTERM during a fast stream', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('commits everything it received (a gap-free prefix of the stream), prints a summary and exits 0', async () => {
    const relay = await FakeRelay.start({ events: ring() });
    try {
      const db = tmp.file('sigterm.db');
      const child = spawnCli(['--db', db, 'observe', '--server', relay.address, '--since', '2026-01-01T00:00:00Z', '--batch-size', String(BATCH), '-o', 'json']);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const deadline = Date.now() + 45_000;
      while (committed(db) < 5 * BATCH && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const before = committed(db);
      expect(before).toBeGreaterThanOrEqual(5 * BATCH);
      child.kill('SIGTERM');
      const code = await exited;
      expect(code, stderr).toBe(0);
      expect(stderr).toContain('SIGTERM: stopping');

      const summary = JSON.parse(stdout) as { flows: number; stopReason: string; status: string };
      expect(summary).toMatchObject({ stopReason: 'signal', status: 'completed' });
      const [src] = read<{ flows: number; status: string }>(db, 'SELECT flows, status FROM sources');
      expect(src).toEqual({ flows: summary.flows, status: 'completed' });
      // Nothing committed before the signal was lost, the open batch was flushed on top of it,
      // and nothing beyond what the server sent was invented.
      expect(summary.flows).toBeGreaterThanOrEqual(before);
      expect(summary.flows).toBeLessThanOrEqual(relay.flowsSent);
      expect(summary.flows).toBeLessThan(FLOWS); // stopped mid-stream
      // Every stored flow is one of the first N the server sent, each once: no hole, no duplicate.
      const uuids = read<{ uuid: string }>(db, 'SELECT uuid FROM triage_flows ORDER BY uuid').map((r) => r.uuid);
      expect(uuids.length).toBe(summary.flows);
      expect(uuids).toEqual(Array.from({ length: summary.flows }, (_, i) => uuidFor(i)));
    } finally {
      await relay.stop();
    }
  });
});
