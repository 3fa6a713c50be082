import type { Lint, ObservedEdge, WorkloadInfo } from './model.js';

/**
 * Checks from real incidents, run on recommended and on loaded policies alike. They read plain
 * documents (as parsed from YAML), so they need no policy model.
 */

type Doc = Readonly<Record<string, unknown>>;

const TLS_PASSTHROUGH_PORTS = new Set(['443', '6443', '8443', '9443']);

export interface LintContext {
  /** Observed edges, to spot pods that resolve DNS over UDP and HTTP ports that carry TLS. */
  readonly edges: readonly ObservedEdge[];
  readonly workloads: readonly WorkloadInfo[];
  /** Namespace of the CloudNativePG operator. */
  readonly cnpgOperatorNamespace: string;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function asRecord(v: unknown): Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Doc) : {};
}

function rulesOf(doc: Doc): { spec: Doc; path: string }[] {
  const out: { spec: Doc; path: string }[] = [];
  if (doc['spec'] !== undefined) out.push({ spec: asRecord(doc['spec']), path: 'spec' });
  asArray(doc['specs']).forEach((s, i) => out.push({ spec: asRecord(s), path: `specs[${i}]` }));
  return out;
}

function nameOf(doc: Doc): { name: string; namespace?: string } {
  const md = asRecord(doc['metadata']);
  const ns = typeof md['namespace'] === 'string' ? (md['namespace'] as string) : undefined;
  return { name: String(md['name'] ?? '(unnamed)'), ...(ns ? { namespace: ns } : {}) };
}

export function lintPolicies(docs: readonly Doc[], ctx: LintContext): Lint[] {
  const lints: Lint[] = [];
  for (const doc of docs) {
    const kind = doc['kind'];
    const id = nameOf(doc);
    const push = (rule: string, message: string): void => {
      lints.push({ policy: id.name, ...(id.namespace ? { namespace: id.namespace } : {}), rule, message });
    };
    if (kind === 'CiliumNetworkPolicy' || kind === 'CiliumClusterwideNetworkPolicy') {
      for (const { spec, path } of rulesOf(doc)) {
        asArray(spec['ingressDeny']).forEach((r, i) => {
          if (asArray(asRecord(r)['fromEntities']).includes('cluster')) {
            push('cluster-entity-ingress-deny', `${path}.ingressDeny[${i}] denies entity "cluster", which includes the host: kubelet probes will fail and pods restart`);
          }
        });
        for (const dir of ['ingress', 'egress'] as const) {
          asArray(spec[dir]).forEach((r, i) => {
            const rule = asRecord(r);
            asArray(rule['toPorts']).forEach((tp, j) => {
              const entry = asRecord(tp);
              if (asArray(asRecord(entry['rules'])['http']).length === 0) return;
              const tlsPorts = asArray(entry['ports']).map((p) => String(asRecord(p)['port'] ?? '')).filter((p) => TLS_PASSTHROUGH_PORTS.has(p));
              if (tlsPorts.length > 0 && entry['terminatingTLS'] === undefined) {
                push('l7-http-on-tls', `${path}.${dir}[${i}].toPorts[${j}] puts HTTP rules on TLS port ${tlsPorts.join(',')} without terminatingTLS: the proxy cannot read TLS passthrough traffic and every request is denied`);
              }
            });
            if (dir === 'egress') {
              const cidrs = asArray(rule['toCIDR']).concat(asArray(rule['toCIDRSet']).map((c) => asRecord(c)['cidr']));
              for (const c of cidrs) {
                if (typeof c === 'string' && apiserverLikeCidr(c, rule)) {
                  push('kube-apiserver-by-cidr', `${path}.egress[${i}] reaches the API server port by CIDR ${c}: Cilium gives kube-apiserver traffic the kube-apiserver identity, so CIDR rules do not match it; use toEntities: [kube-apiserver]`);
                }
              }
            }
          });
        }
      }
    }
    if (kind === 'NetworkPolicy') {
      const spec = asRecord(doc['spec']);
      asArray(spec['egress']).forEach((r, i) => {
        const rule = asRecord(r);
        const ports = asArray(rule['ports']).map((p) => String(asRecord(p)['port']));
        const blocks = asArray(rule['to']).map((t) => String(asRecord(asRecord(t)['ipBlock'])['cidr'] ?? '')).filter(Boolean);
        if (blocks.some((c) => ports.includes('6443') || (ports.includes('443') && PRIVATE_V4.test(c)))) {
          push('kube-apiserver-by-cidr', `spec.egress[${i}] reaches 443/6443 by ipBlock: on Cilium the kube-apiserver is an entity, ipBlock rules do not match it`);
        }
      });
    }
  }
  lints.push(...lintObservedWorkloads(docs, ctx));
  return lints;
}

