import { describe, expect, it } from 'vitest';
import { formatParseProblem, parsePolicies, type CiliumNetworkPolicy, type NetworkPolicy } from '../../../src/policy/index.js';

const cnp = (spec: string, name = 'p'): string => `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: ${name}, namespace: ns}
spec:
${spec
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;

const errorsOf = (text: string): string[] => parsePolicies(text, { file: 'f.yaml' }).errors.map(formatParseProblem);

describe('parsePolicies: documents', () => {
  it('loads every good document, reports bad ones as FILE:LINE:COL: field: reason, and skips them', () => {
    const text = [
      cnp('endpointSelector: {}\ningress: [{}]', 'good1'),
      cnp('endpointSelector: {}\ningress:\n- toPorts:\n  - ports:\n    - port: "80"\n      endPort: 79', 'bad'),
      cnp('endpointSelector: {}\negress: [{}]', 'good2'),
    ].join('---\n');
    const r = parsePolicies(text, { file: 'f.yaml' });
    expect(r.policies.map((p) => p.name)).toEqual(['good1', 'good2']);
    // Line 17 of the stream: the second document's `endPort` key, at column 9.
    expect(r.errors.map(formatParseProblem)).toEqual(['f.yaml:17:9: spec.ingress[0].toPorts[0].ports[0].endPort: endPort 79 is less than port 80']);
    expect(r.errors[0]).toMatchObject({ file: 'f.yaml', doc: 2, field: 'spec.ingress[0].toPorts[0].ports[0].endPort' });
  });

  it('reports a YAML syntax error for its document only', () => {
    const text = [cnp('endpointSelector: {}\ningress: [{}]', 'a'), 'kind: [unclosed\n', cnp('endpointSelector: {}\negress: [{}]', 'c')].join('---\n');
    const r = parsePolicies(text, { file: 'f.yaml' });
    expect(r.policies.map((p) => p.name)).toEqual(['a', 'c']);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ doc: 2, field: '' });
    expect(formatParseProblem(r.errors[0] as never)).toMatch(/^f\.yaml:9:1: invalid YAML: Flow sequence/);
  });

  it('reads an alias with no anchor (a `*` left unquoted) as its document\'s YAML error, located at the alias, not as an alias bomb', () => {
    const typo = cnp('endpointSelector: {}\negress:\n- toFQDNs:\n  - matchPattern: *" # any', 'b');
    const r = parsePolicies([cnp('endpointSelector: {}\ningress: [{}]', 'a'), typo, cnp('endpointSelector: {}\negress: [{}]', 'c')].join('---\n'), { file: 'f.yaml' });
    expect(r.policies.map((p) => p.name)).toEqual(['a', 'c']);
    expect(r.errors.map(formatParseProblem)).toEqual(['f.yaml:15:21: invalid YAML: the alias *" has no anchor (&") before it; quote the value if no alias was meant']);
  });

  it('skips unknown kinds with a note and ignores empty documents', () => {
    const r = parsePolicies('---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n---\n' + cnp('endpointSelector: {}\ningress: [{}]'), { file: 'f.yaml' });
    expect(r.errors).toEqual([]);
    expect(r.policies).toHaveLength(1);
    expect(r.notes.map(formatParseProblem)).toEqual(['f.yaml:3:1: kind: skipped: kind ConfigMap is not a network policy']);
  });

  it("skips Kustomize's kustomization.yaml without a note, but still notes a Flux Kustomization", () => {
    const kustomize = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- a.yaml\n';
    const flux = 'apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\n';
    const r = parsePolicies(`${kustomize}---\n${flux}---\n${cnp('endpointSelector: {}\ningress: [{}]')}`, { file: 'f.yaml' });
    expect(r.errors).toEqual([]);
    expect(r.policies).toHaveLength(1);
    expect(r.notes.map(formatParseProblem)).toEqual(['f.yaml:7:1: kind: skipped: kind Kustomization is not a network policy']);
  });

  it('reads kind: List as kubectl get cnp,ccnp,netpol -A -o yaml prints it, and reports a bad item with its index', () => {
    const text = `apiVersion: v1
