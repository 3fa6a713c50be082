import { cpSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { GeneratedPolicy, Recommendation } from '../../../src/recommend/index.js';
import { REPO_ROOT, tempDir, type TempDir } from '../../helpers/paths.js';

export const FIXTURE_REPO = join(REPO_ROOT, 'test/fixtures/gitops-repo');

/** A fresh copy of the fixture GitOps repository in a temporary directory. */
export function copyRepo(): TempDir {
  const dir = tempDir('gitops-repo-');
  cpSync(FIXTURE_REPO, dir.path, { recursive: true });
  return dir;
}

/** Every entry under root: file bytes (base64), link targets, directories; plus mtimes when asked. */
export function snapshot(root: string, withTimes = false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const s = lstatSync(p);
      const key = relative(root, p);
      const time = withTimes ? ` @${s.mtimeMs}` : '';
      if (s.isSymbolicLink()) out[key] = `link -> ${readlinkSync(p)}${time}`;
      else if (s.isDirectory()) {
        out[key] = 'dir';
        walk(p);
      } else out[key] = `${readFileSync(p).toString('base64')} mode ${s.mode.toString(8)}${time}`;
    }
  };
  walk(root);
  return out;
}

export function cnp(namespace: string, name: string, app: string, port = '8080'): GeneratedPolicy {
  return {
    document: {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name, namespace },
      spec: {
        endpointSelector: { matchLabels: { 'app.kubernetes.io/name': app } },
        ingress: [{ fromEndpoints: [{ matchLabels: { 'app.kubernetes.io/name': 'client' } }], toPorts: [{ ports: [{ port, protocol: 'TCP' }] }] }],
      },
    },
    comments: new Map([['spec.ingress[0]', ' seen 12 flows']]),
  };
}

export function recommendation(policies: readonly GeneratedPolicy[]): Recommendation {
  return { policies, notes: [], warnings: [], lints: [] };
}
