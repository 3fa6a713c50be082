import { parseAllDocuments } from 'yaml';
import { ciliumClusterwideNetworkPolicy, ciliumNetworkPolicy } from './cilium.js';
import { kustomization } from './kustomize.js';
import { networkPolicy } from './kubernetes.js';
import { isRecord } from './path.js';
import type { ObjectNode, SchemaIssue } from './types.js';
import { kindOf, walk } from './walk.js';

const KINDS: ReadonlyMap<string, { readonly apiVersion: string; readonly node: ObjectNode }> = new Map([
  ['CiliumNetworkPolicy', { apiVersion: 'cilium.io/v2', node: ciliumNetworkPolicy }],
  ['CiliumClusterwideNetworkPolicy', { apiVersion: 'cilium.io/v2', node: ciliumClusterwideNetworkPolicy }],
  ['NetworkPolicy', { apiVersion: 'networking.k8s.io/v1', node: networkPolicy }],
  ['Kustomization', { apiVersion: 'kustomize.config.k8s.io/v1beta1', node: kustomization }],
]);

export const SUPPORTED_KINDS: readonly string[] = [...KINDS.keys()];

/**
 * Checks one parsed document (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy or
 * Kustomization) as the API server would with the CRD / built-in schema (required fields, types, enums,
 * formats; unknown fields are errors), plus the cross-field rules Cilium applies when it parses a policy.
 * Returns no issues when the document is valid. Paths are relative to the document (`spec.egress[0]`);
 * `''` is the document itself.
 */
export function validatePolicyDocument(doc: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const report = (path: string, message: string): void => {
    issues.push({ path, message });
  };
  if (!isRecord(doc)) {
    report('', `a document must be a mapping, got ${kindOf(doc)}`);
    return issues;
  }
  const kind = doc['kind'];
  if (typeof kind !== 'string' || kind === '') {
    report('kind', kind === undefined || kind === null ? 'is required' : `must be a non-empty string, got ${kindOf(kind)}`);
    return issues;
  }
  const entry = KINDS.get(kind);
  if (!entry) {
    report('kind', `unsupported kind ${JSON.stringify(kind)}; expected one of ${SUPPORTED_KINDS.join(', ')}`);
    return issues;
  }
  const apiVersion = doc['apiVersion'];
  if (apiVersion === undefined || apiVersion === null) report('apiVersion', 'is required');
  else if (apiVersion !== entry.apiVersion) report('apiVersion', `must be ${entry.apiVersion} for kind ${kind}, got ${kindOf(apiVersion)}`);
  walk(entry.node, doc, '', report);
  return issues;
}

export interface DocumentIssues {
  /** 0-based position of the document in the YAML stream. */
  readonly document: number;
  readonly issues: readonly SchemaIssue[];
}

/**
 * Parses a YAML stream and validates every non-empty document. Parsing uses YAML 1.1 scalars, as
 * kubectl (go-yaml) does, so an unquoted `yes` or `on` is a boolean here too. Syntax errors and
 * duplicate keys are reported at path `''`. Documents without issues are left out.
 */
export function validatePolicyYaml(text: string): DocumentIssues[] {
  const out: DocumentIssues[] = [];
  parseAllDocuments(text, { version: '1.1' }).forEach((doc, i) => {
    if (doc.errors.length > 0) {
      out.push({ document: i, issues: doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message}` })) });
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return; // an empty document, as kubectl skips it
    const issues = validatePolicyDocument(value);
    if (issues.length > 0) out.push({ document: i, issues });
  });
  return out;
}
