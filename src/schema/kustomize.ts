import { anything, arr, bool, enumOf, map, obj, str } from './dsl.js';
import { optionalMeta } from './metadata.js';
import { dns1123Label, labelKey, labelValue } from './names.js';
import type { StringCheck } from './types.js';

/** kustomize.config.k8s.io/v1beta1 Kustomization: the fields a policy bundle uses; others are typos. */
const relativePath: StringCheck = (s) => (s.startsWith('/') ? `${JSON.stringify(s)} must be a path relative to the kustomization` : undefined);

const labelMap = map(str({ check: labelValue }), labelKey);

export const kustomization = obj(
  {
    apiVersion: anything(),
    kind: anything(),
    metadata: optionalMeta,
    resources: arr(str({ minLength: 1, check: relativePath }), { unique: true }),
    components: arr(str({ minLength: 1, check: relativePath }), { unique: true }),
    namespace: str({ check: dns1123Label }),
    namePrefix: str(),
    nameSuffix: str(),
    commonLabels: labelMap,
    commonAnnotations: map(str(), labelKey),
    labels: arr(obj({ pairs: labelMap, includeSelectors: bool(), includeTemplates: bool(), fields: anything() })),
    patches: arr(obj({ path: str({ check: relativePath }), patch: str(), target: anything(), options: anything() })),
    buildMetadata: arr(enumOf(['managedByLabel', 'originAnnotations', 'transformerAnnotations'])),
  },
  { required: ['resources'] },
);
