#!/usr/bin/env node
// Generates a synthetic but realistic Hubble recording (`hubble observe -o jsonpb` lines) of a
// home-lab cluster from a topology file, plus its ground truth.
//
//   node scripts/generate-recording.mjs --topology recordings/home-lab.topology.yaml --flows N
//        --out FILE|- [--truth FILE] [--seed S] [--start RFC3339] [--hours H] [--no-drops]
//
// Deterministic for a seed (own PRNG). Streams with backpressure and bounded memory: lines are
// concatenated from per-pod / per-node JSON fragments built once, and a small time-ordered heap
// holds only the events still "in flight" (replies, retransmissions, connection close).
// recordings/README.md documents the format, the event sequences and the truth file.
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

// ---- arguments --------------------------------------------------------------------------------

const USAGE =
  'usage: generate-recording.mjs --topology FILE --flows N --out FILE|- [--truth FILE] [--seed S] ' +
  '[--start RFC3339] [--hours H] [--no-drops]';

function parseArgs(argv) {
  const o = { seed: '1', start: '2026-11-10T00:00:00Z', hours: 48, drops: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--topology': o.topology = val(); break;
      case '--flows': o.flows = Number(val()); break;
      case '--out': o.out = val(); break;
      case '--truth': o.truth = val(); break;
      case '--seed': o.seed = val(); break;
      case '--start': o.start = val(); break;
      case '--hours': o.hours = Number(val()); break;
      case '--no-drops': o.drops = false; break;
      case '-h': case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: fail(`unknown argument ${a}`);
    }
  }
  if (!o.topology || !o.out || o.flows === undefined) fail('--topology, --flows and --out are required');
  if (!Number.isInteger(o.flows) || o.flows < 1) fail('--flows must be a positive integer');
  if (!(o.hours > 0)) fail('--hours must be positive');
  if (Number.isNaN(Date.parse(o.start))) fail('--start must be an RFC 3339 time');
  return o;
}

function fail(msg) {
  process.stderr.write(`generate-recording: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

// ---- deterministic randomness -----------------------------------------------------------------

/** sfc32 seeded from a string through a small 128-bit string hash. */
function makeRng(seedText) {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < seedText.length; i++) {
    const k = seedText.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  let a = h1 >>> 0, b = h2 >>> 0, c = h3 >>> 0, d = h4 >>> 0;
  const u32 = () => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) u32();
  const rng = {
    u32,
    next: () => u32() / 4294967296,
    int: (lo, hi) => lo + Math.floor((u32() / 4294967296) * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor((u32() / 4294967296) * arr.length)],
    chance: (p) => u32() / 4294967296 < p,
    exp: (mean) => -Math.log(1 - u32() / 4294967296) * mean,
  };
  return rng;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

const HEXCODES = Buffer.from('0123456789abcdef', 'latin1');
const UUID_SCRATCH = Buffer.from('xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx', 'latin1');
const UUID_SLOTS = [...'xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx'].flatMap((ch, i) => (ch === 'x' ? [i] : []));
/** A v4-looking UUID from the PRNG, built in a scratch buffer so it is one flat string. */
function uuid(rng) {
  let word = 0;
  for (let i = 0; i < UUID_SLOTS.length; i++) {
    if ((i & 7) === 0) word = rng.u32();
    UUID_SCRATCH[UUID_SLOTS[i]] = HEXCODES[(word >>> ((i & 7) * 4)) & 15];
  }
  // variant nibble 8..b
  UUID_SCRATCH[19] = HEXCODES[8 + (word & 3)];
  return UUID_SCRATCH.latin1Slice(0, 36);
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
function token(rng, n, alphabet = B64URL) {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.u32() % alphabet.length];
  return s;
}
/** Kubernetes generated-name characters (no vowels, no 0/1/3). */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

// ---- topology ---------------------------------------------------------------------------------

const DEFAULT_FILTERED_KEYS = [/^pod-template-hash$/, /^controller-revision-hash$/, /^pod-template-generation$/, /^(?!app\.)([a-z0-9.-]*\.)?kubernetes\.io\//, /^k8s\.io\//];

function ipToInt(ip) {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function intToIp(n) {
  return `${Math.floor(n / 16777216) % 256}.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

const RESERVED = { host: 1, world: 2, health: 4, 'remote-node': 6, 'kube-apiserver': 7 };

const DROP_CODES = { POLICY_DENIED: 133, POLICY_DENY: 181, CT_MAP_INSERTION_FAILED: 155, STALE_OR_UNROUTABLE_IP: 151 };
const DROP_NAMES = Object.fromEntries(Object.entries(DROP_CODES).map(([k, v]) => [v, k]));
const DROP_FILES = { 133: ['bpf_lxc.c', 2111], 181: ['bpf_lxc.c', 2111], 155: ['conntrack.h', 1012], 151: ['bpf_lxc.c', 1390] };

function buildModel(topo, opts, rng) {
  const cluster = topo.cluster ?? 'home-lab';
  const filterLabels = (topo.cilium?.identityLabels ?? 'default') !== 'all';
  const start = Date.parse(opts.start) * 1000; // µs
  const span = opts.hours * 3600e6;
  const rollout = opts.drops && topo.rollout ? start + Math.round(span * topo.rollout.fraction) : undefined;

  // nodes
  const nodes = topo.nodes.map((n, i) => {
    const base = ipToInt(n.podCIDR.split('/')[0]);
    const used = new Set();
    const alloc = () => {
      for (;;) {
        const o = rng.int(2, 254);
        if (!used.has(o)) { used.add(o); return intToIp(base + o); }
      }
    };
    const ids = new Set();
    const epId = () => {
      for (;;) {
        const id = rng.int(100, 3999);
        if (!ids.has(id)) { ids.add(id); return id; }
      }
    };
    const labels = Object.entries(n.labels ?? {}).map(([k, v]) => `${k}=${v}`).sort();
    return {
      i,
      name: n.name,
      full: cluster === 'default' ? n.name : `${cluster}/${n.name}`,
      ip: n.ip,
      routerIp: alloc(),
      healthIp: alloc(),
      healthId: epId(),
      healthIf: rng.int(8, 40),
      alloc,
      epId,
      workloads: n.workloads !== false,
      apiCidr: n.apiServerIdentity === 'cidr',
      nodeLabelsJson: labels.length ? `,"node_labels":${JSON.stringify(labels)}` : '',
      cidrIds: new Map(),
    };
  });
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));

  // workloads and pods
  const workloads = [];
  const wlByKey = new Map();
  const allPods = [];
  const identities = new Map(); // label-set string -> identity
  const usedIdentity = new Set();
  for (const [ns, list] of Object.entries(topo.namespaces)) {
    for (const w of list) {
      const ports = new Map();
      for (const p of w.ports ?? []) ports.set(p.name, { port: p.port, protocol: p.protocol ?? 'TCP' });
      const wl = {
        idx: workloads.length,
        ns,
        kind: w.kind,
        name: w.name,
        hostNetwork: !!w.hostNetwork,
        labels: w.labels ?? {},
        sa: w.serviceAccount ?? 'default',
        ports,
        probes: w.probes ?? [],
        services: w.services ?? [],
        dnsServer: !!w.dnsServer,
        pods: [],
        nodes: (w.nodes ?? []).map((nn) => {
          const n = nodeByName.get(nn);
          if (!n) throw new Error(`${ns}/${w.name}: unknown node ${nn}`);
          return n;
        }),
      };
      workloads.push(wl);
      wlByKey.set(`${ns}/${w.name}`, wl);
      if (wl.hostNetwork) continue;
      const replicas = w.replicas ?? 1;
      const templateHash = token(rng, 10, SAFE).slice(0, rng.int(8, 10));
      const revision = `${w.name}-${token(rng, 10, SAFE).slice(0, rng.int(8, 10))}`;
      for (let r = 0; r < replicas; r++) {
        const node = wl.nodes[r % wl.nodes.length];
        let podName;
        const volatile = {};
        if (w.kind === 'Deployment') {
          podName = `${w.name}-${templateHash}-${token(rng, 5, SAFE)}`;
          volatile['pod-template-hash'] = templateHash;
        } else if (w.kind === 'StatefulSet') {
          podName = `${w.name}-${r}`;
          volatile['apps.kubernetes.io/pod-index'] = String(r);
          volatile['controller-revision-hash'] = revision;
          volatile['statefulset.kubernetes.io/pod-name'] = podName;
        } else if (w.kind === 'DaemonSet') {
          podName = `${w.name}-${token(rng, 5, SAFE)}`;
          volatile['controller-revision-hash'] = token(rng, 10, SAFE).slice(0, 9);
          volatile['pod-template-generation'] = '1';
        } else {
          podName = `${w.name}-${r + 1}`; // CNPG instance names
        }
        const podLabels = { ...wl.labels, ...((w.podLabels ?? [])[r] ?? {}), ...volatile };
        const idLabels = [];
        for (const [k, v] of Object.entries(podLabels)) {
          if (filterLabels && DEFAULT_FILTERED_KEYS.some((re) => re.test(k))) continue;
          idLabels.push(`k8s:${k}=${v}`);
        }
        idLabels.push(
          `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${ns}`,
          `k8s:io.cilium.k8s.policy.cluster=${cluster}`,
          `k8s:io.cilium.k8s.policy.serviceaccount=${wl.sa}`,
          `k8s:io.kubernetes.pod.namespace=${ns}`,
        );
        idLabels.sort();
        const setKey = idLabels.join('\n');
        let identity = identities.get(setKey);
        if (identity === undefined) {
          // Stable per label set: a hash of the set, probed past collisions.
          let h = 2166136261;
          for (let i = 0; i < setKey.length; i++) h = Math.imul(h ^ setKey.charCodeAt(i), 16777619) >>> 0;
          identity = 10000 + (h % 120000);
          while (usedIdentity.has(identity)) identity++;
          usedIdentity.add(identity);
          identities.set(setKey, identity);
        }
        const pod = {
          wl,
          r,
          name: podName,
          node: node.i,
          ip: node.alloc(),
          id: node.epId(),
          mac: mac(rng),
          ifIndex: rng.int(12, 240),
          ifName: `lxc${token(rng, 12, '0123456789abcdef')}`,
          labels: podLabels,
          identity,
        };
        const base = `"identity":${identity},"cluster_name":${JSON.stringify(cluster)},"namespace":${JSON.stringify(ns)},"labels":${JSON.stringify(idLabels)},"pod_name":${JSON.stringify(podName)}`;
        const wls = `,"workloads":[{"name":${JSON.stringify(w.name)},"kind":${JSON.stringify(w.kind)}}]`;
        pod.frags = [`{"ID":${pod.id},${base}${wls}}`, `{"ID":${pod.id},${base}}`, `{${base}${wls}}`, `{${base}}`];
        pod.ifJson = `,"interface":{"index":${pod.ifIndex},"name":"${pod.ifName}"}`;
        wl.pods.push(pod);
        allPods.push(pod);
      }
    }
  }

  // policies (what the datapath enforces, and when)
  const policies = (topo.policies ?? []).map((p) => {
    const kind = p.kind ?? 'CiliumNetworkPolicy';
    const labels = [
      `k8s:io.cilium.k8s.policy.derived-from=${kind}`,
      `k8s:io.cilium.k8s.policy.name=${p.name}`,
      ...(p.namespace ? [`k8s:io.cilium.k8s.policy.namespace=${p.namespace}`] : []),
      `k8s:io.cilium.k8s.policy.uid=${uuid(rng)}`,
    ];
    const json =
      `{"name":${JSON.stringify(p.name)}${p.namespace ? `,"namespace":${JSON.stringify(p.namespace)}` : ''}` +
      `,"labels":${JSON.stringify(labels)},"revision":"${p.revision ?? 1}","kind":"${kind}"}`;
    const sel = p.select;
    const selects = (wl) => {
      if (Array.isArray(sel)) return sel.includes(`${wl.ns}/${wl.name}`);
      if (sel?.namespace) return wl.ns === sel.namespace;
      if (sel?.allPodsExceptNamespaces) return !sel.allPodsExceptNamespaces.includes(wl.ns);
      return false;
    };
    return {
      key: p.namespace ? `${p.namespace}/${p.name}` : p.name,
      name: p.name,
      json,
      since: p.since ?? 'start',
      selects,
      ingress: p.ingress,
      egress: p.egress,
    };
  });
  const policyByKey = new Map(policies.map((p) => [p.key, p]));
  const activeAt = (p, t) => p.since === 'start' || (rollout !== undefined && t >= rollout);

  // world: fqdns, CIDR identities per node
  const fqdns = new Map(Object.entries(topo.fqdns ?? {}).map(([name, f]) => [name, { name, ips: f.ips, ttl: f.ttl ?? 300, cnames: f.cnames ?? [] }]));
  const api = { ip: topo.apiServer?.ip ?? '192.168.1.10', port: topo.apiServer?.port ?? 6443 };

  return { cluster, nodes, nodeByName, workloads, wlByKey, allPods, policies, policyByKey, activeAt, fqdns, api, start, span, rollout };
}

