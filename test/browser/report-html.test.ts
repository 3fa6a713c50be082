/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { Edge, Peer, WorkloadInfo } from '../../src/graph/index.js';
import { layoutServiceMap } from '../../src/app/report-layout.js';
import { buildInventory, MAP_WORKLOAD_LIMIT, observedEdgeStatus, inventoryHtmlParts, serviceMapGraph } from '../../src/report/index.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, tempDir } from '../helpers/paths.js';
import type { PeerJson } from '../helpers/peer-json.js';
import { readHomeLabTruth } from '../helpers/truth.js';
import { generateCluster } from '../helpers/cluster.js';

/**
 * `report -o html` judged as its reader sees it: Debian's chromium (apt) driven by puppeteer-core.
 * In CI (CI=true) a missing chromium fails the test; elsewhere it is skipped with a note.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const inCi = process.env['CI'] === 'true';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !inCi) console.warn(`report-html: ${CHROMIUM} missing, browser test skipped (apt-get install chromium; in CI it fails instead)`);
const browserDescribe = haveChromium || inCi ? describe : describe.skip;

const RECORDING = join(REPO_ROOT, 'recordings/home-lab.jsonl.gz');
const POLICIES = join(REPO_ROOT, 'examples/policies');
/**
 * Screenshots are kept for people to look at (their paths are printed), in one folder of the
 * checkout that each run replaces: a fresh temp folder per run left 1.5 MB behind every time.
 */
const SHOTS = join(REPO_ROOT, 'test-output', 'report-shots');
rmSync(SHOTS, { recursive: true, force: true });
mkdirSync(SHOTS, { recursive: true });

const truth = readHomeLabTruth();
const peerId = (p: PeerJson): string =>
  p.kind === 'workload' ? `w:${p.namespace}/${p.workloadKind}/${p.name}` : p.kind === 'entity' ? `e:${p.entity}` : p.kind === 'fqdn' ? `f:${p.fqdn}` : `c:${p.cidr}`;

interface Loaded {
  readonly page: Page;
  readonly errors: string[];
  readonly requests: string[];
}

async function open(browser: Browser, file: string, width = 1600): Promise<Loaded> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${String(e)}`));
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    if (r.url() === `file://${file}`) void r.continue();
    else {
      requests.push(r.url());
      void r.abort();
    }
  });
  await page.setViewport({ width, height: 1000 });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { page, errors, requests };
}

/** Screenshot of the whole map (the scroll box opened up), for people to judge. */
async function shootMap(page: Page, path: string): Promise<void> {
  const size = await page.evaluate(() => {
    const svg = document.getElementById('map') as unknown as SVGSVGElement;
    (document.querySelector('.map-wrap') as HTMLElement).style.maxHeight = 'none';
    (document.querySelector('main') as HTMLElement).style.maxWidth = 'none';
    return { w: Number(svg.getAttribute('width')), h: Number(svg.getAttribute('height')) };
  });
  await page.setViewport({ width: Math.min(Math.ceil(size.w) + 80, 8000), height: 1000 });
  const el = await page.$('#map');
  await el?.screenshot({ path });
  console.log(`report-html: screenshot ${path} (${size.w}x${size.h})`);
}

describe('the browser for the HTML test', () => {
  it.runIf(inCi)(`is installed in CI at ${CHROMIUM} (.ci/run installs Debian's chromium)`, () => {
    expect(existsSync(CHROMIUM)).toBe(true);
  });
});

