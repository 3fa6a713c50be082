#!/usr/bin/env node
// `npm run demo`: replays the bundled home-lab recording into a fresh demo database and shows what
// hubble-advisor makes of it. Uses the built CLI (npm install runs the build).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/cli/main.js');
const db = join(root, 'demo.db');
const recording = ['recordings/home-lab.jsonl.gz', 'recordings/home-lab.jsonl'].map((p) => join(root, p)).find(existsSync);

if (!existsSync(cli)) {
  console.error('dist/ is missing: run `npm install` (it builds) or `npm run build` first.');
  process.exit(1);
}
if (!recording) {
  console.error('recordings/home-lab.jsonl(.gz) is missing: regenerate it as recordings/README.md says.');
  process.exit(1);
}
for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true });

const steps = [
  ['replay', recording],
  ['status'],
  ['edges', '-n', 'dbms'],
  ['recommend', '-n', 'dbms'],
  ['drops', '-n', 'dbms', '--policies', join(root, 'examples/policies')],
];
const available = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' }).stdout;
for (const args of steps) {
  if (!new RegExp(`^\\s+${args[0]}\\b`, 'm').test(available)) continue;
  const argv = ['--db', db, ...args];
  console.log(`\n$ hubble-advisor ${argv.map((a) => a.replace(root + '/', '')).join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...argv], { stdio: 'inherit' });
  // replay exits 3 when it skipped bad lines; anything else non-zero stops the demo.
  if (r.status !== 0 && !(args[0] === 'replay' && r.status === 3)) process.exit(r.status ?? 1);
}
// The network inventory of the recording, judged against the rollout's policies: Markdown for the
// GitOps repo, HTML with the service map for people.
const reports = [
  ['markdown', join(root, 'demo-report.md')],
  ['html', join(root, 'demo-report.html')],
];
for (const [format, out] of reports) {
  const argv = ['--db', db, 'report', '--policies', join(root, 'examples/policies'), '-o', format, '--out', out];
  console.log(`\n$ hubble-advisor ${argv.map((a) => a.replace(root + '/', '')).join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...argv], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log(`\nThe demo database is ${db.replace(root + '/', '')}; try: node dist/cli/main.js --db demo.db status -o json`);
console.log(`The network inventory is in ${reports[0][1]} (Markdown) and ${reports[1][1]} (HTML with the service map: open it in a browser).`);
