import { type Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { dropGroupsFromDatabase, loadPolicies, loadPoliciesInBackground, readDropsToTriage, triageRead, type BackgroundPolicyLoad, type LoadedPolicies, type LoadPoliciesOptions } from '../../app/index.js';
import { EXIT_OK, InputError, UsageError } from '../../errors.js';
import { formatParseProblem } from '../../policy/index.js';
import { combinedJson, dropGroupJson, dropGroupsYamlParts, dropsJson, renderCombinedYaml, renderDropGroupsTable, renderDropsTable, renderDropsYaml, writeJsonArray, writeParts } from '../../report/index.js';
import { openDatabase } from '../../store/index.js';
import type { CommandContext } from '../context.js';
import { outputOption, parseGoDuration, parseTimeFlag } from '../options.js';

interface DropsFlags {
  readonly namespace?: string[];
  readonly allNamespaces?: boolean;
  readonly since?: string;
  readonly policies?: string[];
  readonly clusterName?: string;
  readonly attemptWindow: string;
  readonly combine?: boolean;
  readonly output: 'table' | 'wide' | 'json' | 'yaml';
}

export const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value.split(',').map((v) => v.trim()).filter((v) => v !== ''),
];

export function policiesOption(): Option {
  return new Option('--policies <path>', 'policy files or directories (repeatable; - reads stdin); bad documents are reported and skipped').argParser(collect);
}

/** Loads --policies; bad documents go to stderr as `FILE:DOC: field: reason` and are skipped. */
export async function loadPolicyFlag(ctx: CommandContext, paths: readonly string[]): Promise<LoadedPolicies> {
  const loaded = await loadPolicies(paths, { readStdin: () => readAll(ctx.io.stdin) });
  tellLoaded(ctx, paths, loaded, loaded.policies.length);
  return loaded;
}

/**
 * Loads --policies with `start` (on a second thread when it is a background loader) while `read`
 * reads the database, telling and failing as if the policies had been loaded first: their errors and notes go to stderr first, and when both
 * fail, the policies' error is the one told.
 */
export async function readWhileLoading<L extends Pick<LoadedPolicies, 'errors' | 'notes'>, R>(
  ctx: CommandContext,
  paths: readonly string[],
  start: (paths: readonly string[], options: LoadPoliciesOptions) => BackgroundPolicyLoad<L>,
  count: (loaded: L) => number,
  read: () => R,
): Promise<{ readonly loaded: L; readonly read: R }> {
  const load = start(paths, { readStdin: () => readAll(ctx.io.stdin) });
  let got: R;
  try {
    got = read();
  } catch (e) {
    const loaded = await load;
    tellLoaded(ctx, paths, loaded, count(loaded));
    throw e;
  }
  const loaded = await load;
  tellLoaded(ctx, paths, loaded, count(loaded));
  return { loaded, read: got };
}

