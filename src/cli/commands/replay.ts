import { type Command, Option } from 'commander';
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DEFAULT_BATCH_SIZE, FILE_BATCH_SIZE, type ReplayFileResult, defaultSinks, replayFiles } from '../../app/index.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL, InputError, UsageError } from '../../errors.js';
import { formatCount, renderTable } from '../../report/index.js';
import { REPLAY_PAGE_CACHE_KIB, REPLAY_WAL_CHECKPOINT_PAGES, checkpointWalAfter, limitPageCache, openDatabase, storedEdgeRows } from '../../store/index.js';
import type { CommandContext } from '../context.js';
import { outputOption } from '../options.js';
import { capNewSpace, fullCollector, tuneHeapForIngest } from '../heap.js';
import { createProgress } from '../progress.js';
import { storeSnapshotAfterReplay } from '../replay-snapshot.js';

/** Bad lines printed before we only count them. */
const BAD_LINES_PRINTED = 20;

interface ReplayFlags {
  readonly strict: boolean;
  readonly output: 'table' | 'json';
  readonly batchSize?: number;
  readonly workers: number | 'auto';
  readonly force: boolean;
  readonly workerHeapMb?: number;
}

export function registerReplay(program: Command, ctx: CommandContext): void {
  program
    .command('replay')
    .description('ingest recorded flows (hubble observe -o json|jsonpb, exporter files; .gz; - for stdin)')
    .argument('<file...>', 'recorded flow files')
    .option('--strict', 'stop at the first bad line (default: report it and go on)', false)
    .option('--force', 'replay a file again even if the same content was replayed to the end before', false)
    .addOption(outputOption(['table', 'json'], 'table'))
    .addOption(
      new Option('--batch-size <n>', `events per committed transaction (default: ${FILE_BATCH_SIZE} from a file, ${DEFAULT_BATCH_SIZE} from stdin)`).argParser(
        positiveInt('--batch-size'),
      ),
    )
    .addOption(
      new Option('--workers <n>', 'parse threads for large plain files (auto: 2 on multi-core machines for files over 256 MiB)')
        .default('auto')
        .argParser((v) => (v === 'auto' ? 'auto' : positiveInt('--workers')(v))),
    )
    // Caps each worker's old space instead of sizing it for the work: how tests make a worker die.
    .addOption(new Option('--worker-heap-mb <n>').argParser(positiveInt('--worker-heap-mb')).hideHelp())
    .action(async (files: string[], flags: ReplayFlags, cmd: Command) => {
      ctx.setExitCode(await replayCommand(files, flags, ctx, cmd.optsWithGlobals<{ db: string }>().db));
    });
}

async function replayCommand(files: string[], flags: ReplayFlags, ctx: CommandContext, dbPath: string): Promise<number> {
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be given only once');
  for (const f of files) checkReadableFile(f);
  tuneHeapForIngest();
  capNewSpace();
  const db = openDatabase(dbPath);
  limitPageCache(db, REPLAY_PAGE_CACHE_KIB);
  checkpointWalAfter(db, REPLAY_WAL_CHECKPOINT_PAGES);
  const progress = createProgress(ctx.io);
  const started = Date.now();
  let printed = 0;
  let unprinted = 0;
  try {
    const results = await replayFiles(db, files, {
      strict: flags.strict,
      stdin: ctx.io.stdin,
      batchSize: flags.batchSize,
      workers: flags.workers,
      force: flags.force,
      workerOldSpaceMb: flags.workerHeapMb,
      cores: availableParallelism(),
      sinks: defaultSinks,
      afterCommit: fullCollector(),
      onBadLine(file, bad) {
        if (printed < BAD_LINES_PRINTED) {
          progress.done();
          ctx.io.stderr.write(`${file}:${bad.line}: ${bad.field}: ${bad.reason}\n`);
          printed++;
        } else {
          unprinted++;
        }
      },
      onProgress(file, t) {
        progress.update(() => {
          const secs = Math.max(0.001, (Date.now() - started) / 1000);
          return `replay ${file}: ${formatCount(t.lines)} lines, ${formatCount(t.flows)} flows, ${formatCount(Math.round(t.flows / secs))} flows/s, ${formatCount(t.badLines)} errors`;
        });
      },
    });
    const rows = storedEdgeRows(db);
    db.close();
    if (results.some((r) => r.status !== 'skipped')) {
      progress.update(() => 'replay: resolving the graph for the reads that follow');
      storeSnapshotAfterReplay(dbPath, rows);
    }
    progress.done();
    if (unprinted > 0) ctx.io.stderr.write(`... and ${formatCount(unprinted)} more bad lines (see: hubble-advisor status)\n`);
    for (const r of results) if (r.note) ctx.io.stderr.write(`${r.file}: ${r.note}\n`);
    for (const r of results) if (r.error) ctx.io.stderr.write(`Error: ${r.file}: ${r.error}\n`);
    ctx.io.stdout.write(flags.output === 'json' ? `${JSON.stringify(results.map(toJson), null, 2)}\n` : renderResults(results));
    if (results.some((r) => r.status === 'failed')) return EXIT_FAILURE;
    return results.some((r) => r.status === 'partial') ? EXIT_PARTIAL : EXIT_OK;
  } finally {
    progress.done();
    if (db.open) db.close();
  }
}

function toJson(r: ReplayFileResult): object {
  return {
    file: r.file,
    sourceId: r.sourceId,
    status: r.status,
    workers: r.workers,
    ...r.totals,
    ...(r.note ? { note: r.note } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

function renderResults(results: readonly ReplayFileResult[]): string {
  return renderTable(
    ['FILE', 'STATUS', 'LINES', 'FLOWS', 'DROPS+AUDIT', 'LOST', 'BAD LINES'],
    results.map((r) => [
      r.file,
      r.status,
      formatCount(r.totals.lines),
      formatCount(r.totals.flows),
      formatCount(r.totals.triageFlows),
      formatCount(r.totals.lostEvents),
      formatCount(r.totals.badLines),
    ]),
  );
}

export function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number, got "${v}"`);
    return n;
  };
}

/** Checks every input before anything is written, so a typo does not leave a failed source behind. */
function checkReadableFile(file: string): void {
  if (file === '-') return;
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new InputError(file, undefined, undefined, 'no such file');
  }
  if (!isFile) throw new InputError(file, undefined, undefined, 'not a regular file');
}
