/**
 * User overrides of workload identity, applied at read time (no re-ingest needed). A rule names a
 * label; a workload whose pods all carry it becomes `{kind, name: <label value>}`. Rules are tried
 * in order and win over everything ingest derived (owner references included).
 *
 * ```yaml
 * # --workload-config workloads.yaml
 * workloadRules:
 *   - label: cnpg.io/cluster        # CNPG instances -> Cluster <value> (built in at ingest too)
 *     kind: Cluster
 *   - label: app.kubernetes.io/instance
 *     kind: HelmRelease
 *     namespaces: [media]           # optional: only here
 * ```
 */
export interface WorkloadRule {
  readonly label: string;
  readonly kind: string;
  /** Only workloads of these namespaces; all when absent. */
  readonly namespaces?: readonly string[];
}

export interface WorkloadConfig {
  readonly rules: readonly WorkloadRule[];
}

export const EMPTY_WORKLOAD_CONFIG: WorkloadConfig = { rules: [] };

/** A config that does not have the documented shape; `path` points at the offending field. */
export class WorkloadConfigError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'WorkloadConfigError';
  }
}

const KIND = /^[A-Za-z][A-Za-z0-9]*$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a parsed YAML/JSON document (`unknown` at the boundary, narrowed once here). */
export function parseWorkloadConfig(doc: unknown): WorkloadConfig {
  if (doc === null || doc === undefined) return EMPTY_WORKLOAD_CONFIG;
  if (!isRecord(doc)) throw new WorkloadConfigError('(document)', 'expected a mapping with `workloadRules`');
  for (const k of Object.keys(doc)) {
    if (k !== 'workloadRules') throw new WorkloadConfigError(k, 'unknown field (expected `workloadRules`)');
  }
  const raw = doc['workloadRules'];
  if (raw === undefined || raw === null) return EMPTY_WORKLOAD_CONFIG;
  if (!Array.isArray(raw)) throw new WorkloadConfigError('workloadRules', 'expected a list of rules');
  return { rules: raw.map((r, i) => parseRule(r, `workloadRules[${i}]`)) };
}

function parseRule(r: unknown, path: string): WorkloadRule {
  if (!isRecord(r)) throw new WorkloadConfigError(path, 'expected a mapping with `label` and `kind`');
  for (const k of Object.keys(r)) {
    if (k !== 'label' && k !== 'kind' && k !== 'namespaces') throw new WorkloadConfigError(`${path}.${k}`, 'unknown field (expected label, kind, namespaces)');
  }
  const label = r['label'];
  const kind = r['kind'];
  if (typeof label !== 'string' || !LABEL_KEY.test(label)) throw new WorkloadConfigError(`${path}.label`, 'expected a label key such as cnpg.io/cluster');
  if (typeof kind !== 'string' || !KIND.test(kind)) throw new WorkloadConfigError(`${path}.kind`, 'expected a kind such as Cluster');
  const ns = r['namespaces'];
  if (ns === undefined) return { label, kind };
  if (!Array.isArray(ns) || !ns.every((n) => typeof n === 'string' && n !== '')) {
    throw new WorkloadConfigError(`${path}.namespaces`, 'expected a list of namespace names');
  }
  return { label, kind, namespaces: ns as string[] };
}

/** The first rule that applies to a workload in `namespace` with common labels `labels`. */
export function applyWorkloadRules(
  config: WorkloadConfig,
  namespace: string,
  labels: ReadonlyMap<string, string>,
): { readonly kind: string; readonly name: string } | undefined {
  for (const rule of config.rules) {
    if (rule.namespaces !== undefined && !rule.namespaces.includes(namespace)) continue;
    const v = labels.get(rule.label);
    if (v) return { kind: rule.kind, name: v };
  }
  return undefined;
}
