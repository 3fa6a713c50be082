#!/usr/bin/env node
// `npm run bench:policies`: loading policy files as `check`/`drops`/`recommend --policies` do, on
// generated inputs the issue names: a 50 MB multi-document YAML file, a 50 MB `kubectl get -o json`
// List, a 50 MB YAML List (one document: refused, naming the limit), 8 MB of `---` lines and an
// alias bomb. Each input is loaded in a fresh child process; time and peak RSS are reported.
//
//   node scripts/bench-policies.mjs [--dir bench-out] [--keep]
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dir = args.includes('--dir') ? args[args.indexOf('--dir') + 1] : join(root, 'bench-out', 'policies');
mkdirSync(dir, { recursive: true });

const policy = (i) => ({
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumNetworkPolicy',
  metadata: { name: `p-${i}`, namespace: `ns-${i % 50}` },
  spec: {
    endpointSelector: { matchLabels: { app: `a-${i}` } },
    ingress: [{ fromEndpoints: [{ matchLabels: { app: `b-${i}` } }], toPorts: [{ ports: [{ port: String(1 + (i % 60000)), protocol: 'TCP' }] }] }],
  },
});
const yamlDoc = (p, indent = '') =>
  [
    `apiVersion: ${p.apiVersion}`,
    `kind: ${p.kind}`,
    'metadata:',
    `  name: ${p.metadata.name}`,
    `  namespace: ${p.metadata.namespace}`,
    'spec:',
    '  endpointSelector:',
    '    matchLabels:',
    `      app: ${p.spec.endpointSelector.matchLabels.app}`,
    '  ingress:',
    '    - fromEndpoints:',
    '        - matchLabels:',
    `            app: ${p.spec.ingress[0].fromEndpoints[0].matchLabels.app}`,
    '      toPorts:',
    '        - ports:',
    `            - port: "${p.spec.ingress[0].toPorts[0].ports[0].port}"`,
    '              protocol: TCP',
  ]
    .map((l, i) => (i === 0 ? l : indent + l))
    .join('\n');

const SIZE = 50e6;
function build(name, make) {
  const parts = [];
  let size = 0;
  for (let i = 0; size < SIZE; i++) {
    const s = make(i);
    parts.push(s);
    size += s.length;
  }
  return parts;
}
const files = {
  'multi-doc.yaml': build('multi', (i) => `---\n${yamlDoc(policy(i))}\n`).join(''),
  'list.json': `{"apiVersion":"v1","kind":"List","items":[${build('json', (i) => `${i ? ',' : ''}${JSON.stringify(policy(i))}`).join('')}]}`,
  'list.yaml': `apiVersion: v1\nkind: List\nitems:\n${build('list', (i) => `- ${yamlDoc(policy(i), '  ')}\n`).join('')}`,
  'dashes.yaml': '---\n'.repeat(2_000_000),
  'alias-bomb.yaml': `a: &a [${Array(10).fill('x').join(',')}]\n${'bcdefghij'.split('').map((l, i) => `${l}: &${l} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(',')}]`).join('\n')}\n`,
};
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);

const child = `
  const { loadPolicies } = await import(${JSON.stringify(join(root, 'dist/app/load-policies.js'))});
  const t0 = performance.now();
  let out;
  try { const r = await loadPolicies([process.argv[1]]); out = r.policies.length + ' policies, ' + r.errors.length + ' errors'; }
  catch (e) { out = (e.constructor?.name ?? 'Error') + ': ' + e.message; }
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ out, ms, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
`;
const load = spawnSync('uptime', [], { encoding: 'utf8' }).stdout.trim();
console.log(`policy loading, ${new Date().toISOString()}, load: ${load}`);
console.log('| input | size | result | time | peak RSS |\n|---|---|---|---|---|');
for (const name of Object.keys(files)) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', child, join(dir, name)], { encoding: 'utf8' });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  let res;
  try {
    res = JSON.parse(line);
  } catch {
    res = { out: `exit ${r.status}: ${r.stderr.trim().split('\n')[0]}`, ms: NaN, maxRssMB: NaN };
  }
  console.log(`| ${name} | ${(files[name].length / 1e6).toFixed(1)} MB | ${res.out} | ${(res.ms / 1000).toFixed(1)} s | ${Math.round(res.maxRssMB)} MB |`);
}
if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
