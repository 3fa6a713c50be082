import { afterAll, describe, expect, it } from 'vitest';
import { FakeRelay, fromProtoJson, lostEvent, uuidFor } from '../helpers/fake-relay.js';
import { spawnCli } from '../helpers/cli.js';
import { committedFlows as committed, readDb as read } from '../helpers/db.js';
import { tempDir } from '../helpers/paths.js';

const NODES = ['node-a', 'node-b', 'node-c'];
const PER_NODE = 2500;
const FLOWS = NODES.length * PER_NODE;
/** Flows far older than now: a relay restarted on a long ring, Timescape, or an agent whose clock is behind. */
const BASE = Date.parse('2025-06-01T00:00:00Z');

interface Ring {
  readonly events: Record<string, unknown>[];
  readonly timedLost: number;
  readonly timedLostEvents: number;
  readonly untimedLost: number;
}

/**
 * Three nodes whose flows arrive interleaved with +-300 ms of jitter between nodes, times cut to
 * 10 ms so that many flows tie, lost-event markers with a time (as old as the flows) and without.
 */
function misbehavingRing(): Ring {
  const events: Record<string, unknown>[] = [];
  let timedLost = 0;
  let timedLostEvents = 0;
  let untimedLost = 0;
  let i = 0;
  for (let j = 0; j < PER_NODE; j++) {
    for (let k = 0; k < NODES.length; k++) {
      const jitter = ((j * 7919 + k * 104_729) % 601) - 300;
      const ms = Math.floor((BASE + j * 4 + jitter) / 10) * 10;
      const time = { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
      const node = NODES[k] as string;
      events.push(
        fromProtoJson({
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
            node_name: node,
            event_type: { type: 1, sub_type: 133 },
            traffic_direction: 'EGRESS',
          },
          node_name: node,
          time,
        }),
      );
      i++;
      if (i % 400 === 0) {
        events.push(lostEvent('PERF_EVENT_RING_BUFFER', 3, node, time));
        timedLost += 3;
        timedLostEvents++;
      }
      if (i % 550 === 0) {
        const untimed = lostEvent('HUBBLE_RING_BUFFER', 5, node, time);
        delete untimed['time'];
        events.push(untimed);
        untimedLost += 5;
      }
    }
  }
  return { events, timedLost, timedLostEvents, untimedLost };
}


async function waitFor(cond: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs `observe` as a user does and stops it with `signal` once `when` holds. */
async function observeUntil(db: string, args: readonly string[], signal: NodeJS.Signals, when: () => boolean): Promise<{ code: number | null; stderr: string }> {
  const child = spawnCli(['--db', db, 'observe', ...args]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await waitFor(when);
  } finally {
    child.kill(signal);
  }
  return { code: await exited, stderr };
}

describe('observe against a misbehaving relay (old flows, lost events with and without time, ties, jitter, restarts)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('stores every flow exactly once across relay restarts, SIGTERM and SIGKILL of observe', async () => {
    const ring = misbehavingRing();
    let restarted = false;
    const relay = await FakeRelay.start({
      events: ring.events,
      nodes: NODES, // NODE_CONNECTED with the relay's current time at every stream start
      rewind: 'per-entry',
      pace: { flows: 50, ms: 15 },
      afterResponse(ctx, r) {
        if (ctx.streamIndex === 0 && ctx.flowsOnStream === 900) r.cutStreams();
        if (ctx.streamIndex === 1 && ctx.flowsOnStream === 700 && !restarted) {
          restarted = true;
          void r.restart(100);
        }
      },
    });
    try {
      const db = tmp.file('resume.db');
      const flags = ['--server', relay.address, '--batch-size', '97', '-o', 'json'];
      // 1: from before the ring; the relay cuts the stream and then restarts; stopped with SIGTERM.
      const first = await observeUntil(db, [...flags, '--since', new Date(BASE - 60_000).toISOString()], 'SIGTERM', () => committed(db) >= 2500);
      expect(first.code, first.stderr).toBe(0);
      const afterFirst = committed(db);
      // 2: resumes from what the database holds; killed with SIGKILL mid-stream.
      const second = await observeUntil(db, flags, 'SIGKILL', () => committed(db) >= Math.min(FLOWS, afterFirst + 1500));
      expect(second.code).toBe(null);
      // 3: resumes again and reads to the end of the ring.
      let stableSince = Date.now();
      let last = -1;
      // The second run may have stored everything already: the third must have started (its
      // source row exists, so its SIGTERM handler is installed) before it is stopped.
      const sourcesBefore = read<{ n: number }>(db, 'SELECT count(*) AS n FROM sources')[0]?.n ?? 0;
      const third = await observeUntil(db, flags, 'SIGTERM', () => {
        if ((read<{ n: number }>(db, 'SELECT count(*) AS n FROM sources')[0]?.n ?? 0) <= sourcesBefore) return false;
        const n = committed(db);
        if (n !== last) {
          last = n;
          stableSince = Date.now();
        }
        return n >= FLOWS && Date.now() - stableSince > 1500;
      });
      expect(third.code, third.stderr).toBe(0);

      expect(committed(db)).toBe(FLOWS);
      const [triage] = read<{ n: number; uniq: number }>(db, 'SELECT count(*) AS n, count(DISTINCT uuid) AS uniq FROM triage_flows');
      expect(triage).toEqual({ n: FLOWS, uniq: FLOWS });
      const [verdicts] = read<{ n: number }>(db, 'SELECT sum(flows) AS n FROM verdict_counts');
      expect(verdicts?.n).toBe(FLOWS);
      // Lost-event markers with a time: each once, however often the rewinds sent them.
      const recent = Date.now() - 86_400_000;
      const [timed] = read<{ rows: number; lost: number }>(db, `SELECT count(*) AS rows, sum(num_lost) AS lost FROM lost_events WHERE time_ms < ${recent}`);
      expect(timed).toEqual({ rows: ring.timedLostEvents, lost: ring.timedLost });
      // Without a time they cannot be recognised after a rewind; they are stored with the time received.
      const [untimed] = read<{ lost: number | null }>(db, `SELECT sum(num_lost) AS lost FROM lost_events WHERE time_ms >= ${recent}`);
      expect(untimed?.lost ?? 0).toBeGreaterThanOrEqual(ring.untimedLost);
      // Every resume asked from flow times: never from "now" (node status and untimed lost events carry now).
      const resumed = relay.requests.slice(1).map((r) => Number((r['since'] as { seconds: string }).seconds) * 1000);
      expect(resumed.length).toBeGreaterThanOrEqual(4);
      for (const since of resumed) expect(since).toBeLessThan(BASE + PER_NODE * 4 + 1000);
    } finally {
      await relay.stop();
    }
  }, 300_000);
});