browserDescribe('report -o html in a real browser', () => {
  const tmp = tempDir();
  const db = tmp.file('home-lab.db');
  const html = join(SHOTS, 'home-lab.html');
  let browser: Browser;
  beforeAll(async () => {
    expect((await runCli(['--db', db, 'replay', RECORDING])).code).toBe(0);
    const r = await runCli(['--db', db, 'report', '--policies', POLICIES, '-o', 'html', '--out', html]);
    expect(r.code).toBe(0);
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  });
  afterAll(async () => {
    await browser?.close();
    tmp.remove();
  });

  it('is one self-contained file: no request leaves the page, no console error', async () => {
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    const { page, errors, requests } = await open(browser, html);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.title()).toBe('Network inventory');
    await page.close();
  });

  it('draws every workload of the recording as a node and every edge as a path', async () => {
    const { page } = await open(browser, html);
    const drawn = await page.evaluate(() => {
      const nodes: Record<string, number> = {};
      for (const g of document.querySelectorAll('#map g.node')) {
        const r = g.querySelector('rect')?.getBoundingClientRect();
        nodes[g.getAttribute('data-node') ?? ''] = r ? r.width * r.height : 0;
      }
      const edges: Record<string, number> = {};
      for (const g of document.querySelectorAll('#map g.edge')) {
        const d = g.querySelector('path.line')?.getAttribute('d') ?? '';
        for (const id of (g.getAttribute('data-edge-ids') ?? '').split(' ')) edges[id] = (d.match(/[ML]/g) ?? []).length;
      }
      return { nodes, edges };
    });
    for (const w of truth.workloads) expect(drawn.nodes[`w:${w.namespace}/${w.kind}/${w.name}`] ?? 0, `${w.namespace}/${w.kind}/${w.name} in ${Object.keys(drawn.nodes).join(' ')}`).toBeGreaterThan(0);
    expect(truth.edges.length).toBeGreaterThan(100);
    for (const e of truth.edges) {
      const id = `${peerId(e.from)}>${peerId(e.to)}>${e.protocol}>${e.port}`;
      expect(drawn.edges[id] ?? 0, id).toBeGreaterThanOrEqual(2);
    }
    await page.close();
  });

  it('colours edges by what the policies do and shows ports and evidence on click', async () => {
    const { page, errors } = await open(browser, html);
    const classes = await page.$$eval('#map g.edge', (gs) => gs.map((g) => g.getAttribute('class') ?? ''));
    for (const status of ['allowed', 'would-drop', 'dropped', 'no-policy']) expect(classes.some((c) => c.split(' ').includes(status)), status).toBe(true);
    // radarr -> postgres 5432 is denied by dbms/deny-from-downloads: drawn as "would drop".
    const sel = '#map g.edge[data-from="w:downloads/Deployment/radarr"][data-to="w:dbms/Cluster/postgres"]';
    expect(await page.$eval(sel, (g) => g.getAttribute('class'))).toContain('would-drop');
    await page.$eval(`${sel} path.hit`, (p) => (p as unknown as SVGElement).dispatchEvent(new MouseEvent('click', { bubbles: true })));
    const details = await page.$eval('#details', (d) => d.textContent ?? '');
    expect(details).toContain('5432');
    expect(details).toMatch(/flows/);
    expect(details).toContain('the policies would drop it');
    // DNS and hub edges are hidden until asked for, then shown.
    const hubVisible = async (): Promise<boolean> => page.$eval('#map g.edge.hub', (g) => getComputedStyle(g).display !== 'none');
    expect(await hubVisible()).toBe(false);
    await page.click('#show-hubs');
    expect(await hubVisible()).toBe(true);
    expect(errors).toEqual([]);
    await shootMap(page, join(SHOTS, 'home-lab-map.png'));
    await page.close();
  });

  it('stays readable for a cluster of 70 apps: every node drawn, labels not overlapping', async () => {
    const file = join(SHOTS, 'seventy-apps.html');
    const { edges, workloads } = seventyApps();
    const inv = buildInventory({ edges, workloads, convergence: [], health: { firstFlowMs: 0, lastFlowMs: 1, flows: 1, sources: [], lostEvents: [], verdicts: {}, dropReasons: {} } });
    const layout = await layoutServiceMap(serviceMapGraph(inv, observedEdgeStatus));
    writeFileSync(file, [...inventoryHtmlParts(inv, layout)].join(''));
    const { page, errors } = await open(browser, file);
    expect(errors).toEqual([]);
    const boxes = await page.$$eval('#map g.node rect', (rs) => rs.map((r) => { const b = r.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; }));
    expect(boxes.length).toBeGreaterThanOrEqual(70);
    const overlaps = boxes.flatMap((a, i) => boxes.slice(i + 1).filter((b) => a[0]! < b[0]! + b[2]! && b[0]! < a[0]! + a[2]! && a[1]! < b[1]! + b[3]! && b[1]! < a[1]! + a[3]!));
    expect(overlaps).toEqual([]);
    const fontPx = await page.$eval('#map g.node text', (t) => parseFloat(getComputedStyle(t).fontSize));
    expect(fontPx).toBeGreaterThanOrEqual(11);
    await shootMap(page, join(SHOTS, 'seventy-apps-map.png'));
    await page.close();
  });
});

