import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { type EdgesResult, queryEdges, readWorkloadConfig } from '../../app/index.js';
import { EXIT_OK, InputError, UsageError } from '../../errors.js';
import { type EdgeFilter, type PeerPattern, PeerPatternError, type ProjectedEdge, parsePeerPattern } from '../../graph/index.js';
import {
  edgeJson,
  writeJsonArray,
  EDGES_TABLE_EVIDENCE,
  renderConvergenceTable,
  formatDuration,
  formatTime,
  renderEdgesTable,
  renderWorkloadsTable,
  workloadsJson,
} from '../../report/index.js';
import { newestFlowMs, openDatabase } from '../../store/index.js';
import type { CommandContext } from '../context.js';
import { isRelativeTime, outputOption, parseTimeFlag } from '../options.js';

/** Data older than this gets a note saying times are judged against the newest flow. */
const STALE_MS = 86_400_000;

interface EdgesFlags {
  readonly namespace?: string[];
  readonly allNamespaces?: boolean;
  readonly from?: string[];
  readonly to?: string[];
  readonly newSince?: string;
  readonly workloads?: boolean;
  readonly workloadConfig?: string;
  readonly output: 'table' | 'wide' | 'json';
}

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value.split(',').map((v) => v.trim()).filter((v) => v !== ''),
];

const HELP = `
Peers (--from/--to, repeatable, OR-ed):
  NS/  NS/NAME  NS/KIND/NAME     workloads (e.g. dbms/, dbms/postgres, dbms/Cluster/postgres)
  kube-apiserver, host, ...      reserved entities (also entity:NAME); plain "world" = everything external
  fqdn:NAME                      FQDN, * matches one label (fqdn:*.github.com)
  cidr:CIDR or an IP/CIDR        world peers inside the range

Counting: replies never make edges; a connection seen on both nodes counts once (flows, connections and
forwarded take the busiest observation side; dropped adds the sides). World IPs become FQDNs when the
client's DNS answers (or Hubble's destination_names) name them, else /32 CIDRs.

--workload-config FILE (YAML or JSON) overrides workload identity at read time:
  workloadRules:
    - label: cnpg.io/cluster      # pods carrying it become workload {kind: Cluster, name: <value>}
      kind: Cluster
      namespaces: [dbms]          # optional
`;

export function registerEdges(program: Command, ctx: CommandContext): void {
  program
    .command('edges')
    .description('the observed edge graph: who talks to whom on which port (or --workloads: selectors)')
    .option('-n, --namespace <ns>', 'edges with either end in this namespace (repeatable, comma-separated)', collect)
    .option('-A, --all-namespaces', 'all namespaces (the default)')
    .option('--from <peer>', 'source matches this peer (repeatable)', collect)
    .option('--to <peer>', 'destination matches this peer (repeatable)', collect)
    .option('--new-since <time>', 'only edges first seen at or after this time (30m, 2d: counted back from the newest flow; or RFC 3339)')
    .option('--workloads', 'list workloads and their selector labels instead of edges')
    .option('--workload-config <file>', 'workload identity rules (YAML/JSON), applied at read time')
    .addOption(outputOption(['table', 'wide', 'json'], 'table'))
    .addHelpText('after', HELP)
    .action((flags: EdgesFlags, cmd: Command) => {
      const dbPath = cmd.optsWithGlobals<{ db: string }>().db;
      const nowMs = Date.now();
      const validated = buildFilter(flags, nowMs);
      if (!existsSync(dbPath)) throw new InputError(dbPath, undefined, undefined, 'no such database (run replay or observe first, or pass --db)');
      const workloadConfig = flags.workloadConfig === undefined ? undefined : readWorkloadConfig(flags.workloadConfig);
      const db = openDatabase(dbPath, { readonly: true });
      try {
        // A baseline is judged on its own clock: `--new-since 2h` means the last two hours of
        // traffic recorded, not of the wall clock (a recording replayed weeks later has none).
        const newest = newestFlowMs(db);
        const relative = flags.newSince !== undefined && isRelativeTime(flags.newSince);
        const filter = newest !== undefined && relative ? buildFilter(flags, newest) : validated;
        if (newest !== undefined && nowMs - newest > STALE_MS && (relative || (flags.output !== 'json' && !flags.workloads))) {
          ctx.io.stderr.write(`Note: newest flow ${formatDuration(nowMs - newest)} ago (${formatTime(newest)}); --new-since and QUIET FOR are judged against it\n`);
        }
        const query = { filter, ...(workloadConfig ? { workloadConfig } : {}) };
        if (flags.output === 'json' && !flags.workloads) writeJsonArray((s) => ctx.io.stdout.write(s), queryEdges(db, query).edges, edgeJson);
        else ctx.io.stdout.write(render(flags, queryEdges(db, { ...query, evidence: EDGES_TABLE_EVIDENCE }), filter));
      } finally {
        db.close();
      }
      ctx.setExitCode(EXIT_OK);
    });
}

/** Validates every flag before any I/O (Hubble's style: conflicting flags are usage errors). */
export function buildFilter(flags: EdgesFlags, nowMs: number): EdgeFilter {
  if (flags.allNamespaces && flags.namespace && flags.namespace.length > 0) throw new UsageError('cannot set both -A and --namespace');
  const patterns = (values: string[] | undefined): PeerPattern[] | undefined => {
    if (values === undefined) return undefined;
    try {
      return values.map(parsePeerPattern);
    } catch (e) {
      if (e instanceof PeerPatternError) throw new UsageError(e.message);
      throw e;
    }
  };
  const from = patterns(flags.from);
  const to = patterns(flags.to);
  return {
    ...(flags.namespace && flags.namespace.length > 0 ? { namespaces: flags.namespace } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(flags.newSince !== undefined ? { newSinceMs: parseTimeFlag('--new-since', flags.newSince, nowMs) } : {}),
  };
}

/** Tables and `--workloads`: JSON of edges is written by `writeJsonArray`, in pieces. */
function render(flags: EdgesFlags, result: EdgesResult<ProjectedEdge<(typeof EDGES_TABLE_EVIDENCE)[number]>>, filter: EdgeFilter): string {
  const ns = filter.namespaces;
  if (flags.workloads) {
    const workloads = result.workloads.filter((w) => ns === undefined || ns.includes(w.namespace));
    return flags.output === 'json' ? `${JSON.stringify(workloadsJson(workloads), null, 2)}\n` : renderWorkloadsTable(workloads, { wide: flags.output === 'wide' });
  }
  const table = { wide: flags.output === 'wide' };
  let out = renderEdgesTable(result.edges, table);
  if (result.convergence.length > 0) {
    out += `\nBaseline convergence:\n${renderConvergenceTable(result.convergence, table)}`;
  }
  return out;
}