kind: List
metadata: {resourceVersion: ""}
items:
- apiVersion: cilium.io/v2
  kind: CiliumNetworkPolicy
  metadata: {name: a, namespace: x, uid: 1234, resourceVersion: "5"}
  spec: {endpointSelector: {}, ingress: [{}]}
  status: {conditions: []}
- apiVersion: cilium.io/v2
  kind: CiliumClusterwideNetworkPolicy
  metadata: {name: b}
  spec: {endpointSelector: {}, egress: [{toEntities: [nowhere]}]}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: c, namespace: y}
  spec: {podSelector: {}, policyTypes: [Ingress]}
`;
    const r = parsePolicies(text, { file: 'all.yaml' });
    expect(r.policies.map((p) => `${p.kind}/${p.name}`)).toEqual(['CiliumNetworkPolicy/a', 'NetworkPolicy/c']);
    expect(r.policies[1]?.origin).toEqual({ file: 'all.yaml', doc: 1, item: 2 });
    expect(r.errors.map(formatParseProblem)).toEqual(['all.yaml:13:55: items[1].spec.egress[0].toEntities[0]: unsupported entity: nowhere']);
  });

  it('reads JSON (kubectl -o json) too, and uses the default namespace for namespaced kinds', () => {
    const json = JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'n' }, spec: { podSelector: {} } });
    const r = parsePolicies(json, { file: 'p.json', defaultNamespace: 'team' });
    expect(r.errors).toEqual([]);
    expect((r.policies[0] as NetworkPolicy).namespace).toBe('team');
    expect(parsePolicies(json, { file: 'p.json' }).policies[0]).toMatchObject({ namespace: 'default' });
  });

  it('keeps spec and specs of one Cilium policy', () => {
    const text = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: both, namespace: ns}
spec: {endpointSelector: {}, ingress: [{}]}
specs:
- {endpointSelector: {matchLabels: {app: a}}, egress: [{}]}
`;
    const p = parsePolicies(text, { file: 'f' }).policies[0] as CiliumNetworkPolicy;
    expect(p.spec).toBeDefined();
    expect(p.specs).toHaveLength(1);
  });
});

describe('parsePolicies: missing vs [] vs [{}]', () => {
  const spec = (text: string) => (parsePolicies(cnp(text), { file: 'f' }).policies[0] as CiliumNetworkPolicy).spec;

  it.each([
    ['ingress missing', 'endpointSelector: {}\negress: [{}]', (s: NonNullable<ReturnType<typeof spec>>) => s.ingress, undefined],
    ['ingress: []', 'endpointSelector: {}\ningress: []\negress: [{}]', (s: NonNullable<ReturnType<typeof spec>>) => s.ingress, []],
    ['ingress: [{}]', 'endpointSelector: {}\ningress: [{}]', (s: NonNullable<ReturnType<typeof spec>>) => s.ingress, [{}]],
    ['ingress: null reads as missing', 'endpointSelector: {}\ningress:\negress: [{}]', (s: NonNullable<ReturnType<typeof spec>>) => s.ingress, undefined],
    ['fromEndpoints missing', 'endpointSelector: {}\ningress: [{toPorts: [{ports: [{port: "80"}]}]}]', (s: NonNullable<ReturnType<typeof spec>>) => s.ingress?.[0]?.fromEndpoints, undefined],
    ['fromEndpoints: []', 'endpointSelector: {}\ningress: [{fromEndpoints: []}]', (s: NonNullable<ReturnType<typeof spec>>) => s.ingress?.[0]?.fromEndpoints, []],
    ['fromEndpoints: [{}]', 'endpointSelector: {}\ningress: [{fromEndpoints: [{}]}]', (s: NonNullable<ReturnType<typeof spec>>) => s.ingress?.[0]?.fromEndpoints, [{}]],
    ['toPorts: []', 'endpointSelector: {}\negress: [{toEndpoints: [{}], toPorts: []}]', (s: NonNullable<ReturnType<typeof spec>>) => s.egress?.[0]?.toPorts, []],
    ['toPorts missing', 'endpointSelector: {}\negress: [{toEndpoints: [{}]}]', (s: NonNullable<ReturnType<typeof spec>>) => s.egress?.[0]?.toPorts, undefined],
    ['toPorts: [{}]', 'endpointSelector: {}\negress: [{toEndpoints: [{}], toPorts: [{}]}]', (s: NonNullable<ReturnType<typeof spec>>) => s.egress?.[0]?.toPorts, [{}]],
  ])('%s', (_, text, pick, want) => {
    const s = spec(text);
    expect(s).toBeDefined();
    expect(pick(s as NonNullable<typeof s>)).toEqual(want);
  });

  it('keeps KNP ingress missing, [] and [{}] apart, and does not apply policyTypes defaulting in the model', () => {
    const knp = (spec: string) =>
      (parsePolicies(`apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: ${spec}\n`, { file: 'f' }).policies[0] as NetworkPolicy).spec;
    expect(knp('{podSelector: {}}').ingress).toBeUndefined();
    expect(knp('{podSelector: {}}').policyTypes).toBeUndefined();
    expect(knp('{podSelector: {}, ingress: []}').ingress).toEqual([]);
    expect(knp('{podSelector: {}, ingress: [{}]}').ingress).toEqual([{}]);
    expect(knp('{podSelector: {}, ingress: [{from: []}]}').ingress).toEqual([{ from: [] }]);
  });
});