browserDescribe('report -o html of a cluster too big for one workload map', () => {
  const tmp = tempDir();
  const db = tmp.file('cluster.db');
  const html = join(SHOTS, 'cluster-300.html');
  let browser: Browser;
  let observed: { from: PeerJson; to: PeerJson; protocol: string; port: number; forwarded: number; dropped: number }[];
  beforeAll(async () => {
    // The churning-cluster generator, not the home lab: 300 workloads in ~20 namespaces.
    const recording = tmp.file('cluster.jsonl');
    generateCluster(recording, { workloads: 300, flows: 15000, seed: 'report-map' });
    expect((await runCli(['--db', db, 'replay', recording])).code).toBe(0);
    const edges = await runCli(['--db', db, 'edges', '-A', '-o', 'json']);
    observed = JSON.parse(edges.stdout) as typeof observed;
    const r = await runCli(['--db', db, 'report', '-o', 'html', '--out', html]);
    expect(r.code, r.stderr).toBe(0);
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    tmp.remove();
  });

  it('draws one node per namespace, says why, and accounts for every observed edge', async () => {
    const { page, errors, requests } = await open(browser, html);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.$eval('.map-note', (p) => p.textContent ?? '')).toMatch(/workloads are more than one map can show readably/);
    const drawn = await page.evaluate(() => ({
      nodes: [...document.querySelectorAll('#map g.node')].map((g) => ({ id: g.getAttribute('data-node') ?? '', cls: g.getAttribute('class') ?? '', title: g.querySelector('title')?.textContent ?? '' })),
      edgeIds: [...document.querySelectorAll('#map g.edge')].flatMap((g) => (g.getAttribute('data-edge-ids') ?? '').split(' ')),
      workloadNodes: document.querySelectorAll('#map g.node.workload').length,
    }));
    expect(drawn.workloadNodes).toBe(0);
    const namespaces = new Set(observed.flatMap((e) => [e.from, e.to]).flatMap((p) => (p.kind === 'workload' ? [p.namespace] : [])));
    const nsNodes = drawn.nodes.filter((n) => n.cls.split(' ').includes('namespace')).map((n) => n.id);
    expect(new Set(nsNodes)).toEqual(new Set([...namespaces].map((ns) => `ns:${ns}`)));
    const workloadsDrawn = drawn.nodes.reduce((n, x) => n + Number(/: (\d+) workloads?/.exec(x.title)?.[1] ?? 0), 0);
    expect(workloadsDrawn).toBeGreaterThan(MAP_WORKLOAD_LIMIT);
    // Every edge between two map nodes is behind a drawn line; an edge inside a namespace is counted in its title.
    const behindLines = new Set(drawn.edgeIds);
    const inside = new Map<string, number>();
    for (const e of observed.filter((x) => x.forwarded > 0 || x.dropped > 0)) {
      const id = `${peerId(e.from)}>${peerId(e.to)}>${e.protocol}>${e.port}`;
      const ns = e.from.namespace ?? '';
      if (e.from.kind === 'workload' && e.to.kind === 'workload' && ns === e.to.namespace) inside.set(ns, (inside.get(ns) ?? 0) + 1);
      else expect(behindLines.has(id), id).toBe(true);
    }
    for (const [ns, n] of inside) {
      const title = drawn.nodes.find((x) => x.id === `ns:${ns}`)?.title ?? '';
      expect(title, ns).toContain(`${n.toLocaleString('en-US')} edges between them`);
    }
    // The map fits a screen or two, not one column thousands of pixels tall.
    const size = await page.$eval('#map', (svg) => ({ w: Number(svg.getAttribute('width')), h: Number(svg.getAttribute('height')) }));
    expect(size.h).toBeLessThan(3000);
    await shootMap(page, join(SHOTS, 'cluster-300-map.png'));
    await page.close();
  });

  it('without a map (nothing laid out) still loads cleanly with a note and every table', async () => {
    const { edges, workloads } = seventyApps();
    const inv = buildInventory({ edges, workloads, convergence: [], health: { firstFlowMs: 0, lastFlowMs: 1, flows: 1, sources: [], lostEvents: [], verdicts: {}, dropReasons: {} } });
    const file = join(SHOTS, 'no-map.html');
    writeFileSync(file, [...inventoryHtmlParts(inv, undefined, { mapMissing: 'testing' })].join(''));
    const { page, errors } = await open(browser, file);
    expect(errors).toEqual([]);
    expect(await page.$('#map')).toBeNull();
    expect(await page.$eval('.map-note', (p) => p.textContent ?? '')).toContain('No service map: testing');
    expect(await page.$$eval('h2', (hs) => hs.map((h) => h.textContent))).toContain('Entities');
    await page.close();
  });
});

