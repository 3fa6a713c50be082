import type {
  AnyNode,
  ArrayNode,
  BooleanNode,
  IntegerNode,
  IntOrStringNode,
  MapNode,
  ObjectNode,
  ObjectRule,
  SchemaNode,
  StringCheck,
  StringNode,
} from './types.js';

/** Builders for the field tables: `obj({ port: str({ check }) }, { required: ['port'] })`. */
export const str = (o: Omit<StringNode, 't'> = {}): StringNode => ({ t: 'string', ...o });
export const int = (o: Omit<IntegerNode, 't'> = {}): IntegerNode => ({ t: 'integer', ...o });
export const bool = (): BooleanNode => ({ t: 'boolean' });
export const intOrStr = (i: Omit<IntegerNode, 't'>, s: Omit<StringNode, 't'>): IntOrStringNode => ({ t: 'intOrString', int: int(i), str: str(s) });
export const arr = (items: SchemaNode, o: Omit<ArrayNode, 't' | 'items'> = {}): ArrayNode => ({ t: 'array', items, ...o });
export const map = (values: SchemaNode, key?: StringCheck): MapNode => ({ t: 'map', values, ...(key ? { key } : {}) });
export const anything = (): AnyNode => ({ t: 'any' });
export const enumOf = (values: readonly string[]): StringNode => str({ enum: values });

export function obj(fields: Readonly<Record<string, SchemaNode>>, o: { required?: readonly string[]; rules?: readonly ObjectRule[] } = {}): ObjectNode {
  return { t: 'object', fields, ...o };
}

/** The same object with more fields / rules (ingress vs ingressDeny share most of theirs). */
export function extend(base: ObjectNode, fields: Readonly<Record<string, SchemaNode>>, rules: readonly ObjectRule[] = []): ObjectNode {
  return { ...base, fields: { ...base.fields, ...fields }, rules: [...(base.rules ?? []), ...rules] };
}
