#!/usr/bin/env node
// `npm run bench`: generates recordings with the repo's generators (not committed), then measures
// in one run, on the same files: a split + JSON.parse baseline loop, `replay` end to end (1 and 2
// workers), and `edges -A` / `recommend -A` on the resulting database. Figures are reported as
// ratios to the baseline measured in the same run, so a slower or busier machine shifts both.
//
//   node scripts/bench.mjs [--sizes 100000,1000000,5000000] [--dir bench-out] [--keep] [--repeat N]
//        [--cluster 750,1500,3000|none] [--cluster-dir DIR] [--read-repeat N]
//        [--observe-flows N|all|none] [--port-scan WORKLOADS|none]
//
// Two kinds of recording: the home-lab topology (generate-recording.mjs, --sizes flows) and a
// high-cardinality churning cluster (generate-cluster.mjs, --cluster workloads, 2,000,000 flows
// per 3,000 workloads). Cluster recordings are cached in --cluster-dir (default: the system temp
// dir) since the biggest takes minutes to write; for them the bench also times every read command
// (status, edges -A, recommend -A and --out, check and drops against the recommended policies,
// report when the build has it) and reports time and peak RSS per workload, and runs `observe`
// against a loopback relay that sends the same recording as fast as it can (scripts/bench-observe.ts;
// --observe-flows of them, default all): flows/s, flows per CPU-second, peak RSS and RSS over time.
// --port-scan (default: the smallest cluster) replays that cluster's first 20,000 flows plus a port
// scan of every TCP and UDP port by two peers, all dropped (generate-port-scan.mjs), and times
// recommend --out, status, edges -A, drops (-o yaml, --policies) on it.
//
// On a shared 2-core VM single timings of the same thing vary by 20% or more, baseline included, so
// each size's three measurements run --repeat times, interleaved (baseline, 1 thread, 2 workers,
// baseline, ...), and the table reports medians; the ratios are ratios of medians. Default: 3 up to
// 1M flows, 1 above (a 5M round takes ~4 minutes).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const sizesFlag = flag('--sizes', '100000,1000000,5000000');
const sizes = sizesFlag === 'none' ? [] : sizesFlag.split(',').map(Number);
const dir = flag('--dir', join(root, 'bench-out'));
const keep = args.includes('--keep');
const repeatFlag = flag('--repeat', undefined);
const clusterFlag = flag('--cluster', '750,1500,3000');
const clusterSizes = clusterFlag === 'none' ? [] : clusterFlag.split(',').map(Number);
const clusterDir = flag('--cluster-dir', join(tmpdir(), 'hubble-advisor-bench'));
const readRepeat = Number(flag('--read-repeat', '3'));
const observeFlows = flag('--observe-flows', 'all');
const portScanFlag = flag('--port-scan', clusterSizes.length > 0 ? String(Math.min(...clusterSizes)) : 'none');
if (!sizes.every((n) => Number.isInteger(n) && n > 0)) throw new Error('--sizes: flow counts, or none');
mkdirSync(dir, { recursive: true });
mkdirSync(clusterDir, { recursive: true });

function log(s) {
  process.stderr.write(`${s}\n`);
}

/** The baseline the issue names: split lines and JSON.parse them, nothing else, one thread. */
function parseBaseline(file) {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let carry = Buffer.alloc(0);
  let lines = 0;
  const t0 = performance.now();
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    const chunk = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (nl > start) {
        JSON.parse(chunk.toString('utf8', start, nl));
        lines++;
      }
      start = nl + 1;
    }
    carry = Buffer.from(chunk.subarray(start));
  }
  closeSync(fd);
  return { lines, ms: performance.now() - t0 };
}

/** `quiet`: drop the command's stderr (recommend's lints and baseline warnings are not bench output). */
/** `allowFail`: resolve with `{failed: true, code}` instead of rejecting when the command fails. */
function runChild(argv, { quiet = false, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'scripts/bench-child.mjs'), ...argv], {
      stdio: ['ignore', 'ignore', quiet ? 'ignore' : 'inherit', 'pipe'],
    });
    let report = '';
    child.stdio[3].on('data', (d) => (report += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && code !== 3) {
        if (allowFail) resolve({ failed: true, code, ...(report ? JSON.parse(report) : {}) });
        else reject(new Error(`hubble-advisor ${argv.join(' ')} exited ${code}`));
      } else resolve(JSON.parse(report));
    });
  });
}

