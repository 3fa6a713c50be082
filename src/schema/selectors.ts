import { arr, enumOf, map, obj, str } from './dsl.js';
import { ciliumLabelKey, labelKey, labelValue } from './names.js';
import { child } from './path.js';
import type { ObjectNode, ObjectRule, StringCheck } from './types.js';

export const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/** In/NotIn need values; Exists/DoesNotExist must have none (LabelSelectorAsSelector rejects both). */
const valuesMatchOperator: ObjectRule = (o, path, report) => {
  const values = Array.isArray(o['values']) ? o['values'].length : 0;
  if ((o['operator'] === 'In' || o['operator'] === 'NotIn') && values === 0) {
    report(child(path, 'values'), `must be non-empty for operator ${String(o['operator'])}`);
  }
  if ((o['operator'] === 'Exists' || o['operator'] === 'DoesNotExist') && values > 0) {
    report(child(path, 'values'), `must be empty for operator ${String(o['operator'])}`);
  }
};

function labelSelector(key: StringCheck): ObjectNode {
  return obj({
    matchLabels: map(str({ check: labelValue }), key),
    matchExpressions: arr(
      obj(
        { key: str({ minLength: 1, check: key }), operator: enumOf(OPERATORS), values: arr(str({ check: labelValue })) },
        { required: ['key', 'operator'], rules: [valuesMatchOperator] },
      ),
    ),
  });
}

/** metav1.LabelSelector as NetworkPolicy uses it. */
export const k8sSelector = labelSelector(labelKey);

/** Cilium's EndpointSelector: the same structure; keys may carry a `source:` prefix. */
export const endpointSelector = labelSelector(ciliumLabelKey);
