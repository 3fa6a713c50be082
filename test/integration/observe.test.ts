import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { FakeRelay, loadRecording, lostEvent, nodeStatus } from '../helpers/fake-relay.js';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

const TCP = join(SAMPLES_DIR, 'hubble-otel__basic-sample-400-tcp-flows.json');
const DNS = join(SAMPLES_DIR, 'hubble-otel__basic-sample-330-dns-flows.json');
/** Brackets the recordings (2021): a past --until makes observe read history and end. */
const HISTORY = ['--since', '2021-01-01T00:00:00Z', '--until', '2022-01-01T00:00:00Z'];

interface Running {
  readonly done: Promise<{ code: number; stdout: string; stderr: string }>;
  signal(name: string): void;
  stderr(): string;
}

/** Runs the CLI in-process with an injected signal source (what SIGINT/SIGTERM would call). */
function start(argv: readonly string[], options: { tty?: boolean } = {}): Running {
  let stdout = '';
  let stderr = '';
  let handler: ((signal: string) => void) | undefined;
  const stdin = new PassThrough();
  stdin.end();
  const done = run(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin,
    env: {},
    stderrIsTTY: options.tty ?? false,
    onSignal: (h) => {
      handler = h;
      return () => (handler = undefined);
    },
  }).then((code) => ({ code, stdout, stderr }));
  return { done, signal: (name) => handler?.(name), stderr: () => stderr };
}

function query<T>(db: string, sql: string): T[] {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return conn.prepare(sql).all() as T[];
  } finally {
    conn.close();
  }
}

function committedFlows(db: string): number {
  if (!existsSync(db)) return 0;
  try {
    return query<{ n: number }>(db, 'SELECT coalesce(sum(flows), 0) AS n FROM sources')[0]?.n ?? 0;
  } catch {
    return 0;
  }
}

function iso(t: { seconds: string; nanos: number }): string {
  return `${new Date(Number(t.seconds) * 1000).toISOString().slice(0, 19)}.${String(t.nanos).padStart(9, '0')}Z`;
}