function median(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function dbSize(db) {
  return ['', '-wal'].reduce((n, s) => n + (existsSync(db + s) ? statSync(db + s).size : 0), 0);
}

function fmt(n, digits = 0) {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const results = [];
log(`hubble-advisor benchmark on ${cpus().length} cores, Node ${process.version}`);
for (const size of sizes) {
  const file = join(dir, `recording-${size}.jsonl`);
  if (!existsSync(file)) {
    log(`generating ${fmt(size)} flows -> ${file}`);
    const gen = spawnSync(
      process.execPath,
      [join(root, 'scripts/generate-recording.mjs'), '--topology', join(root, 'recordings/home-lab.topology.yaml'), '--flows', String(size), '--out', file, '--seed', '7', '--no-drops'],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (gen.status !== 0) throw new Error('generator failed');
  }
  const bytes = statSync(file).size;
  // Warm the page cache so every measurement below reads from memory alike.
  parseBaseline(file);
  const repeat = repeatFlag === undefined ? (size <= 1_000_000 ? 3 : 1) : Number(repeatFlag);
  const runs = { base: [], 1: [], 2: [] };
  let lines = 0;
  for (let round = 0; round < repeat; round++) {
    const base = parseBaseline(file);
    lines = base.lines;
    runs.base.push(base.ms);
    for (const workers of [1, 2]) {
      const db = join(dir, `bench-${size}-w${workers}.db`);
      for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true });
      const r = await runChild(['--db', db, 'replay', '--workers', String(workers), '-o', 'json', file]);
      runs[workers].push({ ms: r.wallMs, maxRssMB: r.maxRssMB, dbBytes: dbSize(db) });
    }
  }
  const baseMs = median(runs.base);
  const row = {
    flows: lines,
    fileMB: bytes / 1e6,
    repeat,
    baseline: { ms: baseMs, runsMs: runs.base, flowsPerSec: (lines / baseMs) * 1000, mbPerSec: bytes / 1e6 / (baseMs / 1000) },
  };
  for (const workers of [1, 2]) {
    const ms = median(runs[workers].map((r) => r.ms));
    const dbBytes = Math.max(...runs[workers].map((r) => r.dbBytes));
    row[`replay${workers}`] = {
      ms,
      runsMs: runs[workers].map((r) => r.ms),
      flowsPerSec: (lines / ms) * 1000,
      mbPerSec: bytes / 1e6 / (ms / 1000),
      ratioToBaseline: baseMs / ms,
      // Peak RSS: the largest of the runs, not the median.
      maxRssMB: Math.max(...runs[workers].map((r) => r.maxRssMB)),
      dbMB: dbBytes / 1e6,
      dbPercentOfRecording: (dbBytes / bytes) * 100,
    };
  }
  const db = join(dir, `bench-${size}-w2.db`);
  const edges = await runChild(['--db', db, 'edges', '-A', '-o', 'json'], { quiet: true });
  const rec = await runChild(['--db', db, 'recommend', '-A', '-o', 'yaml'], { quiet: true });
  row.edges = { ms: edges.wallMs, maxRssMB: edges.maxRssMB };
  row.recommend = { ms: rec.wallMs, maxRssMB: rec.maxRssMB };
  results.push(row);
  log(
    `${fmt(row.flows)} flows (${fmt(row.fileMB)} MB, medians of ${repeat}; ms per run: baseline ${row.baseline.runsMs.map((x) => fmt(x)).join('/')}, ` +
      `1 thread ${row.replay1.runsMs.map((x) => fmt(x)).join('/')}, 2 workers ${row.replay2.runsMs.map((x) => fmt(x)).join('/')}): baseline ${fmt(row.baseline.flowsPerSec)} flows/s (${fmt(row.baseline.mbPerSec)} MB/s); ` +
      `replay ${fmt(row.replay1.flowsPerSec)} flows/s (${fmt(row.replay1.mbPerSec)} MB/s, x${fmt(row.replay1.ratioToBaseline, 2)}), ` +
      `2 workers ${fmt(row.replay2.flowsPerSec)} flows/s (${fmt(row.replay2.mbPerSec)} MB/s, x${fmt(row.replay2.ratioToBaseline, 2)}); ` +
      `peak RSS ${fmt(row.replay1.maxRssMB)}/${fmt(row.replay2.maxRssMB)} MB; DB ${fmt(row.replay1.dbMB, 1)} MB ` +
      `(${fmt(row.replay1.dbPercentOfRecording, 2)}%); edges -A ${fmt(row.edges.ms)} ms; recommend -A ${fmt(row.recommend.ms)} ms`,
  );
  if (!keep) rmSync(file, { force: true });
}

// ---- the high-cardinality cluster ----------------------------------------------------------------

const clusterResults = [];
const hasReport = existsSync(join(root, 'dist/cli/commands/report.js'));
/** The cluster recording of this many workloads (2M flows at 3,000), generated once and cached. */
function clusterRecording(workloads) {
  const flows = Math.round((workloads * 2_000_000) / 3000);
  const file = join(clusterDir, `cluster-${workloads}-${flows}-bench.jsonl`);
  if (!existsSync(file)) {
    log(`generating a ${fmt(workloads)}-workload cluster, ${fmt(flows)} flows -> ${file} (cached for later runs)`);
    const tmp = `${file}.tmp`;
    const gen = spawnSync(process.execPath, [join(root, 'scripts/generate-cluster.mjs'), '--workloads', String(workloads), '--flows', String(flows), '--seed', 'bench', '--out', tmp], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (gen.status !== 0) throw new Error('generate-cluster failed');
    renameSync(tmp, file);
  }
  return { file, flows };
}

for (const workloads of clusterSizes) {
  const { file, flows } = clusterRecording(workloads);
  const bytes = statSync(file).size;
  parseBaseline(file);
  const repeat = repeatFlag === undefined ? (flows <= 1_000_000 ? 3 : 1) : Number(repeatFlag);
  const runs = { base: [], 1: [], 2: [] };
  const loads = [loadavg()[0]];
  let lines = 0;
  for (let round = 0; round < repeat; round++) {
    const base = parseBaseline(file);
    lines = base.lines;
    runs.base.push(base.ms);
    for (const workers of [1, 2]) {
      const db = join(dir, `cluster-${workloads}-w${workers}.db`);
      for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true });
      // Default settings for 2 workers (--workers auto picks 2 at this size); 1 thread forced.
      const argv = workers === 1 ? ['--db', db, 'replay', '--workers', '1', '-o', 'json', file] : ['--db', db, 'replay', '-o', 'json', file];
      const r = await runChild(argv, { allowFail: true });
      runs[workers].push({ ms: r.wallMs, cpuMs: (r.userMs ?? 0) + (r.systemMs ?? 0), maxRssMB: r.maxRssMB, failed: r.failed === true });
    }
    loads.push(loadavg()[0]);
  }
  const baseMs = median(runs.base);
  const row = { workloads, flows: lines, fileMB: bytes / 1e6, repeat, baseline: { ms: baseMs, runsMs: runs.base } };
  for (const workers of [1, 2]) {
    const ok = runs[workers].filter((r) => !r.failed);
    const ms = ok.length > 0 ? median(ok.map((r) => r.ms)) : NaN;
    row[`replay${workers}`] = {
      ms,
      runsMs: runs[workers].map((r) => (r.failed ? 'failed' : r.ms)),
      failures: runs[workers].length - ok.length,
      ratioToBaseline: baseMs / ms,
      cpuMs: ok.length > 0 ? median(ok.map((r) => r.cpuMs)) : NaN,
      maxRssMB: Math.max(...runs[workers].map((r) => r.maxRssMB ?? 0)),
    };
  }
  const db = join(dir, `cluster-${workloads}-w${row.replay2.failures === 0 ? 2 : 1}.db`);
  row.rawEdges = countRows(db, 'edges');
  const policyDir = join(dir, `cluster-${workloads}-policies`);
  rmSync(policyDir, { recursive: true, force: true });
  const commands = [
    ['status', ['status']],
    ['edges', ['edges', '-A', '-o', 'json']],
    ['recommend', ['recommend', '-A', '-o', 'yaml']],
    ['recommendOut', ['recommend', '-A', '--out', policyDir]],
    ['check', ['check', '--policies', policyDir]],
    ['drops', ['drops', '--policies', policyDir]],
    ...(hasReport ? [['report', ['report']], ['reportHtml', ['report', '-o', 'html']]] : []),
  ];
  const reads = Object.fromEntries(commands.map(([name]) => [name, []]));
  const warmReads = Object.fromEntries(commands.map(([name]) => [name, []]));
  // Interleaved rounds: one run of each command per round. recommend --out rewrites the same
  // directory each round (same content), and check / drops read it.
  // A read that resolves the graph stores a snapshot of it in the database (when the build does,
  // README "Performance"): each command runs cold (no snapshot: a read after `observe`, or after a
  // replay by a build before replay stored one; it also stores one) and then warm (a snapshot of
  // the whole graph present: the first read after a replay, since replay stores it).
  for (let round = 0; round < readRepeat; round++) {
    for (const [name, argv] of commands) {
      dropSnapshot(db);
      const r = await runChild(['--db', db, ...argv], { quiet: true, allowFail: true });
      reads[name].push(r);
    }
    if (dropSnapshot(db)) {
      // Every evidence list, and the workloads described: what the reads before them leave.
      await runChild(['--db', db, 'edges', '-A', '-o', 'json'], { quiet: true });
      await runChild(['--db', db, 'recommend', '-A', '-o', 'yaml'], { quiet: true });
      for (const [name, argv] of commands) warmReads[name].push(await runChild(['--db', db, ...argv], { quiet: true, allowFail: true }));
    }
    loads.push(loadavg()[0]);
  }
  const figures = (runs) => {
    const ok = runs.filter((r) => !r.failed);
    return {
      ms: ok.length > 0 ? median(ok.map((r) => r.wallMs)) : NaN,
      cpuMs: ok.length > 0 ? median(ok.map((r) => r.userMs + r.systemMs)) : NaN,
      runsMs: runs.map((r) => (r.failed ? `exit ${r.code}` : r.wallMs)),
      maxRssMB: Math.max(...runs.map((r) => r.maxRssMB ?? 0)),
    };
  };
  for (const [name] of commands) {
    row[name] = figures(reads[name]);
    if (warmReads[name].length > 0) row[name].warm = figures(warmReads[name]);
  }
  row.snapshotMB = snapshotBytes(db) / 1e6;
  if (observeFlows !== 'none') {
    row.observe = observeCluster(file, observeFlows === 'all' ? lines : Math.min(lines, Number(observeFlows)));
    loads.push(loadavg()[0]);
  }
  row.load = { min: Math.min(...loads), max: Math.max(...loads) };
  clusterResults.push(row);
  log(
    `cluster ${fmt(workloads)} workloads, ${fmt(row.flows)} flows (${fmt(row.fileMB)} MB), ${fmt(row.rawEdges)} stored edges, load ${fmt(row.load.min, 1)}-${fmt(row.load.max, 1)}: ` +
      `baseline ${row.baseline.runsMs.map((x) => fmt(x)).join('/')} ms; replay 1 thread ${row.replay1.runsMs.map((x) => (typeof x === 'number' ? fmt(x) : x)).join('/')} ms ` +
      `(x${fmt(row.replay1.ratioToBaseline, 2)}, ${fmt(row.replay1.maxRssMB)} MB); default (2 workers) ${row.replay2.runsMs.map((x) => (typeof x === 'number' ? fmt(x) : x)).join('/')} ms ` +
      `(x${fmt(row.replay2.ratioToBaseline, 2)}, ${fmt(row.replay2.maxRssMB)} MB); ` +
      commands
        .map(([name]) => {
          const runs = (c) => `${c.runsMs.map((x) => (typeof x === 'number' ? fmt(x) : x)).join('/')} ms ${fmt(c.maxRssMB)} MB`;
          return `${name} ${runs(row[name])}${row[name].warm ? ` (warm ${runs(row[name].warm)})` : ''}`;
        })
        .join('; ') +
      `; graph snapshot ${fmt(row.snapshotMB, 1)} MB` +
      (row.observe ? `; observe ${observeCell(row.observe)}` : ''),
  );
}