function tellLoaded(ctx: CommandContext, paths: readonly string[], loaded: Pick<LoadedPolicies, 'errors' | 'notes'>, count: number): void {
  for (const e of loaded.errors) ctx.io.stderr.write(`${formatParseProblem(e)}\n`);
  for (const n of loaded.notes) ctx.io.stderr.write(`Note: ${formatParseProblem(n)}\n`);
  if (count === 0) ctx.io.stderr.write(`Warning: no policies loaded from ${paths.join(', ')}\n`);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export function registerDrops(program: Command, ctx: CommandContext): void {
  program
    .command('drops')
    .description('dropped flows by edge and reason; with --policies: the responsible policy and the smallest patch that allows it')
    .option('-n, --namespace <ns>', 'drops with either end in this namespace (repeatable, comma-separated)', collect)
    .option('-A, --all-namespaces', 'all namespaces (the default)')
    .option('--since <time>', 'only drops at or after this time (30m, 2d, RFC 3339)')
    .addOption(policiesOption())
    .option('--cluster-name <name>', 'local Cilium cluster name (default: as Hubble reports it on the dropping endpoint)')
    .addOption(new Option('--attempt-window <duration>', 'same 5-tuple within this window = one connection attempt').default('10s'))
    .option('--combine', 'print one patch per policy that fixes all drops together (fixes to the same rule build on each other)')
    .addOption(outputOption(['table', 'wide', 'json', 'yaml'], 'table'))
    .action(async (flags: DropsFlags, cmd: Command) => {
      const dbPath = cmd.optsWithGlobals<{ db: string }>().db;
      if (flags.allNamespaces && flags.namespace && flags.namespace.length > 0) throw new UsageError('cannot set both -A and --namespace');
      const withPolicies = flags.policies !== undefined && flags.policies.length > 0;
      if (flags.combine && !withPolicies) throw new UsageError('--combine needs --policies PATH: the patches are made against those policies');
      const sinceMs = flags.since === undefined ? undefined : parseTimeFlag('--since', flags.since, Date.now());
      if (!/^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(flags.attemptWindow)) throw new UsageError(`invalid --attempt-window "${flags.attemptWindow}": use a duration like 10s`);
      const attemptWindowMs = parseGoDuration(flags.attemptWindow);
      if (!existsSync(dbPath)) throw new InputError(dbPath, undefined, undefined, 'no such database (run replay or observe first, or pass --db)');
      const table = { wide: flags.output === 'wide' };
      if (!withPolicies) {
        const db = openDatabase(dbPath, { readonly: true });
        try {
          const r = dropGroupsFromDatabase(db, {
            ...(flags.namespace && flags.namespace.length > 0 && { namespaces: flags.namespace }),
            ...(sinceMs !== undefined && { sinceMs }),
            attemptWindowMs,
          });
          // JSON and YAML are written a group at a time: a port scan makes 131,000 groups.
          const write = (s: string): void => void ctx.io.stdout.write(s);
          if (flags.output === 'json') writeJsonArray(write, r.groups, dropGroupJson);
          else if (flags.output === 'yaml') writeParts(write, dropGroupsYamlParts(r.groups));
          else write(renderDropGroupsTable(r.groups, r.flows, table));
        } finally {
          db.close();
        }
        ctx.setExitCode(EXIT_OK);
        return;
      }
      const namespaces = flags.namespace && flags.namespace.length > 0 ? { namespaces: flags.namespace } : {};
      // The policies are read on a second thread while this one reads the drops. The database
      // stays open while they are judged: the cluster addresses are read as the judging asks.
      const { loaded, read } = await readWhileLoading(ctx, flags.policies ?? [], (paths, options) => loadPoliciesInBackground(paths, { ...options, compileAhead: true }), (l) => l.policies.length, () => {
        const db = openDatabase(dbPath, { readonly: true });
        try {
          return { db, drops: readDropsToTriage(db, { ...namespaces, ...(sinceMs !== undefined && { sinceMs }), attemptWindowMs }) };
        } catch (e) {
          db.close();
          throw e;
        }
      });
      let out: string;
      try {
        const r = triageRead(read.drops, {
          policies: loaded.policies,
          ...(flags.clusterName !== undefined && { evaluate: { clusterName: flags.clusterName } }),
          ...(flags.combine && { combine: true }),
        });
        out = r.combined
          ? flags.output === 'json'
            ? `${JSON.stringify(combinedJson(r.combined), null, 2)}\n`
            : renderCombinedYaml(r.combined)
          : flags.output === 'json'
            ? `${JSON.stringify(dropsJson(r.drops), null, 2)}\n`
            : flags.output === 'yaml'
              ? renderDropsYaml(r.drops)
              : renderDropsTable(r.drops, r.flows, table);
      } finally {
        read.db.close();
      }
      ctx.io.stdout.write(out);
      ctx.setExitCode(EXIT_OK);
    });
}