async function until(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('observe against an in-process relay', () => {
  const tmp = tempDir();
  const relays: FakeRelay[] = [];
  const startRelay = async (...args: Parameters<typeof FakeRelay.start>): Promise<FakeRelay> => {
    const r = await FakeRelay.start(...args);
    relays.push(r);
    return r;
  };
  afterEach(async () => {
    for (const r of relays.splice(0)) await r.stop();
  });
  afterAll(() => tmp.remove());

  it('redacts L7 secrets before anything is stored (flows decoded straight from the wire)', async () => {
    const secretFlow = (i: number, verdict: string) => ({
      flow: {
        time: { seconds: String(1_636_540_000 + i), nanos: 5 },
        uuid: `00000000-0000-4000-8000-00000000000${i}`,
        verdict,
        Type: 'L7',
        ...(verdict === 'DROPPED' ? { drop_reason_desc: 'POLICY_DENIED' } : {}),
        IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' },
        l4: { TCP: { source_port: 43210, destination_port: 8080 } },
        source: { identity: 70000, namespace: 'shop', labels: ['k8s:app=web'], pod_name: 'web-1' },
        destination: { identity: 70001, namespace: 'shop', labels: ['k8s:app=api'], pod_name: 'api-1' },
        traffic_direction: 'EGRESS',
        l7: {
          type: 'REQUEST',
          http: {
            method: 'GET',
            url: 'http://api.shop:8080/v1/orders?access_token=SeCrEtToKeN1&page=2',
            headers: [
              { key: 'Authorization', value: 'Bearer SeCrEtBeArEr2' },
              { key: 'Cookie', value: 'session=SeCrEtCoOkIe3' },
              { key: 'User-Agent', value: 'curl' },
            ],
          },
        },
        Summary: 'HTTP/1.1 GET http://api.shop:8080/v1/orders?access_token=SeCrEtToKeN1&page=2',
      },
      node_name: 'kind-worker',
    });
    const relay = await startRelay({ events: [secretFlow(1, 'DROPPED'), secretFlow(2, 'FORWARDED'), secretFlow(3, 'AUDIT')] });
    const db = tmp.file('redact.db');
    const res = await runCli(['--db', db, 'observe', '--server', relay.address, ...HISTORY, '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).flows).toBe(3);
    // Whole flows are kept for triage: they are there, redacted.
    const kept = query<{ flow_json: string }>(db, 'SELECT flow_json FROM triage_flows').map((r) => r.flow_json);
    expect(kept).toHaveLength(2);
    for (const json of kept) {
      expect(json).toContain('HUBBLE_ADVISOR_REDACTED');
      expect(json).toContain('User-Agent');
    }
    // No secret anywhere in the database file (the CLI closed it: the WAL is checkpointed).
    const bytes = readFileSync(db).toString('latin1') + (existsSync(`${db}-wal`) ? readFileSync(`${db}-wal`).toString('latin1') : '');
    for (const secret of ['SeCrEtToKeN1', 'SeCrEtBeArEr2', 'SeCrEtCoOkIe3']) expect(bytes).not.toContain(secret);
  });

  it('stores every flow exactly once when the relay restarts mid-stream (uuid dedupe)', async () => {
    const events = loadRecording(TCP, { uuids: true, repeat: 3 });
    let restarted = false;
    const relay = await startRelay({
      events,
      nodes: ['kind-control-plane'],
      afterResponse: (ctx, r) => {
        if (!restarted && ctx.flowsOnStream === 500) {
          restarted = true;
          setImmediate(() => void r.restart(300));
        }
      },
    });
    const db = tmp.file('restart.db');
    const res = await runCli(['--db', db, 'observe', '--server', relay.address, ...HISTORY, '--batch-size', '100', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    const summary = JSON.parse(res.stdout);
    expect(summary.flows).toBe(1200);
    expect(summary.duplicates).toBeGreaterThan(0); // the inclusive `since` re-sent the overlap
    expect(summary.reconnects).toBeGreaterThanOrEqual(1);
    expect(relay.streams).toBeGreaterThanOrEqual(2);
    // Some of what the server wrote before the restart never reached the client.
    expect(relay.flowsSent).toBeGreaterThanOrEqual(1200 + summary.duplicates);
    expect(res.stderr).toMatch(/Relay stream ended .*reconnecting/);
    const [src] = query<{ flows: number; status: string; duplicates: number }>(db, 'SELECT flows, status, duplicates FROM sources');
    expect(src).toEqual({ flows: 1200, status: 'completed', duplicates: summary.duplicates });
    expect(query<{ n: number }>(db, 'SELECT sum(flows) AS n FROM verdict_counts')[0]?.n).toBe(1200);
    // The resumed request asked from just before the newest flow it had, and kept the selectors.
    const resumed = relay.requests[1] as { since: { seconds: string }; until: unknown; follow?: boolean; number?: unknown };
    expect(resumed.until).toEqual(relay.requests[0]?.['until']);
    expect(resumed.number).toBeUndefined();
    expect(Number(resumed.since.seconds)).toBeGreaterThan(Number((relay.requests[0]?.['since'] as { seconds: string }).seconds));
  });

  it('dedupes by content key when flows carry no uuid, and survives cut streams while following', async () => {
    const events = loadRecording(DNS); // Cilium ~1.10: no uuid
    const relay = await startRelay({ events: events.slice(0, 100) });
    const db = tmp.file('follow.db');
    const cli = start(['--db', db, 'observe', '--server', relay.address, '--since', '2021-01-01T00:00:00Z', '--batch-size', '20'], { tty: true });
    await until(() => committedFlows(db) >= 100);
    relay.cutStreams();
    await until(() => relay.streams >= 2);
    relay.push(...events.slice(100, 200));
    await until(() => committedFlows(db) >= 200);
    relay.cutStreams('second cut');
    await until(() => relay.streams >= 3);
    relay.push(...events.slice(200));
    await until(() => committedFlows(db) >= events.length);
    // On a terminal, a status line is redrawn about once a second.
    await until(() => /flows\/s, [\d,]+ flows, [\d,-]+ edges, \d+ drops, \d+ lost, up \d+s/.test(cli.stderr()), 5000);
    cli.signal('SIGINT');
    const res = await cli.done;
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('SIGINT: stopping');
    expect(res.stdout).toMatch(/completed\s+signal\s+330\s/);
    const [src] = query<{ flows: number; duplicates: number }>(db, 'SELECT flows, duplicates FROM sources');
    expect(src?.flows).toBe(330);
    expect(src?.duplicates).toBeGreaterThan(0);
  });

  it('records lost events and node status, warns loudly, and shows them in status', async () => {
    const events = loadRecording(TCP, { uuids: true });
    const at = (i: number): { seconds: string; nanos: number } => (events[i]?.['time'] as { seconds: string; nanos: number });
    const ring = [
      ...events.slice(0, 100),
      lostEvent('HUBBLE_RING_BUFFER', 1234, 'kind-worker', at(100)),
      ...events.slice(100, 250),
      nodeStatus('NODE_ERROR', ['kind-worker2'], 'connection refused', at(250)),
      lostEvent('PERF_EVENT_RING_BUFFER', 7, 'kind-control-plane', at(300)),
      ...events.slice(250),
    ];
    let restarted = false;
    const relay = await startRelay({
      events: ring,
      nodes: ['kind-control-plane', 'kind-worker'],
      // Restart right after the last lost event, so the rewind sends both markers again.
      afterResponse: (ctx, r) => {
        if (!restarted && ctx.flowsOnStream === 302) {
          restarted = true;
          setImmediate(() => void r.restart(200));
        }
      },
    });
    const db = tmp.file('lost.db');
    const res = await runCli(['--db', db, 'observe', '--server', relay.address, ...HISTORY, '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('WARNING: Hubble lost 1,234 events (HUBBLE_RING_BUFFER) on kind-worker: the baseline has holes.');
    expect(res.stderr).toContain('WARNING: NODE_ERROR kind-worker2: connection refused');
    expect(res.stderr).toMatch(/WARNING: Hubble lost 1,241 events during this run \(HUBBLE_RING_BUFFER 1,234, PERF_EVENT_RING_BUFFER 7\)/);
    const summary = JSON.parse(res.stdout);
    expect(summary.flows).toBe(400);
    expect(summary.lostEvents).toBe(1241);
    const lost = query<{ lost_source: string; num_lost: number; node_name: string; time: string; cpu: number }>(
      db,
      'SELECT lost_source, num_lost, node_name, time, cpu FROM lost_events ORDER BY id',
    );
    expect(lost).toEqual([
      { lost_source: 'HUBBLE_RING_BUFFER', num_lost: 1234, node_name: 'kind-worker', time: iso(at(100)), cpu: 1 },
      { lost_source: 'PERF_EVENT_RING_BUFFER', num_lost: 7, node_name: 'kind-control-plane', time: iso(at(300)), cpu: 1 },
    ]);
    const states = query<{ state: string; node_names: string; message: string | null }>(db, 'SELECT state, node_names, message FROM node_status ORDER BY id');
    expect(states.filter((s) => s.state === 'NODE_CONNECTED').length).toBeGreaterThanOrEqual(2); // one per stream
    expect(states).toContainEqual({ state: 'NODE_ERROR', node_names: '["kind-worker2"]', message: 'connection refused' });
    const status = await runCli(['--db', db, 'status']);
    expect(status.stdout).toContain('WARNING: Hubble lost events, so the baseline has holes:');
    expect(status.stdout).toMatch(/HUBBLE_RING_BUFFER: 1,234 events lost/);
    expect(status.stdout).toContain('NODE_ERROR kind-worker2 (connection refused)');
  });

  it('maps filter flags onto server-side FlowFilters and resumes after what an earlier run stored', async () => {
    const events = loadRecording(DNS);
    const relay = await startRelay({ events: events.slice(0, 200) });
    const db = tmp.file('resume.db');
    const first = await runCli(['--db', db, 'observe', '--server', relay.address, '-n', 'kube-system', '--verdict', 'FORWARDED', ...HISTORY, '-o', 'json']);
    expect(first.code, first.stderr).toBe(0);
    expect(relay.requests[0]?.['whitelist']).toEqual([
      { source_pod: ['kube-system/'], verdict: ['FORWARDED'] },
      { destination_pod: ['kube-system/'], verdict: ['FORWARDED'] },
    ]);
    expect(JSON.parse(first.stdout).flows).toBe(200);

    // A later run without --since resumes exactly after the newest stored flow of this server.
    relay.push(...events.slice(200));
    const second = start(['--db', db, 'observe', '--server', relay.address, '-o', 'json']);
    await until(() => committedFlows(db) >= 330);
    second.signal('SIGTERM');
    const res = await second.done;
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/Resuming after 2021-10-04T\S+, the newest flow stored from this server/);
    const summary = JSON.parse(res.stdout);
    expect(summary.flows).toBe(130);
    expect(summary.resumedFrom).toMatch(/^2021-10-04T/);
    expect(relay.requests[1]?.['since']).toBeDefined();
    expect(relay.requests[1]?.['follow']).toBe(true);
    expect(query<{ n: number }>(db, 'SELECT sum(flows) AS n FROM sources')[0]?.n).toBe(330);
  });

  it('fails fast with exit 1 when nothing listens, and stores nothing', async () => {
    const relay = await startRelay({});
    const address = relay.address;
    await relay.stop();
    const db = tmp.file('unreachable.db');
    const res = await runCli(['--db', db, 'observe', '--server', address, '--timeout', '500ms']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(new RegExp(`Error: ${address}: cannot reach Hubble: UNAVAILABLE`));
    // Not even an empty database is left behind.
    expect(existsSync(db)).toBe(false);
  });

  it.each([
    [['--last', '10', '--since', '1h'], 'cannot set both --last and --since'],
    [['--last', '10', '--until', '1h'], 'cannot set both --last and --until'],
    [['--duration', '1h', '--until', '2030-01-01T00:00:00Z'], 'cannot set both --duration and --until'],
    [['--since', '2026-01-02T00:00:00Z', '--until', '2026-01-01T00:00:00Z'], '--since must be before --until'],
    [['--since', '2999-01-01T00:00:00Z'], 'is in the future'],
    [['--last', '0'], '--last must be a positive whole number'],
    [['--duration', 'forever'], 'invalid --duration "forever"'],
    [['-n', 'a', '--from-namespace', 'b'], 'filters --namespace and --from-namespace cannot be combined'],
    [['--verdict', 'OK'], 'invalid --verdict "OK"'],
    [['--tls-server-name', 'x'], '--tls-server-name needs --tls'],
    [['--server', 'tls://h:1', '--tls-client-cert-file', 'c.pem'], 'must be given together'],
  ])('rejects %j before any I/O (exit 2)', async (args, message) => {
    const db = tmp.file(`usage-${Math.random().toString(36).slice(2)}.db`);
    const res = await runCli(['--db', db, 'observe', '--server', '127.0.0.1:1', ...args]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
    expect(existsSync(db)).toBe(false);
  });
});