// ---- a port scan ----------------------------------------------------------------------------------

// The smallest cluster's first 20,000 flows plus a world address and a pod each scanning one pod on
// every TCP and UDP port, all dropped (scripts/generate-port-scan.mjs): 262,140 drops, one edge per port.
let scanResult;
if (portScanFlag !== 'none') {
  const workloads = Number(portScanFlag);
  const file = join(clusterDir, `port-scan-${workloads}.jsonl`);
  if (!existsSync(file)) {
    const tmp = `${file}.tmp`;
    const gen = spawnSync(process.execPath, [join(root, 'scripts/generate-port-scan.mjs'), '--from', clusterRecording(workloads).file, '--out', tmp], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (gen.status !== 0) throw new Error('generate-port-scan failed');
    renameSync(tmp, file);
  }
  const db = join(dir, 'port-scan.db');
  for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true });
  const policyDir = join(dir, 'port-scan-policies');
  rmSync(policyDir, { recursive: true, force: true });
  const loads = [loadavg()[0]];
  const replay = await runChild(['--db', db, 'replay', '--workers', '1', '-o', 'json', file]);
  const steps = [
    ['recommend -A --out', ['recommend', '-A', '--out', policyDir]],
    ['status', ['status']],
    ['edges -A -o json', ['edges', '-A', '-o', 'json']],
    ['drops', ['drops']],
    ['drops -o yaml', ['drops', '-o', 'yaml']],
    ['drops --policies', ['drops', '--policies', policyDir]],
  ];
  const runs = [];
  for (const [name, argv] of steps) {
    // Cold, each: the first read after the replay (see the cluster's reads).
    dropSnapshot(db);
    const r = await runChild(['--db', db, ...argv], { quiet: true, allowFail: true });
    runs.push({ name, ...r });
  }
  loads.push(loadavg()[0]);
  scanResult = { workloads, replay, runs, rawEdges: countRows(db, 'edges'), load: { min: Math.min(...loads), max: Math.max(...loads) } };
  log(
    `port scan over ${fmt(workloads)} workloads (${fmt(scanResult.rawEdges)} stored edges, load ${fmt(scanResult.load.min, 1)}-${fmt(scanResult.load.max, 1)}): replay ${fmt(replay.wallMs)} ms; ` +
      runs.map((r) => `${r.name} ${r.failed ? `exit ${r.code}` : `${fmt(r.wallMs)} ms`} ${fmt(r.maxRssMB ?? 0)} MB`).join('; '),
  );
}

