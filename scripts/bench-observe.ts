/**
 * Live-ingest benchmark: a loopback FakeRelay (test/helpers/fake-relay.ts) streams N distinct
 * synthetic flows, built from the public Hubble samples, to `hubble-advisor observe` running as its
 * own process, which stores them in a fresh SQLite file.
 *
 *   npx tsx scripts/bench-observe.ts [--flows 1000000] [--client tsx|dist] [--no-pin] [--runs 1]
 *                                    [--baseline DIR]
 *
 * `--baseline DIR` (another checkout, e.g. `git worktree add /tmp/before <commit>`, built with
 * `npm run build` when `--client dist`) runs that checkout's client before ours in every run, against
 * the same server, so both figures and their ratio come from the same session.
 *
 * The server and the client each get one core (taskset, when available): the client's figure is
 * what one core of hubble-advisor sustains. Reports client flows/s (from the CLI's own summary and
 * from wall time including start-up), flows per second of the client's CPU time (utime + stime,
 * start-up included: what an uncontended core would sustain when other work shares the pinned
 * core) and the client's peak RSS (VmHWM), both polled from /proc.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeRelay, RawFlowServer, fromProtoJson, syntheticFlows } from '../test/helpers/fake-relay.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SAMPLES = resolve(ROOT, '../shared/samples/hubble');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

/** Flow templates: every flow of the samples (TCP, UDP, ICMP, DNS, HTTP, drops, policy verdicts). */
function templates(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const file of readdirSync(SAMPLES).sort()) {
    for (const line of readFileSync(join(SAMPLES, file), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const ev = fromProtoJson(JSON.parse(line) as Record<string, unknown>);
      const flow = ev['flow'] as Record<string, unknown> | undefined;
      if (flow) out.push({ ...flow, node_name: flow['node_name'] ?? ev['node_name'] ?? 'node-1' });
    }
  }
  return out;
}

async function serve(): Promise<void> {
  const count = Number(arg('flows', '1000000'));
  const startMs = Number(arg('start-ms', '0'));
  const tpl = templates();
  const source = (): Iterable<Buffer> => syntheticFlows(tpl, count, startMs);
  const relay = flag('grpc-server') ? await FakeRelay.start({ source }) : await RawFlowServer.start(source);
  process.stdout.write(`${relay.port}\n`);
  process.on('SIGTERM', () => void relay.stop().then(() => process.exit(0)));
}

function pinned(core: number, argv: string[]): [string, string[]] {
  const canPin = !flag('no-pin') && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  return canPin ? ['taskset', ['-c', String(core), ...argv]] : [argv[0] as string, argv.slice(1)];
}

/** utime + stime of a process in seconds (clock ticks of 1/100 s), from /proc. */
function readCpuS(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function readHwmKb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface RunResult {
  flows: number;
  cliFlowsPerSec: number;
  wallFlowsPerSec: number;
  wallS: number;
  peakRssMb: number;
  /** The client's CPU time (start-up included): flows / cpuS is what an uncontended core sustains. */
  cpuS: number;
  flowsPerCpuSecond: number;
}

async function once(count: number, client: 'tsx' | 'dist', root = ROOT): Promise<RunResult> {
  const startMs = Date.now() - 3_600_000;
  const [scmd, sargs] = pinned(1, [process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), '--serve', '--flows', String(count), '--start-ms', String(startMs)]);
  const server = spawn(scmd, sargs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((res, rej) => {
    let buf = '';
    server.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) res(Number(buf.trim()));
    });
    server.once('exit', (c) => rej(new Error(`server exited ${c}`)));
  });
  const dir = mkdtempSync(join(tmpdir(), 'bench-observe-'));
  const bin = client === 'dist' ? [join(root, 'dist/cli/main.js')] : ['--import', 'tsx', join(root, 'src/cli/main.ts')];
  const since = new Date(startMs).toISOString();
  const until = new Date(startMs + 30 * 60_000).toISOString();
  const [ccmd, cargs] = pinned(0, [process.execPath, ...bin, '--db', join(dir, 'bench.db'), 'observe', '--server', `127.0.0.1:${port}`, '--since', since, '--until', until, '-o', 'json']);
  const t0 = performance.now();
  const child = spawn(ccmd, cargs, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // taskset execs node in place, so the pid is the client's.
  let peakKb = 0;
  let cpuS = 0;
  const poll = setInterval(() => {
    const kb = child.pid === undefined ? undefined : readHwmKb(child.pid);
    if (kb !== undefined) peakKb = Math.max(peakKb, kb);
    const cpu = child.pid === undefined ? undefined : readCpuS(child.pid);
    if (cpu !== undefined) cpuS = cpu; // the last reading is within 50 ms of the exit
  }, 50);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearInterval(poll);
  const wallS = (performance.now() - t0) / 1000;
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`observe exited ${code}\n${err}`);
  const summary = JSON.parse(out) as { flows: number; elapsedMs: number };
  return {
    flows: summary.flows,
    cliFlowsPerSec: Math.round((summary.flows * 1000) / summary.elapsedMs),
    wallFlowsPerSec: Math.round(summary.flows / wallS),
    wallS: Math.round(wallS * 100) / 100,
    peakRssMb: Math.round(peakKb / 1024),
    cpuS,
    flowsPerCpuSecond: cpuS > 0 ? Math.round(summary.flows / cpuS) : 0,
  };
}

async function main(): Promise<void> {
  if (flag('serve')) return serve();
  const count = Number(arg('flows', '1000000'));
  const client = arg('client', 'tsx') as 'tsx' | 'dist';
  const baselineArg = arg('baseline', '');
  const baseline = baselineArg ? resolve(baselineArg) : undefined;
  for (const root of baseline ? [baseline, ROOT] : [ROOT]) {
    if (client === 'dist' && !existsSync(join(root, 'dist/cli/main.js'))) throw new Error(`${root}: run \`npm run build\` first`);
  }
  const runs = Number(arg('runs', '1'));
  const results: RunResult[] = [];
  const before: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    if (baseline) {
      const b = await once(count, client, baseline);
      before.push(b);
      process.stdout.write(`run ${i + 1} baseline: ${JSON.stringify(b)}\n`);
    }
    const r = await once(count, client);
    results.push(r);
    process.stdout.write(`run ${i + 1}: ${JSON.stringify(r)}\n`);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const summary = (rs: RunResult[]) => ({
    cliFlowsPerSec: median(rs.map((r) => r.cliFlowsPerSec)),
    cliFlowsPerSecRange: [Math.min(...rs.map((r) => r.cliFlowsPerSec)), Math.max(...rs.map((r) => r.cliFlowsPerSec))],
    wallFlowsPerSec: median(rs.map((r) => r.wallFlowsPerSec)),
    flowsPerCpuSecond: median(rs.map((r) => r.flowsPerCpuSecond)),
    peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)),
  });
  const ours = summary(results);
  const out: Record<string, unknown> = { flows: count, client, runs, ...ours };
  if (baseline) {
    const base = summary(before);
    out['baseline'] = { root: baseline, ...base };
    out['ratio'] = Math.round((ours.cliFlowsPerSec / base.cliFlowsPerSec) * 100) / 100;
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
