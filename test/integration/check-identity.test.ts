import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { SAMPLES_DIR, tempDir } from '../helpers/paths.js';

/**
 * The issue 16 repro end to end (replay into SQLite, then `check`): one FORWARDED flow from a pod in
 * blue-ns (namespace labelled team=blue) to x/a:80, built from a real Hubble line
 * (ephico2real2-cilium-poc__26-flow-stranger-to-shop.observer.json), and a NetworkPolicy admitting
 * namespaceSelector team=blue.
 */
const sample = JSON.parse(readFileSync(join(SAMPLES_DIR, 'ephico2real2-cilium-poc__26-flow-stranger-to-shop.observer.json'), 'utf8').split('\n')[0] as string) as {
  flow: Record<string, unknown> & { source: { labels: string[]; namespace: string }; destination: { labels: string[]; namespace: string; pod_name: string } };
};

function line(team: string): string {
  const f = structuredClone(sample);
  f.flow.verdict = 'FORWARDED';
  delete f.flow['drop_reason'];
  delete f.flow['drop_reason_desc'];
  f.flow.uuid = `00000000-0000-4000-8000-00000000000${team === 'blue' ? 1 : 2}`;
  const ns = `${team}-ns`;
  f.flow.source.namespace = ns;
  f.flow.source.labels = [
    'k8s:app.kubernetes.io/name=stranger',
    'k8s:app=stranger',
    `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${ns}`,
    `k8s:io.cilium.k8s.namespace.labels.team=${team}`,
    'k8s:io.cilium.k8s.policy.cluster=poc1',
    'k8s:io.cilium.k8s.policy.serviceaccount=default',
    `k8s:io.kubernetes.pod.namespace=${ns}`,
  ];
  f.flow.destination.namespace = 'x';
  f.flow.destination.pod_name = 'a-6d7d797759-4ddlt';
  f.flow.destination.labels = ['k8s:app=a', 'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=x', 'k8s:io.cilium.k8s.policy.cluster=poc1', 'k8s:io.cilium.k8s.policy.serviceaccount=default', 'k8s:io.kubernetes.pod.namespace=x'];
  return JSON.stringify(f);
}

describe('check: namespaceSelector against the namespace labels flows carry', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());
  writeFileSync(
    tmp.file('policy.yaml'),
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: x}\nspec:\n  podSelector: {matchLabels: {app: a}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}]}]\n',
  );

  it.each([
    ['blue', 0],
    ['red', 1],
  ])('from %s-ns', async (team, drops) => {
    const db = tmp.file(`${team}.db`);
    writeFileSync(tmp.file(`${team}.jsonl`), `${line(team)}\n`);
    expect((await runCli(['--db', db, 'replay', tmp.file(`${team}.jsonl`)])).code).toBe(0);
    const r = await runCli(['--db', db, 'check', '--policies', tmp.file('policy.yaml'), '-o', 'json']);
    // check is a CI gate: exit 4 when something would drop (--fail-on would-drop, the default).
    expect(r.code, r.stderr).toBe(drops === 0 ? 0 : 4);
    const out = JSON.parse(r.stdout) as { wouldDrop: { from: { namespace: string }; side: string; reason: string }[]; edgesChecked: number };
    expect(out.edgesChecked).toBe(1);
    expect(out.wouldDrop.map((w) => `${w.from.namespace} ${w.side} ${w.reason}`)).toEqual(drops === 0 ? [] : ['red-ns ingress POLICY_DENIED']);
  });

  it.each([
    ['blue', []],
    ['red', ['red-ns ingress']],
  ])('--against on a named cluster (poc1) judges cluster-local selectors like check: from %s-ns', async (team, newlyDropped) => {
    const db = tmp.file(`${team}-against.db`);
    writeFileSync(tmp.file(`${team}-against.jsonl`), `${line(team)}\n`);
    expect((await runCli(['--db', db, 'replay', tmp.file(`${team}-against.jsonl`)])).code).toBe(0);
    writeFileSync(tmp.file('none.yaml'), '');
    writeFileSync(
      tmp.file('cnp.yaml'),
      'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: x}\nspec:\n  endpointSelector: {matchLabels: {app: a}}\n  ingress: [{fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: blue-ns}}]}]\n',
    );
    const r = await runCli(['--db', db, 'check', '--policies', tmp.file('cnp.yaml'), '--against', tmp.file('none.yaml'), '-o', 'json']);
    const out = JSON.parse(r.stdout) as { newlyDropped: { from: { namespace: string }; side: string }[] };
    expect(out.newlyDropped.map((d) => `${d.from.namespace} ${d.side}`)).toEqual(newlyDropped);
  });
});
