import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BatchBuilder, MAX_PENDING_CHARS } from '../../../src/app/batch-builder.js';
import { EdgeSink } from '../../../src/app/edge-sink.js';
import { SAMPLES_DIR } from '../../helpers/paths.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SAMPLE = JSON.parse(readFileSync(join(SAMPLES_DIR, 'hubble-otel__basic-sample-400-tcp-flows.json'), 'utf8').split('\n')[0] as string) as {
  flow: Record<string, any>;
};

/**
 * A request flow of the public TCP sample with a Summary of `pad` characters; `i` gives it its own
 * addresses and destination service, as pods churning through a big cluster do.
 */
function line(i: number, pad: number, verdict = 'FORWARDED'): string {
  const flow = structuredClone(SAMPLE.flow);
  flow['verdict'] = verdict;
  if (verdict === 'DROPPED') flow['drop_reason_desc'] = 'POLICY_DENIED';
  flow['IP'] = { source: `10.244.${100 + (i >> 8)}.${100 + (i & 255)}`, destination: `10.245.${100 + (i >> 8)}.${100 + (i & 255)}`, ipVersion: 'IPv4' };
  flow['l4'] = { TCP: { source_port: 40000, destination_port: 9080, flags: { SYN: true } } };
  flow['destination_service'] = { name: `reviews-${String(i).padStart(6, '0')}`, namespace: 'bookinfo' };
  flow['Summary'] = `TCP Flags: SYN ${'x'.repeat(pad)}`;
  return JSON.stringify({ flow, node_name: flow['node_name'], time: flow['time'] });
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const MB = 1024 * 1024;

describe('what an open batch holds', () => {
  it('keeps none of its flows\u2019 lines alive: addresses, names and set values are copies, not views of the line', () => {
    const builder = new BatchBuilder([new EdgeSink()]);
    const lines = 400;
    const before = heapUsed();
    // 400 lines of 100 KB each: 40 MB of text, each with new addresses and a new service name.
    for (let i = 0; i < lines; i++) expect(builder.acceptLine(line(i, 100_000), i + 1)).toBeUndefined();
    const grown = heapUsed() - before;
    expect(builder.pendingEvents).toBe(lines);
    // What the batch keeps: 800 (address, peer) pairs, 20 service names, one edge.
    expect(grown).toBeLessThan(8 * MB);
    expect(builder.take().flows).toBe(lines);
  });

  it('counts the text it keeps, not the text it read: long lines repeating what is known do not end a batch', () => {
    const builder = new BatchBuilder([new EdgeSink()]);
    const text = line(7, 200_000);
    for (let i = 0; i < 400; i++) builder.acceptLine(text, i + 1);
    // 80 MB read, a few hundred characters kept (two addresses, a service, a pod, label sets).
    expect(400 * text.length).toBeGreaterThan(2 * MAX_PENDING_CHARS);
    expect(builder.pendingChars).toBeLessThan(10_000);
    expect(builder.isFull(1_000_000)).toBe(false);
  });

  it('counts flows kept whole for triage by their whole line, and ends the batch at MAX_PENDING_CHARS', () => {
    const sink = new EdgeSink();
    const builder = new BatchBuilder([sink]);
    const dropped = line(7, 1_000_000, 'DROPPED');
    let n = 0;
    while (!builder.isFull(1_000_000)) builder.acceptLine(dropped, ++n);
    expect(builder.pendingChars).toBeGreaterThanOrEqual(n * dropped.length);
    expect(n).toBe(Math.ceil(MAX_PENDING_CHARS / dropped.length));
    expect(builder.take().triageFlows).toHaveLength(n);
    sink.takeDelta();
    expect(builder.pendingChars, 'a new batch holds nothing').toBe(0);
  });

  it('counts new set values, addresses and label sets the sinks keep', () => {
    const sink = new EdgeSink();
    const builder = new BatchBuilder([sink]);
    builder.acceptLine(line(1, 10), 1);
    const first = builder.pendingChars;
    expect(first).toBeGreaterThan(0);
    expect(first).toBe(sink.keptChars);
    builder.acceptLine(line(1, 10), 2);
    expect(builder.pendingChars, 'nothing new').toBe(first);
    builder.acceptLine(line(2, 10), 3);
    // Two new addresses and a new service name.
    expect(builder.pendingChars).toBeGreaterThanOrEqual(first + 2 * '10.244.100.102'.length + 'bookinfo/reviews-000002'.length);
  });
});
