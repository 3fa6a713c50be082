import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { checkPlanned, diffFromDatabase, explainFromDatabase, loadPolicySetInBackground, readCheckPlan, type LoadedPolicies } from '../../app/index.js';
import { EXIT_CHECK_FAILED, EXIT_OK, InputError, UsageError } from '../../errors.js';
import { checkJson, diffJson, explainJson, renderCheckTable, renderDiffTable, renderExplain } from '../../report/index.js';
import { ExplainInputError } from '../../triage/index.js';
import { openDatabase } from '../../store/index.js';
import type { CommandContext } from '../context.js';
import { tuneHeapForRead } from '../heap.js';
import { outputOption } from '../options.js';
import { collect, loadPolicyFlag, policiesOption, readWhileLoading } from './drops.js';

interface CheckFlags {
  readonly namespace?: string[];
  readonly allNamespaces?: boolean;
  readonly policies?: string[];
  readonly against?: string[];
  readonly failOn?: string[];
  readonly clusterName?: string;
  readonly explain?: string[];
  readonly output: 'table' | 'wide' | 'json';
}

/** What can fail the check (exit 4). Unreadable policy documents always do. */
const FAIL_ON = ['would-drop', 'unused-rule', 'lint', 'none'] as const;
type FailOn = (typeof FAIL_ON)[number];

function parseFailOn(values: readonly string[] | undefined): Set<FailOn> {
  const list = (values ?? ['would-drop']).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  for (const v of list) {
    if (!(FAIL_ON as readonly string[]).includes(v)) throw new UsageError(`--fail-on: unknown value "${v}" (use ${FAIL_ON.join(', ')}; comma-separated or repeated)`);
  }
  const set = new Set(list as FailOn[]);
  if (set.has('none') && set.size > 1) throw new UsageError('--fail-on none cannot be combined with other values');
  return set;
}

/** Loader notes that are worth a lint: not the kinds a GitOps tree also holds (Kustomization, HelmRelease, ...). */
const lintNotes = (loaded: Pick<LoadedPolicies, 'notes'>): number => loaded.notes.filter((n) => !/is not a network policy$/.test(n.reason)).length;

