#!/usr/bin/env node
// Generates a large, churning cluster as `hubble observe -o json` lines, plus its ground truth.
// Shaped unlike generate-recording.mjs (a hand-written home-lab topology): here the topology is
// itself generated from the seed, at any size.
//
//   node scripts/generate-cluster.mjs --workloads N --flows M [--seed S] --out FILE|- [--truth FILE]
//        [--days D] [--start RFC3339]
//
// The cluster: N workloads in about N/20 application namespaces plus the usual system ones
// (kube-system with CoreDNS and metrics-server, monitoring with Prometheus scraping every workload
// and every node's node-exporter, ingress-nginx with world clients, Envoy Gateway proxies,
// CloudNativePG, logging, cert-manager). Workloads carry app.kubernetes.io/name + instance labels;
// some are CNPG clusters (cnpg.io/cluster), some StatefulSets, CronJobs, a DaemonSet, and some pods
// carry no app label at all. Every workload's pods are replaced every few hours: Deployment pod
// names change hash, StatefulSet pods keep their names but not their IPs, CNPG instances get new
// serial numbers; all get new IPs and endpoint IDs, on other nodes.
//
// Traffic: service calls inside and across namespaces, DNS to kube-dns over UDP and TCP 53 (through
// the DNS proxy, with answers, in namespaces that have policies), FQDN egress to world, kubelet
// probes from the host, Prometheus scrapes, API-server traffic (kube-apiserver seen as remote-node
// or, from a control-plane node, as host), webhooks called by the API server, ~1% policy drops
// (ingress between workloads, egress to unknown world IPs), and HUBBLE_RING_BUFFER lost events.
//
// Deterministic for (--workloads, --flows, --seed, --days, --start). Streams with bounded memory:
// only current pod incarnations, the edge templates and the truth map are kept.
//
// Truth file: like generate-recording.mjs's (recordings/README.md "Truth file"): `edges` are the
// request-direction edges in the written lines, peers as workload / entity / fqdn / cidr; a world
// destination is an fqdn when its client was answered that IP by DNS in the file or the flow named
// it (destination_names), else a /32 cidr. `workloads` lists every workload seen with its labels.
import { createWriteStream, writeFileSync } from 'node:fs';

const USAGE =
  'usage: generate-cluster.mjs --workloads N --flows M --out FILE|- [--truth FILE] [--seed S] [--days D] [--start RFC3339] [--world-cluster F]';

