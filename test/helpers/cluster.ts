import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT } from './paths.js';

/**
 * Writes a churning cluster recording with scripts/generate-cluster.mjs (the second generator:
 * pod churn, node addresses, unlabelled pods, FQDN egress) to `out`; `extra` adds its other flags.
 */
export function generateCluster(out: string, o: { readonly workloads: number; readonly flows: number; readonly seed: string; readonly extra?: readonly string[] }): void {
  const g = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/generate-cluster.mjs'), '--workloads', String(o.workloads), '--flows', String(o.flows), '--seed', o.seed, ...(o.extra ?? []), '--out', out], { encoding: 'utf8' });
  expect(g.status, g.stderr).toBe(0);
}
