import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scalar, stringify } from 'yaml';
import { parsePolicies } from '../../src/policy/index.js';
import { readPlainYaml } from '../../src/policy/parse/fast-yaml.js';
import { expectSameReading } from '../helpers/same-reading.js';

/**
 * Policy files are read by js-yaml when it reads them exactly as the `yaml` package does (and
 * by the `yaml` package otherwise, for its positions and its strictness). Whatever the text,
 * `parsePolicies` must give what the `yaml` package alone gives: the same policies, errors,
 * notes, line numbers and document numbers, or the same thrown limit.
 */
const usesFastPath = (text: string): boolean => readPlainYaml(text, () => undefined);

const yamlFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'));
const SOURCES = [...yamlFiles('test/fixtures/gitops-repo'), ...yamlFiles('../shared/oracle/cilium-connectivity/manifests')];

const RECOMMENDED = `# Managed by hubble-advisor (recommend --out)
# Notes:
#  - widening: a/b has no stable labels
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: backend-8
  namespace: analytics-2
  labels:
    app.kubernetes.io/managed-by: hubble-advisor
spec:
  endpointSelector:
    # pods of Deployment analytics-2/backend-8
    matchLabels:
      app.kubernetes.io/name: backend-8
  ingress:
    # from entity host on TCP/8080: 11 flows
    - fromEntities:
        - host
      toPorts:
        - ports:
            - port: "8080"
              protocol: TCP
    - fromEndpoints:
        - matchLabels: {}
  egress:
    - toEndpoints:
        - matchLabels:
            "k8s:io.kubernetes.pod.namespace": kube-system
            k8s-app: kube-dns
      toPorts:
        - ports:
            - port: "53"
              protocol: ANY
          rules:
            dns:
              - matchPattern: "*"
    - toFQDNs:
        - matchName: "api.example.com"
`;

