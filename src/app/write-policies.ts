/** `recommend --out DIR`: renders each policy as its own file and hands them to the GitOps writer. */
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, MARKER, type PolicyFile, writePolicyFiles, type WriteResult, type WriterFs } from '../gitops/index.js';
import type { GeneratedPolicy, Recommendation } from '../recommend/index.js';
import { notesByPolicy, renderPolicyYaml } from '../report/index.js';

export { policyFileName } from '../gitops/index.js';

/** The label that, with the MARKER line, makes the file recognisably ours. */
function labelled(p: GeneratedPolicy): GeneratedPolicy {
  const md = p.document.metadata;
  if (md.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE) return p;
  return { ...p, document: { ...p.document, metadata: { ...md, labels: { ...md.labels, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } } } };
}

/** Each policy as the file `--out` writes: the marker line, the label, the evidence comments. */
export function policyFiles(r: Recommendation): PolicyFile[] {
  return [...eachPolicyFile(r)];
}

/** `policyFiles` one at a time, as the writer stages them: their texts are never all in memory. */
function* eachPolicyFile(r: Recommendation): Generator<PolicyFile> {
  const own = notesByPolicy(r.notes, r.lints);
  for (const policy of r.policies) {
    const p = labelled(policy);
    yield {
      kind: p.document.kind,
      namespace: p.document.metadata.namespace,
      name: p.document.metadata.name,
      text: `${MARKER}\n${renderPolicyYaml(p, own(p).notes, own(p).lints)}`,
    };
  }
}

export function writePolicyDirectory(dir: string, r: Recommendation, fs?: WriterFs): WriteResult {
  return writePolicyFiles(dir, eachPolicyFile(r), fs);
}