function fail(msg) {
  process.stderr.write(`generate-cluster: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { seed: '1', days: 7, start: '2026-11-20T00:00:00Z' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--workloads': o.workloads = Number(val()); break;
      case '--flows': o.flows = Number(val()); break;
      case '--seed': o.seed = val(); break;
      case '--out': o.out = val(); break;
      case '--truth': o.truth = val(); break;
      case '--days': o.days = Number(val()); break;
      case '--start': o.start = val(); break;
      case '--world-cluster': o.worldCluster = Number(val()); break;
      case '-h': case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: fail(`unknown argument ${a}`);
    }
  }
  if (o.out === undefined || o.flows === undefined || o.workloads === undefined) fail('--workloads, --flows and --out are required');
  if (!Number.isInteger(o.workloads) || o.workloads < 40) fail('--workloads must be an integer >= 40');
  if (!Number.isInteger(o.flows) || o.flows < 1) fail('--flows must be a positive integer');
  if (!(o.days > 0)) fail('--days must be positive');
  if (Number.isNaN(Date.parse(o.start))) fail('--start must be an RFC 3339 time');
  o.worldCluster ??= 0;
  if (!(o.worldCluster >= 0 && o.worldCluster <= 1)) fail('--world-cluster must be a fraction between 0 and 1');
  return o;
}

// ---- randomness: xoshiro128** seeded through FNV-1a + splitmix32 ------------------------------

function hashString(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
function splitmix(x) {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
/** A stateless hash of small integers: stable names and addresses for (workload, epoch, slot). */
function mix(...xs) {
  let h = 0x2545f491;
  for (const x of xs) h = splitmix((h ^ x) >>> 0);
  return h;
}
function makeRng(seed) {
  let a = splitmix(hashString(seed));
  let b = splitmix(a ^ 0x1234567);
  let c = splitmix(b ^ 0x89abcdef);
  let d = splitmix(c ^ 0x5bd1e995);
  const u32 = () => {
    const r = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)), 9) >>> 0;
    const t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t;
    d = (d << 11) | (d >>> 21);
    return r;
  };
  for (let i = 0; i < 8; i++) u32();
  const next = () => u32() / 4294967296;
  return {
    u32,
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
    exp: (mean) => -Math.log(1 - next()) * mean,
  };
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';
function safeString(h, n) {
  let s = '';
  for (let i = 0; i < n; i++) {
    s += SAFE[h % 27];
    h = Math.floor(h / 27) || mix(h, i);
  }
  return s;
}
const HEXD = '0123456789abcdef';
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX4 = (w) => HEX2[w & 255] + HEX2[(w >>> 8) & 255];
function uuid(rng) {
  const a = rng.u32(), b = rng.u32(), c = rng.u32(), d = rng.u32();
  return `${HEX4(a)}${HEX4(a >>> 16)}-${HEX4(b)}-4${HEX2[(b >>> 16) & 255]}${HEXD[(b >>> 24) & 15]}-${HEXD[8 + (c & 3)]}${HEXD[(c >>> 4) & 15]}${HEX2[(c >>> 8) & 255]}-${HEX4(c >>> 16)}${HEX4(d)}${HEX4(d >>> 16)}`;
}

// ---- time -------------------------------------------------------------------------------------

let cachedSec = -1;
let cachedPrefix = '';
/** RFC 3339 with nanoseconds, from microseconds since the epoch (+ a sub-µs part). */
function rfc3339(us, subUs) {
  const sec = Math.floor(us / 1e6);
  if (sec !== cachedSec) {
    cachedSec = sec;
    cachedPrefix = new Date(sec * 1000).toISOString().slice(0, 19);
  }
  const frac = String((us - sec * 1e6) * 1000 + subUs).padStart(9, '0');
  return `${cachedPrefix}.${frac}Z`;
}

// ---- naming pools -----------------------------------------------------------------------------

const TEAMS = ['payments', 'checkout', 'catalog', 'search', 'identity', 'billing', 'orders', 'shipping', 'inventory', 'notify', 'ledger', 'risk', 'pricing', 'reviews', 'media', 'analytics', 'growth', 'support', 'partner', 'loyalty', 'fraud', 'booking', 'maps', 'chat'];
const APPS = ['api', 'web', 'worker', 'gateway', 'scheduler', 'consumer', 'indexer', 'sync', 'auth', 'render', 'export', 'import', 'backend', 'frontend', 'cache-warmer', 'reporter', 'webhook', 'notifier', 'resizer', 'ingestor', 'router', 'planner', 'matcher', 'tracker'];
const VENDORS = ['stripe.com', 'amazonaws.com', 'googleapis.com', 'github.com', 'sentry.io', 'datadoghq.com', 'slack.com', 'twilio.com', 'sendgrid.net', 'auth0.com', 'cloudflare.com', 'okta.com', 'pagerduty.com', 'segment.io', 'algolia.net', 'mapbox.com', 'paypal.com', 'adyen.com', 'openai.com', 'docker.io'];
const SUBS = ['api', 'hooks', 'events', 'cdn', 'auth', 'upload', 'app', 'eu', 'status', 'data', 'ingest', 'files'];
/** First octets for world addresses: servers behind names, and ingress clients (disjoint). */
const SERVER_OCTETS = [3, 13, 18, 34, 35, 52, 54, 104, 140, 142, 151, 157];
const CLIENT_OCTETS = [2, 5, 31, 37, 46, 62, 77, 78, 81, 83, 85, 88, 89, 91, 93, 94, 95, 109, 176, 178, 185, 188, 193, 195, 212, 213, 217];

// ---- the cluster -------------------------------------------------------------------------------

const HOUR = 3600e6;
const RESERVED_HOST = '{"identity":1,"labels":["reserved:host"]}';
const RESERVED_REMOTE = '{"identity":6,"labels":["reserved:remote-node"]}';
const RESERVED_WORLD = '{"identity":2,"labels":["reserved:world"]}';
const APISERVER_REMOTE = '{"identity":7,"labels":["reserved:kube-apiserver","reserved:remote-node"]}';
const APISERVER_HOST = '{"identity":1,"labels":["reserved:host","reserved:kube-apiserver"]}';

function buildCluster(opts, rng) {
  const N = opts.workloads;
  const namespaces = [];
  const workloads = [];
  let nextIdentity = 10000;

  function addNamespace(name, extra = {}) {
    const labels = [`kubernetes.io/metadata.name=${name}`, ...(extra.labels ?? [])];
    const ns = { name, idx: namespaces.length, policies: extra.policies ?? false, workloads: [], nsLabels: labels.map((l) => `k8s:io.cilium.k8s.namespace.labels.${l}`) };
    namespaces.push(ns);
    return ns;
  }
  /** kind: Deployment | StatefulSet | Cluster (CNPG) | CronJob | DaemonSet. */
  function addWorkload(ns, spec) {
    const w = {
      idx: workloads.length,
      ns,
      kind: spec.kind ?? 'Deployment',
      name: spec.name,
      labels: spec.labels ?? {},
      sa: spec.sa ?? spec.name,
      replicas: spec.replicas ?? 1,
      serve: spec.serve ?? [],
      metrics: spec.metrics,
      probes: spec.probes ?? [],
      onControlPlane: spec.onControlPlane ?? false,
      webhook: spec.webhook,
      periodUs: Math.round((spec.churnHours ?? rng.int(2, 12)) * HOUR),
      phaseUs: Math.floor(rng.next() * 48 * HOUR),
      epoch: -1,
      pods: [],
    };
    const k8s = Object.entries(w.labels).map(([k, v]) => `k8s:${k}=${v}`);
    k8s.push(`k8s:io.cilium.k8s.policy.cluster=default`, `k8s:io.cilium.k8s.policy.serviceaccount=${w.sa}`, `k8s:io.kubernetes.pod.namespace=${ns.name}`);
    w.labelList = JSON.stringify([...k8s, ...ns.nsLabels].sort());
    // Pods with the same labels share a Cilium identity (unlabelled pods of one service account do).
    const idKey = `${ns.name}|${w.labelList}`;
    w.identity = identities.get(idKey) ?? nextIdentity++;
    identities.set(idKey, w.identity);
    w.workloadsJson = w.kind === 'DaemonSet' || w.kind === 'Cluster' || w.kind === 'CronJob' || w.kind === 'StatefulSet' || w.kind === 'Deployment'
      ? `,"workloads":[{"name":${JSON.stringify(w.name)},"kind":"${w.kind}"}]`
      : '';
    workloads.push(w);
    ns.workloads.push(w);
    return w;
  }
  const identities = new Map();

  // system namespaces
  const kubeSystem = addNamespace('kube-system');
  const coredns = addWorkload(kubeSystem, { name: 'coredns', labels: { 'k8s-app': 'kube-dns' }, replicas: Math.max(2, Math.round(N / 600)), serve: [53], metrics: 9153, probes: [8080, 8181], churnHours: 72 });
  const metricsServer = addWorkload(kubeSystem, { name: 'metrics-server', labels: { 'app.kubernetes.io/name': 'metrics-server', 'app.kubernetes.io/instance': 'metrics-server' }, onControlPlane: true, churnHours: 96 });
  const monitoring = addNamespace('monitoring', { labels: ['team=platform'] });
  const prometheus = addWorkload(monitoring, { kind: 'StatefulSet', name: 'prometheus-kube-prometheus-stack-prometheus', labels: { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/instance': 'kube-prometheus-stack-prometheus', 'operator.prometheus.io/name': 'kube-prometheus-stack-prometheus' }, sa: 'kube-prometheus-stack-prometheus', replicas: 2, serve: [9090], probes: [9090], churnHours: 48 });
  const ksm = addWorkload(monitoring, { name: 'kube-prometheus-stack-kube-state-metrics', labels: { 'app.kubernetes.io/name': 'kube-state-metrics', 'app.kubernetes.io/instance': 'kube-prometheus-stack' }, serve: [8080], metrics: 8080, probes: [8080], churnHours: 48 });
  const ingressNs = addNamespace('ingress-nginx', { labels: ['team=platform'] });
  const ingress = addWorkload(ingressNs, { name: 'ingress-nginx-controller', labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/instance': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' }, sa: 'ingress-nginx', replicas: Math.max(2, Math.round(N / 500)), serve: [443, 80], metrics: 10254, probes: [10254], churnHours: 24 });
  const egNs = addNamespace('envoy-gateway-system', { labels: ['team=platform'] });
  const egController = addWorkload(egNs, { name: 'envoy-gateway', labels: { 'app.kubernetes.io/name': 'gateway-helm', 'app.kubernetes.io/instance': 'eg', 'control-plane': 'envoy-gateway' }, serve: [18000], metrics: 19001, probes: [8081], churnHours: 48 });
  const gateways = [];
  for (let g = 0; g < Math.max(1, Math.round(N / 1000)); g++) {
    const gwNs = g === 0 ? 'gateway' : `gateway-${g}`;
    const gwName = g === 0 ? 'public' : `public-${g}`;
    const hash = mix(g, 77).toString(16).padStart(8, '0');
    gateways.push(addWorkload(egNs, {
      name: `envoy-${gwNs}-${gwName}-${hash}`,
      labels: { 'app.kubernetes.io/name': 'envoy', 'app.kubernetes.io/component': 'proxy', 'app.kubernetes.io/managed-by': 'envoy-gateway', 'gateway.envoyproxy.io/owning-gateway-name': gwName, 'gateway.envoyproxy.io/owning-gateway-namespace': gwNs },
      sa: `envoy-${gwNs}-${gwName}-${hash}`, replicas: 2, serve: [10443, 10080], metrics: 19001, probes: [19003], churnHours: 24,
    }));
  }
  const cnpgNs = addNamespace('cnpg-system');
  const cnpgOperator = addWorkload(cnpgNs, { name: 'cnpg-cloudnative-pg', labels: { 'app.kubernetes.io/name': 'cloudnative-pg', 'app.kubernetes.io/instance': 'cnpg' }, serve: [9443], metrics: 8080, onControlPlane: true, webhook: 9443, churnHours: 96 });
  const certNs = addNamespace('cert-manager');
  const certManager = addWorkload(certNs, { name: 'cert-manager', labels: { 'app.kubernetes.io/name': 'cert-manager', 'app.kubernetes.io/instance': 'cert-manager', 'app.kubernetes.io/component': 'controller' }, metrics: 9402, probes: [9403], churnHours: 72 });
  addWorkload(certNs, { name: 'cert-manager-webhook', labels: { 'app.kubernetes.io/name': 'webhook', 'app.kubernetes.io/instance': 'cert-manager', 'app.kubernetes.io/component': 'webhook' }, serve: [10250], probes: [6080], webhook: 10250, churnHours: 72 });
  const loggingNs = addNamespace('logging');
  const loki = addWorkload(loggingNs, { kind: 'StatefulSet', name: 'loki', labels: { 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/instance': 'loki', 'app.kubernetes.io/component': 'single-binary' }, replicas: 3, serve: [3100], metrics: 3100, probes: [3100], churnHours: 72 });

  // application namespaces: ~N/20 of them, ~20 workloads each
  const system = workloads.length + 1; // + the fluent-bit DaemonSet, added once nodes are known
  const appCount = Math.max(20, N - system);
  const nsCount = Math.max(2, Math.round(appCount / 20));
  const appNamespaces = [];
  for (let i = 0; i < nsCount; i++) {
    const team = TEAMS[i % TEAMS.length];
    const name = i < TEAMS.length ? team : `${team}-${Math.floor(i / TEAMS.length) + 1}`;
    const env = ['prod', 'staging', 'prod', 'dev'][i % 4];
    appNamespaces.push(addNamespace(name, { labels: [`team=${team}`, `environment=${env}`], policies: rng.chance(0.45) }));
  }
  const REPLICAS = [1, 1, 2, 2, 2, 3, 3, 4, 6, 10];
  const SERVE = [8080, 8080, 8080, 8080, 3000, 8000, 9090, 50051, 5000, 8443, 7000];
  const METRICS = [9090, 8081, 9102, 2112, 9113, 8080];
  for (let i = 0; i < appCount; i++) {
    const ns = appNamespaces[i % nsCount];
    const k = ns.workloads.length;
    const r = rng.next();
    if (k === 0 && rng.chance(0.5)) {
      // a CNPG cluster per namespace, for some
      const name = `${ns.name}-db`;
      addWorkload(ns, { kind: 'Cluster', name, labels: { 'cnpg.io/cluster': name, 'cnpg.io/podRole': 'instance' }, sa: name, replicas: 3, serve: [5432, 8000], metrics: 9187, probes: [8000], churnHours: rng.int(24, 72) });
      continue;
    }
    if (k === 1 && rng.chance(0.4)) {
      addWorkload(ns, { kind: 'StatefulSet', name: 'redis', labels: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'redis', 'app.kubernetes.io/component': 'master' }, sa: 'redis', replicas: 1, serve: [6379], metrics: 9121, probes: [6379], churnHours: rng.int(12, 48) });
      continue;
    }
    const app = `${APPS[mix(i, 3) % APPS.length]}${k >= APPS.length ? `-${k}` : ''}`;
    const name = ns.workloads.some((w) => w.name === app) ? `${app}-${k}` : app;
    const serve = [SERVE[mix(i, 5) % SERVE.length]];
    if (r < 0.06) {
      // unlabelled: only what Kubernetes and Cilium add
      addWorkload(ns, { name, labels: {}, sa: 'default', replicas: rng.pick(REPLICAS), serve, probes: rng.chance(0.5) ? [serve[0]] : [] });
    } else if (r < 0.08) {
      addWorkload(ns, { kind: 'CronJob', name: `${name}-cron`, labels: { 'app.kubernetes.io/name': `${name}-cron`, 'app.kubernetes.io/instance': ns.name }, sa: name, replicas: 1, churnHours: rng.pick([1, 2, 6]) });
    } else {
      const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': `${ns.name}-${name}` };
      if (rng.chance(0.5)) labels['app.kubernetes.io/part-of'] = ns.name;
      if (rng.chance(0.3)) labels['app.kubernetes.io/version'] = `1.${mix(i, 9) % 30}.${mix(i, 10) % 10}`;
      addWorkload(ns, {
        kind: rng.chance(0.06) ? 'StatefulSet' : 'Deployment',
        name, labels, sa: rng.chance(0.6) ? name : 'default', replicas: rng.pick(REPLICAS), serve,
        metrics: rng.chance(0.8) ? METRICS[mix(i, 7) % METRICS.length] : undefined,
        probes: rng.chance(0.85) ? (rng.chance(0.5) ? [serve[0]] : [serve[0], 8086]) : [],
      });
    }
  }

  // nodes: ~100 pods per node, 3 control-plane nodes
  const podCount = workloads.reduce((n, w) => n + w.replicas, 0);
  const nodeCount = Math.max(4, Math.ceil(podCount / 100) + 3);
  const nodes = [];
  for (let i = 0; i < nodeCount; i++) {
    const cp = i < 3;
    nodes.push({
      i,
      cp,
      name: cp ? `cp-${i + 1}` : `worker-${String(i - 2).padStart(3, '0')}`,
      ip: `10.10.${(i + 10) >> 8}.${(i + 10) & 255}`,
      routerIp: `10.${64 + (i >> 8)}.${i & 255}.1`,
      podPrefix: `10.${64 + (i >> 8)}.${i & 255}.`,
      used: new Uint8Array(256),
      cursor: 2,
    });
  }
  const fluentBit = addWorkload(loggingNs, { kind: 'DaemonSet', name: 'fluent-bit', labels: { 'app.kubernetes.io/name': 'fluent-bit', 'app.kubernetes.io/instance': 'fluent-bit' }, replicas: nodeCount - 3, metrics: 2020, probes: [2020], churnHours: 168 });

  return { namespaces, appNamespaces, workloads, nodes, coredns, metricsServer, prometheus, ksm, ingress, egController, gateways, cnpgOperator, certManager, loki, fluentBit };
}

// ---- pods, churned ----------------------------------------------------------------------------

function allocIp(node) {
  for (let n = 0; n < 253; n++) {
    const o = node.cursor;
    node.cursor = node.cursor >= 254 ? 2 : node.cursor + 1;
    if (!node.used[o]) {
      node.used[o] = 1;
      return o;
    }
  }
  throw new Error(`node ${node.name} has no free pod address`);
}

function podName(w, epoch, slot) {
  switch (w.kind) {
    case 'StatefulSet': return `${w.name}-${slot}`;
    case 'Cluster': return `${w.name}-${epoch * w.replicas + slot + 1}`;
    case 'DaemonSet': return `${w.name}-${safeString(mix(w.idx, epoch, slot, 11), 5)}`;
    case 'CronJob': return `${w.name}-${29000000 + epoch * 60}-${safeString(mix(w.idx, epoch, 13), 5)}`;
    default: return `${w.name}-${safeString(mix(w.idx, epoch, 17), 10)}-${safeString(mix(w.idx, epoch, slot, 19), 5)}`;
  }
}

/** The workload's pods at time t (µs), rebuilt when its churn epoch changes. */
function podsAt(cluster, w, t) {
  const epoch = Math.floor((t + w.phaseUs) / w.periodUs);
  if (epoch === w.epoch) return w.pods;
  const nodes = cluster.nodes;
  for (const p of w.pods) nodes[p.node].used[p.octet] = 0;
  const pods = [];
  for (let slot = 0; slot < w.replicas; slot++) {
    let node;
    if (w.kind === 'DaemonSet') node = nodes[3 + slot];
    else if (w.onControlPlane) node = nodes[mix(w.idx, epoch, slot) % 3];
    else node = nodes[3 + (mix(w.idx, epoch, slot, 23) % (nodes.length - 3))];
    const octet = allocIp(node);
    const name = podName(w, epoch, slot);
    const ip = `${node.podPrefix}${octet}`;
    const id = 1 + (mix(w.idx, epoch, slot, 29) % 4095);
    const frag = `{"ID":${id},"identity":${w.identity},"cluster_name":"default","namespace":${JSON.stringify(w.ns.name)},"labels":${w.labelList},"pod_name":${JSON.stringify(name)}${w.workloadsJson}}`;
    pods.push({ slot, node: node.i, octet, ip, name, frag, w });
  }
  w.epoch = epoch;
  w.pods = pods;
  return pods;
}

// ---- output -----------------------------------------------------------------------------------

class Sink {
  constructor(stream) {
    this.stream = stream;
    this.buf = '';
    this.waiting = undefined;
  }
  push(s) {
    this.buf += s;
    if (this.buf.length >= 1 << 20) this.flush();
  }
  flush() {
    if (this.buf === '') return;
    const ok = this.stream.write(this.buf);
    this.buf = '';
    if (!ok && this.waiting === undefined) this.waiting = new Promise((r) => this.stream.once('drain', () => { this.waiting = undefined; r(); }));
  }
  async end() {
    this.flush();
    if (this.waiting) await this.waiting;
    if (this.stream === process.stdout) return;
    await new Promise((resolve, reject) => { this.stream.on('error', reject); this.stream.end(resolve); });
  }
}

// ---- main -------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const rng = makeRng(`${opts.seed}|${opts.workloads}`);
  const C = buildCluster(opts, rng);
  const start = Date.parse(opts.start) * 1000;
  const span = opts.days * 24 * HOUR;
  const nodes = C.nodes;
  const worldCluster = opts.worldCluster;

  // ---- world: FQDNs with their own addresses, ingress clients ----
  const fqdns = [];
  const fqdnByIp = new Map();
  const fqdnCount = Math.max(10, Math.round(opts.workloads / 4));
  for (let i = 0; i < fqdnCount; i++) {
    const vendor = VENDORS[i % VENDORS.length];
    const sub = SUBS[mix(i, 31) % SUBS.length];
    const round = Math.floor(i / VENDORS.length);
    const name = round === 0 ? `${sub}.${vendor}` : `${sub}-${round}.${vendor}`;
    const ips = [];
    for (let j = 0; j < 1 + (mix(i, 37) % 2); j++) {
      const h = mix(i, j, 41);
      const ip = `${SERVER_OCTETS[h % SERVER_OCTETS.length]}.${(h >>> 8) & 255}.${(i >> 8) & 255}.${((i * 2 + j) & 253) + 1}`;
      if (fqdnByIp.has(ip)) continue;
      ips.push(ip);
    }
    if (ips.length === 0) continue;
    const f = { name, ips, ttl: rng.pick([30, 60, 60, 300]), idx: fqdns.length };
    for (const ip of ips) fqdnByIp.set(ip, f);
    fqdns.push(f);
  }
  const clientPool = Math.max(200, opts.workloads * 8);
  const clientIp = (k) => {
    const h = mix(k, 43);
    return `${CLIENT_OCTETS[h % CLIENT_OCTETS.length]}.${(h >>> 8) & 255}.${(h >>> 16) & 255}.${1 + (k % 253)}`;
  };
  /** Addresses nobody resolves (miners, hard-coded IPs): egress to them is denied where policies are. */
  const strayIp = (k) => `${SERVER_OCTETS[k % SERVER_OCTETS.length]}.${200 + (k % 50)}.${(k >> 3) & 255}.${7 + (k % 200)}`;

  // ---- edge templates ----
  // kinds: call (pod->pod TCP), dns (pod->coredns UDP/TCP), probe (host->pod), scrape (prometheus->pod),
  // nodeScrape (prometheus->node), api (pod->kube-apiserver), webhook (apiserver->pod), fqdn (pod->world),
  // ingress (world->controller), backend (gateway->pod), deny (pod->pod, dropped), stray (pod->world, dropped)
  const templates = [];
  const add = (kind, weight, t) => templates.push({ kind, weight: weight * (0.2 + rng.exp(1)), ...t });
  const apps = C.appNamespaces.flatMap((ns) => ns.workloads);
  const servers = (ns) => ns.workloads.filter((w) => w.serve.length > 0);
  for (const w of C.workloads) {
    if (w.kind !== 'DaemonSet' || w === C.fluentBit) add('dns', 3, { src: w, dst: C.coredns, proto: 'UDP', port: 53 });
    if (mix(w.idx, 47) % 10 === 0) add('dns', 0.4, { src: w, dst: C.coredns, proto: 'TCP', port: 53 });
    for (const p of new Set(w.probes)) if (!w.onControlPlane) add('probe', 2, { dst: w, proto: 'TCP', port: p });
    if (w.metrics !== undefined) add('scrape', 1.2, { src: C.prometheus, dst: w, proto: 'TCP', port: w.metrics });
    if (w.webhook !== undefined) add('webhook', 0.5, { dst: w, proto: 'TCP', port: w.webhook });
  }
  for (const n of [false, true]) add('nodeScrape', 8, { src: C.prometheus, proto: 'TCP', port: 9100, sameNode: n });
  add('nodeScrape', 4, { src: C.metricsServer, proto: 'TCP', port: 10250, sameNode: false });
  for (const w of [C.metricsServer, C.ksm, C.egController, C.cnpgOperator, C.certManager, C.prometheus, C.coredns]) add('api', 2, { src: w, proto: 'TCP', port: 6443 });
  add('call', 3, { src: C.fluentBit, dst: C.loki, proto: 'TCP', port: 3100 });
  add('fqdn', 1, { src: C.certManager, fqdn: { name: 'acme-v02.api.letsencrypt.org', ips: ['172.65.32.248'], ttl: 300, idx: -1 }, proto: 'TCP', port: 443 });
  fqdnByIp.set('172.65.32.248', { name: 'acme-v02.api.letsencrypt.org' });
  for (const ns of C.appNamespaces) {
    const local = servers(ns);
    const db = ns.workloads.find((w) => w.kind === 'Cluster');
    if (db) {
      add('call', 1, { src: db, dst: db, proto: 'TCP', port: 5432, distinct: true });
      add('call', 1, { src: db, dst: db, proto: 'TCP', port: 8000, distinct: true });
      add('call', 0.5, { src: C.cnpgOperator, dst: db, proto: 'TCP', port: 8000 });
    }
    for (const w of ns.workloads) {
      if (w.kind === 'Cluster') continue;
      const calls = w.kind === 'CronJob' ? 2 : 1 + (mix(w.idx, 53) % 24);
      const seen = new Set();
      for (let c = 0; c < calls; c++) {
        const cross = rng.chance(0.25);
        const pool = cross ? servers(rng.pick(C.appNamespaces)) : local;
        const dst = pool.length > 0 ? rng.pick(pool) : undefined;
        if (!dst || dst === w || seen.has(dst)) continue;
        seen.add(dst);
        add('call', 4, { src: w, dst, proto: 'TCP', port: dst.serve[0] });
      }
      if (rng.chance(0.4)) {
        const k = 1 + (mix(w.idx, 59) % 3);
        for (let j = 0; j < k; j++) add('fqdn', 1.5, { src: w, fqdn: fqdns[mix(w.idx, j, 61) % fqdns.length], proto: 'TCP', port: 443 });
      }
      if (w.kind !== 'CronJob' && w.serve.length > 0 && rng.chance(0.2)) {
        const front = rng.chance(0.7) ? C.ingress : rng.pick(C.gateways);
        add('backend', 3, { src: front, dst: w, proto: 'TCP', port: w.serve[0] });
      }
      if (ns.policies && rng.chance(0.08)) {
        const other = servers(rng.pick(C.appNamespaces)).filter((x) => x.ns !== ns);
        if (other.length > 0) { const dst = rng.pick(other); add('deny', 9, { src: w, dst, proto: 'TCP', port: dst.serve[0] }); }
      }
      if (ns.policies && rng.chance(0.03)) add('stray', 8, { src: w, ip: strayIp(w.idx), proto: 'TCP', port: rng.pick([443, 8443, 3333, 4444]) });
    }
  }
  if (process.env.GENERATE_CLUSTER_DEBUG) process.stderr.write(`templates ${templates.length} ${JSON.stringify(Object.fromEntries([...new Set(templates.map((t) => t.kind))].map((k) => [k, templates.filter((t) => t.kind === k).length])))} nodes ${nodes.length}\n`);
  if (apps.length === 0) fail('no application workloads');
  // World clients of the ingress controller and the gateways: 8% of the connections.
  const others = templates.reduce((n, t) => n + t.weight, 0);
  const fronts = [[C.ingress, 443, 5], [C.ingress, 80, 1], ...C.gateways.map((g) => [g, g.serve[0], 2])];
  const frontWeight = fronts.reduce((n, f) => n + f[2], 0);
  for (const [dst, port, w] of fronts) templates.push({ kind: 'ingress', weight: (others * 0.087 * w) / frontWeight, dst, proto: 'TCP', port });
  // Cumulative weights for sampling.
  const cum = new Float64Array(templates.length);
  let total = 0;
  templates.forEach((t, i) => { total += t.weight; cum[i] = total; });
  const pickTemplate = () => {
    const x = rng.next() * total;
    let lo = 0, hi = cum.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid] < x) lo = mid + 1; else hi = mid; }
    return templates[lo];
  };

  // ---- truth ----
  const truth = new Map();
  const worldTruth = new Map(); // src workload idx | ip | proto | port -> raw record
  const answered = new Map(); // src workload idx | ip -> Set(names)
  const wlPeer = (w) => ({ kind: 'workload', namespace: w.ns.name, workloadKind: w.kind, name: w.name });
  const peerKey = (p) => (p.kind === 'workload' ? `w:${p.namespace}/${p.workloadKind}/${p.name}` : p.kind === 'entity' ? `e:${p.entity}` : p.kind === 'fqdn' ? `f:${p.fqdn}` : `c:${p.cidr}`);
  function count(map, key, make, dropped) {
    let e = map.get(key);
    if (e === undefined) map.set(key, (e = { ...make(), fwd: 0, drop: 0 }));
    if (dropped) e.drop++;
    else e.fwd++;
  }

  // ---- lines ----
  const out = opts.out === '-' ? process.stdout : createWriteStream(opts.out);
  const sink = new Sink(out);
  let written = 0;
  let lost = 0;
  /** Whether the last line() call wrote its line (false once --flows lines are out). */
  let lastWritten = false;
  const nodeName = nodes.map((n) => JSON.stringify(n.name));
  /** One event line. f: {t, node, verdict, drop, sip, dip, proto, sport, dport, flags, src, dst, type, names, l7, et, dir, point, reason, reply, summary, match} */
  function line(f) {
    lastWritten = written < opts.flows;
    if (!lastWritten) return;
    const time = rfc3339(f.t, mix(written, 67) % 1000);
    let s = `{"flow":{"time":"${time}","uuid":"${uuid(rng)}","verdict":"${f.verdict}"`;
    if (f.drop) s += `,"drop_reason":${f.drop}`;
    if (f.type !== 'L7') s += `,"ethernet":{"source":"${mac(f.sip)}","destination":"${mac(f.dip)}"}`;
    s += `,"IP":{"source":"${f.sip}","destination":"${f.dip}","ipVersion":"IPv4"}`;
    s += f.proto === 'TCP'
      ? `,"l4":{"TCP":{"source_port":${f.sport},"destination_port":${f.dport}${f.flags ? `,"flags":${FLAGS[f.flags][0]}` : ''}}}`
      : `,"l4":{"UDP":{"source_port":${f.sport},"destination_port":${f.dport}}}`;
    s += `,"source":${f.src},"destination":${f.dst},"Type":"${f.type ?? 'L3_L4'}","node_name":${nodeName[f.node]}`;
    if (f.names) s += `,"destination_names":${f.names}`;
    if (f.l7) s += `,"l7":${f.l7}`;
    if (f.reply) s += `,"reply":true`;
    s += `,"event_type":${f.et}`;
    if (f.dir) s += `,"traffic_direction":"${f.dir}"`;
    if (f.match) s += `,"policy_match_type":${f.match}`;
    if (f.point) s += `,"trace_observation_point":"${f.point}"`;
    if (f.reason) s += `,"trace_reason":"${f.reason}"`;
    if (f.drop) s += `,"drop_reason_desc":"POLICY_DENIED"`;
    if (f.reply !== undefined) s += `,"is_reply":${f.reply}`;
    const summary = f.summary ?? (f.proto === 'TCP' ? FLAGS[f.flags][1] : 'UDP');
    s += `,"Summary":${JSON.stringify(summary)}},"node_name":${nodeName[f.node]},"time":"${time}"}\n`;
    sink.push(s);
    written++;
  }
  const macs = new Map();
  function mac(ip) {
    let m = macs.get(ip);
    if (m === undefined) {
      const h = mix(hashString(ip), 71);
      m = `${HEXD[(h >>> 4) & 15]}${HEXD[((h & 15) | 2) & 14]}:${[8, 12, 16, 20, 24].map((b) => `${HEXD[(h >>> (b + 4)) & 15]}${HEXD[(h >>> b) & 15]}`).join(':')}`;
      if (macs.size > 50000) macs.clear();
      macs.set(ip, m);
    }
    return m;
  }

  /**
   * A request-direction line for the truth: the edge from-peer -> to-peer as the observing node
   * identified the peers (`to` may be a world IP, resolved at the end).
   */
  function truthLine(fromPeer, toPeer, proto, port, dropped, worldIp, srcW, names) {
    if (!lastWritten) return;
    if (worldIp !== undefined) {
      count(worldTruth, `${srcW.idx}|${worldIp}|${proto}|${port}`, () => ({ from: fromPeer, srcW, ip: worldIp, protocol: proto, port, names: new Set() }), dropped);
      if (names) worldTruth.get(`${srcW.idx}|${worldIp}|${proto}|${port}`).names.add(names);
      return;
    }
    count(truth, `${peerKey(fromPeer)}>${peerKey(toPeer)}>${proto}>${port}`, () => ({ from: fromPeer, to: toPeer, protocol: proto, port, reasons: new Map() }), dropped);
    if (dropped) {
      const e = truth.get(`${peerKey(fromPeer)}>${peerKey(toPeer)}>${proto}>${port}`);
      e.reasons.set('POLICY_DENIED', (e.reasons.get('POLICY_DENIED') ?? 0) + 1);
    }
  }

  const ephemeral = () => rng.int(32768, 60999);
  const dnsUntil = new Map();

  /** A DNS exchange of a pod with CoreDNS, through the DNS proxy (L7) when its namespace has policies. */
  function dnsExchange(pod, t, proto, query, answerIps, ttl, rcode) {
    const w = pod.w;
    const server = rng.pick(podsAt(C, C.coredns, t));
    const sport = ephemeral();
    const cross = server.node !== pod.node;
    const base = { proto, sip: pod.ip, dip: server.ip, sport, dport: 53, src: pod.frag, dst: server.frag, flags: proto === 'TCP' ? 'SYN' : undefined };
    const fromP = wlPeer(w), toP = wlPeer(C.coredns);
    const proxied = w.ns.policies && proto === 'UDP';
    line({ ...base, t, node: pod.node, verdict: 'FORWARDED', et: '{"type":4,"sub_type":5}', dir: 'EGRESS', point: 'FROM_ENDPOINT', reason: 'NEW', reply: false });
    truthLine(fromP, toP, proto, 53, false);
    if (proxied) {
      line({ ...base, t: t + 5, node: pod.node, verdict: 'REDIRECTED', et: '{"type":5}', dir: 'EGRESS', match: 4, reply: false });
      truthLine(fromP, toP, proto, 53, false);
      const qt = 'A';
      line({ ...base, t: t + 40, node: pod.node, verdict: 'FORWARDED', type: 'L7', et: '{"type":129}', dir: 'EGRESS', reply: false, l7: `{"type":"REQUEST","dns":{"query":${JSON.stringify(query)},"observation_source":"proxy","qtypes":["${qt}"]}}`, summary: `DNS Query ${query} ${qt}` });
      truthLine(fromP, toP, proto, 53, false);
    }
    const tb = t + (cross ? rng.int(200, 600) : rng.int(30, 90));
    if (cross) line({ ...base, t: tb, node: server.node, verdict: 'FORWARDED', et: '{"type":4}', dir: 'INGRESS', point: 'TO_ENDPOINT', reason: 'NEW', reply: false });
    if (cross) truthLine(fromP, toP, proto, 53, false);
    const back = { proto, sip: server.ip, dip: pod.ip, sport: 53, dport: sport, src: server.frag, dst: pod.frag, flags: proto === 'TCP' ? 'SYNACK' : undefined };
    const tr = tb + rng.int(100, 400);
    if (proxied) {
      let dns = `{"query":${JSON.stringify(query)}`;
      if (answerIps.length) dns += `,"ips":${JSON.stringify(answerIps)}`;
      dns += `,"ttl":${rcode ? 4294967295 : ttl},"observation_source":"proxy"`;
      if (rcode) dns += `,"rcode":${rcode}`;
      dns += `,"qtypes":["A"]`;
      if (answerIps.length) dns += `,"rrtypes":["A"]`;
      dns += '}';
      const summary = rcode ? `DNS Answer RCode: Non-Existent Domain TTL: 4294967295 (Proxy ${query} A)` : `DNS Answer "${answerIps.join(',')}" TTL: ${ttl} (Proxy ${query} A)`;
      line({ ...back, t: tr, node: pod.node, verdict: 'FORWARDED', type: 'L7', et: '{"type":129}', dir: 'EGRESS', reply: true, l7: `{"type":"RESPONSE","latency_ns":"${(tr - t) * 1000}","dns":${dns}}`, summary });
      for (const ip of lastWritten ? answerIps : []) {
        if (!fqdnByIp.has(ip)) continue;
        const k = `${w.idx}|${ip}`;
        let s = answered.get(k);
        if (!s) answered.set(k, (s = new Set()));
        s.add(query.replace(/\.$/, ''));
      }
    }
    line({ ...back, t: tr + 20, node: pod.node, verdict: 'FORWARDED', et: '{"type":4}', dir: 'EGRESS', point: 'TO_ENDPOINT', reason: 'REPLY', reply: true });
    return tr + 50;
  }

  /** pod -> pod TCP connection; dropped at the destination's ingress when `deny`. */
  function podConnection(srcPod, dstPod, port, t, deny) {
    const cross = srcPod.node !== dstPod.node;
    const sport = ephemeral();
    const req = { proto: 'TCP', sip: srcPod.ip, dip: dstPod.ip, sport, dport: port, src: srcPod.frag, dst: dstPod.frag };
    // --world-cluster: the source node's IP cache does not know the destination pod yet, so its
    // egress events show it as world (the destination node's events still name the pod).
    const srcView = worldCluster > 0 && rng.chance(worldCluster) ? { ...req, dst: RESERVED_WORLD } : req;
    const fromP = wlPeer(srcPod.w), toP = wlPeer(dstPod.w);
    const lat = cross ? rng.int(150, 600) : rng.int(20, 80);
    const attempts = deny ? 3 : 1;
    for (let a = 0; a < attempts; a++) {
      const ta = t + (a === 0 ? 0 : a === 1 ? 1e6 : 3e6);
      line({ ...srcView, t: ta, node: srcPod.node, flags: 'SYN', verdict: 'FORWARDED', et: '{"type":4,"sub_type":5}', dir: 'EGRESS', point: 'FROM_ENDPOINT', reason: 'NEW', reply: false });
      truthLine(fromP, toP, 'TCP', port, false);
      if (srcPod.w.ns.policies && !deny) {
        line({ ...srcView, t: ta + 4, node: srcPod.node, flags: 'SYN', verdict: 'FORWARDED', et: '{"type":5}', dir: 'EGRESS', match: 1, reply: false });
        truthLine(fromP, toP, 'TCP', port, false);
      }
      const tb = ta + lat;
      if (deny) {
        line({ ...req, t: tb, node: dstPod.node, flags: 'SYN', verdict: 'DROPPED', drop: 133, et: '{"type":5}', dir: 'INGRESS' });
        truthLine(fromP, toP, 'TCP', port, true);
        line({ ...req, t: tb + 3, node: dstPod.node, flags: 'SYN', verdict: 'DROPPED', drop: 133, et: '{"type":1,"sub_type":133}', dir: 'INGRESS' });
        truthLine(fromP, toP, 'TCP', port, true);
        continue;
      }
      if (dstPod.w.ns.policies) {
        line({ ...req, t: tb, node: dstPod.node, flags: 'SYN', verdict: 'FORWARDED', et: '{"type":5}', dir: 'INGRESS', match: 1, reply: false });
        truthLine(fromP, toP, 'TCP', port, false);
      }
      if (cross) {
        line({ ...req, t: tb + 5, node: dstPod.node, flags: 'SYN', verdict: 'FORWARDED', et: '{"type":4}', dir: 'INGRESS', point: 'TO_ENDPOINT', reason: 'NEW', reply: false });
        truthLine(fromP, toP, 'TCP', port, false);
      }
      const back = { proto: 'TCP', sip: dstPod.ip, dip: srcPod.ip, sport: port, dport: sport, src: dstPod.frag, dst: srcPod.frag };
      line({ ...back, t: tb + 40, node: srcPod.node, flags: 'SYNACK', verdict: 'FORWARDED', et: '{"type":4}', dir: 'EGRESS', point: 'TO_ENDPOINT', reason: 'REPLY', reply: true });
      if (rng.chance(0.5)) {
        line({ ...req, t: tb + lat + 80, node: srcPod.node, flags: 'ACK', verdict: 'FORWARDED', et: '{"type":4,"sub_type":5}', dir: 'EGRESS', point: 'FROM_ENDPOINT', reason: 'ESTABLISHED', reply: false });
        truthLine(fromP, toP, 'TCP', port, false);
      }
    }
  }

  /** A peer outside the pod network (node, API server, world) reached from a pod; observed at the source only. */
  function egressOut(srcPod, dip, dstFrag, port, t, toPeer, worldIp, names, deny) {
    const sport = ephemeral();
    const req = { proto: 'TCP', sip: srcPod.ip, dip, sport, dport: port, src: srcPod.frag, dst: dstFrag, names };
    const fromP = wlPeer(srcPod.w);
    const nameStr = names ? JSON.parse(names)[0] : undefined;
    for (let a = 0; a < (deny ? 3 : 1); a++) {
      const ta = t + (a === 0 ? 0 : a === 1 ? 1e6 : 3e6);
      if (deny) {
        line({ ...req, t: ta, node: srcPod.node, flags: 'SYN', verdict: 'DROPPED', drop: 133, et: '{"type":5}', dir: 'EGRESS' });
        truthLine(fromP, toPeer, 'TCP', port, true, worldIp, srcPod.w, nameStr);
        line({ ...req, t: ta + 2, node: srcPod.node, flags: 'SYN', verdict: 'DROPPED', drop: 133, et: '{"type":1,"sub_type":133}', dir: 'EGRESS' });
        truthLine(fromP, toPeer, 'TCP', port, true, worldIp, srcPod.w, nameStr);
        continue;
      }
      line({ ...req, t: ta, node: srcPod.node, flags: 'SYN', verdict: 'FORWARDED', et: '{"type":4,"sub_type":5}', dir: 'EGRESS', point: 'FROM_ENDPOINT', reason: 'NEW', reply: false });
      truthLine(fromP, toPeer, 'TCP', port, false, worldIp, srcPod.w, nameStr);
      if (srcPod.w.ns.policies) {
        line({ ...req, t: ta + 3, node: srcPod.node, flags: 'SYN', verdict: 'FORWARDED', et: '{"type":5}', dir: 'EGRESS', match: worldIp ? 2 : 1, reply: false });
        truthLine(fromP, toPeer, 'TCP', port, false, worldIp, srcPod.w, nameStr);
      }
      line({ ...req, t: ta + 8, node: srcPod.node, flags: 'SYN', verdict: 'FORWARDED', et: '{"type":4,"sub_type":11}', dir: 'EGRESS', point: 'TO_NETWORK', reason: 'NEW', reply: false });
      truthLine(fromP, toPeer, 'TCP', port, false, worldIp, srcPod.w, nameStr);
      const back = { proto: 'TCP', sip: dip, dip: srcPod.ip, sport: port, dport: sport, src: dstFrag, dst: srcPod.frag };
      line({ ...back, t: ta + rng.int(900, 30000), node: srcPod.node, flags: 'SYNACK', verdict: 'FORWARDED', et: '{"type":4}', dir: 'EGRESS', point: 'TO_ENDPOINT', reason: 'REPLY', reply: true, names: undefined });
    }
  }

  /** Traffic into a pod from outside the pod network (host probes, world clients, the API server). */
  function ingressIn(srcFrag, sip, dstPod, port, t, fromPeer, point) {
    const sport = ephemeral();
    const req = { proto: 'TCP', sip, dip: dstPod.ip, sport, dport: port, src: srcFrag, dst: dstPod.frag };
    const toP = wlPeer(dstPod.w);
    if (dstPod.w.ns.policies && fromPeer.entity !== 'host') {
      line({ ...req, t, node: dstPod.node, flags: 'SYN', verdict: 'FORWARDED', et: '{"type":5}', dir: 'INGRESS', match: fromPeer.kind === 'cidr' ? 4 : 1, reply: false });
      truthLine(fromPeer, toP, 'TCP', port, false);
    }
    line({ ...req, t: t + 5, node: dstPod.node, flags: 'SYN', verdict: 'FORWARDED', et: '{"type":4}', dir: 'INGRESS', point: point ?? 'TO_ENDPOINT', reason: 'NEW', reply: false });
    truthLine(fromPeer, toP, 'TCP', port, false);
    const back = { proto: 'TCP', sip: dstPod.ip, dip: sip, sport: port, dport: sport, src: dstPod.frag, dst: srcFrag };
    line({ ...back, t: t + 60, node: dstPod.node, flags: 'SYNACK', verdict: 'FORWARDED', et: '{"type":4,"sub_type":3}', dir: 'INGRESS', point: 'TO_STACK', reason: 'REPLY', reply: true });
  }

  const apiservers = nodes.filter((n) => n.cp);
  const workers = nodes.filter((n) => !n.cp);
  const cidrIdentities = new Map();
  function fire(tp, t) {
    switch (tp.kind) {
      case 'dns': {
        const pod = rng.pick(podsAt(C, tp.src, t));
        const svc = rng.pick(C.workloads);
        const q = rng.chance(0.2) ? `${svc.name}.${pod.w.ns.name}.svc.cluster.local.` : `${svc.name}.${svc.ns.name}.svc.cluster.local.`;
        const nx = rng.chance(0.2) || svc.serve.length === 0;
        dnsExchange(pod, t, tp.proto, q, nx ? [] : [`10.96.${(svc.idx >> 8) & 255}.${svc.idx & 255}`], 30, nx ? 3 : 0);
        break;
      }
      case 'call': {
        const srcs = podsAt(C, tp.src, t);
        const src = rng.pick(srcs);
        let dsts = podsAt(C, tp.dst, t);
        if (tp.distinct) dsts = dsts.filter((p) => p !== src);
        if (dsts.length === 0) return;
        podConnection(src, rng.pick(dsts), tp.port, t, false);
        break;
      }
      case 'backend':
        podConnection(rng.pick(podsAt(C, tp.src, t)), rng.pick(podsAt(C, tp.dst, t)), tp.port, t, false);
        break;
      case 'deny':
        podConnection(rng.pick(podsAt(C, tp.src, t)), rng.pick(podsAt(C, tp.dst, t)), tp.port, t, true);
        break;
      case 'scrape': {
        const dsts = podsAt(C, tp.dst, t);
        podConnection(rng.pick(podsAt(C, tp.src, t)), rng.pick(dsts), tp.port, t, false);
        break;
      }
      case 'probe': {
        const pod = rng.pick(podsAt(C, tp.dst, t));
        ingressIn(RESERVED_HOST, nodes[pod.node].routerIp, pod, tp.port, t, { kind: 'entity', entity: 'host' });
        break;
      }
      case 'webhook': {
        const pod = rng.pick(podsAt(C, tp.dst, t));
        const api = rng.pick(apiservers);
        const sameNode = api.i === pod.node;
        ingressIn(sameNode ? APISERVER_HOST : APISERVER_REMOTE, api.ip, pod, tp.port, t, { kind: 'entity', entity: 'kube-apiserver' });
        break;
      }
      case 'ingress': {
        const pod = rng.pick(podsAt(C, tp.dst, t));
        const u = rng.next();
        const k = Math.floor(clientPool * u * u);
        const ip = clientIp(k);
        ingressIn(RESERVED_WORLD, ip, pod, tp.port, t, { kind: 'cidr', cidr: `${ip}/32` }, 'TO_ENDPOINT');
        break;
      }
      case 'api': {
        const pod = rng.pick(podsAt(C, tp.src, t));
        const api = rng.pick(apiservers);
        egressOut(pod, api.ip, api.i === pod.node ? APISERVER_HOST : APISERVER_REMOTE, 6443, t, { kind: 'entity', entity: 'kube-apiserver' });
        break;
      }
      case 'nodeScrape': {
        const pod = rng.pick(podsAt(C, tp.src, t));
        // Worker nodes only: a control-plane node's address is the API server's (kube-apiserver).
        let node = tp.sameNode ? nodes[pod.node] : rng.pick(workers);
        if (!tp.sameNode && node.i === pod.node) node = workers[(workers.indexOf(node) + 1) % workers.length];
        const same = node.i === pod.node;
        // --world-cluster: the node is seen as world (as GKE node addresses are in public samples).
        const frag = worldCluster > 0 && rng.chance(worldCluster) ? RESERVED_WORLD : same ? RESERVED_HOST : RESERVED_REMOTE;
        const entity = same ? 'host' : 'remote-node';
        egressOut(pod, node.ip, frag, tp.port, t, { kind: 'entity', entity });
        break;
      }
      case 'fqdn': {
        const pod = rng.pick(podsAt(C, tp.src, t));
        const f = tp.fqdn;
        const key = `${tp.src.idx}|${f.idx}|${pod.slot}`;
        const until = dnsUntil.get(key);
        let tc = t;
        if (until === undefined || until.epoch !== tp.src.epoch || until.t < t) {
          tc = dnsExchange(pod, t - rng.int(2000, 20000), 'UDP', `${f.name}.`, f.ips, f.ttl, 0);
          dnsUntil.set(key, { epoch: tp.src.epoch, t: t + f.ttl * 1e6 });
        }
        const ip = rng.pick(f.ips);
        const named = pod.w.ns.policies;
        let cidrId = cidrIdentities.get(ip);
        if (cidrId === undefined) cidrIdentities.set(ip, (cidrId = 16777217 + cidrIdentities.size));
        const dst = named ? `{"identity":${cidrId},"labels":["cidr:${ip}/32","reserved:world"]}` : RESERVED_WORLD;
        egressOut(pod, ip, dst, tp.port, tc, undefined, ip, named ? JSON.stringify([f.name]) : undefined);
        break;
      }
      case 'stray': {
        const pod = rng.pick(podsAt(C, tp.src, t));
        egressOut(pod, tp.ip, RESERVED_WORLD, tp.port, t, undefined, tp.ip, undefined, true);
        break;
      }
      default:
        throw new Error(`unknown template ${tp.kind}`);
    }
  }

  // Lost events: a handful over the span, at fixed fractions of the output.
  const lostAt = [0.13, 0.41, 0.77].map((x) => Math.floor(opts.flows * x));
  let nextLost = 0;
  while (written < opts.flows) {
    const t = start + Math.floor((span * written) / opts.flows) + rng.int(0, 400000);
    fire(pickTemplate(), t);
    if (nextLost < lostAt.length && written >= lostAt[nextLost]) {
      const n = nodes[mix(nextLost, 79) % nodes.length];
      sink.push(`{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"${1 + (mix(nextLost, 83) % 5000)}","cpu":{"value":${nextLost % 2}}},"node_name":${nodeName[n.i]},"time":"${rfc3339(t, 0)}"}\n`);
      lost++;
      nextLost++;
    }
    if (sink.waiting) await sink.waiting;
  }
  await sink.end();
  void lost;
  // A flow line cut off by --flows may have left truth counts for lines never written: recount
  // is unnecessary because each line is written before its truth is counted, and the loop only
  // stops between connections; the last connection may overshoot --flows by a few lines.

  if (opts.truth) {
    for (const r of worldTruth.values()) {
      const names = new Set(r.names);
      for (const n of answered.get(`${r.srcW.idx}|${r.ip}`) ?? []) names.add(n);
      const tos = names.size === 0 ? [{ kind: 'cidr', cidr: `${r.ip}/32` }] : [...names].map((fqdn) => ({ kind: 'fqdn', fqdn }));
      for (const to of tos) {
        const key = `${peerKey(r.from)}>${peerKey(to)}>${r.protocol}>${r.port}`;
        let e = truth.get(key);
        if (!e) truth.set(key, (e = { from: r.from, to, protocol: r.protocol, port: r.port, reasons: new Map(), fwd: 0, drop: 0 }));
        e.fwd += r.fwd;
        e.drop += r.drop;
        if (r.drop) e.reasons.set('POLICY_DENIED', (e.reasons.get('POLICY_DENIED') ?? 0) + r.drop);
      }
    }
    const edges = [...truth.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, e]) => ({
        from: e.from,
        to: e.to,
        protocol: e.protocol,
        port: e.port,
        forwarded: e.fwd > 0,
        dropped: e.drop > 0,
        flows: { forwarded: e.fwd, dropped: e.drop },
        ...(e.drop > 0 && { dropReasons: Object.fromEntries(e.reasons) }),
      }));
    const seen = new Set(edges.flatMap((e) => [peerKey(e.from), peerKey(e.to)]));
    const doc = {
      generator: 'scripts/generate-cluster.mjs',
      seed: opts.seed,
      workloadsRequested: opts.workloads,
      flows: written,
      lostEvents: lost,
      start: new Date(start / 1000).toISOString(),
      days: opts.days,
      nodes: nodes.map((n) => ({ name: n.name, ip: n.ip, controlPlane: n.cp })),
      edges,
      workloads: C.workloads
        .filter((w) => seen.has(`w:${w.ns.name}/${w.kind}/${w.name}`))
        .map((w) => ({ namespace: w.ns.name, kind: w.kind, name: w.name, labels: w.labels }))
        .sort((a, b) => `${a.namespace}/${a.kind}/${a.name}`.localeCompare(`${b.namespace}/${b.kind}/${b.name}`)),
    };
    writeFileSync(opts.truth, `${JSON.stringify(doc)}\n`);
  }
}

const FLAGS = {
  SYN: ['{"SYN":true}', 'TCP Flags: SYN'],
  SYNACK: ['{"SYN":true,"ACK":true}', 'TCP Flags: SYN, ACK'],
  ACK: ['{"ACK":true}', 'TCP Flags: ACK'],
};

main().catch((e) => {
  process.stderr.write(`generate-cluster: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
