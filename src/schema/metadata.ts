import { anything, arr, int, map, obj, str } from './dsl.js';
import { dns1123Label, dns1123Subdomain, labelKey, labelValue, objectName } from './names.js';
import type { ObjectNode } from './types.js';

const common = {
  namespace: str({ check: dns1123Label }),
  labels: map(str({ check: labelValue }), labelKey),
  annotations: map(str(), labelKey),
  generateName: str(),
  uid: str(),
  resourceVersion: str(),
  generation: int(),
  creationTimestamp: anything(),
  deletionTimestamp: anything(),
  deletionGracePeriodSeconds: int(),
  finalizers: arr(str({ check: dns1123Subdomain })),
  ownerReferences: anything(),
  managedFields: anything(),
  selfLink: str(),
};

/** ObjectMeta of a policy object: name required (DNS-1123 subdomain, at most 63 characters for us). */
export const objectMeta: ObjectNode = obj({ name: str({ check: objectName }), ...common }, { required: ['name'] });

/** ObjectMeta where the name is optional (a Kustomization). */
export const optionalMeta: ObjectNode = obj({ name: str({ check: objectName }), ...common });
