import { describe, expect, it } from 'vitest';
import { applyJsonPatch, JsonPatchError, parsePointer } from '../../../src/triage/index.js';

describe('applyJsonPatch (RFC 6902)', () => {
  const doc = { spec: { ingress: [{ a: 1 }], 'x/y': { '~k': 2 } } };

  it.each([
    ['append with /-', [{ op: 'add', path: '/spec/ingress/-', value: { b: 2 } }], { spec: { ingress: [{ a: 1 }, { b: 2 }], 'x/y': { '~k': 2 } } }],
    ['insert at an index', [{ op: 'add', path: '/spec/ingress/0', value: 0 }], { spec: { ingress: [0, { a: 1 }], 'x/y': { '~k': 2 } } }],
    ['create a missing member', [{ op: 'add', path: '/spec/egress', value: [1] }], { spec: { ingress: [{ a: 1 }], 'x/y': { '~k': 2 }, egress: [1] } }],
    ['remove an array item', [{ op: 'remove', path: '/spec/ingress/0' }], { spec: { ingress: [], 'x/y': { '~k': 2 } } }],
    ['escaped tokens', [{ op: 'replace', path: '/spec/x~1y/~0k', value: 3 }], { spec: { ingress: [{ a: 1 }], 'x/y': { '~k': 3 } } }],
    ['test then add', [{ op: 'test', path: '/spec/ingress/0/a', value: 1 }, { op: 'add', path: '/spec/n', value: null }], { spec: { ingress: [{ a: 1 }], 'x/y': { '~k': 2 }, n: null } }],
  ] as const)('%s', (_name, ops, expected) => {
    expect(applyJsonPatch(doc, ops)).toEqual(expected);
    expect(doc).toEqual({ spec: { ingress: [{ a: 1 }], 'x/y': { '~k': 2 } } });
  });

  it.each([
    [{ op: 'add', path: '/nope/x', value: 1 }],
    [{ op: 'remove', path: '/spec/missing' }],
    [{ op: 'replace', path: '/spec/ingress/5', value: 1 }],
    [{ op: 'test', path: '/spec/ingress/0/a', value: 2 }],
  ] as const)('fails whole on %j', (op) => {
    expect(() => applyJsonPatch(doc, [op])).toThrow(JsonPatchError);
  });

  it('parses pointers', () => {
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('/a~1b/~01')).toEqual(['a/b', '~1']);
  });
});
