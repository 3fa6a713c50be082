import { type Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { readWorkloadConfig, reportParts } from '../../app/index.js';
import { EXIT_OK, InputError, UsageError } from '../../errors.js';
import { openDatabase } from '../../store/index.js';
import { writeParts } from '../../report/index.js';
import type { CommandContext } from '../context.js';
import { writeHoldingSignals } from '../held-write.js';
import { writeFileAtomically } from '../write-file.js';
import { tuneHeapForRead } from '../heap.js';
import { collect, loadPolicyFlag, policiesOption } from './drops.js';

interface ReportFlags {
  readonly namespace?: string[];
  readonly allNamespaces?: boolean;
  readonly policies?: string[];
  readonly clusterName?: string;
  readonly workloadConfig?: string;
  readonly output: 'markdown' | 'html';
  readonly out?: string;
  readonly timestamp?: boolean;
}

const HELP = `
Writes the network inventory people keep next to their policies, from the observed baseline:
per namespace Component | Ingress | Egress, cross-namespace communication, external egress (FQDNs,
IPs), entities (kube-apiserver clients, host/kubelet probes, remote nodes), baseline health and
convergence. With --policies also: coverage (selected / enforced per direction), the observed edges
the policies would drop, dropped flows with the responsible policy, rules nothing used, lints.

-o html writes one self-contained file (no network at view time) with the same tables and a service
map laid out at generation time: namespaces as groups, edges coloured by what the policies do.

The Markdown has a stable order and no generation time (unless --timestamp), so it diffs well.

Examples:
  hubble-advisor report --policies ./policies --out NETWORK.md
  hubble-advisor report -n dbms -o html --out map.html
`;

export function registerReport(program: Command, ctx: CommandContext): void {
  program
    .command('report')
    .description('the network inventory of the baseline as Markdown or self-contained HTML with a service map')
    .option('-n, --namespace <ns>', 'components of this namespace (repeatable, comma-separated)', collect)
    .option('-A, --all-namespaces', 'all namespaces (the default)')
    .addOption(policiesOption())
    .option('--cluster-name <name>', 'local Cilium cluster name (for the cluster entity)')
    .option('--workload-config <file>', 'workload identity rules (YAML/JSON), applied at read time')
    .addOption(new Option('-o, --output <format>', 'output format (markdown|html)').choices(['markdown', 'html']).default('markdown'))
    .option('--out <file>', 'write to this file (written to a temporary file, then renamed) instead of stdout')
    .option('--timestamp', 'say when the report was written (off by default so that re-runs diff to nothing)')
    .addHelpText('after', HELP)
    .action(async (flags: ReportFlags, cmd: Command) => {
      const dbPath = cmd.optsWithGlobals<{ db: string }>().db;
      if (flags.allNamespaces && flags.namespace && flags.namespace.length > 0) throw new UsageError('cannot set both -A and --namespace');
      if (!existsSync(dbPath)) throw new InputError(dbPath, undefined, undefined, 'no such database (run replay or observe first, or pass --db)');
      if (flags.out !== undefined && !existsSync(dirname(flags.out) || '.')) throw new InputError(flags.out, undefined, undefined, 'the directory does not exist');
      tuneHeapForRead();
      const workloadConfig = flags.workloadConfig === undefined ? undefined : readWorkloadConfig(flags.workloadConfig);
      const loaded = flags.policies && flags.policies.length > 0 ? await loadPolicyFlag(ctx, flags.policies) : undefined;
      const db = openDatabase(dbPath, { readonly: true });
      let parts: Iterable<string>;
      try {
        parts = await reportParts(
          db,
          {
            ...(flags.namespace && flags.namespace.length > 0 && { namespaces: flags.namespace }),
            ...(loaded && { policies: { policies: loaded.policies, files: loaded.files } }),
            ...(flags.clusterName !== undefined && { evaluate: { clusterName: flags.clusterName } }),
            ...(workloadConfig && { workloadConfig }),
          },
          { format: flags.output, warn: (m) => ctx.io.stderr.write(`${m}\n`), ...(flags.timestamp && { generatedAtMs: Date.now() }) },
        );
      } finally {
        db.close();
      }
      if (flags.out === undefined) writeParts((s) => ctx.io.stdout.write(s), parts);
      else {
        const out = flags.out;
        const bytes = await writeHoldingSignals(ctx, out, () => writeFileAtomically(out, parts));
        ctx.io.stderr.write(`Wrote ${flags.out} (${flags.output === 'html' ? 'HTML' : 'Markdown'}, ${bytes} bytes)\n`);
      }
      ctx.setExitCode(EXIT_OK);
    });
}
