import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { SUPPORTED_KINDS, validatePolicyDocument, validatePolicyYaml } from '../../../src/schema/index.js';
import { SHARED } from '../../helpers/paths.js';

/** Read in place from ../shared (never copied into the repo). */
const CONNECTIVITY = join(SHARED, 'oracle/cilium-connectivity');
const MANIFESTS = join(CONNECTIVITY, 'manifests');
const E2E = join(SHARED, 'oracle/k8s-e2e/k8s-e2e-truthtables.yaml');

/** The IPv4 defaults come from expectations.yaml; the rest are cilium-cli's defaults and cluster names. */
function templateValues(): Record<string, string> {
  const expectations: unknown = parse(readFileSync(join(CONNECTIVITY, 'expectations.yaml'), 'utf8'));
  const external = (expectations as { topology: { external: Record<string, string> } }).topology.external;
  return {
    ...external,
    ExternalCIDRv6: '2606:4700:4700::/96',
    ExternalIPv6: '2606:4700:4700::1111',
    ExternalOtherIPv6: '2606:4700:4700::1001',
    ClusterNameLocal: 'kind-kind',
    ClusterNameRemote: 'kind-remote',
  };
}

/** `{{.X}}`, `{{ .X | ipToCIDR }}`, `{{trimSuffix .X "."}}` -> the value (as a /32 or /128 for ipToCIDR). */
function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{\s*(trimSuffix\s+)?\.(\w+)([^}]*)\}\}/g, (_m, trim: string | undefined, name: string, rest: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for template placeholder ${name}`);
    if (rest.includes('ipToCIDR')) return `${v}/${v.includes(':') ? 128 : 32}`;
    return trim ? v.replace(/\.$/, '') : v;
  });
}

const files = readdirSync(MANIFESTS).filter((f) => f.endsWith('.yaml')).sort();
const values = templateValues();

describe('oracle: cilium connectivity-test manifests', () => {
  it('finds all 32 manifests', () => {
    expect(files).toHaveLength(32);
  });

  it.each(files)('%s validates with zero issues', (file) => {
    const text = substitute(readFileSync(join(MANIFESTS, file), 'utf8'), values);
    expect(text).not.toContain('{{');
    const kinds = parseAllDocuments(text)
      .map((d) => d.toJS() as unknown)
      .filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null)
      .map((d) => d['kind']);
    expect(kinds.length).toBeGreaterThan(0);
    for (const k of kinds) expect(SUPPORTED_KINDS).toContain(k);
    expect(validatePolicyYaml(text)).toEqual([]);
  });
});

function networkPolicies(v: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(v)) v.forEach((x) => networkPolicies(x, out));
  else if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if (o['kind'] === 'NetworkPolicy' && o['apiVersion'] !== undefined) out.push(o);
    else Object.values(o).forEach((x) => networkPolicies(x, out));
  }
  return out;
}

describe('oracle: Kubernetes e2e NetworkPolicies', () => {
  // A YAML 1.2 data file: its namespaces x/y/z are strings there (kubectl's YAML 1.1 would read `y` as true).
  const policies = networkPolicies(parse(readFileSync(E2E, 'utf8')));

  it('finds the policies of all 48 cases (65 steps)', () => {
    expect(policies.length).toBeGreaterThanOrEqual(48);
  });

  it('every one validates with zero issues', () => {
    const failures = policies
      .map((p) => ({ name: (p['metadata'] as { name?: unknown } | undefined)?.name, issues: validatePolicyDocument(p) }))
      .filter((r) => r.issues.length > 0);
    expect(failures).toEqual([]);
  });
});