/**
 * The peers that ingress rules allowing TCP `port` admit, from CiliumNetworkPolicies
 * (`fromEndpoints` + `toPorts`) and NetworkPolicies (`from` + `ports`) alike: pod labels and, when
 * the rule names one, the peer namespace (`undefined`: the policy's own). `{}` for any-peer rules.
 */
function ingressSourcesOnPort(docs: readonly Doc[], port: string): { labels: Readonly<Record<string, unknown>>; namespace?: string; anyPeer?: boolean }[] {
  const out: { labels: Readonly<Record<string, unknown>>; namespace?: string; anyPeer?: boolean }[] = [];
  for (const doc of docs) {
    if (doc['kind'] === 'NetworkPolicy') {
      for (const r of asArray(asRecord(doc['spec'])['ingress'])) {
        const rule = asRecord(r);
        const ports = asArray(rule['ports']).map((p) => String(asRecord(p)['port'] ?? ''));
        if (ports.length > 0 && !ports.includes(port) && !ports.includes('')) continue;
        const from = asArray(rule['from']);
        if (from.length === 0) out.push({ labels: {}, anyPeer: true });
        for (const f of from) {
          const peer = asRecord(f);
          if (peer['ipBlock'] !== undefined) continue;
          const ns = asRecord(asRecord(peer['namespaceSelector'])['matchLabels'])['kubernetes.io/metadata.name'];
          const labels = asRecord(asRecord(peer['podSelector'])['matchLabels']);
          out.push({ labels, ...(typeof ns === 'string' ? { namespace: ns } : {}) });
        }
      }
      continue;
    }
    for (const { spec } of rulesOf(doc)) {
      for (const r of asArray(spec['ingress'])) {
        const rule = asRecord(r);
        const ports = asArray(rule['toPorts']).flatMap((tp) => asArray(asRecord(tp)['ports']).map((p) => String(asRecord(p)['port'])));
        if (ports.length > 0 && !ports.includes(port)) continue;
        const from = asArray(rule['fromEndpoints']);
        // A rule without peers is a wildcard only when it has toPorts; `- {}` (the default-deny
        // placeholder) admits nothing.
        if (ports.length > 0 && !CNP_INGRESS_PEERS.some((f) => rule[f] !== undefined)) out.push({ labels: {}, anyPeer: true });
        for (const sel of from) {
          const labels = asRecord(asRecord(sel)['matchLabels']);
          const ns = labels['k8s:io.kubernetes.pod.namespace'];
          out.push({ labels, ...(typeof ns === 'string' ? { namespace: ns } : {}) });
        }
      }
    }
  }
  return out;
}

const CNP_INGRESS_PEERS = ['fromEndpoints', 'fromEntities', 'fromCIDR', 'fromCIDRSet', 'fromNodes', 'fromGroups'];

const PRIVATE_V4 = /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/;

/**
 * A CIDR rule that looks aimed at the API server: port 6443, or 443 to a private (in-cluster or
 * control-plane) address. Public 443 is ordinary HTTPS egress and is not flagged.
 */
function apiserverLikeCidr(cidr: string, rule: Doc): boolean {
  const ports = asArray(rule['toPorts']).flatMap((tp) => asArray(asRecord(tp)['ports']).map((p) => String(asRecord(p)['port'])));
  return ports.includes('6443') || (ports.includes('443') && PRIVATE_V4.test(cidr));
}

interface IngressSubject {
  /** The selector's match labels, `k8s:` taken off the keys. */
  readonly labels: readonly (readonly [string, unknown])[];
  /** Whether the policy has ingress (or ingressDeny) rules, and so enforces ingress on what it selects. */
  readonly enforces: boolean;
}

