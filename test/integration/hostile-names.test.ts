import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { keyPart, parseKeyPart, parseRawPeerKey, workloadKey } from '../../src/graph/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import fc from 'fast-check';

/** Names no Kubernetes API server would accept, but that a flow (or a hostile recording) can carry. */
const HOSTILE = [
  'a/b',
  '../../etc',
  'x|y',
  '%2F',
  '~',
  'line\nbreak',
  'cr\rlf',
  'nel\u0085ls\u2028ps\u2029',
  'ctl\u0000\u0001\u001b[31m\u007f',
  'n'.repeat(300),
  'ünï/cødé🙂',
  "o'brien",
  '<b>&"x"</b>',
];

function flowLine(i: number, ns: string, pod: string, dstNs: string): string {
  return JSON.stringify({
    flow: {
      time: `2021-10-04T11:22:${String(10 + (i % 40)).padStart(2, '0')}.000000000Z`,
      verdict: i % 2 ? 'FORWARDED' : 'DROPPED',
      drop_reason_desc: i % 2 ? undefined : 'POLICY_DENIED',
      IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 40000 + i, destination_port: 8080, flags: { SYN: true } } },
      source: { ID: 1, identity: 1000 + i, namespace: ns, pod_name: pod, labels: [`k8s:app=${pod}`, `k8s:io.kubernetes.pod.namespace=${ns}`], workloads: [{ name: pod, kind: 'Deployment' }] },
      destination: { ID: 2, identity: 2000 + i, namespace: dstNs, pod_name: `${dstNs}-0`, labels: [`k8s:app=${dstNs}`] },
      Type: 'L3_L4',
      node_name: `node/${pod}`,
      event_type: { type: 4 },
      traffic_direction: 'EGRESS',
      is_reply: false,
      trace_observation_point: 'TO_ENDPOINT',
    },
    node_name: `node/${pod}`,
    time: `2021-10-04T11:22:${String(10 + (i % 40)).padStart(2, '0')}.000000000Z`,
  });
}

describe('hostile names in flows', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  /** A database of flows between every hostile name and a plain workload, both ways. */
  async function replayHostile(name: string): Promise<string> {
    const file = tmp.file(`${name}.jsonl`);
    const lines: string[] = [];
    HOSTILE.forEach((hostile, i) => {
      lines.push(flowLine(i, hostile, hostile, 'shop'), flowLine(i + 100, 'shop', 'web', hostile));
    });
    writeFileSync(file, `${lines.join('\n')}\n`);
    const db = tmp.file(`${name}.db`);
    const replay = await runCli(['--db', db, 'replay', file]);
    expect(replay.code, replay.stderr).toBe(0);
    return db;
  }

  it('keys round-trip any string and never collide', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.option(fc.string({ unit: 'binary' }), { nil: undefined }), (ns, name, kind) => {
        expect(parseKeyPart(keyPart(ns))).toBe(ns);
        expect(parseRawPeerKey(workloadKey(ns, kind, name))).toEqual({ kind: 'workload', namespace: ns, workloadKind: kind, name });
        expect(keyPart(ns).includes('/') || keyPart(ns).includes('|')).toBe(false);
      }),
      { numRuns: 500 },
    );
    expect(parseRawPeerKey(workloadKey('a/b', 'K', 'c'))).not.toEqual(parseRawPeerKey(workloadKey('a', 'b/K', 'c')));
  });

  it('are stored and read back, and no command fails because of them', async () => {
    const db = await replayHostile('hostile');

    const conn = new Database(db, { readonly: true });
    const namespaces = new Set(conn.prepare('SELECT namespace FROM workloads').pluck().all() as string[]);
    conn.close();
    for (const name of HOSTILE) expect(namespaces.has(name), JSON.stringify(name)).toBe(true);

    for (const argv of [
      ['status'],
      ['status', '-o', 'json'],
      ['edges', '-A'],
      ['edges', '-A', '-o', 'json'],
      ['edges', '-A', '--workloads'],
    ]) {
      const r = await runCli(['--db', db, ...argv]);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stderr).not.toMatch(/malformed|Internal error/);
    }
    const edges = JSON.parse((await runCli(['--db', db, 'edges', '-A', '-o', 'json'])).stdout) as unknown[];
    const text = JSON.stringify(edges);
    for (const name of HOSTILE) expect(text.includes(JSON.stringify(name).slice(1, -1)), JSON.stringify(name)).toBe(true);
  });

  // A recording's names reach the operator's terminal: an escape sequence in one cleared the screen
  // (ESC [2J) or set the window title (ESC ]0;…BEL) when `edges` or `drops` printed it.
  it('text output carries no control character or Unicode line break a terminal would act on', async () => {
    const db = await replayHostile('hostile-terminal');
    const policies = tmp.file('hostile-policies');
    const recommend = await runCli(['--db', db, 'recommend', '-A', '--out', policies]);
    expect(recommend.code, recommend.stderr).toBe(0);
    const acted = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
    for (const argv of [
      ['status'],
      ['status', '-o', 'wide'],
      ['edges', '-A'],
      ['edges', '-A', '-o', 'wide'],
      ['edges', '-A', '--workloads'],
      ['drops'],
      ['drops', '-o', 'wide'],
      ['drops', '--policies', policies],
      ['drops', '--policies', policies, '-o', 'wide'],
      ['check', '--policies', policies],
      ['recommend', '-A'],
    ]) {
      const r = await runCli(['--db', db, ...argv]);
      expect([0, 4], `${argv.join(' ')}: ${r.stderr}`).toContain(r.code);
      expect(r.stdout.length, argv.join(' ')).toBeGreaterThan(0);
      for (const [stream, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
        const at = text.search(acted);
        expect(at, `${argv.join(' ')} ${stream}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 40))}`).toBe(-1);
      }
    }
    // Shown escaped, not lost: the operator can still tell which name it was.
    expect((await runCli(['--db', db, 'edges', '-A', '-o', 'wide'])).stdout).toContain('ctl\\u{0}\\u{1}\\u{1b}[31m\\u{7f}');
  });

  // The HTML report is opened in a browser: a name is text there, never markup or a broken attribute.
  it('the HTML report shows every name as text', async () => {
    const db = await replayHostile('hostile-html');
    const r = await runCli(['--db', db, 'report', '-o', 'html']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('o&#39;brien');
    expect(r.stdout).toContain('&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;');
    expect(r.stdout).not.toMatch(/o'brien|<b>/);
    expect(r.stdout.search(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/)).toBe(-1);
  });
});
