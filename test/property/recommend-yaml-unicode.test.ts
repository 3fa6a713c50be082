import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type ObservedEdge, type Peer, type WorkloadInfo, recommend } from '../../src/recommend/index.js';
import { renderRecommendationYaml } from '../../src/report/index.js';
import { validatePolicyYaml } from '../../src/schema/index.js';
import { edge, entity, options } from '../helpers/edges.js';

/**
 * Every string from a flow (namespace, workload name and kind, label keys and values, DNS names)
 * may hold any Unicode: every YAML 1.1 and 1.2 line break (LF, CR, NEL, U+2028, U+2029), every
 * C0/C1 control, bidi overrides, lone surrogates, `#`, `: `, `---`, 300-character names. Whatever
 * they hold, the output must read the same in YAML 1.1 (kubectl's go-yaml, PyYAML) and 1.2 (the
 * `yaml` package), hold nothing but the policies, and pass the Kubernetes/Cilium schema check.
 */
const SPECIAL = [
  '\n', '\r', '\r\n', '\u0085', '\u2028', '\u2029', '\t', '\u0000', '\u0007', '\u001b', '\u007f', '\u0080', '\u009f', '\u00a0',
  '\u200b', '\u202e', '\u2066', '\ufeff', '\ufffe', '\ud800', '\udc00', '😀', '#', ': ', ' #', '---', '...', '- ', '"', "'", '\\', '/', '..', '*', '{', '}',
  '[', ']', '&', '!', '|', '>', '%', '@', '`', 'y', 'on', 'no', 'null', '~', '0o17', '1:20', '0x1f', '1_000', '.inf', '=',
  'evil\u0085    - fromEntities:\u0085        - all\u0085    #', 'a #b: c', 'CAPS_NS', '-lead', 'x'.repeat(300),
];
const piece = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...SPECIAL) }, { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) }, { weight: 3, arbitrary: fc.constantFrom('app', 'web', 'db', 'dbms', 'kube-system', 'a.b', 'x-1') });
const hostile = fc.array(piece, { minLength: 0, maxLength: 4 }).map((ps) => ps.join(''));
/** Half the time a plain valid name, so that policies are written and peers meet hostile peers. */
const name = fc.oneof(fc.constantFrom('web', 'db', 'dbms', 'apps'), hostile);

interface Case {
  readonly workloads: WorkloadInfo[];
  readonly edges: ObservedEdge[];
}

const workloadArb = fc.record({ namespace: name, kind: fc.oneof(fc.constant('Deployment'), hostile), name, key: fc.oneof(fc.constant('app'), hostile), value: name });
const caseArb: fc.Arbitrary<Case> = fc.array(workloadArb, { minLength: 1, maxLength: 4 }).chain((ws) => {
  const workloads = ws.map((w) => ({ namespace: w.namespace, kind: w.kind, name: w.name, selector: { [w.key]: w.value } }));
  const peer = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...workloads).map((w): Peer => ({ kind: 'workload', namespace: w.namespace, workloadKind: w.kind, name: w.name })) },
    { weight: 1, arbitrary: hostile.map((f): Peer => ({ kind: 'fqdn', fqdn: f })) },
    { weight: 1, arbitrary: fc.constant(entity('world')) },
  );
  const e = fc.record({ from: peer, to: peer, port: fc.constantFrom(53, 80, 443) }).filter((x) => x.from.kind === 'workload');
  return fc.record({ workloads: fc.constant(workloads), edges: fc.array(e, { minLength: 1, maxLength: 6 }).map((es) => es.map((x) => edge(x.from, x.to, 'TCP', x.port))) });
});

const VARIANTS = [options(), options({ baseline: true }), options({ kind: 'kubernetes' })];

function hasPyYaml(): boolean {
  return spawnSync('python3', ['-c', 'import yaml'], { encoding: 'utf8' }).status === 0;
}

/** All texts through PyYAML's safe_load_all (YAML 1.1) in one process; each as a list of documents. */
function pyYamlLoad(texts: readonly string[]): unknown[] {
  const script = 'import sys, json, yaml\ntexts = json.load(sys.stdin)\nprint(json.dumps([[d for d in yaml.safe_load_all(t) if d is not None] for t in texts], default=str))';
  const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(texts), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`PyYAML failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown[];
}

function load(text: string, version: '1.1' | '1.2'): unknown[] {
  const docs = parseAllDocuments(text, { version });
  for (const d of docs) expect(d.errors, `YAML ${version}: ${d.errors.map((e) => e.message).join('; ')}`).toEqual([]);
  return docs.map((d) => d.toJS() as unknown).filter((d) => d !== null);
}

describe('YAML from hostile strings', () => {
  const outputs: { text: string; expected: unknown[] }[] = [];

  it('reads the same in YAML 1.1 and 1.2, holds only the policies, and passes the schema check', () => {
    fc.assert(
      fc.property(caseArb, ({ workloads, edges }) => {
        for (const o of VARIANTS) {
          const r = recommend(edges, workloads, o);
          const text = renderRecommendationYaml(r);
          const v11 = load(text, '1.1');
          const v12 = load(text, '1.2');
          expect(v11).toEqual(v12);
          expect(v12).toEqual(r.policies.map((p) => JSON.parse(JSON.stringify(p.document)) as unknown));
          expect(validatePolicyYaml(text)).toEqual([]);
          outputs.push({ text, expected: v12 });
        }
      }),
      { numRuns: 200 },
    );
  });

  it.skipIf(!hasPyYaml())('reads the same in PyYAML (YAML 1.1, as kubectl-like tools do)', () => {
    expect(outputs.length).toBeGreaterThan(0);
    const loaded = pyYamlLoad(outputs.map((o) => o.text));
    loaded.forEach((docs, i) => expect(docs, outputs[i]?.text).toEqual(outputs[i]?.expected));
  });
});