/** A policy's subject, as the workloads of its namespace are matched against it. */
function ingressSubjectOf(doc: Doc): IngressSubject {
  const spec = asRecord(doc['spec']);
  const sel = asRecord(asRecord(spec['endpointSelector'] ?? spec['podSelector'])['matchLabels']);
  return {
    labels: Object.entries(sel).map(([k, v]) => [k.replace(/^k8s:/, ''), v] as const),
    enforces: spec['ingress'] !== undefined || spec['ingressDeny'] !== undefined,
  };
}

/** Lints that need traffic: DNS over UDP under ingress enforcement, CNPG instance-manager port. */
function lintObservedWorkloads(docs: readonly Doc[], ctx: LintContext): Lint[] {
  const lints: Lint[] = [];
  /** Every policy of the workload's namespace that selects it and enforces ingress: their allows add up. */
  // By namespace, in document order: thousands of workloads each look only at their namespace's policies.
  const byNamespace = new Map<string, Doc[]>();
  // Each policy's subject read once: every workload of a namespace is matched against each of its
  // policies (2,800 policies at 3,000 workloads, ~25 to a namespace).
  const subjects = new Map<Doc, IngressSubject>();
  const ingressSubject = (doc: Doc): IngressSubject => {
    let subject = subjects.get(doc);
    if (subject === undefined) subjects.set(doc, (subject = ingressSubjectOf(doc)));
    return subject;
  };
  for (const doc of docs) {
    if (doc['kind'] !== 'CiliumNetworkPolicy' && doc['kind'] !== 'NetworkPolicy') continue;
    const ns = nameOf(doc).namespace;
    if (ns === undefined) continue;
    const list = byNamespace.get(ns);
    if (list === undefined) byNamespace.set(ns, [doc]);
    else list.push(doc);
  }
  const enforcingIngress = (w: WorkloadInfo): Doc[] =>
    (byNamespace.get(w.namespace) ?? []).filter((doc) => {
      const { labels, enforces } = ingressSubject(doc);
      return enforces && labels.every(([k, v]) => w.selector[k] === v || w.labels?.[k] === v);
    });
  /** The policy to name in a finding: the most specific one (most selector labels) of those that enforce. */
  const enforcedIngress = (w: WorkloadInfo): string | undefined => {
    const best = [...enforcingIngress(w)].sort((a, b) => ingressSubject(b).labels.length - ingressSubject(a).labels.length)[0];
    return best ? nameOf(best).name : undefined;
  };
  const udpDnsClients = new Set<string>();
  for (const e of ctx.edges) if (e.from.kind === 'workload' && e.protocol === 'UDP' && e.port === 53) udpDnsClients.add(JSON.stringify([e.from.namespace, e.from.name]));
  for (const w of ctx.workloads) {
    const policy = enforcedIngress(w);
    if (!policy) continue;
    if (udpDnsClients.has(JSON.stringify([w.namespace, w.name]))) {
      lints.push({
        policy,
        namespace: w.namespace,
        rule: 'udp-dns-under-ingress-enforcement',
        message: `${w.namespace}/${w.name} resolves DNS over UDP and gets ingress enforcement: if its DNS answers arrive before conntrack knows the lookup (startup, DNS proxy restart), they are dropped; watch for drops from kube-dns after rollout`,
      });
    }
  }
  for (const w of ctx.workloads.filter((x) => x.kind === 'Cluster' || x.selector['cnpg.io/cluster'] !== undefined)) {
    const policy = enforcedIngress(w);
    if (!policy) continue;
    const sources = ingressSourcesOnPort(enforcingIngress(w), '8000');
    const fromOperator = sources.some((src) => src.anyPeer === true || src.namespace === ctx.cnpgOperatorNamespace);
    const fromPeers = sources.some(
      (src) => src.anyPeer === true || ((src.labels['cnpg.io/cluster'] ?? src.labels['k8s:cnpg.io/cluster']) === w.selector['cnpg.io/cluster'] && (src.namespace === undefined || src.namespace === w.namespace)),
    );
    if (!fromOperator || !fromPeers) {
      const missing = [!fromOperator ? `the operator (${ctx.cnpgOperatorNamespace})` : '', !fromPeers ? 'the other instances' : ''].filter(Boolean).join(' and ');
      lints.push({
        policy,
        namespace: w.namespace,
        rule: 'cnpg-instance-manager',
        message: `CNPG cluster ${w.namespace}/${w.name}: ingress on 8000 (instance manager) is not allowed from ${missing}: status checks, switchover and failover need it`,
      });
    }
  }
  return lints;
}