function mac(rng) {
  const b = [((rng.u32() & 0xfc) | 0x02) & 0xff, rng.u32() & 255, rng.u32() & 255, rng.u32() & 255, rng.u32() & 255, rng.u32() & 255];
  return b.map((x) => HEX[x]).join(':');
}

// ---- endpoints as seen from an observing node -------------------------------------------------

let nextEid = 1;
function podEp(pod, nodes) {
  if (pod.ep) return pod.ep;
  return (pod.ep = {
    eid: nextEid++,
    kind: 'pod',
    pod,
    ip: pod.ip,
    mac: pod.mac,
    node: pod.node,
    wl: pod.wl,
    frag: (n) => pod.frags[(pod.node === n ? 0 : 2) + (nodes[n].workloads ? 0 : 1)],
  });
}

function buildEndpoints(m) {
  const { nodes } = m;
  const hostEps = nodes.map((hn) => {
    const local = `{"identity":1,"labels":["reserved:host"]}`;
    const remote = `{"identity":6,"labels":["reserved:remote-node"]}`;
    return { eid: nextEid++, kind: 'node', node: hn.i, ip: hn.ip, mac: '', frag: (n) => (n === hn.i ? local : remote), entity: (n) => (n === hn.i ? 'host' : 'remote-node') };
  });
  const routerEps = nodes.map((hn) => ({ eid: nextEid++, kind: 'node', node: hn.i, ip: hn.routerIp, mac: '', frag: () => `{"identity":1,"labels":["reserved:host"]}`, entity: () => 'host' }));
  const healthEps = nodes.map((hn) => {
    const local = `{"ID":${hn.healthId},"identity":4,"labels":["reserved:health"]}`;
    const remote = `{"identity":4,"labels":["reserved:health"]}`;
    return { eid: nextEid++, kind: 'health', node: hn.i, ip: hn.healthIp, mac: mac(makeRng(hn.name)), frag: (n) => (n === hn.i ? local : remote), ifJson: `,"interface":{"index":${hn.healthIf},"name":"lxc_health"}` };
  });
  // CIDR identities are node-local (>= 2^24), allocated in a fixed order per node.
  const cidrCandidates = new Set();
  for (const p of m.policies) {
    if (!p.egress?.fqdnIdentities) continue;
    for (const e of m.topoEdges) {
      const from = m.wlByKey.get(e.from);
      if (from && p.selects(from) && e.to?.fqdn) for (const ip of m.fqdns.get(e.to.fqdn).ips) cidrCandidates.add(ip);
    }
  }
  const sortedCidr = [...cidrCandidates].sort((a, b) => ipToInt(a) - ipToInt(b));
  for (const n of nodes) {
    let next = 16777217;
    if (n.apiCidr) n.cidrIds.set(m.api.ip, next++);
    for (const ip of sortedCidr) n.cidrIds.set(ip, next++);
  }
  const apiEp = {
    eid: nextEid++,
    kind: 'api',
    node: -1,
    ip: m.api.ip,
    mac: '',
    frags: nodes.map((n) =>
      n.apiCidr ? `{"identity":${n.cidrIds.get(m.api.ip)},"labels":["reserved:kube-apiserver","reserved:world"]}` : `{"identity":7,"labels":["reserved:kube-apiserver"]}`,
    ),
    frag(n) { return this.frags[n]; },
  };
  const worldCache = new Map();
  const worldEp = (ip, cidrIdentity) => {
    const key = `${ip}|${cidrIdentity}`;
    let ep = worldCache.get(key);
    if (!ep) {
      const plain = `{"identity":2,"labels":["reserved:world"]}`;
      const frags = nodes.map((n) => (cidrIdentity ? `{"identity":${n.cidrIds.get(ip)},"labels":["cidr:${ip}/32","reserved:world"]}` : plain));
      ep = { eid: nextEid++, kind: 'world', node: -1, ip, mac: '', frag: (n) => frags[n] };
      worldCache.set(key, ep);
    }
    return ep;
  };
  return { hostEps, routerEps, healthEps, apiEp, worldEp, cidrIps: cidrCandidates };
}