/**
 * `observe` of a cluster recording through a loopback relay (scripts/bench-observe.ts, client from
 * dist/ pinned to one core): its JSON summary, or `{ failed }` with the reason.
 */
function observeCluster(file, flows) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/bench-observe.ts'), '--flows', String(flows), '--client', 'dist', '--cluster', file, '--runs', '1', '--rss-every-ms', '100'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
  });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !last.startsWith('{')) return { failed: `exit ${r.status}` };
  return JSON.parse(last);
}

function observeCell(o) {
  if (o.failed) return `failed (${o.failed})`;
  const quarters = o.rssByQuarterMb ? `, RSS median by quarter ${o.rssByQuarterMb.join('/')} MB (${o.rssFlat ? 'flat' : 'grows'})` : '';
  return `${fmt(o.cliFlowsPerSec)} flows/s on one core (${fmt(o.flowsPerCpuSecond)} per CPU-s), peak ${fmt(o.peakRssMb)} MB${quarters}, RSS by tenths ${o.rssByTenthMb.join('/')} MB`;
}

/** Deletes the stored graph snapshot; false when the database keeps none (a build before it). */
function dropSnapshot(db) {
  const r = spawnSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1]);try{d.exec('DELETE FROM graph_snapshot');process.stdout.write('1')}catch{}d.close()`, db], {
    cwd: root,
    encoding: 'utf8',
  });
  return r.stdout === '1';
}

/** Bytes of the stored graph snapshot (0 when none). */
function snapshotBytes(db) {
  const r = spawnSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1],{readonly:true});let n=0;try{n=d.prepare('select coalesce(sum(length(data)),0) n from graph_snapshot').get().n}catch{}process.stdout.write(String(n))`, db], {
    cwd: root,
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

function countRows(db, table) {
  const r = spawnSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1],{readonly:true});process.stdout.write(String(d.prepare('select count(*) n from ${table}').get().n))`, db], {
    cwd: root,
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

const table = [
  '| flows | recording | JSON.parse baseline | replay (1 thread) | ratio | replay (2 workers) | ratio | peak RSS 1 / 2 workers | DB size | edges -A | recommend -A |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${fmt(r.flows)} | ${fmt(r.fileMB)} MB | ${fmt(r.baseline.flowsPerSec)}/s, ${fmt(r.baseline.mbPerSec)} MB/s | ` +
      `${fmt(r.replay1.flowsPerSec)}/s, ${fmt(r.replay1.mbPerSec)} MB/s | ${fmt(r.replay1.ratioToBaseline, 2)} | ` +
      `${fmt(r.replay2.flowsPerSec)}/s, ${fmt(r.replay2.mbPerSec)} MB/s | ${fmt(r.replay2.ratioToBaseline, 2)} | ${fmt(r.replay1.maxRssMB)} / ${fmt(r.replay2.maxRssMB)} MB | ` +
      `${fmt(r.replay1.dbMB, 1)} MB (${fmt(r.replay1.dbPercentOfRecording, 2)}%) | ${fmt(r.edges.ms)} ms | ${fmt(r.recommend.ms)} ms |`,
  ),
].join('\n');
writeFileSync(join(dir, 'results.json'), JSON.stringify({ homeLab: results, cluster: clusterResults, portScan: scanResult }, null, 2));
if (results.length > 0) process.stdout.write(`${table}\n`);
if (clusterResults.length > 0) {
  // Wall time (CPU time of the process in brackets: on a loaded machine the better guide), peak RSS.
  const one = (c) => (Number.isNaN(c.ms) ? `failed (${c.runsMs.join('/')})` : `${fmt(c.ms)} ms (cpu ${fmt(c.cpuMs)}), ${fmt(c.maxRssMB)} MB`);
  // Cold (no snapshot: a read after observe), then warm (a snapshot present: the first read after a replay).
  const cell = (c) => (c.warm ? `cold ${one(c)}; warm ${one(c.warm)}` : one(c));
  const withObserve = clusterResults.some((r) => r.observe);
  const readNames = ['status', 'edges', 'recommend', 'recommendOut', 'check', 'drops', ...(hasReport ? ['report', 'reportHtml'] : [])];
  const heads = { status: 'status', edges: 'edges -A -o json', recommend: 'recommend -A', recommendOut: 'recommend -A --out', check: 'check', drops: 'drops', report: 'report', reportHtml: 'report -o html' };
  const replayCell = (r) => (Number.isNaN(r.ms) ? `failed ${r.failures}/${r.runsMs.length}` : `${fmt(r.ms / 1000, 1)} s (cpu ${fmt(r.cpuMs / 1000, 1)} s), x${fmt(r.ratioToBaseline, 2)}, ${fmt(r.maxRssMB)} MB${r.failures ? ` (${r.failures} failed)` : ''}`);
  const clusterTable = [
    `| workloads | flows | stored edges | load | JSON.parse floor | replay 1 thread | replay default (2 workers) | ${readNames.map((n) => heads[n]).join(' | ')} |${withObserve ? ' observe (1 core) |' : ''}`,
    `|---|---|---|---|---|---|---|${readNames.map(() => '---').join('|')}|${withObserve ? '---|' : ''}`,
    ...clusterResults.map(
      (r) =>
        `| ${fmt(r.workloads)} | ${fmt(r.flows)} (${fmt(r.fileMB)} MB) | ${fmt(r.rawEdges)} | ${fmt(r.load.min, 1)}-${fmt(r.load.max, 1)} | ${fmt(r.baseline.ms / 1000, 1)} s | ${replayCell(r.replay1)} | ${replayCell(r.replay2)} | ` +
        `${readNames.map((n) => cell(r[n])).join(' | ')} |${withObserve ? ` ${r.observe ? observeCell(r.observe) : '-'} |` : ''}`,
    ),
    ...clusterResults.map(
      (r) =>
        `| per workload at ${fmt(r.workloads)} | | | | ${fmt((r.baseline.ms * 1000) / r.workloads)} µs | ${fmt((r.replay1.ms * 1000) / r.workloads)} µs | ${fmt((r.replay2.ms * 1000) / r.workloads)} µs | ` +
        `${readNames.map((n) => `${fmt((r[n].ms * 1000) / r.workloads)} µs${r[n].warm ? ` / warm ${fmt((r[n].warm.ms * 1000) / r.workloads)} µs` : ''}`).join(' | ')} |${withObserve ? ' |' : ''}`,
    ),
  ].join('\n');
  process.stdout.write(`\n${clusterTable}\n`);
}
if (scanResult !== undefined) {
  const cell = (r) => (r.failed ? `exit ${r.code}` : `${fmt(r.wallMs / 1000, 1)} s (cpu ${fmt((r.userMs + r.systemMs) / 1000, 1)}), ${fmt(r.maxRssMB)} MB`);
  const scanTable = [
    `| port scan | stored edges | load | replay 1 thread | ${scanResult.runs.map((r) => r.name).join(' | ')} |`,
    `|---|---|---|---|${scanResult.runs.map(() => '---').join('|')}|`,
    `| ${fmt(scanResult.workloads)}-workload cluster's first 20,000 flows + 262,140 dropped probes | ${fmt(scanResult.rawEdges)} | ${fmt(scanResult.load.min, 1)}-${fmt(scanResult.load.max, 1)} | ${cell(scanResult.replay)} | ${scanResult.runs.map(cell).join(' | ')} |`,
  ].join('\n');
  process.stdout.write(`\n${scanTable}\n`);
}
