import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { observe } from '../../src/app/observe.js';
import { OBSERVE_CHECKPOINT_EVERY_MS, OBSERVE_WAL_CHECKPOINT_PAGES, openDatabase } from '../../src/store/index.js';
import { FakeRelay, loadRecording } from '../helpers/fake-relay.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

/**
 * `observe` itself uses its WAL checkpoint policy (store/wal-checkpoints.ts tests the policy on its
 * own): its connection holds the larger WAL, and its commits reach the database file while it runs.
 */
const TCP = join(SAMPLES_DIR, 'hubble-otel__basic-sample-400-tcp-flows.json');
const tmp = tempDir();
const relays: FakeRelay[] = [];
afterAll(async () => {
  for (const r of relays) await r.stop();
  tmp.remove();
});

async function observeOnce(name: string, clock: () => number): Promise<{ file: string; walPages: unknown; dbBytes: number; pages: number }> {
  const relay = await FakeRelay.start({ events: loadRecording(TCP, { uuids: true }) });
  relays.push(relay);
  const file = tmp.file(name);
  const db = openDatabase(file);
  try {
    await observe(db, {
      target: { address: relay.address, name: relay.address },
      since: Date.parse('2021-01-01T00:00:00Z'),
      until: Date.parse('2022-01-01T00:00:00Z'),
      statusPollMs: 0,
      batchSize: 50,
      signal: new AbortController().signal,
      clock,
    });
    // Read while the connection is still open: closing it checkpoints everything anyway.
    return { file, walPages: db.pragma('wal_autocheckpoint', { simple: true }), dbBytes: statSync(file).size, pages: db.pragma('page_count', { simple: true }) as number };
  } finally {
    db.close();
  }
}

describe('observe and its WAL', () => {
  it('holds the larger WAL, and copies commits into the database file once the checkpoint interval has passed', async () => {
    // Each reading of the clock a checkpoint interval later: every commit is followed by a checkpoint.
    let now = Date.parse('2026-12-07T00:00:00Z');
    const late = await observeOnce('late.db', () => (now += OBSERVE_CHECKPOINT_EVERY_MS));
    expect(late.walPages).toBe(OBSERVE_WAL_CHECKPOINT_PAGES);
    // The batches' pages are in the database file, not only in the WAL.
    expect(late.dbBytes).toBeGreaterThan(late.pages * 4096 * 0.5);

    // A run shorter than the interval leaves its few pages in the WAL until the connection closes.
    const fixed = Date.parse('2026-12-07T00:00:00Z');
    const quick = await observeOnce('quick.db', () => fixed);
    expect(quick.dbBytes).toBeLessThan(quick.pages * 4096 * 0.5);
  });
});
