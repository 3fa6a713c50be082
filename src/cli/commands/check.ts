import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { checkFromDatabase } from '../../app/index.js';
import { EXIT_OK, InputError, UsageError } from '../../errors.js';
import { checkJson, renderCheckTable } from '../../report/index.js';
import { openDatabase } from '../../store/index.js';
import type { CommandContext } from '../context.js';
import { outputOption } from '../options.js';
import { collect, loadPolicyFlag, policiesOption } from './drops.js';

interface CheckFlags {
  readonly namespace?: string[];
  readonly allNamespaces?: boolean;
  readonly policies?: string[];
  readonly clusterName?: string;
  readonly output: 'table' | 'json';
}

export function registerCheck(program: Command, ctx: CommandContext): void {
  program
    .command('check')
    .description('what-if over the observed baseline: edges these policies would drop, unused rules, coverage')
    .option('-n, --namespace <ns>', 'edges with either end in, policies of, and coverage for this namespace (repeatable)', collect)
    .option('-A, --all-namespaces', 'all namespaces (the default)')
    .addOption(policiesOption())
    .option('--cluster-name <name>', 'local Cilium cluster name (for the cluster entity; default: the cluster the observed pods carry)')
    .addOption(outputOption(['table', 'json'], 'table'))
    .action(async (flags: CheckFlags, cmd: Command) => {
      const dbPath = cmd.optsWithGlobals<{ db: string }>().db;
      if (flags.allNamespaces && flags.namespace && flags.namespace.length > 0) throw new UsageError('cannot set both -A and --namespace');
      if (!flags.policies || flags.policies.length === 0) throw new UsageError('name the policies to check with --policies PATH (file or directory, repeatable)');
      if (!existsSync(dbPath)) throw new InputError(dbPath, undefined, undefined, 'no such database (run replay or observe first, or pass --db)');
      const loaded = await loadPolicyFlag(ctx, flags.policies);
      const db = openDatabase(dbPath, { readonly: true });
      try {
        const r = checkFromDatabase(db, {
          policies: loaded.policies,
          ...(flags.namespace && flags.namespace.length > 0 && { namespaces: flags.namespace }),
          ...(flags.clusterName !== undefined && { evaluate: { clusterName: flags.clusterName } }),
        });
        for (const n of r.policyNotes) ctx.io.stderr.write(`Note: ${n}\n`);
        ctx.io.stdout.write(flags.output === 'json' ? `${JSON.stringify(checkJson(r), null, 2)}\n` : renderCheckTable(r));
      } finally {
        db.close();
      }
      ctx.setExitCode(EXIT_OK);
    });
}
