import { describe, expect, it } from 'vitest';
import { validatePolicyYaml } from '../../../src/schema/index.js';

const valid = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
`;

describe('validatePolicyYaml', () => {
  it('returns nothing for a valid stream and skips empty documents', () => {
    expect(validatePolicyYaml(`---\n${valid}---\n---\n${valid}`)).toEqual([]);
    expect(validatePolicyYaml('')).toEqual([]);
  });

  it('reports issues per document, by position in the stream', () => {
    const bad = valid.replace('Egress]', 'Egres]');
    expect(validatePolicyYaml(`${valid}---\n${bad}`)).toEqual([
      { document: 1, issues: [{ path: 'spec.policyTypes[1]', message: 'must be one of Ingress, Egress; got "Egres"' }] },
    ]);
  });

  it('reads scalars as kubectl does (YAML 1.1): an unquoted yes is a boolean', () => {
    const doc = valid.replace('name: deny-all', 'name: deny-all\n  labels:\n    enabled: yes');
    expect(validatePolicyYaml(doc)).toEqual([{ document: 0, issues: [{ path: 'metadata.labels.enabled', message: 'must be a string, got boolean true' }] }]);
  });

  it('reports duplicate keys and syntax errors at the document', () => {
    const dup = valid.replace('spec:', 'spec:\n  podSelector: {}\n  ingress: []\n  ingress: []\n  x:').replace('  podSelector: {}\n  policyTypes', '  policyTypes');
    const out = validatePolicyYaml(dup);
    expect(out).toHaveLength(1);
    expect(out[0]?.issues[0]?.path).toBe('');
    expect(out[0]?.issues[0]?.message).toMatch(/^YAML: .*unique/i);
    expect(validatePolicyYaml('kind: [unclosed')[0]?.issues[0]?.message).toMatch(/^YAML: /);
  });
});
