/** Working inside a user's GitOps repository: our files only, edited in place, all or nothing. */
export { alternativeFileName, identityKey, policyFileName, type PolicyIdentity } from './file-names.js';
export { editKustomization, KustomizationError, listResources, newKustomization } from './kustomization.js';
export { definedObjects, isOwnedText, MANAGED_BY_LABEL, MANAGED_BY_VALUE, MARKER } from './ownership.js';
export { DirectoryWriteError, nodeWriterFs, writePolicyFiles, type PolicyFile, type WriteResult, type WriterFs } from './write-directory.js';
export { proposeAgainst, type PolicyEdit, type Proposal, type ProposeInput, type UserPolicyFile } from './propose.js';