export function registerCheck(program: Command, ctx: CommandContext): void {
  program
    .command('check')
    .description('what-if over the observed baseline: edges these policies would drop, unused rules, coverage; a CI gate (exit 4)')
    .option('-n, --namespace <ns>', 'edges with either end in, policies of, and coverage for this namespace (repeatable)', collect)
    .option('-A, --all-namespaces', 'all namespaces (the default)')
    .addOption(policiesOption())
    .option('--against <path>', 'the policies before the change (file, directory or -; repeatable): list the observed edges the change newly drops and newly allows', collect)
    .option('--fail-on <what>', `exit 4 when any is found: ${FAIL_ON.join(', ')} (comma-separated or repeated; default would-drop). Unreadable policy documents always fail`, collect)
    .option('--cluster-name <name>', 'local Cilium cluster name (for the cluster entity; default: the cluster the observed pods carry)')
    .option('--explain <from-to-port...>', 'explain one edge rule by rule instead: FROM TO PORT[/PROTO], peers as edges --from/--to take them (NS/NAME, NS/KIND/NAME, entity, fqdn:NAME, cidr:CIDR); observed or not')
    .addOption(outputOption(['table', 'wide', 'json'], 'table'))
    .action(async (flags: CheckFlags, cmd: Command) => {
      const dbPath = cmd.optsWithGlobals<{ db: string }>().db;
      if (flags.allNamespaces && flags.namespace && flags.namespace.length > 0) throw new UsageError('cannot set both -A and --namespace');
      if (!flags.policies || flags.policies.length === 0) throw new UsageError('name the policies to check with --policies PATH (file or directory, repeatable)');
      const failOn = parseFailOn(flags.failOn);
      if (flags.against && failOn.has('unused-rule')) throw new UsageError('--fail-on unused-rule does not apply with --against (it compares verdicts, not rules)');
      if (!existsSync(dbPath)) throw new InputError(dbPath, undefined, undefined, 'no such database (run replay or observe first, or pass --db)');
      if (flags.explain !== undefined && flags.explain.length !== 3) throw new UsageError(`--explain takes FROM TO PORT[/PROTO], got ${flags.explain.length} value(s)`);
      if (flags.explain !== undefined && flags.against) throw new UsageError('--explain cannot be combined with --against');
      tuneHeapForRead();
      if (flags.explain !== undefined) {
        const loaded = await loadPolicyFlag(ctx, flags.policies);
        const [from, to, port] = flags.explain as [string, string, string];
        const db = openDatabase(dbPath, { readonly: true });
        try {
          const e = explainFromDatabase(db, { policies: loaded.policies, target: { from, to, port }, ...(flags.clusterName !== undefined && { evaluate: { clusterName: flags.clusterName } }) });
          for (const n of e.policyNotes) ctx.io.stderr.write(`Note: ${n}\n`);
          ctx.io.stdout.write(flags.output === 'json' ? `${JSON.stringify(explainJson(e), null, 2)}\n` : renderExplain(e));
        } catch (err) {
          if (err instanceof ExplainInputError) throw new UsageError(`--explain: ${err.message}`);
          throw err;
        } finally {
          db.close();
        }
        ctx.setExitCode(EXIT_OK);
        return;
      }
      const namespaces = flags.namespace && flags.namespace.length > 0 ? { namespaces: flags.namespace } : {};
      const evaluate = flags.clusterName !== undefined ? { evaluate: { clusterName: flags.clusterName } } : {};
      const failures: string[] = [];
      if (flags.against) {
        const loaded = await loadPolicyFlag(ctx, flags.policies);
        const against = await loadPolicyFlag(ctx, flags.against);
        const unreadable = loaded.errors.length + against.errors.length;
        if (unreadable > 0) failures.push(`${unreadable} policy document(s) could not be read`);
        const lints = lintNotes(loaded) + lintNotes(against);
        const db = openDatabase(dbPath, { readonly: true });
        try {
          const d = diffFromDatabase(db, { policies: loaded.policies, against: against.policies, ...namespaces, ...evaluate });
          for (const n of d.policyNotes) ctx.io.stderr.write(`Note: ${n}\n`);
          if (d.noTraffic) ctx.io.stderr.write('Warning: no traffic to judge by: the database holds no observed edges for these namespaces\n');
          ctx.io.stdout.write(flags.output === 'json' ? `${JSON.stringify(diffJson(d), null, 2)}\n` : renderDiffTable(d, { wide: flags.output === 'wide' }));
          if (failOn.has('would-drop') && d.newlyDropped.length > 0) failures.push(`the change newly drops ${d.newlyDropped.length} observed edge(s)`);
          if (failOn.has('lint') && lints + d.policyNotes.length > 0) failures.push(`${lints + d.policyNotes.length} lint note(s)`);
        } finally {
          db.close();
        }
      } else {
        // The policy files are parsed on a second thread while this one reads the graph, makes the
        // requests to judge and compiles each batch as it comes: thousands of parsed documents are not kept. At 3,000 workloads
        // this costs ~8% more CPU than parsing here, at the same peak (281 MB): it shortens the
        // path only when the second core is free.
        const { loaded, read } = await readWhileLoading(ctx, flags.policies, loadPolicySetInBackground, (l) => l.count, () => {
          const db = openDatabase(dbPath, { readonly: true });
          try {
            return { db, plan: readCheckPlan(db, { ...namespaces, ...evaluate }) };
          } catch (e) {
            db.close();
            throw e;
          }
        });
        const { db, plan } = read;
        try {
          if (loaded.errors.length > 0) failures.push(`${loaded.errors.length} policy document(s) could not be read`);
          const lints = lintNotes(loaded);
          const r = checkPlanned(db, plan, loaded.set);
          for (const n of r.policyNotes) ctx.io.stderr.write(`Note: ${n}\n`);
          if (r.noTraffic) ctx.io.stderr.write('Warning: no traffic to judge by: the database holds no forwarded edges for these namespaces\n');
          ctx.io.stdout.write(flags.output === 'json' ? `${JSON.stringify(checkJson(r), null, 2)}\n` : renderCheckTable(r, { wide: flags.output === 'wide' }));
          if (failOn.has('would-drop') && r.wouldDrop.length > 0) failures.push(`${r.wouldDrop.length} observed edge(s) would be dropped`);
          if (failOn.has('unused-rule') && r.unusedRules.length > 0) failures.push(`${r.unusedRules.length} allow rule(s) no observed edge used`);
          if (failOn.has('lint') && lints + r.policyNotes.length > 0) failures.push(`${lints + r.policyNotes.length} lint note(s)`);
        } finally {
          db.close();
        }
      }
      if (failures.length > 0) {
        ctx.io.stderr.write(`Error: check failed: ${failures.join('; ')}\n`);
        ctx.setExitCode(EXIT_CHECK_FAILED);
      } else ctx.setExitCode(EXIT_OK);
    });
}