// ---- time -------------------------------------------------------------------------------------

let cachedSec = -1;
const TIME_SCRATCH = Buffer.from('2000-01-01T00:00:00.000000000Z', 'latin1');
/** RFC 3339 with nanoseconds, written into a scratch buffer (one flat string per call). */
function rfc3339(us, ns3) {
  const sec = Math.floor(us / 1e6);
  if (sec !== cachedSec) {
    cachedSec = sec;
    TIME_SCRATCH.latin1Write(new Date(sec * 1000).toISOString().slice(0, 19), 0);
  }
  let frac = (us - sec * 1e6) * 1000 + ns3;
  for (let i = 28; i >= 20; i--) {
    TIME_SCRATCH[i] = 48 + (frac % 10);
    frac = Math.floor(frac / 10);
  }
  return TIME_SCRATCH.latin1Slice(0, 30);
}

// ---- output: reorder heap + backpressured sink -----------------------------------------------

const CHUNK = 1 << 20;

class Sink {
  constructor(stream, ascii) {
    this.stream = stream;
    this.ascii = ascii; // every line is ASCII (checked on the topology): a byte copy suffices
    this.buf = Buffer.allocUnsafe(CHUNK + (1 << 16));
    this.off = 0;
    this.waiting = null;
  }
  push(s) {
    // Encoding each line straight into one chunk buffer avoids joining (and re-flattening) strings.
    if (this.off + s.length * 3 > this.buf.length) this.flushChunk();
    if (s.length * 3 > this.buf.length) {
      this.write(Buffer.from(s, 'utf8'));
      return;
    }
    this.off += this.ascii ? this.buf.latin1Write(s, this.off) : this.buf.utf8Write(s, this.off);
    if (this.off >= CHUNK) this.flushChunk();
  }
  flushChunk() {
    if (this.off === 0) return;
    const chunk = this.buf.subarray(0, this.off);
    this.buf = Buffer.allocUnsafe(CHUNK + (1 << 16));
    this.off = 0;
    this.write(chunk);
  }
  write(chunk) {
    const ok = this.stream.write(chunk);
    if (!ok && !this.waiting) this.waiting = new Promise((r) => this.stream.once('drain', () => { this.waiting = null; r(); }));
  }
  async end() {
    this.flushChunk();
    if (this.waiting) await this.waiting;
    if (this.stream === process.stdout) return;
    await new Promise((resolve, reject) => {
      this.stream.on('error', reject);
      this.stream.end(resolve);
    });
  }
}

/** Binary min-heap of pending lines keyed by relay arrival (event time + node delay), then sequence. */
class Heap {
  constructor() { this.a = []; }
  get size() { return this.a.length; }
  less(x, y) { return x.k < y.k || (x.k === y.k && x.q < y.q); }
  push(e) {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  peek() { return this.a[0]; }
  pop() {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let s = i;
        if (l < a.length && this.less(a[l], a[s])) s = l;
        if (r < a.length && this.less(a[r], a[s])) s = r;
        if (s === i) break;
        [a[i], a[s]] = [a[s], a[i]];
        i = s;
      }
    }
    return top;
  }
}