describe('parsePolicies: what Cilium or Kubernetes would reject', () => {
  it.each([
    ['no rule sections', cnp('endpointSelector: {}'), 'f.yaml:1: spec: rule must have at least one of Ingress, IngressDeny, Egress, EgressDeny'],
    ['only empty sections', cnp('endpointSelector: {}\ningress: []\negress: []'), 'f.yaml:1: spec: rule must have at least one of Ingress, IngressDeny, Egress, EgressDeny'],
    ['no subject', cnp('ingress: [{}]'), 'f.yaml:1: spec: rule must have one of EndpointSelector or NodeSelector'],
    ['nodeSelector in a CNP', cnp('nodeSelector: {}\ningress: [{}]'), 'f.yaml:1: spec.nodeSelector: host policies (nodeSelector) are only supported in CiliumClusterwideNetworkPolicy'],
    ['toFQDNs with toEndpoints', cnp('endpointSelector: {}\negress: [{toFQDNs: [{matchName: a.io}], toEndpoints: [{}]}]'), 'f.yaml:1: spec.egress[0]: combining toEndpoints and toFQDNs is not supported yet'],
    // A 300-character name with one bad character at the end: the CRD's own regex backtracks for ever on it.
    ['a long toFQDNs name with a bad last character', cnp(`endpointSelector: {}\negress: [{toFQDNs: [{matchName: ${'x'.repeat(300)}!}]}]`), `f.yaml:1: spec.egress[0].toFQDNs[0].matchName: invalid DNS name "${'x'.repeat(300)}!"`],
    ['a long dns pattern with a bad last character', cnp(`endpointSelector: {}\negress: [{toFQDNs: [{matchPattern: "${'x.'.repeat(150)}*#"}]}]`), `f.yaml:1: spec.egress[0].toFQDNs[0].matchPattern: invalid DNS pattern "${'x.'.repeat(150)}*#"`],
    ['a DNS name with an empty label', cnp('endpointSelector: {}\negress: [{toFQDNs: [{matchName: a..io}]}]'), 'f.yaml:1: spec.egress[0].toFQDNs[0].matchName: invalid DNS name "a..io"'],
    ['a DNS name with a leading dot', cnp('endpointSelector: {}\negress: [{toFQDNs: [{matchName: .a.io}]}]'), 'f.yaml:1: spec.egress[0].toFQDNs[0].matchName: invalid DNS name ".a.io"'],
    ['toFQDNs in egressDeny', cnp('endpointSelector: {}\negressDeny: [{toFQDNs: [{matchName: a.io}]}]'), 'f.yaml:1: spec.egressDeny[0].toFQDNs: toFQDNs is not supported in deny rules'],
    ['port as a YAML number', cnp('endpointSelector: {}\ningress: [{toPorts: [{ports: [{port: 80}]}]}]'), 'f.yaml:1: spec.ingress[0].toPorts[0].ports[0].port: must be a string (quote it: "80")'],
    ['octal-looking port', cnp('endpointSelector: {}\ningress: [{toPorts: [{ports: [{port: "080"}]}]}]'), 'f.yaml:1: spec.ingress[0].toPorts[0].ports[0].port: unable to parse port: "080" is not a port number (0-65535) or name'],
    ['missing port', cnp('endpointSelector: {}\ningress: [{toPorts: [{ports: [{protocol: TCP}]}]}]'), 'f.yaml:1: spec.ingress[0].toPorts[0].ports[0].port: port must be specified'],
    ['bad protocol', cnp('endpointSelector: {}\ningress: [{toPorts: [{ports: [{port: "1", protocol: ICMP}]}]}]'), 'f.yaml:1: spec.ingress[0].toPorts[0].ports[0].protocol: unsupported protocol "ICMP" (TCP, UDP, SCTP or ANY; use icmps for ICMP)'],
    ['except outside cidr', cnp('endpointSelector: {}\negress: [{toCIDRSet: [{cidr: 10.0.0.0/8, except: [11.0.0.0/16]}]}]'), 'f.yaml:1: spec.egress[0].toCIDRSet[0].except[0]: allow CIDR prefix 10.0.0.0/8 does not contain exclude CIDR prefix 11.0.0.0/16'],
    ['L7 on UDP', cnp('endpointSelector: {}\ningress: [{toPorts: [{ports: [{port: "80", protocol: UDP}], rules: {http: [{}]}}]}]'), 'f.yaml:1: spec.ingress[0].toPorts[0].ports[0].protocol: L7 rules can only apply to TCP (not UDP) except for DNS rules'],
    ['DNS rules on ingress', cnp('endpointSelector: {}\ningress: [{toPorts: [{ports: [{port: "53", protocol: UDP}], rules: {dns: [{matchPattern: "*"}]}}]}]'), 'f.yaml:1: spec.ingress[0].toPorts[0].rules.dns: DNS rules are not allowed on ingress'],
    ['L7 in a deny rule', cnp('endpointSelector: {}\ningressDeny: [{toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{}]}}]}]'), 'f.yaml:1: spec.ingressDeny[0].toPorts[0].rules: deny rules cannot carry L7 rules'],
    ['icmps with toPorts', cnp('endpointSelector: {}\ningress: [{icmps: [{fields: [{type: 8}]}], toPorts: [{ports: [{port: "80"}]}]}]'), 'f.yaml:1: spec.ingress[0]: the icmps block may only be present without toPorts; define a separate rule to use toPorts'],
    ['bad selector operator', cnp('endpointSelector: {matchExpressions: [{key: a, operator: Equals, values: [b]}]}\ningress: [{}]'), 'f.yaml:1: spec.endpointSelector.matchExpressions[0].operator: must be one of In, NotIn, Exists, DoesNotExist (got Equals)'],
    ['unquoted number label', cnp('endpointSelector: {matchLabels: {tier: 1}}\ningress: [{}]'), 'f.yaml:1: spec.endpointSelector.matchLabels.tier: label values must be strings, got number 1 (quote it)'],
    ['KNP endPort with a named port', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {podSelector: {}, ingress: [{ports: [{port: http, endPort: 90}]}]}\n', 'f.yaml:1: spec.ingress[0].ports[0].endPort: may only be specified with a numeric port'],
    ['KNP endPort < port', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {podSelector: {}, egress: [{ports: [{port: 90, endPort: 80}]}]}\n', 'f.yaml:1: spec.egress[0].ports[0].endPort: endPort 80 is less than port 90'],
    ['KNP without podSelector', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {ingress: [{}]}\n', 'f.yaml:1: spec.podSelector: required (use {} to select everything)'],
    ['KNP ipBlock with podSelector', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 1.0.0.0/8}, podSelector: {}}]}]}\n', 'f.yaml:1: spec.ingress[0].from[0]: may not specify ipBlock together with podSelector or namespaceSelector'],
    ['wrong apiVersion', 'apiVersion: cilium.io/v1\nkind: CiliumNetworkPolicy\nmetadata: {name: n}\nspec: {endpointSelector: {}, ingress: [{}]}\n', 'f.yaml:1: apiVersion: expected cilium.io/v2 for CiliumNetworkPolicy, got cilium.io/v1'],
    ['no name', 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {}\nspec: {endpointSelector: {}, ingress: [{}]}\n', 'f.yaml:1: metadata.name: required'],
  ])('%s', (_, text, want) => {
    const got = errorsOf(text);
    expect(got).toHaveLength(1);
    const m = /^f\.yaml:(\d+):(\d+): (.*)$/.exec(got[0] ?? '');
    expect(m, got[0]).not.toBeNull();
    const [, line, col, rest] = m as unknown as [string, string, string, string];
    expect(rest).toBe(want.replace(/^f\.yaml:1: /, ''));
    // LINE:COL points at the field's key (or, for a list item or a missing field, the nearest node that is there).
    const field = rest.split(': ')[0] ?? '';
    const keys = field.split(/[.[\]]/).filter((k) => k !== '' && !/^\d+$/.test(k));
    const at = (text.split('\n')[Number(line) - 1] ?? '').slice(Number(col) - 1);
    const item = /\]$/.test(field);
    expect(keys.some((k) => at.startsWith(k)) || /^[-{[]/.test(at) || (item && at !== ''), `${at} for ${field}`).toBe(true);
  });

  it.each([
    ['fromEndpoint', 'endpointSelector: {}\ningress:\n  - fromEndpoint: [{}]', 'f.yaml:7:7: spec.ingress[0].fromEndpoint: unknown field "fromEndpoint" (did you mean "fromEndpoints"?)'],
    ['matchLabel', 'endpointSelector:\n  matchLabel: {app: a}\ningress: [{}]', 'f.yaml:6:5: spec.endpointSelector.matchLabel: unknown field "matchLabel" (did you mean "matchLabels"?)'],
    ['toPort', 'endpointSelector: {}\negress:\n  - toEntities: [world]\n    toPort: [{ports: [{port: "443"}]}]', 'f.yaml:8:7: spec.egress[0].toPort: unknown field "toPort" (did you mean "toPorts"?)'],
    ['protocol: tcp', 'endpointSelector: {}\ningress:\n  - toPorts:\n      - ports:\n          - {port: "80", protocol: tcp}', 'f.yaml:9:28: spec.ingress[0].toPorts[0].ports[0].protocol: Unsupported value: "tcp": supported values: "TCP", "UDP", "SCTP", "ANY" (did you mean "TCP"?)'],
    ['a field of the object', 'endpointSelector: {}\ningress: [{}]\nstatuss: {}', 'f.yaml:7:3: spec.statuss: unknown field "statuss"'],
  ])('rejects %s as the API server does (strict field validation), at its line and column', (_, spec, want) => {
    const r = parsePolicies(cnp(spec), { file: 'f.yaml' });
    expect(r.policies).toEqual([]);
    expect(r.errors.map(formatParseProblem)).toEqual([want]);
  });

  it('skips a template with a located warning instead of a YAML error', () => {
    const r = parsePolicies(`${cnp('endpointSelector: {}\ningress: [{}]')}---\n# helm\nmetadata:\n  name: {{ .Release.Name }}-db\n`, { file: 't.yaml' });
    expect(r.errors).toEqual([]);
    expect(r.policies).toEqual([]);
    expect(r.notes.map(formatParseProblem)).toEqual(['t.yaml:10:9: skipped: a template ({{ .Release.Name }}), not a manifest; render it first (helm template, kustomize build)']);
  });

  it('notes KNP rules that policyTypes makes the spec ignore', () => {
    const r = parsePolicies('apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {podSelector: {}, policyTypes: [Ingress], egress: [{}]}\n', { file: 'f.yaml' });
    expect(r.errors).toEqual([]);
    expect(r.notes[0]?.field).toBe('spec.egress');
  });

  it('normalises named ports to lowercase', () => {
    const p = parsePolicies(cnp('endpointSelector: {}\ningress: [{toPorts: [{ports: [{port: "HTTP-Alt"}, {port: "80", protocol: TCP}]}]}]'), { file: 'f' })
      .policies[0] as CiliumNetworkPolicy;
    expect(p.spec?.ingress?.[0]?.toPorts?.[0]?.ports).toEqual([
      { port: 'http-alt', protocol: 'ANY' },
      { port: '80', protocol: 'TCP' },
    ]);
  });
});
