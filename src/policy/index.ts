/** Public API of the policy module: model, parser, evaluator. */
export type * from './model/index.js';
export { ENTITIES, SELECTOR_OPERATORS, ciliumRules } from './model/index.js';
export {
  parsePolicies,
  parsePoliciesByYamlPackage,
  formatParseProblem,
  PolicyInputLimitError,
  MAX_EMPTY_DOCUMENTS,
  MAX_YAML_DOCUMENT_BYTES,
  type ParseOptions,
  type ParseResult,
  type PolicyParseError,
  type PolicyParseNote,
} from './parse.js';
export { buildPolicySet, compileAhead, PolicySetBuilder, evaluate, prepareRequest, type EvaluationRequest } from './evaluate.js';
export type { PolicySet, PolicyRef, RuleRef, Direction, Section } from './evaluate/compiled.js';
export { policyLabel } from './evaluate/compiled.js';
export type { Decision, SideDecision, SideVerdict } from './evaluate/decision.js';
export type { EvaluateOptions, EnforcementMode } from './evaluate/options.js';
export { DEFAULT_OPTIONS } from './evaluate/options.js';
export type { Peer, NamedPort, NamedPortProtocol } from './evaluate/peer.js';
export { RESERVED_BY_NUMBER, LOCAL_IDENTITY_MIN } from './evaluate/peer.js';
export type { L7Request } from './evaluate/l7.js';
export type { FlowProtocol } from './evaluate/ports.js';
export { peerFromEndpoint, requestFromFlow, type PeerExtras, type FlowRequestExtras } from './evaluate/from-flow.js';
export { effectivePolicyTypes } from './evaluate/compile-knp.js';
export { fqdnMatches } from './evaluate/fqdn.js';
export { explainRequest, describeSelector, peerLabels, type RequestExplanation, type RuleExplanation, type SideExplanation as RuleSideExplanation } from './evaluate/explain.js';