// ---- main -------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const topoText = readFileSync(opts.topology, 'utf8');
  const topo = parseYaml(topoText);
  const rng = makeRng(`home-lab:${opts.seed}`);
  const m = buildModel(topo, opts, rng);
  m.topoEdges = topo.edges ?? [];
  const { nodes, policies, activeAt, fqdns, api, start, span, rollout } = m;
  const eps = buildEndpoints(m);
  const dnsWl = m.workloads.find((w) => w.dnsServer);
  if (!dnsWl) throw new Error('topology needs one workload with dnsServer: true');
  const dnsPort = dnsWl.ports.get('dns')?.port ?? 53;
  const dnsSvcIp = dnsWl.services[0]?.ip ?? '10.96.0.10';

  // ---- truth bookkeeping ----
  const truthEdges = [];
  const truthIndex = new Map();
  const peerKey = (p) => (p.kind === 'workload' ? `w|${p.namespace}|${p.workloadKind}|${p.name}` : p.kind === 'entity' ? `e|${p.entity}` : p.kind === 'fqdn' ? `f|${p.fqdn}` : `c|${p.cidr}`);
  const wlPeer = (wl) => ({ kind: 'workload', namespace: wl.ns, workloadKind: wl.kind, name: wl.name });
  function truthId(from, to, protocol, port) {
    const key = `${peerKey(from)}>${peerKey(to)}>${protocol}>${port}`;
    let id = truthIndex.get(key);
    if (id === undefined) {
      id = truthEdges.length;
      truthEdges.push({ from, to, protocol, port, fwd: 0, drop: 0, reasons: new Map() });
      truthIndex.set(key, id);
    }
    return id;
  }
  const seenWorkloads = new Set();

  // ---- policy helpers ----
  const egressPolicies = (wl, t) => policies.filter((p) => p.egress && activeAt(p, t) && p.selects(wl));
  const ingressPolicies = (wl, t) => policies.filter((p) => p.ingress && activeAt(p, t) && p.selects(wl));
  const listMemo = new Map();
  const listJson = (ps) => {
    if (ps.length === 0) return '';
    const key = ps.map((p) => p.key).join(',');
    let v = listMemo.get(key);
    if (v === undefined) listMemo.set(key, (v = JSON.parse(JSON.stringify(`[${ps.map((p) => p.json).join(',')}]`))));
    return v;
  };

  // ---- edges ----
  const resolvePort = (wl, port) => {
    if (typeof port === 'number') return port;
    const p = wl?.ports.get(port);
    if (!p) throw new Error(`unknown named port ${port} on ${wl ? `${wl.ns}/${wl.name}` : '?'}`);
    return p.port;
  };
  const matchPods = (wl, filter) => (filter ? wl.pods.filter((p) => Object.entries(filter).every(([k, v]) => p.labels[k] === v)) : wl.pods);
  const edges = [];
  for (const e of m.topoEdges) {
    const ed = { spec: e, rate: e.rate ?? 1, diurnal: !!e.diurnal, protocol: e.protocol ?? 'TCP' };
    if (typeof e.from === 'string') {
      ed.fromWl = m.wlByKey.get(e.from);
      if (!ed.fromWl) throw new Error(`unknown workload ${e.from}`);
      ed.fromPods = matchPods(ed.fromWl, e.fromPods);
    } else ed.fromEntity = e.from.entity;
    if (typeof e.to === 'string') {
      ed.toWl = m.wlByKey.get(e.to);
      if (!ed.toWl) throw new Error(`unknown workload ${e.to}`);
      ed.toPods = matchPods(ed.toWl, e.toPods);
      ed.port = resolvePort(ed.toWl, e.port);
      ed.protocol = e.protocol ?? ed.toWl.ports.get(e.port)?.protocol ?? 'TCP';
    } else if (e.to.hostNetwork) {
      ed.toHostNet = m.wlByKey.get(e.to.hostNetwork);
      ed.port = resolvePort(ed.toHostNet, e.port);
    } else if (e.to.peers) {
      ed.peers = Array.from({ length: e.to.peers }, () => ({ ip: publicIp(rng), port: rng.chance(0.3) ? 6881 : rng.int(10000, 65000) }));
    } else {
      ed.to = e.to;
      ed.port = e.port;
      if (e.to.fqdn && !fqdns.has(e.to.fqdn)) throw new Error(`fqdn ${e.to.fqdn} has no entry under fqdns:`);
    }
    if (e.service) {
      const svcWl = ed.toWl;
      ed.serviceJson = `{"name":${JSON.stringify(e.service)},"namespace":${JSON.stringify(svcWl ? svcWl.ns : '')}}`;
    }
    if (e.dns) {
      const svc = ed.toWl?.services.find((s) => s.name === e.service) ?? ed.toWl?.services[0];
      ed.dnsName = e.dns;
      ed.dnsIps = [svc?.ip ?? '10.96.0.1'];
      ed.dnsTtl = 30;
    }
    ed.drop = e.drop;
    ed.truthCache = new Map();
    edges.push(ed);
  }
  // kubelet probes: host -> each probed pod on its node
  for (const wl of m.workloads) {
    if (wl.hostNetwork) continue;
    for (const pr of wl.probes) {
      edges.push({ truthCache: new Map(), spec: { probe: true }, rate: ((topo.probeRate ?? 12) * wl.pods.length) / wl.probes.length, diurnal: false, protocol: 'TCP', probe: true, toWl: wl, toPods: wl.pods, port: resolvePort(wl, pr), fromEntity: 'host' });
    }
  }
  const incidents = (opts.drops ? topo.incidents ?? [] : []).map((x) => ({ ...x, t0: start + span * x.start, t1: start + span * x.end, fromWl: m.wlByKey.get(x.from) }));

  // ---- line construction ----
  let seq = 0;
  const heap = new Heap();
  // Relay merge delay per node (µs), varying slowly; recomputed once per ~second of event time.
  const delayAt = nodes.map(() => ({ sec: -1, d: 0 }));
  const nodeDelay = (n, t) => {
    const c = delayAt[n];
    const sec = Math.floor(t / 1048576);
    if (sec !== c.sec) { c.sec = sec; c.d = Math.round(150e3 + 150e3 * Math.sin((sec * 1048576) / 53e6 + n * 2.1)); }
    return c.d;
  };
  /** A pending output line; `tr` is the truth edge of a request-direction flow, `v` its verdict class. */
  function emit(t, node, line, tr, v, ws, wd, dc = 0) {
    heap.push({ k: t + nodeDelay(node, t), q: seq++, s: line, tr, v, ws, wd, dc });
  }

  const F = {}; // scratch parameters of the flow being built
  function reset(t, node) {
    F.t = t; F.node = node; F.verdict = 'FORWARDED'; F.drop = 0; F.eth = true; F.flags = ''; F.type = 'L3_L4';
    F.srcNames = ''; F.dstNames = ''; F.l7 = ''; F.reply = undefined; F.et = ''; F.srcSvc = ''; F.dstSvc = '';
    F.dir = ''; F.match = 0; F.point = ''; F.reason = ''; F.iface = ''; F.summary = '';
    F.eAllowed = ''; F.iAllowed = ''; F.eDenied = ''; F.iDenied = ''; F.kindCode = 0; F.flagCode = 0;
  }
  /** Forces a flat (sequential) copy of a string built by concatenation, so reuse costs nothing. */
  const flat = (x) => JSON.parse(JSON.stringify(x));
  const interned = new Map([['', 0]]);
  const intern = (x) => {
    let id = interned.get(x);
    if (id === undefined) interned.set(x, (id = interned.size));
    return id;
  };
  // Per (source, destination, observing node, L7?): ethernet + IP, and source .. node_labels.
  const middles = new Map();
  function middle(n) {
    const key = ((F.src.eid * 65536 + F.dst.eid) * 8 + F.node) * 2 + (F.type === 'L7' ? 1 : 0);
    let mid = middles.get(key);
    if (mid === undefined) {
      let a = '';
      if (F.type === 'L3_L4') a += `,"ethernet":{"source":"${F.src.mac || n.mac0}","destination":"${F.dst.mac || n.mac1}"}`;
      a += `,"IP":{"source":"${F.src.ip}","destination":"${F.dst.ip}","ipVersion":"IPv4"}`;
      const b = `,"source":${F.src.frag(F.node)},"destination":${F.dst.frag(F.node)},"Type":"${F.type}","node_name":"${n.full}"${n.nodeLabelsJson}`;
      mid = { a: flat(a), b: flat(b) };
      middles.set(key, mid);
    }
    return mid;
  }
  const VERDICT_CODE = { FORWARDED: 0, REDIRECTED: 1, DROPPED: 2 };
  const REASON_CODE = { '': 0, NEW: 1, REPLY: 2, ESTABLISHED: 3 };
  const DROP_INDEX = { 0: 0, 133: 1, 181: 2, 155: 3, 151: 4 };
  const tails = new Map();
  function tailText(n) {
    let s = '';
    if (F.reply === true) s += `,"reply":true`;
    s += `,"event_type":${F.et}`;
    if (F.srcSvc) s += `,"source_service":${F.srcSvc}`;
    if (F.dstSvc) s += `,"destination_service":${F.dstSvc}`;
    s += `,"traffic_direction":"${F.dir}"`;
    if (F.match) s += `,"policy_match_type":${F.match}`;
    if (F.point) s += `,"trace_observation_point":"${F.point}"`;
    if (F.reason) s += `,"trace_reason":"${F.reason}"`;
    if (F.drop) {
      const f = DROP_FILES[F.drop];
      if (f) s += `,"file":{"name":"${f[0]}","line":${f[1]}}`;
      s += `,"drop_reason_desc":"${F.dropDesc}"`;
    }
    if (F.reply !== undefined) s += `,"is_reply":${F.reply}`;
    if (F.iface) s += F.iface;
    s += `,"Summary":${JSON.stringify(F.summary)}`;
    if (F.eAllowed) s += `,"egress_allowed_by":${F.eAllowed}`;
    if (F.iAllowed) s += `,"ingress_allowed_by":${F.iAllowed}`;
    if (F.eDenied) s += `,"egress_denied_by":${F.eDenied}`;
    if (F.iDenied) s += `,"ingress_denied_by":${F.iDenied}`;
    return `${s}},"node_name":"${n.full}","time":"`;
  }
  /** Everything after the L7 record is one of few variants for L3/L4 events: cache it by a packed key. */
  function tail(n) {
    if (F.type === 'L7') return tailText(n);
    const policyField = F.eAllowed ? 1 : F.iAllowed ? 2 : F.eDenied ? 3 : F.iDenied ? 4 : 0;
    let k = F.kindCode;
    k = k * 3 + VERDICT_CODE[F.verdict];
    k = k * 2 + (F.dir === 'INGRESS' ? 1 : 0);
    k = k * 3 + (F.reply === undefined ? 0 : F.reply ? 2 : 1);
    k = k * 4 + REASON_CODE[F.reason];
    k = k * 6 + F.flagCode;
    k = k * 7 + F.match;
    k = k * 5 + DROP_INDEX[F.drop];
    k = k * 4096 + intern(F.iface);
    k = k * 128 + intern(F.srcSvc || F.dstSvc);
    k = k * 2 + (F.srcSvc ? 1 : 0);
    k = k * 64 + intern(F.eAllowed || F.iAllowed || F.eDenied || F.iDenied);
    k = k * 5 + policyField;
    k = k * 8 + F.node;
    let t = tails.get(k);
    if (t === undefined) tails.set(k, (t = flat(tailText(n))));
    return t;
  }
  function line() {
    const n = nodes[F.node];
    const time = rfc3339(F.t, rng.int(0, 999));
    const mid = middle(n);
    let s = `{"flow":{"time":"${time}","uuid":"${uuid(rng)}","verdict":"${F.verdict}"`;
    if (F.drop) s += `,"drop_reason":${F.drop}`;
    s += mid.a;
    s += F.proto === 'TCP'
      ? `,"l4":{"TCP":{"source_port":${F.sport},"destination_port":${F.dport}${F.flags ? `,"flags":${F.flags}` : ''}}}`
      : `,"l4":{"UDP":{"source_port":${F.sport},"destination_port":${F.dport}}}`;
    s += mid.b;
    if (F.srcNames) s += `,"source_names":${F.srcNames}`;
    if (F.dstNames) s += `,"destination_names":${F.dstNames}`;
    if (F.l7) s += `,"l7":${F.l7}`;
    return `${s}${tail(n)}${time}"}\n`;
  }
  for (const n of nodes) { n.mac0 = mac(rng); n.mac1 = mac(rng); }

  const TRACE_ET = { 0: '{"type":4}', 1: '{"type":4,"sub_type":1}', 2: '{"type":4,"sub_type":2}', 3: '{"type":4,"sub_type":3}', 4: '{"type":4,"sub_type":4}', 5: '{"type":4,"sub_type":5}' };
  const POINTS = { 0: 'TO_ENDPOINT', 1: 'TO_PROXY', 2: 'TO_HOST', 3: 'TO_STACK', 4: 'TO_OVERLAY', 5: 'FROM_ENDPOINT' };
  const FLAGS = {
    SYN: ['{"SYN":true}', 'TCP Flags: SYN', 0],
    SYNACK: ['{"SYN":true,"ACK":true}', 'TCP Flags: SYN, ACK', 1],
    ACK: ['{"ACK":true}', 'TCP Flags: ACK', 2],
    PSHACK: ['{"PSH":true,"ACK":true}', 'TCP Flags: ACK, PSH', 3],
    FINACK: ['{"FIN":true,"ACK":true}', 'TCP Flags: ACK, FIN', 4],
  };
  const VXLAN_IF = ',"interface":{"index":5,"name":"cilium_vxlan"}';

  /**
   * One packet's view. c: connection; fwd: request direction (src->dst) or reply; kind: trace sub
   * type / 'pv' / 'drop'; flag: FLAGS key (TCP).
   */
  function packet(c, t, node, fwd, kind, flag, extra) {
    reset(t, node);
    F.proto = c.proto;
    F.src = fwd ? c.src : c.dst; F.dst = fwd ? c.dst : c.src;
    F.sip = F.src.ip; F.dip = F.dst.ip;
    F.sport = fwd ? c.sport : c.dport; F.dport = fwd ? c.dport : c.sport;
    F.smac = F.src.mac; F.dmac = F.dst.mac;
    if (c.proto === 'TCP') { F.flags = FLAGS[flag][0]; F.summary = FLAGS[flag][1]; F.flagCode = FLAGS[flag][2]; } else { F.summary = 'UDP'; F.flagCode = 5; }
    F.kindCode = kind === 'pv' ? 6 : kind === 'drop' ? 7 : kind;
    if (fwd) { if (c.dstSvc) F.dstSvc = c.dstSvc; if (c.dstNames) F.dstNames = c.dstNames; }
    else { if (c.dstSvc) F.srcSvc = c.dstSvc; if (c.dstNames) F.srcNames = c.dstNames; }
    const isReply = !fwd;
    // Hubble: traffic direction follows the connection, from the local endpoint's point of view.
    const srcLocal = F.src.kind === 'pod' || F.src.kind === 'health' ? F.src.node === node : false;
    if (srcLocal) F.dir = isReply ? 'INGRESS' : 'EGRESS';
    else F.dir = isReply ? 'EGRESS' : 'INGRESS';
    if (kind === 'pv') {
      F.et = '{"type":5}';
      F.dir = extra.dir;
      F.verdict = extra.verdict;
      F.reply = extra.verdict === 'DROPPED' ? undefined : false;
      F.match = extra.match ?? 0;
      if (extra.verdict === 'DROPPED') { F.drop = extra.code; F.dropDesc = extra.desc; }
      if (extra.allowed) { if (extra.dir === 'EGRESS') F.eAllowed = extra.allowed; else F.iAllowed = extra.allowed; }
      if (extra.denied) { if (extra.dir === 'EGRESS') F.eDenied = extra.denied; else F.iDenied = extra.denied; }
    } else if (kind === 'drop') {
      F.et = `{"type":1,"sub_type":${extra.code}}`;
      F.verdict = 'DROPPED';
      F.drop = extra.code; F.dropDesc = extra.desc;
      F.dir = extra.dir;
    } else {
      F.et = TRACE_ET[kind];
      F.point = POINTS[kind];
      F.reason = extra?.reason ?? (isReply ? 'REPLY' : 'NEW');
      F.reply = isReply;
      if (kind === 0) F.iface = F.dst.ifJson ?? F.dst.pod?.ifJson ?? '';
      else if (kind === 5) F.iface = F.src.ifJson ?? F.src.pod?.ifJson ?? '';
      else if (kind === 4) F.iface = VXLAN_IF;
    }
    const s = line();
    const request = fwd && (kind === 'pv' || kind === 'drop' || !isReply);
    const ws = F.src.wl ? F.src.wl.idx : -1, wd = F.dst.wl ? F.dst.wl.idx : -1;
    const tr = request ? c.truth[node] ?? c.truth.any : -1;
    emit(t, node, s, tr, F.verdict === 'DROPPED' ? 2 : 1, ws, wd, F.drop);
  }

  const ephemeral = () => rng.int(32768, 60999);
  /** fqdn -> policies with toFQDNs (CIDR identities) selecting a workload that talks to it. */
  const fqdnPolicies = new Map();
  for (const p of policies) {
    if (!p.egress?.fqdnIdentities) continue;
    for (const e of m.topoEdges) {
      const from = m.wlByKey.get(e.from);
      if (from && e.to?.fqdn && p.selects(from)) fqdnPolicies.set(e.to.fqdn, [...(fqdnPolicies.get(e.to.fqdn) ?? []), p]);
    }
  }
  const dnsCache = new Map();

  /** Policy verdict details for the egress side of src, or undefined when src egress is not enforced. */
  function egressVerdict(c, t) {
    if (c.src.kind !== 'pod') return undefined;
    const ps = egressPolicies(c.src.wl, t);
    if (ps.length === 0) return undefined;
    if (c.isDns && c.dnsProxy) {
      return { dir: 'EGRESS', verdict: 'REDIRECTED', match: 2, allowed: listJson(ps.filter((p) => p.egress.dnsProxy)) };
    }
    const enforcing = ps.filter((p) => p.egress.defaultDeny && !p.egress.allowsNothing);
    if (enforcing.length === 0) return { dir: 'EGRESS', verdict: 'FORWARDED', match: 4 };
    return { dir: 'EGRESS', verdict: 'FORWARDED', match: 2, allowed: listJson(enforcing) };
  }
  function ingressVerdict(c, t) {
    if (c.dst.kind !== 'pod') return undefined;
    const ps = ingressPolicies(c.dst.wl, t);
    if (ps.length === 0) return undefined;
    if (c.src.kind === 'node' && c.src.node === c.dst.node) return { dir: 'INGRESS', verdict: 'FORWARDED', match: 1 }; // allow-localhost
    const http = ps.find((p) => p.ingress.httpFrom && c.src.wl && p.ingress.httpFrom.includes(`${c.src.wl.ns}/${c.src.wl.name}`));
    if (http) return { dir: 'INGRESS', verdict: 'REDIRECTED', match: 2, allowed: listJson([http]), http: true };
    const allowing = ps.filter((p) => !p.ingress.allowsNothing);
    return { dir: 'INGRESS', verdict: 'FORWARDED', match: 2, allowed: listJson(allowing) };
  }
  function policyDrop(c, t) {
    if (!c.drop || rollout === undefined || t < rollout) return undefined;
    const code = DROP_CODES[c.drop.reason];
    const dir = c.drop.side === 'egress' ? 'EGRESS' : 'INGRESS';
    const denied = c.drop.policy ? listJson([m.policyByKey.get(c.drop.policy)]) : '';
    return { dir, verdict: 'DROPPED', code, desc: c.drop.reason, denied };
  }

  /** Emits the events of one connection (TCP or UDP, pod or reserved endpoints at either end). */
  function connection(c, t0) {
    const A = c.src.node, B = c.dst.node; // -1 for endpoints outside the cluster
    const srcObserved = c.src.kind === 'pod';
    const dstPod = c.dst.kind === 'pod' || c.dst.kind === 'health';
    const egress = egressVerdict(c, t0);
    const ingress = dstPod ? ingressVerdict(c, t0) : undefined;
    const drop = policyDrop(c, t0);
    const crossNode = srcObserved && dstPod && A !== B;
    const tcp = c.proto === 'TCP';
    // Exit point from the source node towards the destination.
    const exitPoint = !srcObserved ? -1 : dstPod ? (crossNode ? 4 : -1) : c.dst.kind === 'node' && c.dst.node === A ? 2 : 3;
    const lat = crossNode ? rng.int(180, 600) : dstPod ? rng.int(20, 90) : rng.int(800, 25000);
    const attempts = drop || c.ctFail ? 3 : 1;
    let t = t0;
    for (let a = 0; a < attempts; a++) {
      if (a > 0) t = t0 + (a === 1 ? 1e6 : 3e6) + rng.int(0, 3000);
      if (srcObserved) {
        packet(c, t, A, true, 5, 'SYN');
        if (egress) {
          if (drop && drop.dir === 'EGRESS') {
            packet(c, t + 4, A, true, 'pv', 'SYN', drop);
            packet(c, t + 6, A, true, 'drop', 'SYN', drop);
            continue;
          }
          packet(c, t + 4, A, true, 'pv', 'SYN', egress);
        }
        if (c.ctFail) {
          packet(c, t + 7, A, true, 'drop', 'SYN', { dir: 'EGRESS', code: DROP_CODES[c.ctFail], desc: c.ctFail });
          continue;
        }
        if (exitPoint >= 0) packet(c, t + 9, A, true, exitPoint, 'SYN');
      }
      if (dstPod) {
        const tb = t + lat;
        if (ingress) {
          if (drop && drop.dir === 'INGRESS') {
            packet(c, tb, B, true, 'pv', 'SYN', drop);
            packet(c, tb + 3, B, true, 'drop', 'SYN', drop);
            continue;
          }
          packet(c, tb, B, true, 'pv', 'SYN', ingress);
        }
        if (ingress?.http) {
          packet(c, tb + 5, B, true, 1, 'SYN');
          httpExchange(c, tb + 400, B);
        } else packet(c, tb + 5, B, true, 0, 'SYN');
        packet(c, tb + 40, B, false, 5, 'SYNACK');
      }
      if (srcObserved) {
        const tr = t + 2 * lat + 60;
        packet(c, tr, A, false, 0, 'SYNACK');
        if (tcp) packet(c, tr + 30, A, true, 5, 'ACK', { reason: 'ESTABLISHED' });
      }
    }
    if (!tcp || drop || c.ctFail) return;
    // connection close
    const tc = t0 + c.duration;
    const closer = srcObserved ? A : B;
    if (srcObserved) packet(c, tc, A, true, 5, 'FINACK', { reason: 'ESTABLISHED' });
    else packet(c, tc, B, true, 0, 'FINACK', { reason: 'ESTABLISHED' });
    if (dstPod) packet(c, tc + lat + 50, B, false, 5, 'FINACK', { reason: 'ESTABLISHED' });
    else packet(c, tc + 2 * lat + 50, closer, false, 0, 'FINACK', { reason: 'ESTABLISHED' });
  }

  // ---- HTTP through the ingress proxy (L7 REQUEST / RESPONSE on the server's node) ----
  function httpExchange(c, t, node) {
    const h = c.http;
    const rq = rng.pick(h.requests);
    const path = rq.path.replace('{uuid}', () => uuid(rng));
    const query = rq.query ? `?${rq.query.replace('{token}', () => token(rng, 32))}` : '';
    const url = `http://${h.host}${path}${query}`;
    const reqId = uuid(rng);
    const jwt = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${token(rng, 86)}.${token(rng, 43)}`;
    const headers = [
      { key: ':scheme', value: 'http' },
      { key: 'Accept', value: 'application/json' },
      { key: 'Authorization', value: `Bearer ${jwt}` },
      { key: 'Cookie', value: `immich_access_token=${token(rng, 43)}; immich_auth_type=password; immich_is_authenticated=true` },
      { key: 'User-Agent', value: rng.pick(['Immich_Android_1.135.3', 'Mozilla/5.0 (X11; Linux x86_64; rv:139.0) Gecko/20100101 Firefox/139.0', 'Immich_iOS_1.135.3']) },
      { key: 'X-Envoy-External-Address', value: rng.pick(['198.51.100.23', '203.0.113.77', '192.0.2.140']) },
      { key: 'X-Forwarded-Proto', value: 'https' },
      { key: 'X-Request-Id', value: reqId },
    ];
    const method = JSON.stringify(rq.method);
    const reqL7 = `{"type":"REQUEST","http":{"method":${method},"url":${JSON.stringify(url)},"protocol":"HTTP/1.1","headers":${JSON.stringify(headers)}}}`;
    l7Line(c, t, node, true, reqL7, `HTTP/1.1 ${rq.method} ${url}`);
    const latency = rng.int(2, rq.path.includes('thumbnail') ? 180 : 40) * 1e6 + rng.int(0, 999999);
    const respHeaders = [
      { key: 'Content-Type', value: 'application/json; charset=utf-8' },
      ...(rq.code === 200 && rng.chance(0.2) ? [{ key: 'Set-Cookie', value: `immich_access_token=${token(rng, 43)}; Path=/; HttpOnly; Secure; SameSite=Lax` }] : []),
      { key: 'X-Request-Id', value: reqId },
    ];
    const respL7 = `{"type":"RESPONSE","latency_ns":"${latency}","http":{"code":${rq.code},"method":${method},"url":${JSON.stringify(url)},"protocol":"HTTP/1.1","headers":${JSON.stringify(respHeaders)}}}`;
    l7Line(c, t + Math.round(latency / 1000), node, false, respL7, `HTTP/1.1 ${rq.code} ${Math.round(latency / 1e6)}ms (${rq.method} ${url})`);
  }

  function l7Line(c, t, node, fwd, l7, summary) {
    reset(t, node);
    F.proto = c.proto;
    F.src = fwd ? c.src : c.dst; F.dst = fwd ? c.dst : c.src;
    F.sip = F.src.ip; F.dip = F.dst.ip;
    F.sport = fwd ? c.sport : c.dport; F.dport = fwd ? c.dport : c.sport;
    F.type = 'L7'; F.eth = false;
    F.l7 = l7;
    F.et = '{"type":129}';
    F.reply = !fwd;
    F.dir = c.l7Dir;
    F.summary = summary;
    const s = line();
    emit(t, node, s, fwd ? c.truth[node] ?? c.truth.any : -1, 1, F.src.wl ? F.src.wl.idx : -1, F.dst.wl ? F.dst.wl.idx : -1);
  }

  // ---- DNS: pod -> kube-dns through the DNS proxy when a policy redirects it ----
  function dnsLookup(srcPod, name, answer, t) {
    const srcEp = podEp(srcPod, nodes);
    const server = rng.pick(dnsWl.pods);
    const dstEp = podEp(server, nodes);
    const proxied = egressPolicies(srcPod.wl, t).some((p) => p.egress.dnsProxy);
    const c = {
      proto: 'UDP', src: srcEp, dst: dstEp, sport: ephemeral(), dport: dnsPort, isDns: true, dnsProxy: proxied,
      truth: { any: truthId(wlPeer(srcPod.wl), wlPeer(dnsWl), 'UDP', dnsPort) }, l7Dir: 'EGRESS', duration: 0,
    };
    const A = srcPod.node, B = server.node;
    const lat = A !== B ? rng.int(200, 700) : rng.int(30, 120);
    const query = `${name}.`;
    const steps = [];
    if (answer.search && rng.chance(0.35)) steps.push({ q: `${name}.${srcPod.wl.ns}.svc.cluster.local.`, qt: 'A', rcode: 3 });
    steps.push({ q: query, qt: 'A', rcode: 0, ips: answer.ips, ttl: answer.ttl, cnames: answer.cnames });
    if (rng.chance(0.3)) steps.push({ q: query, qt: 'AAAA', rcode: 0, ips: [], ttl: answer.ttl });
    let t1 = t;
    for (const st of steps) {
      c.sport = ephemeral();
      packet(c, t1, A, true, 5, null);
      if (proxied) {
        packet(c, t1 + 4, A, true, 'pv', null, egressVerdict(c, t1));
        packet(c, t1 + 8, A, true, 1, null);
        l7Line(c, t1 + 40, A, true, `{"type":"REQUEST","dns":{"query":${JSON.stringify(st.q)},"observation_source":"proxy","qtypes":["${st.qt}"]}}`, `DNS Query ${st.q} ${st.qt}`);
      }
      const tb = t1 + 60 + lat;
      if (A !== B) packet(c, t1 + 70, A, true, 4, null);
      packet(c, tb, B, true, 0, null);
      packet(c, tb + 150, B, false, 5, null);
      const tr = tb + 150 + lat;
      if (proxied) {
        let dns = `{"query":${JSON.stringify(st.q)}`;
        if (st.ips?.length) dns += `,"ips":${JSON.stringify(st.ips)}`;
        dns += `,"ttl":${st.rcode === 3 ? 4294967295 : st.ttl}`;
        if (st.cnames?.length) dns += `,"cnames":${JSON.stringify(st.cnames)}`;
        dns += `,"observation_source":"proxy"`;
        if (st.rcode) dns += `,"rcode":${st.rcode}`;
        dns += `,"qtypes":["${st.qt}"]`;
        if (st.ips?.length) dns += `,"rrtypes":[${st.cnames?.length ? '"CNAME",' : ''}"${st.qt}"]`;
        dns += '}';
        const summary = st.rcode === 3
          ? `DNS Answer RCode: Non-Existent Domain TTL: 4294967295 (Proxy ${st.q} ${st.qt})`
          : `DNS Answer ${st.ips?.length ? `"${st.ips.join(',')}" ` : ''}TTL: ${st.ttl} (Proxy ${st.q} ${st.qt})`;
        l7Line(c, tr + 30, A, false, `{"type":"RESPONSE","latency_ns":"${(tr + 30 - t1 - 40) * 1000}","dns":${dns}}`, summary);
        packet(c, tr + 45, A, false, 0, null);
      } else packet(c, tr, A, false, 0, null);
      t1 = tr + rng.int(200, 2000);
    }
    return t1;
  }

  /** Makes sure srcPod has a fresh answer for name before connecting; returns the time to connect. */
  function resolveFirst(srcPod, name, answer, t) {
    const key = `${srcPod.name}|${name}`;
    const until = dnsCache.get(key);
    if (until !== undefined && until > t) return t;
    dnsCache.set(key, t + answer.ttl * 1e6);
    return dnsLookup(srcPod, name, answer, t - rng.int(3000, 20000)) + rng.int(50, 400);
  }

  // ---- one connection of an edge ----
  function fire(ed, t, forcedIncident) {
    const c = { proto: ed.protocol, duration: 0, truth: undefined };
    // source
    let srcPod;
    if (ed.fromWl) {
      srcPod = rng.pick(ed.fromPods);
      c.src = podEp(srcPod, nodes);
    }
    // destination
    let dstPod;
    if (ed.toWl) {
      const candidates = ed.spec.distinctPods ? ed.toPods.filter((p) => p !== srcPod) : ed.toPods;
      dstPod = rng.pick(candidates);
      c.dst = podEp(dstPod, nodes);
      c.dport = ed.port;
      c.dstSvc = ed.serviceJson;
    } else if (ed.toHostNet) {
      const n = rng.pick(ed.toHostNet.nodes);
      c.dst = eps.hostEps[n.i];
      c.dport = ed.port;
    } else if (ed.peers) {
      const peer = rng.pick(ed.peers);
      c.dst = eps.worldEp(peer.ip, false);
      c.dport = peer.port;
    } else if (ed.to.entity === 'kube-apiserver') {
      c.dst = eps.apiEp;
      c.dport = ed.port;
    } else if (ed.to.entity === 'health') {
      c.dst = rng.pick(eps.healthEps);
      c.dport = ed.port;
    } else if (ed.to.fqdn) {
      const f = fqdns.get(ed.to.fqdn);
      const ip = rng.pick(f.ips);
      // The IP has a CIDR identity once a toFQDNs policy that covers this name is in force.
      const cidrIdentity = (fqdnPolicies.get(f.name) ?? []).some((p) => activeAt(p, t));
      c.dst = eps.worldEp(ip, cidrIdentity);
      c.dport = ed.port;
      if (rng.chance(0.7)) c.dstNames = `[${JSON.stringify(f.name)}]`;
      t = resolveFirst(srcPod, f.name, { ips: f.ips, ttl: f.ttl, cnames: f.cnames, search: true }, t);
    } else if (ed.to.cidr) {
      c.dst = eps.worldEp(ed.to.cidr.split('/')[0], false);
      c.dport = ed.port;
    } else throw new Error(`unsupported edge target ${JSON.stringify(ed.spec.to)}`);
    // source for entity edges
    if (!c.src) {
      if (ed.fromEntity === 'host') c.src = eps.routerEps[c.dst.node];
      else if (ed.fromEntity === 'kube-apiserver') c.src = eps.apiEp;
      else if (ed.fromEntity === 'remote-node') {
        const others = nodes.filter((n) => n.i !== c.dst.node);
        c.src = eps.hostEps[rng.pick(others).i];
      } else throw new Error(`unsupported edge source ${JSON.stringify(ed.spec.from)}`);
    }
    if (ed.dnsName && srcPod) t = resolveFirst(srcPod, ed.dnsName, { ips: ed.dnsIps, ttl: ed.dnsTtl, search: false }, t);
    c.sport = ephemeral();
    c.drop = ed.drop && opts.drops ? ed.drop : undefined;
    c.http = ed.spec.http;
    c.l7Dir = 'INGRESS';
    // truth: per observing node the peers can differ (host vs remote-node)
    const fromPeer = ed.fromWl ? wlPeer(ed.fromWl) : undefined;
    const toPeerFor = (n) => {
      if (ed.toWl) return wlPeer(ed.toWl);
      if (ed.toHostNet) return { kind: 'entity', entity: c.dst.entity(n) };
      if (ed.peers) return { kind: 'cidr', cidr: `${c.dst.ip}/32` };
      if (ed.to.entity) return { kind: 'entity', entity: ed.to.entity };
      if (ed.to.fqdn) return { kind: 'fqdn', fqdn: ed.to.fqdn };
      return { kind: 'cidr', cidr: ed.to.cidr };
    };
    const fromPeerFor = (n) => fromPeer ?? { kind: 'entity', entity: ed.fromEntity === 'kube-apiserver' ? 'kube-apiserver' : c.src.entity(n) };
    const tkey = c.src.eid * 65536 + c.dst.eid;
    let ids = ed.truthCache.get(tkey);
    if (ids === undefined) {
      ids = nodes.map((n) => truthId(fromPeerFor(n.i), toPeerFor(n.i), c.proto, c.dport));
      ed.truthCache.set(tkey, ids);
    }
    c.truth = ids;
    // durations
    if (c.proto === 'TCP') c.duration = ed.spec.long ? rng.int(30e6, 60e6) : rng.int(3000, 400000);
    for (const inc of incidents) {
      if (inc.fromWl === ed.fromWl && t >= inc.t0 && t < inc.t1 && (inc === forcedIncident || rng.chance(inc.probability ?? 1))) c.ctFail = inc.reason;
    }
    connection(c, t);
  }

  // ---- schedule: thinning over a diurnal curve + forced coverage -------------------------------
  const flatSum = edges.filter((e) => !e.diurnal).reduce((s, e) => s + e.rate, 0);
  const diurnalSum = edges.filter((e) => e.diurnal).reduce((s, e) => s + e.rate, 0);
  const flatEdges = edges.filter((e) => !e.diurnal), diurnalEdges = edges.filter((e) => e.diurnal);
  const cumulative = (list) => { let s = 0; return list.map((e) => (s += e.rate)); };
  const flatCum = cumulative(flatEdges), diurnalCum = cumulative(diurnalEdges);
  const pickWeighted = (list, cum) => {
    const x = rng.next() * cum[cum.length - 1];
    let lo = 0, hi = cum.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid] > x) hi = mid; else lo = mid + 1; }
    return list[lo];
  };
  const AMP = 0.6;
  const dayCurve = (t) => 1 + AMP * Math.sin((2 * Math.PI * ((t / 3600e6) % 24 - 14)) / 24); // peak 20:00 UTC
  const maxRate = flatSum + diurnalSum * (1 + AMP);

  // Forced connections: every edge early on, each dropping edge and incident again after the rollout.
  const forced = [];
  edges.forEach((ed) => {
    forced.push({ t: Math.round(start + span * (0.01 + 0.96 * rng.next())), ed });
    if (ed.drop && rollout !== undefined) forced.push({ t: Math.round(rollout + (start + span - rollout) * (0.05 + 0.85 * rng.next())), ed });
  });
  for (const inc of incidents) {
    const ed = edges.find((e) => e.fromWl === inc.fromWl && e.peers);
    if (ed) forced.push({ t: Math.round(inc.t0 + (inc.t1 - inc.t0) * 0.5), ed, incident: inc });
  }
  forced.sort((a, b) => a.t - b.t);
  for (const x of topo.lostEvents ?? []) {
    const t = Math.round(start + span * x.at);
    const n = m.nodeByName.get(x.node) ?? nodes[0];
    const time = rfc3339(t, 0);
    emit(t, n.i, `{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"${x.lost}"},"node_name":"${n.full}","time":"${time}"}\n`, -1, 0, -1, -1);
  }

  // Base candidate gap, tuned as we go so that --flows lines cover --hours.
  const LINES_PER_CONN_GUESS = 9;
  let meanGap = span / (opts.flows / LINES_PER_CONN_GUESS) / (maxRate / (flatSum + diurnalSum));
  const end = start + span;
  const expectedFraction = (t) => {
    // Integral of the rate curve from start to t over the whole span (closed form of the sine).
    const P = 24 * 3600e6, w = (2 * Math.PI) / P, phase = -14 * 3600e6;
    const integ = (x) => flatSum * x + diurnalSum * (x - (AMP / w) * Math.cos(w * (x + phase)));
    return (integ(t) - integ(start)) / (integ(end) - integ(start));
  };

  const out = opts.out === '-' ? process.stdout : createWriteStream(opts.out);
  const sink = new Sink(out, !/[^\x00-\x7f]/.test(topoText));
  let written = 0;
  let fi = 0;
  let t = start;
  let conns = 0;
  const stats = { fwd: 0, drop: 0, lost: 0 };
  const drain = (upTo) => {
    while (heap.size > 0 && heap.peek().k <= upTo && written < opts.flows) {
      const e = heap.pop();
      if (e.tr === -1 && e.v === 0) { sink.push(e.s); stats.lost++; continue; }
      sink.push(e.s);
      written++;
      if (e.tr >= 0) {
        const te = truthEdges[e.tr];
        if (e.v === 2) {
          te.drop++;
          const name = DROP_NAMES[e.dc] ?? String(e.dc);
          te.reasons.set(name, (te.reasons.get(name) ?? 0) + 1);
        } else te.fwd++;
      }
      if (e.ws >= 0) seenWorkloads.add(e.ws);
      if (e.wd >= 0) seenWorkloads.add(e.wd);
    }
  };
  while (written < opts.flows) {
    // next candidate time
    let next = t + Math.round(rng.exp(meanGap)) + 1;
    let ed;
    let forcedIncident;
    if (fi < forced.length && forced[fi].t <= next) {
      next = forced[fi].t;
      ed = forced[fi].ed;
      forcedIncident = forced[fi].incident;
      fi++;
    } else {
      const r = flatSum + diurnalSum * dayCurve(next);
      if (!rng.chance(r / maxRate)) { t = next; continue; }
      ed = rng.chance(flatSum / r) ? pickWeighted(flatEdges, flatCum) : pickWeighted(diurnalEdges, diurnalCum);
    }
    t = next;
    fire(ed, t, forcedIncident);
    conns++;
    drain(t - 400e3);
    if ((conns & 31) === 0 && t > start) {
      // Feedback: keep the share of lines written in step with the share of the span elapsed.
      const want = expectedFraction(Math.min(t, end));
      const have = (written + heap.size) / opts.flows;
      if (have > 0 && want > 0) meanGap *= Math.min(1.1, Math.max(0.9, Math.sqrt(have / want)));
      if (t > end) meanGap *= 0.9;
    }
    if (sink.waiting) await sink.waiting;
  }
  drain(Infinity);
  await sink.end();

  if (opts.truth) {
    const truth = {
      generator: 'scripts/generate-recording.mjs',
      topology: opts.topology,
      seed: opts.seed,
      flows: written,
      start: new Date(start / 1000).toISOString(),
      hours: opts.hours,
      rollout: rollout === undefined ? null : new Date(rollout / 1000).toISOString(),
      edges: truthEdges
        .filter((e) => e.fwd + e.drop > 0)
        .map((e) => ({
          from: e.from,
          to: e.to,
          protocol: e.protocol,
          port: e.port,
          forwarded: e.fwd > 0,
          dropped: e.drop > 0,
          flows: { forwarded: e.fwd, dropped: e.drop },
          ...(e.drop > 0 && { dropReasons: Object.fromEntries([...e.reasons].sort()) }),
        }))
        .sort((a, b) => cmpKey(a).localeCompare(cmpKey(b))),
      workloads: m.workloads
        .filter((w) => seenWorkloads.has(w.idx))
        .map((w) => ({ namespace: w.ns, kind: w.kind, name: w.name, selector: w.labels }))
        .sort((a, b) => `${a.namespace}/${a.kind}/${a.name}`.localeCompare(`${b.namespace}/${b.kind}/${b.name}`)),
    };
    writeFileSync(opts.truth, `${JSON.stringify(truth, null, 2)}\n`);
  }
  function cmpKey(e) {
    return `${peerKey(e.from)}>${peerKey(e.to)}>${e.protocol}>${String(e.port).padStart(5, '0')}`;
  }
}

function publicIp(rng) {
  for (;;) {
    const a = rng.int(2, 223);
    if ([10, 100, 127, 169, 172, 192, 198, 203].includes(a)) continue;
    return `${a}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
  }
}

main().catch((e) => {
  process.stderr.write(`generate-recording: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
