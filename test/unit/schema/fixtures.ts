/** Valid documents shaped like what hubble-advisor emits; tests mutate copies of them. */
export type Doc = Record<string, unknown>;

export function cnp(): Doc {
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: 'frontend', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'hubble-advisor' } },
    spec: {
      endpointSelector: { matchLabels: { app: 'frontend' } },
      ingress: [
        { fromEndpoints: [{ matchLabels: { app: 'gateway', 'k8s:io.kubernetes.pod.namespace': 'edge' } }], toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }] },
        { fromEntities: ['host'], icmps: [{ fields: [{ type: 8, family: 'IPv4' }, { type: 'EchoRequest', family: 'IPv6' }] }] },
        { fromCIDRSet: [{ cidr: '203.0.113.7/32' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] },
      ],
      egress: [
        {
          toEndpoints: [{ matchLabels: { 'k8s-app': 'kube-dns', 'io.kubernetes.pod.namespace': 'kube-system' } }],
          toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }], rules: { dns: [{ matchPattern: '*' }] } }],
        },
        { toEndpoints: [{ matchLabels: { app: 'cart' } }], toPorts: [{ ports: [{ port: '30000', endPort: 30010, protocol: 'TCP' }, { port: 'grpc', protocol: 'TCP' }] }] },
        { toFQDNs: [{ matchName: 'api.example.com' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] },
        { toCIDRSet: [{ cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] }], toPorts: [{ ports: [{ port: '80', protocol: 'ANY' }] }] },
        { toEntities: ['kube-apiserver', 'world-ipv4'], toPorts: [{ ports: [{ port: '6443', protocol: 'TCP' }], rules: { http: [{ method: 'GET', path: '/healthz' }] } }] },
      ],
    },
  };
}

/** The baseline's cluster-wide policy: several rules in `specs`, enableDefaultDeny off. */
export function ccnp(): Doc {
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumClusterwideNetworkPolicy',
    metadata: { name: 'hubble-advisor-baseline-kube-apiserver', labels: { 'app.kubernetes.io/managed-by': 'hubble-advisor' } },
    specs: [
      {
        endpointSelector: { matchLabels: { app: 'operator', 'io.kubernetes.pod.namespace': 'ops' } },
        enableDefaultDeny: { ingress: false, egress: false },
        egress: [{ toEntities: ['kube-apiserver'], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] }],
      },
      {
        endpointSelector: { matchExpressions: [{ key: 'io.kubernetes.pod.namespace', operator: 'Exists' }] },
        enableDefaultDeny: { egress: false },
        egressDeny: [{ toEntities: ['world'], toPorts: [{ ports: [{ port: '25', protocol: 'TCP' }] }] }],
      },
    ],
  };
}

export function knp(): Doc {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'frontend', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'hubble-advisor' } },
    spec: {
      podSelector: { matchLabels: { app: 'frontend' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'gateway' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop-db' } }, podSelector: { matchLabels: { app: 'db' } } }],
          ports: [{ protocol: 'TCP', port: 5432 }, { protocol: 'TCP', port: 30000, endPort: 30010 }, { protocol: 'UDP', port: 'dns' }],
        },
        { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ protocol: 'TCP', port: 443 }] },
      ],
      policyTypes: ['Ingress', 'Egress'],
    },
  };
}

export function kustomization(): Doc {
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: 'shop',
    resources: ['shop/frontend.yaml', 'shop/cart.yaml', 'cluster/baseline.yaml'],
    labels: [{ pairs: { 'app.kubernetes.io/managed-by': 'hubble-advisor' } }],
  };
}

type Token = string | number;

/** `spec.egress[0].toPorts` / `metadata.labels["app.kubernetes.io/name"]` -> tokens (the validator's path syntax). */
function tokens(path: string): Token[] {
  return [...path.matchAll(/\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|([^.[\]]+)/g)].map((m) =>
    m[1] !== undefined ? Number(m[1]) : m[2] !== undefined ? (JSON.parse(m[2]) as string) : (m[3] as string),
  );
}

function container(root: unknown, toks: Token[]): Record<string | number, unknown> {
  let cur: unknown = root;
  for (const t of toks) {
    if (typeof cur !== 'object' || cur === null) throw new Error(`no container at ${String(t)}`);
    cur = (cur as Record<string | number, unknown>)[t];
  }
  if (typeof cur !== 'object' || cur === null) throw new Error('path does not lead to a container');
  return cur as Record<string | number, unknown>;
}

/** A deep copy of `doc` with values set (undefined deletes) at validator-style paths. */
export function edited(doc: Doc, changes: Readonly<Record<string, unknown>>): Doc {
  const copy = structuredClone(doc);
  for (const [path, value] of Object.entries(changes)) {
    const toks = tokens(path);
    const last = toks.pop() as Token;
    const parent = container(copy, toks);
    if (value === undefined) delete parent[last];
    else parent[last] = value;
  }
  return copy;
}
