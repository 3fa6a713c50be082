export { renderTable, terminalSafe, terminalText, formatCount, formatTime, formatDuration, cut, wrapText, TABLE_WIDTH, type Column, type TableOptions } from './table.js';
export { renderStatusText } from './status.js';
export { notesByPolicy, renderPolicyYaml, renderRecommendationYaml, recommendationYamlParts, recommendationEvidenceJson, recommendationJson } from './policies.js';
export { writeParts } from './write-parts.js';
export { lintLines } from './lint-lines.js';
export {
  edgesJson,
  edgeJson,
  writeJsonArray,
  peerJson,
  peerLabel,
  renderEdgesTable,
  EDGES_TABLE_EVIDENCE,
  renderWorkloadsTable,
  workloadsJson,
  renderConvergenceTable,
  convergenceJson,
} from './edges.js';
export { dropGroupJson, dropGroupsYamlParts, renderDropGroupsTable, combinedJson, dropsJson, renderCombinedYaml, renderDropsTable, renderDropsYaml, renderPatchYaml } from './triage.js';
export { checkJson, renderCheckTable, diffJson, renderDiffTable, NO_TRAFFIC } from './check.js';
export {
  buildInventory,
  edgeId,
  peerId,
  formatPorts,
  guessPurpose,
  PeerNamer,
  type Inventory,
  type InventoryEdge,
  type InventoryInput,
  type BaselineHealth,
  type PolicyFindings,
  type WorkloadCoverage,
  type EdgeStatus,
  type ComponentRow,
  type NamespaceSection,
} from './inventory.js';
export { renderInventoryMarkdown, mdCell } from './inventory-markdown.js';
export { inventoryHtmlParts, esc } from './inventory-html.js';
export { MAP_WORKLOAD_LIMIT, mapsWorkloads, namespaceMapGraph, reportMapGraph, scopeMapGraph, serviceMapGraph, type ServiceMapGraph, type MapLayout, type MapNode, type MapEdge, type MapGroup, type Box } from './service-map.js';
export { policyFindings, policyCoverage, observedEdgeStatus, judgedEdgeStatus, type EdgeStatusOf } from './policy-findings.js';
export { commentText as printableText } from './yaml-safe.js';
export { explainJson, renderExplain } from './explain-edge.js';
