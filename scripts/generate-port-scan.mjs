#!/usr/bin/env node
// A port scan on top of a recording: the recording's first --keep lines (ordinary traffic, for
// the policies and the workloads), then a world address and a pod each scanning one pod on every
// TCP and UDP port (1-65535), every probe dropped by default deny (133) at the target's ingress:
// 262,140 dropped flows, one edge per port, as `nmap -sS -sU -p-` leaves them in Hubble.
//
//   node scripts/generate-port-scan.mjs --from RECORDING --out FILE [--keep N]
//
// The scanners and the target are taken from the recording (its first world → pod and pod → pod
// ingress flows), so their names resolve the way the recording's do. Deterministic.
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

const USAGE = 'usage: generate-port-scan.mjs --from RECORDING --out FILE [--keep N]';
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const from = flag('--from');
const out = flag('--out');
const keep = Number(flag('--keep') ?? 20_000);
if (args.includes('-h') || args.includes('--help')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (from === undefined || out === undefined || !Number.isInteger(keep) || keep < 1) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

const isWorld = (ep) => (ep?.labels ?? []).includes('reserved:world');
const isPod = (ep) => typeof ep?.pod_name === 'string' && (ep.labels ?? []).every((l) => !l.startsWith('reserved:'));
const ingress = (f) => f.traffic_direction === 'INGRESS' && f.l4 !== undefined && isPod(f.destination);

const sink = createWriteStream(out);
const write = (s) => (sink.write(s) ? undefined : new Promise((r) => sink.once('drain', r)));
let kept = 0;
let lastTime;
let worldScan;
let podScan;
for await (const line of createInterface({ input: createReadStream(from), crlfDelay: Infinity })) {
  if (line === '') continue;
  const { flow } = JSON.parse(line);
  if (kept < keep) {
    await write(`${line}\n`);
    kept++;
    lastTime = flow.time;
  }
  if (worldScan === undefined && ingress(flow) && isWorld(flow.source)) worldScan = flow;
  if (podScan === undefined && ingress(flow) && isPod(flow.source) && flow.source.namespace !== flow.destination.namespace) podScan = flow;
  if (kept >= keep && worldScan !== undefined && podScan !== undefined) break;
}
if (worldScan === undefined || podScan === undefined) {
  process.stderr.write(`${from}: no world → pod and pod → pod ingress flow to scan from\n`);
  process.exit(1);
}

// Nanosecond RFC 3339 times 3 ms apart, from a second after the last kept line.
let ns = BigInt(Date.parse(lastTime)) * 1_000_000n + 1_000_000_000n;
const rfc3339 = (t) => `${new Date(Number(t / 1_000_000n)).toISOString().slice(0, 19)}.${String(t % 1_000_000_000n).padStart(9, '0')}Z`;
let n = 0;
for (const [name, template] of [
  ['world', worldScan],
  ['pod', podScan],
]) {
  for (const protocol of ['TCP', 'UDP']) {
    for (let port = 1; port <= 65535; port++) {
      ns += 3_000_000n;
      const time = rfc3339(ns);
      const l4 = protocol === 'TCP' ? { TCP: { source_port: 40000, destination_port: port, flags: { SYN: true } } } : { UDP: { source_port: 40000, destination_port: port } };
      const flow = {
        ...template,
        time,
        uuid: `port-scan-${name}-${protocol}-${port}`,
        verdict: 'DROPPED',
        drop_reason: 133,
        drop_reason_desc: 'POLICY_DENIED',
        event_type: { type: 1, sub_type: 133 },
        l4,
        is_reply: false,
        Summary: protocol === 'TCP' ? 'TCP Flags: SYN' : 'UDP',
      };
      delete flow.policy_match_type;
      delete flow.ingress_allowed_by;
      delete flow.egress_allowed_by;
      await write(`${JSON.stringify({ flow, node_name: flow.node_name, time })}\n`);
      n++;
    }
  }
}
await new Promise((resolve, reject) => {
  sink.on('error', reject);
  sink.end(resolve);
});
process.stderr.write(`${out}: ${kept} recorded lines, then ${n} dropped scan probes\n`);
