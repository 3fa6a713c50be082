import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { EXIT_OK } from '../../errors.js';
import { renderStatusText } from '../../report/status.js';
import { openDatabase, readSummary } from '../../store/index.js';
import type { CommandContext } from '../context.js';
import { outputOption } from '../options.js';
import { InputError } from '../../errors.js';

export function registerStatus(program: Command, ctx: CommandContext): void {
  program
    .command('status')
    .description('what the database holds: sources, time span, verdicts, drops, lost events, bad lines')
    .addOption(outputOption(['table', 'wide', 'json'], 'table'))
    .action((flags: { output: 'table' | 'wide' | 'json' }, cmd: Command) => {
      const dbPath = cmd.optsWithGlobals<{ db: string }>().db;
      if (!existsSync(dbPath)) throw new InputError(dbPath, undefined, undefined, 'no such database (run replay or observe first, or pass --db)');
      const db = openDatabase(dbPath, { readonly: true });
      try {
        const summary = readSummary(db);
        ctx.io.stdout.write(
          flags.output === 'json' ? `${JSON.stringify(withIsoTimes({ database: dbPath, ...summary }), null, 2)}\n` : renderStatusText(summary, dbPath, { wide: flags.output === 'wide' }, Date.now()),
        );
      } finally {
        db.close();
      }
      ctx.setExitCode(EXIT_OK);
    });
}

/**
 * Next to every epoch-milliseconds field (`firstFlowMs`, `lastNewEdgeMs`, `hourMs`, ...) adds its
 * RFC 3339 form without the suffix (`firstFlow`), so JSON consumers need not convert.
 */
export function withIsoTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withIsoTimes);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = withIsoTimes(v);
    if (k.endsWith('Ms') && k.length > 2 && typeof v === 'number' && Number.isFinite(v)) {
      out[k.slice(0, -2)] = new Date(v).toISOString();
    }
  }
  return out;
}
