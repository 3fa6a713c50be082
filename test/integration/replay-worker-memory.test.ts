import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

const MB = 1024 * 1024;
const SAMPLES = ['hubble-otel__basic-sample-348-http-flows.json', 'hubble-otel__basic-sample-400-tcp-flows.json', 'hubble-otel__basic-sample-330-dns-flows.json']
  .flatMap((f) => readFileSync(join(SAMPLES_DIR, f), 'utf8').trim().split('\n'));
const HTTP_SAMPLE = JSON.parse(SAMPLES[0] as string) as { flow: Record<string, unknown> };

/**
 * A flow of about `mb` MB: a public HTTP sample whose source pod carries thousands of labels, with
 * a long URL, a long header and a long Summary; every fourth one dropped (kept whole for triage).
 * Each fat flow has its own pod and labels, as if every one came from another workload.
 */
function fatFlow(i: number, mb: number): string {
  const flow = structuredClone(HTTP_SAMPLE.flow) as Record<string, any>;
  const labels: string[] = [];
  for (let n = 0, size = 0; size < 0.3 * mb * MB; n++) {
    const l = `k8s:fat-${i}-label-${n}=${'v'.repeat(60)}`;
    labels.push(l);
    size += l.length + 3;
  }
  flow['time'] = `2021-10-04T14:30:${String(i % 60).padStart(2, '0')}.000000000Z`;
  flow['source'] = { ...flow['source'], identity: 70_000 + i, pod_name: `fat-${i}-6655946b9f-6xcpf`, labels: [...flow['source'].labels, ...labels] };
  flow['l7'].http.url = `http://10.128.0.4:9990/fat/${i}/${'p'.repeat(0.2 * mb * MB)}`;
  flow['l7'].http.headers = [{ key: 'X-Fat', value: 'h'.repeat(0.1 * mb * MB) }];
  flow['Summary'] = `HTTP/1.1 GET ${'s'.repeat(0.4 * mb * MB)}`;
  if (i % 4 === 1) {
    flow['verdict'] = 'DROPPED';
    flow['drop_reason_desc'] = 'POLICY_DENIED';
  }
  return JSON.stringify({ flow, node_name: flow['node_name'], time: flow['time'] });
}

/** `fat` flows of `mb` MB each, with `between` public sample lines before each. */
function writeFatRecording(path: string, fat: number, mb: number, between: number): void {
  const fd = openSync(path, 'w');
  try {
    let s = 0;
    for (let i = 0; i < fat; i++) {
      const chunk: string[] = [];
      for (let k = 0; k < between; k++) chunk.push(SAMPLES[s++ % SAMPLES.length] as string);
      chunk.push(fatFlow(i, mb));
      writeSync(fd, `${chunk.join('\n')}\n`);
    }
  } finally {
    closeSync(fd);
  }
}

/** What a replay stored, minus ids, run bookkeeping and row order (threads commit in other orders). */
function stored(db: string): Record<string, unknown> {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const all = (sql: string): unknown[] => conn.prepare(sql).all();
    return {
      sources: all('SELECT lines, events, flows, bad_lines, first_flow_ms, last_flow_ms, status FROM sources'),
      verdicts: all('SELECT verdict, flows FROM verdict_counts ORDER BY verdict'),
      // Hashes: the rows hold megabytes each.
      triage: all('SELECT time, verdict, length(flow_json) AS n, hex(substr(flow_json, 1, 200)) AS head FROM triage_flows ORDER BY time, n, head'),
      edges: all(`SELECT src_key, dst_key, protocol, port, eg_flows, in_flows, un_flows, length(src_pods) + length(dst_pods) + length(http_requests) AS sets,
                         hex(substr(http_requests, 1, 100)) AS requests FROM edges ORDER BY 1, 2, 3, 4`),
      labels: all('SELECT workload_key, length(labels) AS n FROM workload_label_sets ORDER BY 1, 2'),
    };
  } catch (e) {
    throw new Error(`${db}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    conn.close();
  }
}

describe('replay memory: fat flows and workers that die', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('40 flows of ~9 MB each: default settings (two workers) store what one thread stores, no worker dies', async () => {
    const file = tmp.file('fat-40.jsonl');
    writeFatRecording(file, 40, 9, 100);
    const one = await runCli(['--db', tmp.file('fat-1.db'), 'replay', '--workers', '1', '-o', 'json', file]);
    const auto = await runCli(['--db', tmp.file('fat-auto.db'), 'replay', '-o', 'json', file]);
    expect(one.code, one.stderr).toBe(0);
    expect(auto.code, auto.stderr).toBe(0);
    const summary = JSON.parse(auto.stdout)[0];
    // The file is over 256 MiB: `auto` takes two workers on a multi-core machine.
    expect(summary.workers).toBe(availableParallelism() >= 2 ? 2 : 1);
    expect(summary).toMatchObject({ lines: 4040, flows: 4040, triageFlows: 10, status: 'completed' });
    expect(summary.note, 'no worker died').toBeUndefined();
    expect(auto.stderr).toBe('');
    expect(stored(tmp.file('fat-auto.db'))).toEqual(stored(tmp.file('fat-1.db')));
  }, 240_000);

  it('a worker that runs out of memory: the rest is replayed on one thread, exactly once, and the run says so', async () => {
    const file = tmp.file('fat-12.jsonl');
    // Many small ranges' worth of sample lines between the fat flows: the workers commit some
    // batches (and parts of ranges) before a 48 MB heap meets a 9 MB line.
    writeFatRecording(file, 12, 9, 3000);
    const one = await runCli(['--db', tmp.file('oom-1.db'), 'replay', '--workers', '1', '-o', 'json', file]);
    const two = await runCli(['--db', tmp.file('oom-2.db'), 'replay', '--workers', '2', '--worker-heap-mb', '48', '-o', 'json', file]);
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    const summary = JSON.parse(two.stdout)[0];
    expect(summary).toMatchObject({ workers: 2, lines: 36_012, flows: 36_012, status: 'completed' });
    expect(summary.note).toMatch(/^a worker failed \(.*memory.*\); the rest of the file was replayed on one thread$/);
    expect(two.stderr).toContain(`${file}: a worker failed (`);
    expect(stored(tmp.file('oom-2.db'))).toEqual(stored(tmp.file('oom-1.db')));
  }, 240_000);
});
