import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GeneratedPolicy, Lint, Note, PolicyDocument } from '../../src/recommend/index.js';
import { renderPolicyYaml, renderPolicyYamlByDocument } from '../../src/report/policies.js';
import { emitYamlDocument } from '../../src/report/yaml-emit.js';
import { hostileText } from '../helpers/hostile-text.js';

/**
 * `renderPolicyYaml` writes policies with a small string-building writer instead of the `yaml`
 * package's document model. Its bytes must be the model's bytes for every policy: hostile keys,
 * values and comments (every line break and control character, YAML 1.1 words, numbers-as-text,
 * indicators, 300-character names), empty collections, comments on any node, notes on top. Where
 * the writer declines (null, floats, aliases), the model writes; where the model refuses a
 * string, so does `renderPolicyYaml`.
 */
const text = hostileText;

/** JSON-like values as policies hold them, with the odd null or float the writer declines. */
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: text },
    { weight: 1, arbitrary: fc.integer({ min: -70000, max: 70000 }) },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constantFrom<unknown>([], {}) },
    { weight: 3, arbitrary: fc.array(tie('v'), { maxLength: 3 }) },
    { weight: 3, arbitrary: fc.dictionary(text, tie('v'), { maxKeys: 3 }) },
  ),
})).v;
const rare = fc.oneof({ weight: 20, arbitrary: value }, { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 1.5, -0) });

/** Every path `renderPolicyYaml` can be given: `spec.egress[0]`, `specs[1].a`, and some that lead nowhere. */
function pathsOf(v: unknown, prefix: string, out: string[]): string[] {
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, `${prefix}[${i}]`, out.concat(`${prefix}[${i}]`)).forEach((p) => out.push(p)));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) if (!/[.[\]]/.test(k)) pathsOf(x, prefix ? `${prefix}.${k}` : k, [`${prefix ? `${prefix}.` : ''}${k}`]).forEach((p) => out.push(p));
  return [...new Set(out)];
}

const policyArb = fc
  .record({ name: text, namespace: fc.option(text, { nil: undefined }), spec: fc.dictionary(text, rare, { maxKeys: 4 }), egress: fc.array(fc.dictionary(text, value, { maxKeys: 3 }), { maxLength: 3 }) })
  .chain(({ name, namespace, spec, egress }) => {
    const document: PolicyDocument = {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name, ...(namespace !== undefined && { namespace }), labels: { 'app.kubernetes.io/managed-by': 'hubble-advisor' } },
      spec: { endpointSelector: { matchLabels: { app: name } }, ...spec, egress },
    };
    const paths = [...pathsOf(document, '', []), 'spec.nowhere', 'spec.egress[9]', 'spec[0]', 'spec.egress[00]'];
    return fc.record({
      document: fc.constant(document),
      comments: fc.array(fc.tuple(fc.constantFrom(...paths), text), { maxLength: 6 }),
      notes: fc.array(text, { maxLength: 2 }),
    });
  });

function render(r: () => string): string {
  try {
    return r();
  } catch (e) {
    return `throws ${e instanceof Error ? e.message : String(e)}`;
  }
}

function hasPyYaml(): boolean {
  return spawnSync('python3', ['-c', 'import yaml'], { encoding: 'utf8' }).status === 0;
}

describe('policy YAML writer', () => {
  const written: { text: string; document: unknown }[] = [];

  it('writes the bytes the yaml document model writes, for any policy, comment and note', () => {
    let emitted = 0;
    fc.assert(
      fc.property(policyArb, ({ document, comments, notes }) => {
        const p: GeneratedPolicy = { document, comments: new Map(comments) };
        const ns: Note[] = notes.map((m) => ({ kind: 'widening', message: m, policy: document.metadata.name, ...(document.metadata.namespace !== undefined && { namespace: document.metadata.namespace }) }) as Note);
        const ls: Lint[] = notes.slice(0, 1).map((m) => ({ rule: 'r', message: m, policy: document.metadata.name, ...(document.metadata.namespace !== undefined && { namespace: document.metadata.namespace }) }) as Lint);
        const fast = render(() => renderPolicyYaml(p, ns, ls));
        expect(fast).toBe(render(() => renderPolicyYamlByDocument(p, ns, ls)));
        if (emitYamlDocument(document, new Map(), undefined) !== undefined) {
          emitted++;
          written.push({ text: fast, document: JSON.parse(JSON.stringify(document)) as unknown });
        }
      }),
      { numRuns: 600 },
    );
    // Most cases go through the writer (not its fallback), or this property would test nothing.
    expect(emitted).toBeGreaterThan(100);
  });

  // What the writer wrote (the model's fallbacks hold nulls and floats, compared loosely by JSON).
  it.skipIf(!hasPyYaml())('writes what PyYAML (YAML 1.1) reads back as the document', () => {
    expect(written.length).toBeGreaterThan(20);
    const script = 'import sys, json, yaml\nprint(json.dumps([yaml.safe_load(t) for t in json.load(sys.stdin)], default=str))';
    const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(written.map((w) => w.text)), encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(r.status, r.stderr).toBe(0);
    const loaded = JSON.parse(r.stdout) as unknown[];
    loaded.forEach((doc, i) => expect(doc, written[i]?.text).toEqual(written[i]?.document));
  });

  // The `yaml` package's 1.1 schema wrote a string `<<` as a bare merge key: PyYAML refused the file.
  it.skipIf(!hasPyYaml())('writes a `<<` key or value as a string every reader reads, on both paths', () => {
    const document: PolicyDocument = {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name: 'merge', namespace: 'ns' },
      spec: { endpointSelector: { matchLabels: { app: '<<' } }, egress: [{ toFQDNs: [{ matchPattern: '<<' }], '<<': ['<<'] }] } as PolicyDocument['spec'],
    };
    const p: GeneratedPolicy = { document, comments: new Map([['spec.egress[0]', '<<']]) };
    const texts = [renderPolicyYaml(p, [], []), renderPolicyYamlByDocument(p, [], [])];
    expect(texts[0]).toBe(texts[1]);
    expect(texts[0]).toContain('app: "<<"');
    const script = 'import sys, json, yaml\nprint(json.dumps([yaml.safe_load(t) for t in json.load(sys.stdin)]))';
    const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(texts), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    for (const doc of JSON.parse(r.stdout) as unknown[]) expect(doc).toEqual(document);
  });
});
