import { SELECTOR_OPERATORS, type LabelSelector, type LabelSelectorRequirement, type SelectorOperator } from '../model/index.js';
import { join, rejectUnknownKeys, readList, readObject, readRequiredObject, readString, readStringMap, type Reader } from './reader.js';

export function decodeSelector(r: Reader, v: unknown, path: string): LabelSelector | undefined {
  const o = readObject(r, v, path);
  if (o === undefined) return undefined;
  rejectUnknownKeys(r, o, path, ['matchLabels', 'matchExpressions']);
  const matchLabels = readStringMap(r, o['matchLabels'], join(path, 'matchLabels'));
  const matchExpressions = readList(r, o['matchExpressions'], join(path, 'matchExpressions'), (x, p) =>
    decodeRequirement(r, x, p),
  );
  return {
    ...(matchLabels !== undefined && { matchLabels }),
    ...(matchExpressions !== undefined && { matchExpressions }),
  };
}

/** A selector that must be present (e.g. NetworkPolicy `podSelector`); `{}` is fine. */
export function decodeRequiredSelector(r: Reader, v: unknown, path: string): LabelSelector | undefined {
  if (v === undefined || v === null) return r.fail(path, 'required (use {} to select everything)');
  return decodeSelector(r, v, path);
}

function decodeRequirement(r: Reader, v: unknown, path: string): LabelSelectorRequirement | undefined {
  const o = readRequiredObject(r, v, path, '{key, operator, values}');
  if (o === undefined) return undefined;
  rejectUnknownKeys(r, o, path, ['key', 'operator', 'values']);
  const key = readString(r, o['key'], join(path, 'key'));
  const op = readString(r, o['operator'], join(path, 'operator'));
  const values = readList(r, o['values'], join(path, 'values'), (x, p) =>
    typeof x === 'string' ? x : r.fail(p, 'values must be strings'),
  );
  if (key === undefined || key === '') return r.fail(join(path, 'key'), 'required');
  if (!isOperator(op)) {
    return r.fail(join(path, 'operator'), `must be one of ${SELECTOR_OPERATORS.join(', ')} (got ${String(op)})`);
  }
  const n = values?.length ?? 0;
  if ((op === 'In' || op === 'NotIn') && n === 0) return r.fail(join(path, 'values'), `required and non-empty for ${op}`);
  if ((op === 'Exists' || op === 'DoesNotExist') && n > 0) {
    return r.fail(join(path, 'values'), `must be empty for ${op}`);
  }
  return { key, operator: op, ...(values !== undefined && { values }) };
}

function isOperator(s: string | undefined): s is SelectorOperator {
  return (SELECTOR_OPERATORS as readonly string[]).includes(s ?? '');
}
