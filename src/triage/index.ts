/**
 * triage/: dropped flows → explanations and fixes; policies × baseline → what would break.
 * Pure: imports only flow/, graph/ and policy/ (through their index files).
 */
export { applyJsonPatch, parsePointer, pointerToken, JsonPatchError, type JsonPatchOp } from './json-patch.js';
export { groupDrops, groupDropsInTimeOrder, peerOf, dropKind, hubblePolicyLabel, DEFAULT_ATTEMPT_WINDOW_MS, type DropGroup, type DropKind, type GroupOptions } from './group.js';
export { MANY_PORTS, portRangesText, portSpans, type PortSpan } from '../net/ports.js';
export { rulePeer, rulePort, ciliumRule, knpRule, l7RuleFor, describeRulePeer, type RulePeer, type RulePort } from './peer-rule.js';
export { fixSide, samePolicy, sidePasses, pointerOfPath, type PolicyPatch, type PatchAction, type PatchComposition, type FixContext, type FixResult } from './fix.js';
export { composeStandalone } from './compose.js';
export { combineFixes, type CombinedFix } from './combine.js';
export {
  triageDrops,
  explainGroup,
  type TriagedDrop,
  type DropExplanation,
  type SideExplanation,
  type TriageVerdict,
  type TriageOptions,
} from './explain.js';
export {
  checkBaseline,
  planCheck,
  judgePlan,
  evaluatorPeer,
  edgeRequests,
  workloadLabels,
  inferClusterName,
  edgeRequest,
  type CheckResult,
  type CheckOptions,
  type CheckPlan,
  type JudgedEdge,
  type WouldDrop,
  type UnusedRule,
  type NamespaceCoverage,
} from './check.js';
export { diffPolicySets, type PolicyDiff, type ChangedEdge, type PolicyDiffOptions } from './policy-diff.js';
export { explainEdge, parsePortProto, ExplainInputError, type EdgeExplanation, type ExplainTarget, type ExplainedIdentity } from './explain-edge.js';
