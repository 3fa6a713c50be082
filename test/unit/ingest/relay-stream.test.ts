import { afterEach, describe, expect, it } from 'vitest';
import type { DecodeResult } from '../../../src/flow/index.js';
import { ObserverConnection, resolveTarget } from '../../../src/ingest/index.js';
import { RawFlowServer, encodeResponse, uuidFor } from '../../helpers/fake-relay.js';

const flowBytes = (i: number): Buffer =>
  encodeResponse({ flow: { time: { seconds: String(1_700_000_000 + i) }, uuid: uuidFor(i), verdict: 'FORWARDED' }, node_name: 'n1' });

const uuidOf = (r: DecodeResult): string | undefined => (r.ok && r.event.kind === 'flow' ? r.event.flow.uuid : undefined);

describe('ObserverConnection.getFlows (channel call, one message read at a time)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function open(source: () => Iterable<Buffer>): Promise<ObserverConnection> {
    const server = await RawFlowServer.start(source, { chunkMessages: 7 });
    cleanup.push(() => server.stop());
    const conn = await ObserverConnection.open(resolveTarget(server.address, { tls: false, caCertFiles: [], allowInsecure: false }));
    cleanup.push(() => conn.close());
    return conn;
  }

  it('delivers every response decoded, in order, then the OK status; pause holds delivery until resume', async () => {
    const conn = await open(() => Array.from({ length: 500 }, (_, i) => flowBytes(i)));
    const got: string[] = [];
    let stream: ReturnType<ObserverConnection['getFlows']> | undefined;
    let pausedAt = -1;
    stream = conn.getFlows({ follow: false }, (r) => {
      got.push(uuidOf(r) ?? '?');
      if (got.length === 100) {
        pausedAt = got.length;
        stream?.pause();
        setTimeout(() => {
          expect(got.length).toBe(pausedAt); // nothing delivered while paused
          stream?.resume();
        }, 50);
      }
    });
    expect(await stream.done).toEqual({ ok: true });
    expect(got).toEqual(Array.from({ length: 500 }, (_, i) => uuidFor(i)));
  });

  it('malformed bytes end the stream with INTERNAL, after the good responses before them', async () => {
    const conn = await open(() => [flowBytes(0), flowBytes(1), Buffer.from([0x0a, 0x05, 0x01]), flowBytes(2)]);
    const got: (string | undefined)[] = [];
    const end = await conn.getFlows({}, (r) => got.push(uuidOf(r))).done;
    expect(got).toEqual([uuidFor(0), uuidFor(1)]);
    expect(end).toMatchObject({ ok: false, codeName: 'INTERNAL', byUs: false });
    if (!end.ok) expect(end.details).toMatch(/Response message parsing error: invalid GetFlowsResponse/);
  });

  it('a response that decodes but cannot be normalised is handed over as a DecodeError', async () => {
    const conn = await open(() => [encodeResponse({ flow: { verdict: 'DROPPED' } }), flowBytes(1)]);
    const got: DecodeResult[] = [];
    expect(await conn.getFlows({}, (r) => got.push(r)).done).toEqual({ ok: true });
    expect(got[0]).toMatchObject({ ok: false, error: { field: 'flow.time', reason: 'missing' } });
    expect(uuidOf(got[1] as DecodeResult)).toBe(uuidFor(1));
  });

  it('an exception in the handler cancels the call and rejects done with it', async () => {
    const conn = await open(() => Array.from({ length: 50 }, (_, i) => flowBytes(i)));
    let calls = 0;
    const stream = conn.getFlows({}, () => {
      if (++calls === 3) throw new Error('disk full');
    });
    await expect(stream.done).rejects.toThrow('disk full');
    expect(calls).toBe(3);
  });

  it('cancel() ends the stream as CANCELLED by us', async () => {
    const conn = await open(function* () {
      for (let i = 0; ; i++) yield flowBytes(i);
    });
    let n = 0;
    const stream = conn.getFlows({ follow: true }, () => {
      if (++n === 10) stream.cancel();
    });
    expect(await stream.done).toMatchObject({ ok: false, codeName: 'CANCELLED', byUs: true });
    expect(n).toBe(10);
  });
});
