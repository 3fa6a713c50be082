import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Flow, type LostEvent, isoFromMs } from '../../../src/flow/index.js';
import { DedupeWindow, contentKey, parseIso } from '../../../src/ingest/index.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function flow(ms: number, extra: Partial<Flow> = {}): Flow {
  return {
    time: isoFromMs(ms),
    timeMs: ms,
    verdict: 'FORWARDED',
    source: { labels: [], workloads: [] },
    destination: { labels: [], workloads: [] },
    sourceNames: [],
    destinationNames: [],
    trafficDirection: 'EGRESS',
    egressAllowedBy: [],
    ingressAllowedBy: [],
    egressDeniedBy: [],
    ingressDeniedBy: [],
    ip: { source: '10.0.0.1', destination: '10.0.0.2' },
    l4: { protocol: 'TCP', sourcePort: 40000 + (ms % 1000), destinationPort: 80 },
    nodeName: 'n1',
    ...extra,
  };
}

const sinceMs = (s: { seconds: number; nanos: number } | undefined): number | undefined =>
  s === undefined ? undefined : s.seconds * 1000 + s.nanos / 1e6;

describe('DedupeWindow', () => {
  it('admits everything while nothing is resumed, and drops the re-sent flows of a resume by uuid', () => {
    const w = new DedupeWindow({ overlapMs: 2000 });
    const first = Array.from({ length: 50 }, (_, i) => flow(T0 + i * 100, { uuid: `u${i}` }));
    expect(first.every(w.isNew)).toBe(true);
    const since = sinceMs(w.resumeSince());
    expect(since).toBe(T0 + 49 * 100 - 2000);
    // The server rewinds to `since` (inclusive) and goes on with new flows.
    const replay = [...first.filter((f) => f.timeMs >= (since as number)), flow(T0 + 5000, { uuid: 'u50' }), flow(T0 + 5100, { uuid: 'u51' })];
    expect(replay.map(w.isNew)).toEqual([...Array<boolean>(21).fill(false), true, true]);
    expect(w.duplicates).toBe(21);
  });

  it('recognises every re-sent uuid exactly, canonical (kept as bits) or not (kept as strings)', () => {
    const key = fc.oneof(
      fc.uuid(),
      fc.uuid().map((u) => u.toUpperCase()),
      fc.uuid().map((u) => `${u.slice(0, 35)}g`),
      fc.uuid().map((u) => `${u.slice(0, 35)}\u0130`), // a code unit whose low 7 bits are a hex digit
      fc.string({ minLength: 1, maxLength: 40 }),
    );
    fc.assert(
      fc.property(fc.uniqueArray(key, { minLength: 1, maxLength: 300 }), fc.uniqueArray(fc.uuid(), { maxLength: 20 }), (seen, fresh) => {
        const unseen = fresh.filter((u) => !seen.includes(u));
        const w = new DedupeWindow({ overlapMs: 2000 });
        const flows = seen.map((uuid, i) => flow(T0 + i, { uuid }));
        expect(flows.every(w.isNew)).toBe(true);
        w.resumeSince();
        // Re-sent: all duplicates; never seen (same times): all new.
        expect(flows.map(w.isNew).every((n) => !n)).toBe(true);
        expect(unseen.map((uuid, i) => w.isNew(flow(T0 + i, { uuid }))).every(Boolean)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps a late flow (older than the newest, never seen) after a resume', () => {
    const w = new DedupeWindow();
    for (const f of [flow(T0, { uuid: 'a' }), flow(T0 + 1500, { uuid: 'c' })]) w.isNew(f);
    w.resumeSince();
    expect(w.isNew(flow(T0 + 1000, { uuid: 'b' }))).toBe(true);
    expect(w.isNew(flow(T0 + 1500, { uuid: 'c' }))).toBe(false);
  });

  it('uses the content key when there is no uuid (older agents)', () => {
    const w = new DedupeWindow();
    const a = flow(T0);
    expect(w.isNew(a)).toBe(true);
    w.resumeSince();
    expect(w.isNew({ ...a })).toBe(false);
    expect(w.isNew({ ...a, verdict: 'DROPPED' })).toBe(true);
    expect(contentKey(a)).toBe(`${a.time}|n1|10.0.0.1|10.0.0.2|TCP:40000:80|-|FORWARDED`);
  });

  it('drops flows at or before the floor of a previous run and resumes exactly there', () => {
    const floor = isoFromMs(T0 + 500);
    const w = new DedupeWindow({ floor });
    expect(w.resumeSince()).toEqual(parseIso(floor));
    expect(w.isNew(flow(T0 + 500))).toBe(false);
    expect(w.isNew(flow(T0 + 501))).toBe(true);
  });

  it('stays bounded and never resumes before the oldest key it still holds', () => {
    const w = new DedupeWindow({ overlapMs: 2000, maxKeys: 1000 });
    // 100 flows per 100 ms bucket: 1000 keys cover one second, less than the overlap.
    for (let i = 0; i < 5000; i++) w.isNew(flow(T0 + i, { uuid: `u${i}` }));
    expect(w.size).toBeLessThanOrEqual(1100);
    const since = sinceMs(w.resumeSince()) as number;
    expect(since).toBeGreaterThan(T0 + 4999 - 2000);
    // Everything the server re-sends from `since` on is recognised.
    for (let i = since - T0; i < 5000; i++) expect(w.isNew(flow(T0 + i, { uuid: `u${i}` }))).toBe(false);
  });

  it('forgets old keys as time moves on (overlap + one bucket)', () => {
    const w = new DedupeWindow({ overlapMs: 1000 });
    for (let i = 0; i < 100; i++) w.isNew(flow(T0 + i * 100, { uuid: `u${i}` }));
    expect(w.size).toBeLessThanOrEqual(13);
  });

  it('dedupes lost-event markers that carry a time', () => {
    const w = new DedupeWindow();
    const lost: LostEvent = { source: 'HUBBLE_RING_BUFFER', numEventsLost: 7, nodeName: 'n1', time: isoFromMs(T0), timeMs: T0 };
    expect(w.isNewLost(lost)).toBe(true);
    w.resumeSince();
    expect(w.isNewLost({ ...lost })).toBe(false);
    expect(w.isNewLost({ source: 'PERF_EVENT_RING_BUFFER', numEventsLost: 1 })).toBe(true);
  });

  it('never moves the resume point for lost events, with a time far ahead or none', () => {
    const w = new DedupeWindow({ overlapMs: 2000 });
    w.isNew(flow(T0, { uuid: 'a' }));
    const future = T0 + 86_400_000;
    expect(w.isNewLost({ source: 'HUBBLE_RING_BUFFER', numEventsLost: 1, time: isoFromMs(future), timeMs: future })).toBe(true);
    expect(w.isNewLost({ source: 'HUBBLE_RING_BUFFER', numEventsLost: 2 })).toBe(true);
    expect(sinceMs(w.resumeSince())).toBe(T0 - 2000);
    expect(w.newestTime).toBe(isoFromMs(T0));
    // A flow after the far-ahead marker is still recognised when re-sent.
    expect(w.isNew(flow(T0 + 10, { uuid: 'b' }))).toBe(true);
    w.resumeSince();
    expect(w.isNew(flow(T0 + 10, { uuid: 'b' }))).toBe(false);
  });

  it('hands out each batch\'s keys once and a new window resumes exactly from them (ties and late flows)', () => {
    const persisted = new DedupeWindow({ overlapMs: 2000, persist: true });
    const stored = [flow(T0, { uuid: uuidOf(1) }), flow(T0, { uuid: uuidOf(2) }), flow(T0 - 300), flow(T0 - 100, { uuid: 'not-a-uuid' })];
    expect(stored.every(persisted.isNew)).toBe(true);
    const lost: LostEvent = { source: 'PERF_EVENT_RING_BUFFER', numEventsLost: 3, time: isoFromMs(T0 - 50), timeMs: T0 - 50 };
    expect(persisted.isNewLost(lost)).toBe(true);
    const pending = persisted.takePending();
    expect(pending?.uuidWords.length).toBe(8);
    expect(pending?.others.length).toBe(3);
    expect(pending?.newestMs).toBe(T0);
    expect(persisted.takePending()).toBeUndefined();

    const next = new DedupeWindow({ overlapMs: 2000, resume: { newestTime: isoFromMs(T0), newestMs: T0, keys: [pending as NonNullable<typeof pending>] } });
    expect(sinceMs(next.resumeSince())).toBe(T0 - 2000);
    // Re-sent: dropped; a tie at the newest time and a late flow from another node: kept.
    expect(stored.map((f) => next.isNew({ ...f }))).toEqual([false, false, false, false]);
    expect(next.isNewLost({ ...lost })).toBe(false);
    expect(next.isNew(flow(T0, { uuid: uuidOf(3) }))).toBe(true);
    expect(next.isNew(flow(T0 - 250, { uuid: uuidOf(4) }))).toBe(true);
  });
});

function uuidOf(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}
