/**
 * Live-ingest benchmark: a loopback FakeRelay (test/helpers/fake-relay.ts) streams N distinct
 * synthetic flows, built from the public Hubble samples, to `hubble-advisor observe` running as its
 * own process, which stores them in a fresh SQLite file.
 *
 *   npx tsx scripts/bench-observe.ts [--flows 1000000] [--client tsx|dist] [--no-pin] [--runs 1]
 *                                    [--baseline DIR] [--cluster FILE] [--rss-every-ms 1000]
 *
 * `--cluster FILE` sends the flows of a recording made by scripts/generate-cluster.mjs (thousands
 * of workloads, churning pods and IPs, a week of time) instead of the samples, up to `--flows` of
 * them (its own times and uuids). The file is encoded into GetFlowsResponse messages once, into
 * FILE.getflows.bin beside it, so that sending costs the server nothing but copies.
 * The client's RSS is sampled every `--rss-every-ms` (default 1 s) and reported in ten equal slices
 * of the run, to show whether memory stays flat while pods churn.
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
import { closeSync, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { FakeRelay, RawFlowServer, encodeResponse, fromProtoJson, syntheticFlows } from '../test/helpers/fake-relay.js';

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

/** Where a cluster recording's encoded messages are cached, and the time span of its flows. */
interface ClusterCache {
  readonly bin: string;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly flows: number;
}

/** Encodes a generate-cluster recording into length-prefixed GetFlowsResponse messages, once. */
async function clusterCache(file: string): Promise<ClusterCache> {
  const bin = `${file}.getflows.bin`;
  const meta = `${bin}.json`;
  if (existsSync(meta) && existsSync(bin) && statSync(bin).mtimeMs >= statSync(file).mtimeMs) {
    return { bin, ...(JSON.parse(readFileSync(meta, 'utf8')) as Omit<ClusterCache, 'bin'>) };
  }
  const fd = openSync(bin, 'w');
  let firstMs = Infinity;
  let lastMs = -Infinity;
  let flows = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    const ev = JSON.parse(line) as Record<string, unknown>;
    const flow = ev['flow'] as Record<string, unknown> | undefined;
    if (flow) {
      const ms = Date.parse(String(flow['time']));
      firstMs = Math.min(firstMs, ms);
      lastMs = Math.max(lastMs, ms);
      flows++;
    }
    const msg = encodeResponse(fromProtoJson(ev));
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32LE(msg.length);
    writeSync(fd, len);
    writeSync(fd, msg);
  }
  closeSync(fd);
  const out = { firstMs, lastMs, flows };
  writeFileSync(meta, JSON.stringify(out));
  return { bin, ...out };
}

/** Up to `count` flows (and whatever events come between them) from a cluster cache. */
function* clusterMessages(bin: string, count: number): Generator<Buffer> {
  const fd = openSync(bin, 'r');
  const chunk = Buffer.allocUnsafe(8 * 1024 * 1024);
  let have = 0;
  let sent = 0;
  try {
    for (;;) {
      const n = readSync(fd, chunk, have, chunk.length - have, null);
      have += n;
      let at = 0;
      while (at + 4 <= have) {
        const len = chunk.readUInt32LE(at);
        if (at + 4 + len > have) break;
        yield Buffer.from(chunk.subarray(at + 4, at + 4 + len));
        at += 4 + len;
        // GetFlowsResponse.flow is field 1 (tag 0x0a); lost events and node status are not counted.
        if (chunk[at - len] === 0x0a && ++sent >= count) return;
      }
      chunk.copy(chunk, 0, at, have);
      have -= at;
      if (n === 0) return;
    }
  } finally {
    closeSync(fd);
  }
}

async function serve(): Promise<void> {
  const count = Number(arg('flows', '1000000'));
  const startMs = Number(arg('start-ms', '0'));
  const cluster = arg('cluster', '');
  const tpl = cluster ? [] : templates();
  const source = (): Iterable<Buffer> => (cluster ? clusterMessages(`${cluster}.getflows.bin`, count) : syntheticFlows(tpl, count, startMs));
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

function readStatusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
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
  /** The largest RSS sampled in each tenth of the run (MB): flat when memory does not grow. */
  rssByTenthMb: number[];
  /** The median RSS sampled in each quarter of the run (MB). */
  rssByQuarterMb: number[];
  /** Whether the second half of the run did not grow: last quarter's median within 5% of the second's. */
  rssFlat: boolean;
}

