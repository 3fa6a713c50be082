import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_SIZE, FILE_BATCH_SIZE, type FlowSink, replayFiles } from '../../src/app/index.js';
import { openDatabase } from '../../src/store/index.js';
import { tempDir } from '../helpers/paths.js';

/**
 * A recorded file's batches end by the items and text bounds, not at DEFAULT_BATCH_SIZE events:
 * every batch writes each edge it touched again. A live pipe on stdin keeps DEFAULT_BATCH_SIZE.
 */
const tmp = tempDir();
afterAll(() => tmp.remove());

/** A sink that only counts what it is handed and how often it is flushed (once per committed batch). */
function countingSink(): FlowSink & { flows: number; flushes: number } {
  return {
    flows: 0,
    flushes: 0,
    add() {
      this.flows++;
    },
    flush() {
      this.flushes++;
    },
  };
}

describe('replay batches', () => {
  // Batches are checked between 1 MiB chunks of lines (~14,000 of these): the cut falls well before the end.
  const flows = DEFAULT_BATCH_SIZE + 40_000;
  const file = tmp.file('flows.jsonl');
  const t0 = Date.UTC(2026, 10, 20);
  const lines: string[] = [];
  for (let i = 0; i < flows; i++) lines.push(`{"flow":{"time":"${new Date(t0 + i).toISOString()}","verdict":"FORWARDED"}}`);
  writeFileSync(file, `${lines.join('\n')}\n`);

  const replay = async (name: string, source: string, batchSize?: number): Promise<{ flows: number; flushes: number; afterCommits: number }> => {
    const db = openDatabase(tmp.file(name));
    const sink = countingSink();
    let afterCommits = 0;
    try {
      await replayFiles(db, [source], {
        strict: false,
        stdin: Readable.from([Buffer.from(`${lines.join('\n')}\n`)]),
        workers: 1,
        batchSize,
        sinks: () => [sink],
        afterCommit: () => afterCommits++,
      });
    } finally {
      db.close();
    }
    return { flows: sink.flows, flushes: sink.flushes, afterCommits };
  };

  it(`a file is one batch up to ${FILE_BATCH_SIZE} events; stdin and --batch-size cut at theirs`, async () => {
    expect(FILE_BATCH_SIZE).toBeGreaterThan(flows);
    // The last flush is the source's end, which commits what is left.
    expect(await replay('file.db', file)).toEqual({ flows, flushes: 1, afterCommits: 0 });
    expect(await replay('stdin.db', '-')).toEqual({ flows, flushes: 2, afterCommits: 1 });
    expect(await replay('given.db', file, DEFAULT_BATCH_SIZE)).toEqual({ flows, flushes: 2, afterCommits: 1 });
  });

  it('runs afterCommit after each batch committed before the end (the CLI collects the batch then)', async () => {
    const { flushes, afterCommits } = await replay('small.db', file, 20_000);
    expect(flushes).toBeGreaterThan(3);
    // The end's commit is the last thing replay does: nothing follows it to make room for.
    expect(afterCommits).toBe(flushes - 1);
  });
});