describe('policy YAML: the js-yaml fast path reads as the yaml package does', () => {
  it('is taken for a recommended policy and for most hand-written fixtures (so the properties below test it)', () => {
    expect(usesFastPath(RECOMMENDED)).toBe(true);
    expect(parsePolicies(RECOMMENDED, { file: 'p.yaml' }).policies).toHaveLength(1);
    expect(SOURCES.filter(usesFastPath).length).toBeGreaterThan(SOURCES.length / 2);
  });

  it.each([
    ['an anchor and alias', 'a: &x {b: 1}\nc: *x\n'],
    ['an explicit core tag', 'a: !!int "5"\n'],
    ['a local tag', 'a: !foo b\n'],
    ['a %YAML directive', '%YAML 1.1\n---\na: yes\n'],
    ['an explicit ? key', '? a\n: b\n'],
    ['an empty key', ': b\n'],
    ['a null key', '~: b\nnull: c\n'],
    ['a flow-collection key', '[a]: b\n'],
    ['a flow map over lines', 'a: { b: 1,\n c: 2 }\n'],
    ['a quoted scalar over lines', 'a: "b\n  c"\n'],
    ['a block scalar', 'a: |\n  b\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a C0 control', 'a: "\u0001"\n'],
    ['a document marker glued to more text', '---!\n# c\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: p\n'],
  ])('leaves %s to the yaml package', (_what, text) => {
    expect(usesFastPath(text)).toBe(false);
    expectSameReading(text);
  });

  it('reads every fixture and oracle manifest the same', () => {
    for (const text of [RECOMMENDED, ...SOURCES]) expectSameReading(text);
  });

  it('reads plain scalars by the YAML 1.2 core schema, as the yaml package does', () => {
    const scalars = ['', '~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRUE', 'yes', 'no', 'on', 'off', 'y', 'n', '0o17', '0o8', '017', '0777', '0x1F', '0X1F', '0x',
      '1e3', '1E3', '1e', '.5', '5.', '+.5', '-.5e-3', '+.inf', '-.Inf', '.INF', '.NaN', '.nan', '.NAN', 'nan', '1_000', '+5', '-0', '+0x1', '-0o7', '2001-01-01', '0b101', '1:20', '12:30:45',
      '9007199254740993', '1e400', '00', '0.0', '-', '+', '.', 'TCP', 'app.kubernetes.io/name', '8080'];
    const port = fc.stringMatching(/^[-+.0-9a-fA-FoxXeEinNsulL~_:]{0,10}$/);
    const check = (s: string): void => {
      const label = s === '' ? '""' : s;
      expectSameReading(`apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: p\n  labels:\n    ${label}: ${s}\nspec:\n  endpointSelector:\n    matchLabels:\n      k: ${s}\n  ingress:\n    - toPorts:\n        - ports:\n            - port: ${s}\n`);
    };
    for (const s of scalars) check(s);
    fc.assert(fc.property(port, check), { numRuns: 300 });
  });

  const SPECIAL = ['\n', '\r\n', '\u0085', '\u2028', '\u2029', '\t', '\u0007', '\u001b', '\u0080', '\u009f', '\u00a0', '\u200b', '\u202e', '\ufeff', '\ud800', '😀', '#', ': ', ' #', '---', '...',
    '- ', '"', "'", '\\', '/', '*', '{', '}', '[', ']', '&', '!', '|', '>', '%', '@', '`', '?', ',', 'y', 'on', 'null', '~', '0o17', '1:20', '0x1f', '.inf', 'x'.repeat(300)];
  const hostile = fc.array(fc.oneof(fc.constantFrom(...SPECIAL), fc.string({ unit: 'binary', maxLength: 5 }), fc.constantFrom('app', 'web', '8080')), { maxLength: 4 }).map((p) => p.join(''));

  it('reads hostile strings the same, however they are written (plain, quoted, block, flow) and even unescaped', () => {
    const styles = [Scalar.PLAIN, Scalar.QUOTE_DOUBLE, Scalar.QUOTE_SINGLE, Scalar.BLOCK_LITERAL, Scalar.BLOCK_FOLDED] as const;
    fc.assert(
      fc.property(hostile, hostile, hostile, fc.constantFrom(...styles), fc.boolean(), (key, value, name, style, flow) => {
        const doc = {
          apiVersion: 'cilium.io/v2',
          kind: 'CiliumNetworkPolicy',
          metadata: { name, namespace: value },
          spec: { endpointSelector: { matchLabels: { [key]: value } }, egress: [{ toFQDNs: [{ matchName: value }], toPorts: [{ ports: [{ port: value, protocol: 'TCP' }] }] }] },
        };
        let text: string;
        try {
          text = stringify(doc, { defaultStringType: style, defaultKeyType: Scalar.PLAIN, collectionStyle: flow ? 'flow' : 'block', lineWidth: 40 });
        } catch {
          return;
        }
        expectSameReading(text);
        expectSameReading(`metadata:\n  name: ${name}\n  labels: {${key}: ${value}}\nkind: CiliumNetworkPolicy\napiVersion: cilium.io/v2\nspec:\n  endpointSelector:\n    matchLabels:\n      ${key}: ${value}\n`);
      }),
      { numRuns: 400 },
    );
  });

  it('reads damaged files the same (random edits of real policies): same errors, lines and documents', () => {
    const edit = fc.record({ at: fc.nat(), cut: fc.nat({ max: 3 }), insert: fc.oneof(fc.constantFrom(...SPECIAL, ' ', '  ', '\n', ':', '- ', '---\n', '\t', 'a: b', '-', '&a ', '*a', '!!str ', '? '), hostile) });
    fc.assert(
      fc.property(fc.constantFrom(RECOMMENDED, ...SOURCES), fc.array(edit, { minLength: 1, maxLength: 3 }), fc.boolean(), (source, edits, twice) => {
        let text = twice ? `${source}---\n${source}` : source;
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.insert + text.slice(at + e.cut);
        }
        expectSameReading(text);
      }),
      { numRuns: 600 },
    );
  });
});
