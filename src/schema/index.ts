export type { SchemaIssue } from './types.js';
export { validatePolicyDocument, validatePolicyYaml, SUPPORTED_KINDS, type DocumentIssues } from './validate.js';
