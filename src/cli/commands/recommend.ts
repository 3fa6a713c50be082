import { type Command, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { applyEdits, policyFileName, policyFiles, proposalDiff, proposeFromDatabase, readWorkloadConfig, recommendFromDatabase, writePolicyDirectory } from '../../app/index.js';
import { loadPolicyFlag } from './drops.js';
import type { RecommendRequest } from '../../app/recommend.js';
import { EXIT_OK, InputError, UsageError } from '../../errors.js';
import { type CiliumVersion, ENABLE_DEFAULT_DENY_SINCE, OLDEST_SUPPORTED_CILIUM, ciliumAtLeast, formatCiliumVersion } from '../../recommend/index.js';
import { lintLines, printableText, recommendationEvidenceJson, recommendationJson, recommendationYamlParts, writeParts } from '../../report/index.js';
import { afterGraphResolved, openDatabase } from '../../store/index.js';
import type { CommandContext } from '../context.js';
import { fullCollector } from '../heap.js';
import { writeHoldingSignals } from '../held-write.js';
import { outputOption } from '../options.js';
import { writeFileAtomically } from '../write-file.js';

interface RecommendFlags {
  readonly namespace?: string[];
  readonly allNamespaces: boolean;
  readonly kind: 'cilium' | 'kubernetes';
  readonly baseline: boolean;
  readonly output: 'yaml' | 'json' | 'diff';
  readonly out?: string;
  readonly policies?: string[];
  readonly write: boolean;
  readonly minBaseline: number;
  readonly portRangeMin: number;
  readonly workloadConfig?: string;
  readonly ciliumVersion: CiliumVersion;
  readonly evidence?: string;
}

export function registerRecommend(program: Command, ctx: CommandContext): void {
  program
    .command('recommend')
    .description('least-privilege policies from the observed baseline, ready to commit')
    .option('-n, --namespace <ns>', 'namespace to make policies for (repeatable, comma-separated)', collect, undefined)
    .option('-A, --all-namespaces', 'every namespace with traffic', false)
    .addOption(new Option('--kind <kind>', 'policy API: cilium (CiliumNetworkPolicy) or kubernetes (NetworkPolicy)').choices(['cilium', 'kubernetes']).default('cilium'))
    .option('--baseline', 'also emit the cluster-wide foundation (DNS, kube-apiserver) as CiliumClusterwideNetworkPolicies', false)
    .addOption(outputOption(['yaml', 'json', 'diff'], 'yaml'))
    .option('--policies <path>', 'your current policies (file or directory, repeatable): propose only what they do not already allow; where one of them selects a workload, as rules added to it', collectPaths)
    .option('--write', 'with --policies: apply the proposed edits to your files in place (comments and key order kept)', false)
    .option('--out <dir>', 'write one file per policy plus kustomization.yaml into DIR')
    .addOption(new Option('--min-baseline <hours>', 'warn when the baseline covers fewer hours').default(168).argParser(Number))
    .option('--workload-config <file>', 'workload identity rules (YAML/JSON), as for `edges`')
    .addOption(new Option('--port-range-min <n>', 'contiguous observed ports that become one range').default(8).argParser(Number))
    .addOption(
      new Option('--cilium-version <x.y>', 'the Cilium release the policies are for: fields it lacks are not used')
        .default(OLDEST_SUPPORTED_CILIUM, formatCiliumVersion(OLDEST_SUPPORTED_CILIUM))
        .argParser(parseCiliumVersion),
    )
    .option('--evidence <file>', 'also write the evidence, notes, warnings and lints as JSON to FILE (for programs)')
    .action(async (flags: RecommendFlags, cmd: Command) => {
      const dbPath = cmd.optsWithGlobals<{ db: string }>().db;
      if (flags.allNamespaces && flags.namespace) throw new UsageError('cannot set both -A and --namespace');
      if (!flags.allNamespaces && !flags.namespace) throw new UsageError('name the namespaces with -n NS (repeatable) or use -A');
      if (flags.baseline && flags.kind === 'kubernetes') throw new UsageError('--baseline makes CiliumClusterwideNetworkPolicies; it cannot go with --kind kubernetes');
      if (flags.baseline && !ciliumAtLeast(flags.ciliumVersion, ENABLE_DEFAULT_DENY_SINCE)) {
        throw new UsageError(
          `--baseline needs enableDefaultDeny, which came with Cilium ${formatCiliumVersion(ENABLE_DEFAULT_DENY_SINCE)}; ` +
            `Cilium ${formatCiliumVersion(flags.ciliumVersion)} would drop it and deny all egress: leave out --baseline`,
        );
      }
      if (!Number.isFinite(flags.minBaseline) || flags.minBaseline < 0) throw new UsageError('--min-baseline must be a number of hours');
      if (!Number.isInteger(flags.portRangeMin) || flags.portRangeMin < 2) throw new UsageError('--port-range-min must be a whole number of at least 2');
      if (!existsSync(dbPath)) throw new InputError(dbPath, undefined, undefined, 'no such database (run replay or observe first, or pass --db)');
      if ((flags.write || flags.output === 'diff') && !flags.policies) throw new UsageError(`${flags.write ? '--write' : '-o diff'} needs --policies (the files to edit)`);
      const workloadConfig = flags.workloadConfig ? readWorkloadConfig(flags.workloadConfig) : undefined;
      const loaded = flags.policies ? await loadPolicyFlag(ctx, flags.policies) : undefined;
      // A cold read's garbage is collected before the policies are made on top of it: at 3,000
      // workloads `recommend -A` peaked 335 -> 281 MB for 0.98x the CPU. (`edges` and `report`
      // are left as they are: their peaks stayed or fell less, for 1.03-1.07x the CPU.)
      const db = openDatabase(dbPath, { readonly: true });
      const hook = afterGraphResolved(fullCollector());
      try {
        const request: RecommendRequest = {
          namespaces: flags.allNamespaces ? ('all' as const) : (flags.namespace ?? []),
          kind: flags.kind,
          baseline: flags.baseline,
          minBaselineHours: flags.minBaseline,
          portRangeMin: flags.portRangeMin,
          ciliumVersion: flags.ciliumVersion,
          ...(workloadConfig ? { workloadConfig } : {}),
        };
        const proposal = loaded ? proposeFromDatabase(db, request, loaded) : undefined;
        const r = proposal ? proposal.recommendation : recommendFromDatabase(db, request);
        for (const w of r.warnings) ctx.io.stderr.write(`Warning: ${printableText(w)}\n`);
        if (r.newestFlowMs !== undefined && Date.now() - r.newestFlowMs > 86_400_000) {
          ctx.io.stderr.write(`Warning: the newest flow is from ${new Date(r.newestFlowMs).toISOString()}, more than a day ago\n`);
        }
        for (const line of lintLines(r.lints)) ctx.io.stderr.write(`${line}\n`);
        const evidence = flags.evidence;
        if (evidence !== undefined) await writeHoldingSignals(ctx, evidence, () => writeFileAtomically(evidence, [`${JSON.stringify(recommendationEvidenceJson(r), null, 2)}\n`]));
        if (proposal) {
          ctx.io.stderr.write(
            `Against your policies: ${proposal.alreadyAllowed} observed edges already allowed; ${proposal.edits.reduce((n, e) => n + e.added.length, 0)} additions (rules, or ports to an existing rule) to ${proposal.edits.length} of your files; ${r.policies.length} new policies\n`,
          );
          for (const e of proposal.edits) for (const a of e.added) ctx.io.stderr.write(`  ${printableText(`${e.file}: ${a}`)}\n`);
          if (proposal.deniedByUser > 0) ctx.io.stderr.write(`Note: ${proposal.deniedByUser} observed edges are dropped by a deny rule of yours; not proposed (an allow cannot override a deny: see \`drops\`)\n`);
          if (flags.output === 'diff') {
            const dir = flags.out ?? '.';
            ctx.io.stdout.write(proposalDiff(proposal, policyFiles(r).map((f) => ({ name: `${dir.replace(/\/$/, '')}/${policyFileName(f)}`, text: f.text }))));
          }
          if (flags.write) {
            const edited = await writeHoldingSignals(ctx, 'the edited policy files', () => applyEdits(proposal));
            ctx.io.stderr.write(`Edited ${edited.length} files in place${edited.length > 0 ? `: ${edited.join(', ')}` : ''}\n`);
          }
        }
        if (flags.output === 'diff' && !flags.out) {
          // The diff above is the output; new policies land with --out.
        } else if (flags.out) {
          const out = flags.out;
          const w = await writeHoldingSignals(ctx, out, () => writePolicyDirectory(out, r));
          for (const u of w.leftToUser) ctx.io.stderr.write(`Note: not written, a file that is not ours already defines ${u}\n`);
          ctx.io.stderr.write(`${flags.out}: ${w.written.length} written, ${w.unchanged.length} unchanged, ${w.removed.length} removed; ${w.kustomization.file} ${w.kustomization.change}\n`);
          if (flags.output === 'json') ctx.io.stdout.write(`${JSON.stringify({ directory: flags.out, ...w }, null, 2)}\n`);
        } else {
          if (flags.output === 'json') ctx.io.stdout.write(`${JSON.stringify(recommendationJson(r), null, 2)}\n`);
          else writeParts((s) => ctx.io.stdout.write(s), recommendationYamlParts(r));
        }
      } finally {
        db.close();
        afterGraphResolved(hook);
      }
      ctx.setExitCode(EXIT_OK);
    });
}

function collectPaths(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function collect(value: string, previous: string[] | undefined): string[] {
  const names = value.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new InvalidArgumentError(`empty namespace in "${value}"`);
  return [...(previous ?? []), ...names];
}

function parseCiliumVersion(value: string): CiliumVersion {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:-[0-9A-Za-z.-]+)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('use a Cilium release such as 1.18 or 1.17.4');
  return { major: Number(m[1]), minor: Number(m[2]) };
}
