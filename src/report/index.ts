export { renderTable, formatCount, formatTime, formatDuration } from './table.js';
export { renderStatusText } from './status.js';
export { renderPolicyYaml, renderRecommendationYaml, recommendationEvidenceJson, recommendationJson } from './policies.js';
export {
  edgesJson,
  peerJson,
  peerLabel,
  renderEdgesTable,
  renderWorkloadsTable,
  workloadsJson,
  renderConvergenceTable,
  convergenceJson,
} from './edges.js';
export { combinedJson, dropsJson, renderCombinedYaml, renderDropsTable, renderDropsYaml, renderPatchYaml } from './triage.js';
export { checkJson, renderCheckTable, diffJson, renderDiffTable, NO_TRAFFIC } from './check.js';
export { commentText as printableText } from './yaml-safe.js';
export { explainJson, renderExplain } from './explain-edge.js';