async function once(count: number, client: 'tsx' | 'dist', root = ROOT, cluster?: ClusterCache): Promise<RunResult> {
  const startMs = cluster ? cluster.firstMs - 1000 : Date.now() - 3_600_000;
  const clusterArgs = cluster ? ['--cluster', cluster.bin.replace(/\.getflows\.bin$/, '')] : [];
  const [scmd, sargs] = pinned(1, [process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), '--serve', '--flows', String(count), '--start-ms', String(startMs), ...clusterArgs]);
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
  const until = new Date(cluster ? cluster.lastMs + 1000 : startMs + 30 * 60_000).toISOString();
  // `--node-args '--cpu-prof --cpu-prof-dir=DIR'` profiles the client.
  const nodeArgs = arg('node-args', '').split(' ').filter(Boolean);
  const [ccmd, cargs] = pinned(0, [process.execPath, ...nodeArgs, ...bin, '--db', join(dir, 'bench.db'), 'observe', '--server', `127.0.0.1:${port}`, '--since', since, '--until', until, '-o', 'json']);
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
    const kb = child.pid === undefined ? undefined : readStatusKb(child.pid, 'VmHWM');
    if (kb !== undefined) peakKb = Math.max(peakKb, kb);
    const cpu = child.pid === undefined ? undefined : readCpuS(child.pid);
    if (cpu !== undefined) cpuS = cpu; // the last reading is within 50 ms of the exit
  }, 50);
  const rss: { t: number; kb: number }[] = [];
  const sampler = setInterval(() => {
    const kb = child.pid === undefined ? undefined : readStatusKb(child.pid, 'VmRSS');
    if (kb !== undefined) rss.push({ t: performance.now() - t0, kb });
  }, Number(arg('rss-every-ms', '1000')));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearInterval(poll);
  clearInterval(sampler);
  const wallS = (performance.now() - t0) / 1000;
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`observe exited ${code}\n${err}`);
  const summary = JSON.parse(out) as { flows: number; elapsedMs: number };
  const slices = (n: number): number[][] =>
    Array.from({ length: n }, (_, i) => rss.filter((r) => r.t >= (i * wallS * 1000) / n && r.t < ((i + 1) * wallS * 1000) / n).map((r) => r.kb));
  const medianMb = (kbs: number[]): number => (kbs.length === 0 ? 0 : Math.round(([...kbs].sort((a, b) => a - b)[Math.floor(kbs.length / 2)] as number) / 1024));
  const rssByQuarterMb = slices(4).map(medianMb);
  return {
    flows: summary.flows,
    cliFlowsPerSec: Math.round((summary.flows * 1000) / summary.elapsedMs),
    wallFlowsPerSec: Math.round(summary.flows / wallS),
    wallS: Math.round(wallS * 100) / 100,
    peakRssMb: Math.round(peakKb / 1024),
    cpuS,
    flowsPerCpuSecond: cpuS > 0 ? Math.round(summary.flows / cpuS) : 0,
    rssByTenthMb: slices(10).map((kbs) => (kbs.length === 0 ? 0 : Math.round(Math.max(...kbs) / 1024))),
    rssByQuarterMb,
    rssFlat: (rssByQuarterMb[3] as number) <= (rssByQuarterMb[1] as number) * 1.05,
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
  const clusterFile = arg('cluster', '');
  const cluster = clusterFile ? await clusterCache(resolve(clusterFile)) : undefined;
  if (cluster && cluster.flows < count) process.stdout.write(`${clusterFile} has ${cluster.flows} flows: sending all of them\n`);
  const results: RunResult[] = [];
  const before: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    if (baseline) {
      const b = await once(count, client, baseline, cluster);
      before.push(b);
      process.stdout.write(`run ${i + 1} baseline: ${JSON.stringify(b)}\n`);
    }
    const r = await once(count, client, ROOT, cluster);
    results.push(r);
    process.stdout.write(`run ${i + 1}: ${JSON.stringify(r)}\n`);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const summary = (rs: RunResult[]) => ({
    cliFlowsPerSec: median(rs.map((r) => r.cliFlowsPerSec)),
    cliFlowsPerSecRange: [Math.min(...rs.map((r) => r.cliFlowsPerSec)), Math.max(...rs.map((r) => r.cliFlowsPerSec))],
    wallFlowsPerSec: median(rs.map((r) => r.wallFlowsPerSec)),
    flowsPerCpuSecond: median(rs.map((r) => r.flowsPerCpuSecond)),
    cpuS: median(rs.map((r) => r.cpuS)),
    peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)),
    // The last run's RSS over time: flat, or growing with pod churn?
    rssByTenthMb: rs.at(-1)?.rssByTenthMb ?? [],
    rssByQuarterMb: rs.at(-1)?.rssByQuarterMb ?? [],
    rssFlat: rs.every((r) => r.rssFlat),
  });
  const ours = summary(results);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const out: Record<string, unknown> = { flows: count, client, runs, ...(cluster ? { cluster: clusterFile } : {}), loadAverage: load, ...ours };
  if (baseline) {
    const base = summary(before);
    out['baseline'] = { root: baseline, ...base };
    out['ratio'] = Math.round((ours.cliFlowsPerSec / base.cliFlowsPerSec) * 100) / 100;
    // On a shared machine, flows per CPU-second compare builds better than flows per wall second.
    out['cpuRatio'] = Math.round((ours.flowsPerCpuSecond / base.flowsPerCpuSecond) * 100) / 100;
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
