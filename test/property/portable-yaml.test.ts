import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { PolicyPatch } from '../../src/triage/index.js';
import { renderPatchYaml } from '../../src/report/triage.js';
import { stringifyPortable, stringifyPortableList } from '../../src/report/yaml-safe.js';
import { hostileText } from '../helpers/hostile-text.js';

/**
 * `drops -o yaml` and the JSON patches written for `kubectl patch --patch-file` carry names from
 * flows and files. kubectl (go-yaml) and PyYAML read YAML 1.1: a label value `on` written plain is
 * `true` to them, `<<` is a merge key, `2026-11-22T10:00:00Z` a timestamp, and NEL or U+2028 end a
 * line. Whatever the values, every reader must get them back exactly.
 */
const data: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: hostileText },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(true, false, null, 0.5, 1776000000000) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>([], {}) },
    { weight: 3, arbitrary: fc.array(tie('v'), { maxLength: 3 }) },
    { weight: 3, arbitrary: fc.dictionary(hostileText, tie('v'), { maxKeys: 3 }) },
  ),
})).v;

function hasPyYaml(): boolean {
  return spawnSync('python3', ['-c', 'import yaml'], { encoding: 'utf8' }).status === 0;
}

/** Each text as PyYAML's safe_load reads it, as JSON (or the error it raised). */
function pyLoad(texts: readonly string[]): unknown[] {
  const script = [
    'import sys, json, yaml',
    'out = []',
    'for t in json.load(sys.stdin):',
    '    try: out.append({"value": yaml.safe_load(t)})',
    '    except Exception as e: out.append({"error": str(e)})',
    'print(json.dumps(out, default=lambda o: "<%s %s>" % (type(o).__name__, o)))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(texts), encoding: 'utf8', maxBuffer: 1 << 28 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as unknown[];
}

/** What a JSON reader gets from the value (no undefined, no -0). */
const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;

describe('YAML for drop reports and patches', () => {
  const cases: { value: unknown; text: string }[] = [];

  it('reads back as the same values in YAML 1.2 (the yaml package)', () => {
    fc.assert(
      fc.property(data, (value) => {
        const text = stringifyPortable(value);
        expect(asJson(parse(text)), text).toEqual(asJson(value));
        cases.push({ value, text });
      }),
      { numRuns: 400 },
    );
  });

  it.skipIf(!hasPyYaml())('reads back as the same values in YAML 1.1 (PyYAML)', () => {
    expect(cases.length).toBeGreaterThan(100);
    pyLoad(cases.map((c) => c.text)).forEach((got, i) => expect(got, cases[i]?.text).toEqual({ value: asJson(cases[i]?.value) }));
  });

  it.skipIf(!hasPyYaml())('keeps hostile names in a patch header inside its comment', () => {
    const names = ['a\u0085- op: remove', 'b\u2028path: /spec', 'c\ninjected: true', 'd\r\n- op: add', 'e\u2029x'];
    const patches: PolicyPatch[] = names.map((n) => ({
      action: 'add-allow',
      direction: 'egress',
      policy: { kind: 'CiliumNetworkPolicy', namespace: 'ns', name: 'p', origin: { file: `policies/${n}.yaml`, doc: 1 } },
      ops: [{ op: 'add', path: '/spec/egress/-', value: { toEndpoints: [{ matchLabels: { app: 'on', tier: 'yes', name: n, '<<': '<<' } }] } }],
      description: `allow ${n} to reach ${n}`,
    }));
    const texts = patches.map(renderPatchYaml);
    pyLoad(texts).forEach((got, i) => expect(got, texts[i]).toEqual({ value: asJson(patches[i]?.ops) }));
    texts.forEach((t, i) => expect(asJson(parse(t)), t).toEqual(asJson(patches[i]?.ops)));
  });
});

describe('a drop report written a group at a time', () => {
  it('is the text of the whole list, shared objects and all (no anchors either way)', () => {
    fc.assert(
      fc.property(fc.array(data, { maxLength: 6 }), fc.nat(5), (items, twice) => {
        // The same object in two places (a peer's ranges in several groups) is written out twice.
        const shared = items.find((x) => typeof x === 'object' && x !== null);
        const list = shared === undefined ? items : [...items.slice(0, twice), shared, ...items.slice(twice)];
        const whole = stringifyPortable(list);
        expect([...stringifyPortableList(list)].join('')).toBe(whole);
        expect(whole).not.toMatch(/^\s*(- )*[&*]a\d/m);
        expect(asJson(parse(whole))).toEqual(asJson(list));
      }),
      { numRuns: 300 },
    );
  });
});
