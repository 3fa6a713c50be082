import { existsSync, rmSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { DEFAULT_BATCH_SIZE, type ObserveNotice, type ObserveResult, type ObserveStats, defaultSinks } from '../../app/index.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL, UsageError } from '../../errors.js';
// The flags' own modules, not the ingest barrel: gRPC is loaded only when observe runs (below).
import { buildWhitelist } from '../../ingest/relay/filters.js';
import { DEFAULT_SERVER, checkTargetFlags, resolveTarget } from '../../ingest/relay/target.js';
import { formatCount, formatDuration, renderTable } from '../../report/index.js';
import { OBSERVE_EDGE_SLOTS, OBSERVE_PAGE_CACHE_KIB, limitPageCache, openDatabase } from '../../store/index.js';
import type { CommandContext } from '../context.js';
import { outputOption, parseGoDuration, parseTimeFlag } from '../options.js';
import { tuneHeapForObserve } from '../heap.js';
import { createProgress } from '../progress.js';

const BAD_RESPONSES_PRINTED = 20;
const LOST_WARNING_INTERVAL_MS = 10_000;
const RETRY_LINES_PRINTED = 3;

interface ObserveFlags {
  readonly server?: string;
  readonly tls?: boolean;
  readonly tlsCaCertFiles?: string[];
  readonly tlsClientCertFile?: string;
  readonly tlsClientKeyFile?: string;
  readonly tlsServerName?: string;
  readonly tlsAllowInsecure?: boolean;
  readonly timeout: string;
  readonly namespace?: string[];
  readonly fromNamespace?: string[];
  readonly toNamespace?: string[];
  readonly label?: string[];
  readonly fromLabel?: string[];
  readonly toLabel?: string[];
  readonly verdict?: string[];
  readonly since?: string;
  readonly until?: string;
  readonly duration?: string;
  readonly last?: number;
  readonly resume: boolean;
  readonly batchSize: number;
  readonly reconnectInterval: string;
  readonly output: 'table' | 'json';
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
const collectList = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export function registerObserve(program: Command, ctx: CommandContext): void {
  program
    .command('observe')
    .description('follow Hubble Relay (GetFlows) into the database until stopped (SIGINT/SIGTERM), resuming after relay restarts')
    .option('--server <address>', `Hubble Relay address; tls:// turns on TLS (env HUBBLE_SERVER, default ${DEFAULT_SERVER})`)
    .option('--tls', 'use TLS (env HUBBLE_TLS)')
    .option('--tls-ca-cert-files <files>', 'PEM CA certificates to verify the server (repeatable or comma-separated)', collectList)
    .option('--tls-client-cert-file <file>', 'PEM client certificate for mTLS')
    .option('--tls-client-key-file <file>', 'PEM client key for mTLS')
    .option('--tls-server-name <name>', 'name to verify in the server certificate, e.g. instance.hubble-relay.cilium.io')
    .option('--tls-allow-insecure', 'do not verify the server certificate')
    .option('--timeout <duration>', 'how long to try the first connection', '5s')
    .option('-n, --namespace <ns>', 'flows from or to this namespace (repeatable)', collect)
    .option('--from-namespace <ns>', 'flows from this namespace (repeatable)', collect)
    .option('--to-namespace <ns>', 'flows to this namespace (repeatable)', collect)
    .option('-l, --label <selector>', 'flows from or to endpoints with this label selector (repeatable)', collect)
    .option('--from-label <selector>', 'flows from endpoints with this label selector (repeatable)', collect)
    .option('--to-label <selector>', 'flows to endpoints with this label selector (repeatable)', collect)
    .option('--verdict <verdict>', 'only flows with this verdict: FORWARDED, DROPPED, AUDIT, ... (repeatable)', collect)
    .option('--since <time>', 'start at this time (1h, 30m, RFC 3339); default: after the newest flow stored from this server, else live')
    .option('--until <time>', 'stop at this time; a time in the past fetches history and ends')
    .option('--duration <duration>', 'stop after observing this long (e.g. 72h)')
    .addOption(new Option('--last <n>', 'first read the last N flows of each node, then follow').argParser(positiveInt('--last')))
    .option('--no-resume', 'ignore what earlier runs stored (start live unless --since/--last)')
    .addOption(new Option('--batch-size <n>', 'events per committed transaction').default(DEFAULT_BATCH_SIZE).argParser(positiveInt('--batch-size')))
    .option('--reconnect-interval <duration>', 'reconnect this often so that nodes that joined later are included (0: never)', '10m')
    .addOption(outputOption(['table', 'json'], 'table'))
    .action(async (flags: ObserveFlags, cmd: Command) => {
      ctx.setExitCode(await observeCommand(flags, ctx, cmd.optsWithGlobals<{ db: string }>().db));
    });
}

async function observeCommand(flags: ObserveFlags, ctx: CommandContext, dbPath: string): Promise<number> {
  const env = ctx.io.env;
  const now = Date.now();
  // Flags and environment, checked before any I/O.
  const server = flags.server ?? env['HUBBLE_SERVER'] ?? DEFAULT_SERVER;
  const tlsFlags = {
    tls: flags.tls ?? envBool(env, 'HUBBLE_TLS'),
    caCertFiles: flags.tlsCaCertFiles?.length ? flags.tlsCaCertFiles : envList(env, 'HUBBLE_TLS_CA_CERT_FILES'),
    clientCertFile: flags.tlsClientCertFile ?? env['HUBBLE_TLS_CLIENT_CERT_FILE'],
    clientKeyFile: flags.tlsClientKeyFile ?? env['HUBBLE_TLS_CLIENT_KEY_FILE'],
    serverName: flags.tlsServerName ?? env['HUBBLE_TLS_SERVER_NAME'],
    allowInsecure: flags.tlsAllowInsecure ?? envBool(env, 'HUBBLE_TLS_ALLOW_INSECURE'),
  };
  checkTargetFlags(server, tlsFlags);
  const whitelist = buildWhitelist({
    namespace: flags.namespace ?? [],
    fromNamespace: flags.fromNamespace ?? [],
    toNamespace: flags.toNamespace ?? [],
    label: flags.label ?? [],
    fromLabel: flags.fromLabel ?? [],
    toLabel: flags.toLabel ?? [],
    verdict: flags.verdict ?? [],
  });
  const times = checkTimes(flags, now);
  const connectTimeoutMs = durationFlag('--timeout', flags.timeout, false);
  const reconnectIntervalMs = durationFlag('--reconnect-interval', flags.reconnectInterval, true);
  const target = resolveTarget(server, tlsFlags);

  // A database this run creates is removed again if the relay cannot be reached (nothing stored).
  const created = !existsSync(dbPath);
  let removeCreated = false;
  tuneHeapForObserve();
  const db = openDatabase(dbPath);
  limitPageCache(db, OBSERVE_PAGE_CACHE_KIB);
  const progress = createProgress(ctx.io);
  const controller = new AbortController();
  let signalName: string | undefined;
  const uninstall = ctx.io.onSignal?.((signal) => {
    if (signalName === undefined) {
      signalName = signal;
      controller.abort();
    }
  });
  const say = (line: string): void => {
    progress.done();
    ctx.io.stderr.write(`${line}\n`);
  };
  const notices = noticePrinter(say, () => signalName);
  // grpc-js and the protos take ~0.2 s to load; every other command starts without them.
  const { observe, RelayUnreachableError } = await import('../../app/observe.js');
  try {
    let result: ObserveResult;
    try {
      result = await observe(db, {
        target,
        ...times,
        whitelist,
        noResume: !flags.resume,
        batchSize: flags.batchSize,
        reconnectIntervalMs,
        connectTimeoutMs,
        sinks: defaultSinks({ edgeSlots: OBSERVE_EDGE_SLOTS }),
        signal: controller.signal,
        onNotice: notices,
        onProgress: (stats) => progress.update(() => statusLine(target.name, stats)),
      });
    } catch (e) {
      if (e instanceof RelayUnreachableError) {
        say(`Error: ${e.message}`);
        removeCreated = created;
        return EXIT_FAILURE;
      }
      throw e;
    }
    progress.done();
    if (result.error) say(`Error: ${result.server}: ${result.error} (flows before it are stored)`);
    const lost = Object.entries(result.lostBySource);
    if (lost.length > 0) {
      say(
        `WARNING: Hubble lost ${formatCount(result.totals.lostEvents)} events during this run (${lost.map(([k, n]) => `${k} ${formatCount(n)}`).join(', ')}): ` +
          'the baseline has holes. See `hubble-advisor status`.',
      );
    }
    ctx.io.stdout.write(flags.output === 'json' ? `${JSON.stringify(summaryJson(result), null, 2)}\n` : renderSummary(result));
    if (result.status === 'failed') return EXIT_FAILURE;
    return result.status === 'partial' ? EXIT_PARTIAL : EXIT_OK;
  } finally {
    uninstall?.();
    progress.done();
    db.close();
    if (removeCreated) for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(dbPath + suffix, { force: true });
  }
}

interface TimeOptions {
  since?: number;
  until?: number;
  durationMs?: number;
  last?: number;
}

/** The selector rules of `hubble observe`, plus ours for --duration; UsageError before any I/O. */
export function checkTimes(flags: Pick<ObserveFlags, 'since' | 'until' | 'duration' | 'last'>, now: number): TimeOptions {
  if (flags.last !== undefined && flags.since !== undefined) throw new UsageError('cannot set both --last and --since');
  if (flags.last !== undefined && flags.until !== undefined) throw new UsageError('cannot set both --last and --until');
  if (flags.duration !== undefined && flags.until !== undefined) throw new UsageError('cannot set both --duration and --until');
  const out: TimeOptions = {};
  if (flags.since !== undefined) {
    out.since = parseTimeFlag('--since', flags.since, now);
    if (out.since > now) throw new UsageError(`--since ${flags.since} is in the future`);
  }
  if (flags.until !== undefined) {
    out.until = parseTimeFlag('--until', flags.until, now);
    if (out.since !== undefined && out.since >= out.until) throw new UsageError('--since must be before --until');
  }
  if (flags.duration !== undefined) out.durationMs = durationFlag('--duration', flags.duration, false);
  if (flags.last !== undefined) out.last = flags.last;
  return out;
}

function durationFlag(flag: string, value: string, zeroOk: boolean): number {
  if (zeroOk && value === '0') return 0;
  if (!/^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(value)) {
    throw new UsageError(`invalid ${flag} "${value}": use a duration like 90s, 30m or 1h30m`);
  }
  const ms = parseGoDuration(value);
  if (ms <= 0) throw new UsageError(`${flag} must be positive`);
  return ms;
}

function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number, got "${v}"`);
    return n;
  };
}

function envBool(env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  return /^(1|true|yes|on)$/i.test(env[name] ?? '');
}

function envList(env: Readonly<Record<string, string | undefined>>, name: string): string[] {
  return (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Turns notices into stderr lines: loud for lost events and failing nodes, quiet for routine ones. */
function noticePrinter(say: (line: string) => void, signalName: () => string | undefined): (n: ObserveNotice) => void {
  let badPrinted = 0;
  let lostPending = 0;
  let lostSources = new Set<string>();
  let lostNodes = new Set<string>();
  let lastLostWarning = -Infinity;
  let failingSince: number | undefined;
  let lastConnected: string | undefined;
  return (n) => {
    switch (n.kind) {
      case 'server-status': {
        const s = n.status;
        const rings = `${formatCount(s.numFlows)}/${formatCount(s.maxFlows)} flows in the rings, ${formatCount(s.seenFlows)} seen` +
          (s.flowsRate !== undefined ? `, ${s.flowsRate.toFixed(1)} flows/s` : '');
        if (s.numConnectedNodes === undefined) {
          say(`Connected to a Hubble agent (not a relay)${s.version ? ` ${s.version}` : ''}: ${rings}`);
        } else {
          const unavailable = s.unavailableNodes.length > 0 ? ` (${s.unavailableNodes.slice(0, 10).join(', ')})` : '';
          say(
            `Connected to Hubble Relay${s.version ? ` ${s.version}` : ''}: ${s.numConnectedNodes} nodes connected, ` +
              `${s.numUnavailableNodes ?? 0} unavailable${unavailable}; ${rings}`,
          );
          if ((s.numUnavailableNodes ?? 0) > 0) say('WARNING: flows of unavailable nodes are not observed until they return.');
        }
        break;
      }
      case 'resuming':
        say(`Resuming after ${n.since}, the newest flow stored from this server (--since or --no-resume to choose).`);
        break;
      case 'stream-started':
        if (n.resumed) {
          if (failingSince !== undefined) say(`Stream resumed${n.since ? ` from ${n.since}` : ''}.`);
          failingSince = undefined;
        } else {
          if (n.follow) say(`Following flows${n.since ? ` since ${n.since}` : ' (live)'}; stop with Ctrl-C.`);
          else say(`Reading the flows Hubble holds${n.since ? ` since ${n.since}` : ''} up to --until.`);
        }
        break;
      case 'stream-broken': {
        const now = Date.now();
        failingSince ??= now;
        if (n.attempt <= RETRY_LINES_PRINTED || n.attempt % 20 === 0) {
          say(`Relay stream ended (${n.reason}); reconnecting in ${(n.delayMs / 1000).toFixed(1)}s (attempt ${n.attempt})`);
        }
        break;
      }
      case 'reconnect':
        // The planned reconnect every --reconnect-interval is routine; a node joining is news.
        if (n.reason !== 'periodic reconnect') say(`Reconnecting (${n.reason}).`);
        break;
      case 'lost': {
        lostPending += n.lost.numEventsLost;
        lostSources.add(n.lost.source);
        if (n.lost.nodeName) lostNodes.add(n.lost.nodeName);
        const now = Date.now();
        if (now - lastLostWarning >= LOST_WARNING_INTERVAL_MS) {
          const nodes = lostNodes.size > 0 ? ` on ${[...lostNodes].slice(0, 5).join(', ')}` : '';
          say(`WARNING: Hubble lost ${formatCount(lostPending)} events (${[...lostSources].join(', ')})${nodes}: the baseline has holes.`);
          lastLostWarning = now;
          lostPending = 0;
          lostSources = new Set();
          lostNodes = new Set();
        }
        break;
      }
      case 'node-status': {
        const s = n.status;
        const names = s.nodeNames.slice(0, 10).join(', ') + (s.nodeNames.length > 10 ? `, … (${s.nodeNames.length})` : '');
        if (s.state === 'NODE_CONNECTED') {
          // The relay announces its nodes at every stream start: print only changes.
          const key = [...s.nodeNames].sort().join(',');
          if (key !== lastConnected) say(`Nodes connected: ${names}`);
          lastConnected = key;
        }
        else {
          lastConnected = undefined;
          say(`WARNING: ${s.state} ${names}${s.message ? `: ${s.message}` : ''} (their flows are missing meanwhile)`);
        }
        break;
      }
      case 'bad-response':
        if (badPrinted++ < BAD_RESPONSES_PRINTED) say(`response ${n.index}: ${n.field}: ${n.reason}`);
        break;
      case 'stopping':
        if (n.reason === 'signal') say(`${signalName() ?? 'Signal'}: stopping, committing what was received…`);
        break;
      default: {
        const never: never = n;
        throw new Error(`unhandled notice ${String(never)}`);
      }
    }
  };
}

function statusLine(server: string, s: ObserveStats): string {
  return (
    `observe ${server}: ${formatCount(Math.round(s.flowsPerSecond))} flows/s, ${formatCount(s.flows)} flows, ` +
    `${s.edges === undefined ? '-' : formatCount(s.edges)} edges, ${formatCount(s.drops)} drops, ` +
    `${formatCount(s.lostEvents)} lost, up ${formatDuration(s.uptimeMs)}` +
    (s.reconnects > 0 ? `, ${s.reconnects} reconnects` : '')
  );
}

function summaryJson(r: ObserveResult): object {
  return {
    server: r.server,
    sourceId: r.sourceId,
    status: r.status,
    stopReason: r.stopReason,
    startedAt: r.startedAt,
    elapsedMs: r.elapsedMs,
    ...r.totals,
    drops: r.drops,
    lostBySource: r.lostBySource,
    streams: r.streams,
    reconnects: r.reconnects,
    ...(r.resumedFrom ? { resumedFrom: r.resumedFrom } : {}),
    serverStatus: r.serverStatus,
    ...(r.error ? { error: r.error } : {}),
  };
}

function renderSummary(r: ObserveResult): string {
  const rate = r.elapsedMs > 0 ? Math.round((r.totals.flows * 1000) / r.elapsedMs) : 0;
  return renderTable(
    ['SERVER', 'STATUS', 'STOPPED BY', 'FLOWS', 'DUPLICATES', 'DROPS', 'LOST', 'RECONNECTS', 'DURATION', 'FLOWS/S'],
    [
      [
        r.server,
        r.status,
        r.stopReason,
        formatCount(r.totals.flows),
        formatCount(r.totals.duplicates),
        formatCount(r.drops),
        formatCount(r.totals.lostEvents),
        formatCount(r.reconnects),
        formatDuration(r.elapsedMs),
        formatCount(rate),
      ],
    ],
  );
}
