import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWorkloads, openDatabase } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

/**
 * Issue 16: namespace labels, the cluster and every reserved label survive the real path (replay
 * into a SQLite file, read back), built from a real Hubble line
 * (ephico2real2-cilium-poc__26-flow-stranger-to-shop.observer.json, Cilium 1.20, cluster poc1).
 */
const SAMPLE = JSON.parse(readFileSync(join(SAMPLES_DIR, 'ephico2real2-cilium-poc__26-flow-stranger-to-shop.observer.json'), 'utf8').split('\n')[0] as string) as {
  flow: Record<string, unknown> & { source: { labels: string[]; identity: number }; destination: unknown };
};

function line(time: string, uuid: string, nsLabels: readonly string[], identity: number): string {
  const f = structuredClone(SAMPLE);
  f.flow.time = time;
  f.flow.uuid = uuid;
  f.flow.verdict = 'FORWARDED';
  delete f.flow['drop_reason'];
  delete f.flow['drop_reason_desc'];
  f.flow.source.identity = identity;
  f.flow.source.labels = [
    ...f.flow.source.labels.filter((l) => !l.startsWith('k8s:io.cilium.k8s.namespace.labels.')),
    ...nsLabels.map((l) => `k8s:io.cilium.k8s.namespace.labels.${l}`),
  ].sort();
  return JSON.stringify({ ...f, time });
}

function apiserverLine(uuid: string): string {
  const f = structuredClone(SAMPLE);
  f.flow.uuid = uuid;
  f.flow.verdict = 'FORWARDED';
  delete f.flow['drop_reason'];
  delete f.flow['drop_reason_desc'];
  f.flow.source = { identity: 7, labels: ['reserved:kube-apiserver', 'reserved:remote-node'] } as never;
  return JSON.stringify(f);
}

describe('the stored graph keeps what Cilium matches on', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());
  const old = line('2026-09-12T23:40:06Z', '00000000-0000-4000-8000-000000000001', ['kubernetes.io/metadata.name=cf2cnp-lab'], 117659);
  const relabelled = line('2026-09-12T23:50:06Z', '00000000-0000-4000-8000-000000000002', ['kubernetes.io/metadata.name=cf2cnp-lab', 'team=blue'], 117700);
  writeFileSync(tmp.file('a.jsonl'), `${old}\n${apiserverLine('00000000-0000-4000-8000-000000000003')}\n`);
  writeFileSync(tmp.file('b.jsonl'), `${relabelled}\n`);

  it.each([
    ['in time order', ['a.jsonl', 'b.jsonl']],
    ['newest first', ['b.jsonl', 'a.jsonl']],
  ])('namespace labels (newest wins) and the cluster, %s', async (name, files) => {
    const db = tmp.file(`${name.replace(/ /g, '-')}.db`);
    for (const f of files) expect((await runCli(['--db', db, 'replay', tmp.file(f)])).code).toBe(0);
    const h = openDatabase(db, { readonly: true });
    try {
      const stranger = loadWorkloads(h).find((w) => w.name === 'stranger');
      expect(stranger?.namespaceLabels).toEqual({ 'kubernetes.io/metadata.name': 'cf2cnp-lab', team: 'blue' });
      expect(stranger?.cluster).toBe('poc1');
      expect(stranger?.identityLabels?.['io.cilium.k8s.policy.serviceaccount']).toBe('default');
    } finally {
      h.close();
    }
    const edges = JSON.parse((await runCli(['--db', db, 'edges', '-A', '-o', 'json'])).stdout) as { from: { entity?: string }; srcReserved?: string[] }[];
    expect(edges.find((e) => e.from.entity === 'kube-apiserver')?.srcReserved).toEqual(['kube-apiserver+remote-node']);
  });
});
