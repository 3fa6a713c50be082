import { child, closest, index, isRecord } from './path.js';
import type { IntegerNode, ObjectNode, Report, SchemaNode, StringNode } from './types.js';

/** Validates `value` against `node`, reporting every problem under `path`. */
export function walk(node: SchemaNode, value: unknown, path: string, report: Report): void {
  switch (node.t) {
    case 'any':
      return;
    case 'string':
      if (typeof value !== 'string') return report(path, `must be a string, got ${kindOf(value)}`);
      return checkString(node, value, path, report);
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return report(path, `must be an integer, got ${kindOf(value)}`);
      return checkInteger(node, value, path, report);
    case 'boolean':
      if (typeof value !== 'boolean') report(path, `must be a boolean, got ${kindOf(value)}`);
      return;
    case 'intOrString':
      if (typeof value === 'number' && Number.isInteger(value)) return checkInteger(node.int, value, path, report);
      if (typeof value === 'string') return checkString(node.str, value, path, report);
      return report(path, `must be an integer or a string, got ${kindOf(value)}`);
    case 'array':
      if (!Array.isArray(value)) return report(path, `must be a list, got ${kindOf(value)}`);
      if (node.minItems !== undefined && value.length < node.minItems) report(path, `must have at least ${node.minItems} item(s)`);
      if (node.maxItems !== undefined && value.length > node.maxItems) report(path, `must have at most ${node.maxItems} items, has ${value.length}`);
      value.forEach((item, i) => {
        if (node.unique && value.findIndex((x) => x === item) < i) report(index(path, i), `duplicate entry ${JSON.stringify(item)}`);
        walk(node.items, item, index(path, i), report);
      });
      return;
    case 'map':
      if (!isRecord(value)) return report(path, `must be a mapping, got ${kindOf(value)}`);
      for (const [k, v] of Object.entries(value)) {
        const why = node.key?.(k);
        if (why !== undefined) report(child(path, k), `invalid key ${JSON.stringify(k)}: ${why}`);
        walk(node.values, v, child(path, k), report);
      }
      return;
    case 'object':
      return walkObject(node, value, path, report);
  }
}

function walkObject(node: ObjectNode, value: unknown, path: string, report: Report): void {
  if (!isRecord(value)) return report(path, `must be a mapping, got ${kindOf(value)}`);
  const known = Object.keys(node.fields);
  for (const name of node.required ?? []) {
    if (value[name] === undefined || value[name] === null) report(child(path, name), 'is required');
  }
  for (const [k, v] of Object.entries(value)) {
    const field = node.fields[k];
    if (field === undefined) {
      const hint = closest(k, known);
      report(child(path, k), `unknown field ${JSON.stringify(k)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`);
    } else if (v !== null) {
      walk(field, v, child(path, k), report);
    }
  }
  for (const rule of node.rules ?? []) rule(value, path, report);
}

function checkString(node: StringNode, s: string, path: string, report: Report): void {
  if (node.enum && !node.enum.includes(s)) return report(path, `must be one of ${node.enum.join(', ')}; got ${JSON.stringify(s)}`);
  if (node.minLength !== undefined && s.length < node.minLength) return report(path, node.minLength === 1 ? 'must not be empty' : `must be at least ${node.minLength} characters`);
  if (node.maxLength !== undefined && s.length > node.maxLength) return report(path, `must be at most ${node.maxLength} characters, is ${s.length}`);
  const why = node.check?.(s);
  if (why !== undefined) report(path, why);
}

function checkInteger(node: IntegerNode, n: number, path: string, report: Report): void {
  if (node.minimum !== undefined && n < node.minimum) report(path, `must be >= ${node.minimum}, got ${n}`);
  else if (node.maximum !== undefined && n > node.maximum) report(path, `must be <= ${node.maximum}, got ${n}`);
}

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? `integer ${v}` : `number ${v}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}