/** 70 apps in 12 namespaces, shaped like the user docs' clusters: a database, a cache, an ingress, metrics, SaaS egress. */
function seventyApps(): { edges: Edge[]; workloads: WorkloadInfo[] } {
  const counters = { flows: 10, connections: 4, verdicts: 0, forwarded: 10, dropped: 0, audit: 0, redirected: 0, errors: 0 };
  const zero = { ...counters, flows: 0, connections: 0, forwarded: 0 };
  const edge = (from: Peer, to: Peer, protocol: Edge['protocol'], port: number): Edge => ({
    from, to, protocol, port, flows: 10, connections: 4, forwarded: 10, dropped: 0, audit: 0, redirected: 0, errors: 0,
    firstSeenMs: 0, lastSeenMs: 1, hoursSeen: 1, dropReasons: {}, dnsNames: [], httpRequests: [], l7Protocols: [], ips: [], sharedIpWith: [],
    allowedBy: [], deniedBy: [], services: [], srcPods: [], dstPods: [], sides: { egress: counters, ingress: counters, unknown: zero },
  });
  const wl = (namespace: string, name: string, kind = 'Deployment'): Extract<Peer, { kind: 'workload' }> => ({ kind: 'workload', namespace, workloadKind: kind, name });
  const apps: Extract<Peer, { kind: 'workload' }>[] = [];
  const namespaces = ['argocd', 'argo', 'monitoring', 'seaweedfs', 'kube-system', 'database', 'cert-manager', 'kanidm', 'oauth2-proxy', 'trivy-system', 'media', 'home'];
  let n = 0;
  for (const ns of namespaces) for (let i = 0; i < 6 && n < 70; i++, n++) apps.push(wl(ns, `${ns.split('-')[0]}-app-${i}`));
  apps.push(wl('kube-system', 'coredns'), wl('database', 'shared-pg', 'Cluster'), wl('monitoring', 'prometheus', 'StatefulSet'), wl('network', 'ingress-gateway'));
  const [dns, pg, prom, gw] = apps.slice(-4) as [Peer, Peer, Peer, Peer];
  const edges: Edge[] = [];
  apps.slice(0, 70).forEach((a, i) => {
    edges.push(edge(a, dns, 'UDP', 53), edge(prom, a, 'TCP', 9090 + (i % 5)), edge({ kind: 'entity', entity: 'host' }, a, 'TCP', 8080));
    if (i % 3 === 0) edges.push(edge(a, pg, 'TCP', 5432));
    if (i % 4 === 0) edges.push(edge(gw, a, 'TCP', 8080 + (i % 3)));
    if (i % 5 === 0) edges.push(edge(a, { kind: 'entity', entity: 'kube-apiserver' }, 'TCP', 6443));
    if (i % 6 === 0) edges.push(edge(a, { kind: 'fqdn', fqdn: `api.service-${i}.example.com` }, 'TCP', 443));
    const next = apps[i + 1];
    if (next && next.namespace === a.namespace) edges.push(edge(a, next, 'TCP', 8000 + i));
  });
  const workloads: WorkloadInfo[] = apps.map((a) => ({ namespace: a.namespace, kind: a.workloadKind, name: a.name, selector: { app: a.name }, labels: { app: a.name }, unique: true, overlapsWith: [], labelSets: 1, firstSeenMs: 0, lastSeenMs: 1 }));
  return { edges, workloads };
}
