export * from './model.js';
export { recommend } from './recommend.js';
export { lintPolicies, type LintContext } from './lints.js';
export { policyName } from './naming.js';
