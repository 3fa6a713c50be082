/**
 * Explains drop groups against the loaded policies: who dropped it (Hubble's `*_denied_by` when
 * the flow has it, else the evaluator), on which side, whether a policy change can fix it at all,
 * and the smallest patches that would let it through.
 */
import type { Flow } from '../flow/index.js';
import { describePeer, type ClusterIps, type WorkloadInfo } from '../graph/index.js';
import {
  buildPolicySet,
  evaluate,
  policyLabel,
  requestFromFlow,
  type Direction,
  type EvaluateOptions,
  type EvaluationRequest,
  type Policy,
  type PolicyRef,
  type PolicySet,
  type SideDecision,
  type SideVerdict,
} from '../policy/index.js';
import { composeStandalone } from './compose.js';
import { asClusterRequest, fixSide, sidePasses, type PolicyPatch } from './fix.js';
import { portRangesText } from '../net/ports.js';
import type { DropGroup } from './group.js';

export type TriageVerdict =
  /** Default deny (133): no allow rule on that side. */
  | 'default-deny'
  /** Explicit deny (181): a deny rule matched; no allow can override it. */
  | 'explicit-deny'
  /** Refused by the L7 proxy (HTTP 403, DNS REFUSED). */
  | 'l7-denied'
  /** Another drop reason: no policy change fixes it. */
  | 'not-policy'
  /** A policy drop the loaded policies would now allow (they changed since, or are not the ones that dropped it). */
  | 'now-allowed'
  /** A policy drop the evaluator cannot judge (no L4 protocol policies speak). */
  | 'not-evaluable';

export interface SideExplanation {
  readonly direction: Direction;
  readonly verdict: SideVerdict;
  readonly reason: string;
  /** Policies selecting that endpoint for that direction (`Kind ns/name`). */
  readonly selectedBy: readonly string[];
  /** Responsible rules (`Kind ns/name path`): the deny rules, or the L7 rules that refused it. */
  readonly rules: readonly string[];
}

export interface DropExplanation {
  readonly verdict: TriageVerdict;
  readonly policyDrop: boolean;
  /** One line for people. */
  readonly summary: string;
  /** The responsible policies (`Kind ns/name`). */
  readonly policies: readonly string[];
  /** `hubble` when they come from the flow's `*_denied_by`, `evaluator` otherwise. */
  readonly policiesFrom: 'hubble' | 'evaluator' | 'none';
  /** The sides that block the request under the loaded policies (both when both deny). */
  readonly sides: readonly SideExplanation[];
  readonly patches: readonly PolicyPatch[];
  /** Whether the evaluator allows the request once every patch is applied. */
  readonly allowedAfterPatches?: boolean;
  readonly notes: readonly string[];
}

export interface TriagedDrop {
  readonly group: DropGroup;
  readonly explanation: DropExplanation;
}

export interface TriageOptions {
  /** Evaluator settings; `clusterName` defaults to the cluster Hubble reports for the dropping endpoint. */
  readonly evaluate?: EvaluateOptions;
  /** Workloads of the edge graph: their stable selectors go into suggested rules. */
  readonly workloads?: readonly WorkloadInfo[];
  /** Extra DNS names for a destination IP (answers stored by ingest), for toFQDNs rules. */
  readonly namesForIp?: (ip: string) => readonly string[];
  /** Which world-labelled addresses are cluster endpoints: fixes name them by identity, never by CIDR. */
  readonly clusterIps?: ClusterIps;
}

/** Each drop explained on the loaded policies; the drops' standalone patches apply in any order (compose.ts). */
export function triageDrops(groups: readonly DropGroup[], policies: readonly Policy[], options: TriageOptions = {}): TriagedDrop[] {
  const set = buildPolicySet(policies);
  return composeStandalone(
    groups.map((group) => ({ group, explanation: explainGroup(group, policies, set, options) })),
    policies,
  );
}

export function explainGroup(group: DropGroup, policies: readonly Policy[], set: PolicySet, options: TriageOptions = {}): DropExplanation {
  if (group.ports === undefined || group.kind === 'other') return explainSample(group, policies, set, options, true);
  // A fix per port would open every port of a scan; one range would open ports nothing answered on.
  const x = explainSample(group, policies, set, options, false);
  const l4 = group.sample.l4;
  const judged = l4 !== undefined && 'destinationPort' in l4 ? ` (judged on one of them, port ${l4.destinationPort})` : '';
  return {
    ...x,
    summary: `on ${group.ports.count} ports${judged}, no patch suggested: ${x.summary}`,
    notes: [
      `dropped on ${group.ports.count} ports between the same peers (${portRangesText(group.ports.ranges)}): a port scan, or an app on dynamic ports; ` +
        'no patch is suggested, since one would open all of them: allow the ports the app needs by hand',
      ...x.notes,
    ],
  };
}

/** The group judged on its sample flow; with `withFixes`, the patches that would let it through. */
function explainSample(group: DropGroup, policies: readonly Policy[], set: PolicySet, options: TriageOptions, withFixes: boolean): DropExplanation {
  const hubble = group.deniedBy;
  const fromHubble = hubble.length > 0 ? { policies: hubble, policiesFrom: 'hubble' as const } : undefined;
  if (group.kind === 'other') {
    return {
      verdict: 'not-policy',
      policyDrop: false,
      summary: `not a policy drop: ${group.reason}: no policy change fixes it`,
      policies: [],
      policiesFrom: 'none',
      sides: [],
      patches: [],
      notes: [],
    };
  }
  const flow = group.sample;
  const ip = flow.ip?.destination;
  const extraNames = ip !== undefined && options.namesForIp ? options.namesForIp(ip) : [];
  const request = requestFromFlow(flow, { destinationNames: extraNames });
  if (request === undefined) {
    return { verdict: 'not-evaluable', policyDrop: true, summary: `${group.reason}: the flow has no L4 protocol that policies speak`, policies: [], policiesFrom: 'none', sides: [], patches: [], notes: [], ...fromHubble };
  }
  const evalOptions = { ...options.evaluate, clusterName: options.evaluate?.clusterName ?? clusterOf(flow) };
  const decision = evaluate(set, request, evalOptions);
  if (decision.allowed) {
    return {
      verdict: 'now-allowed',
      policyDrop: true,
      summary: `${group.reason}: the loaded policies allow this request now (they changed since the drop, or the policies that dropped it were not loaded)`,
      policies: [],
      policiesFrom: 'none',
      sides: [],
      patches: [],
      notes: [],
      ...fromHubble,
    };
  }
  const blocking = [decision.egress, decision.ingress].filter((s) => !sidePasses(s));
  const ctx = { flow, request, options: evalOptions, workloads: options.workloads ?? [], ...(options.clusterIps && { clusterIps: options.clusterIps }) };
  let current = policies;
  const patches: PolicyPatch[] = [];
  const notes: string[] = [];
  for (const side of withFixes ? blocking : []) {
    // Re-judge the side on the policies patched so far (a shared policy may already let it through).
    const now = evaluate(buildPolicySet(current), request, evalOptions)[side.direction];
    const r = fixSide(ctx, current, now);
    patches.push(...r.patches);
    notes.push(...r.notes);
    current = r.policies;
  }
  const verdict: TriageVerdict = blocking.some((s) => s.verdict === 'explicit-deny')
    ? 'explicit-deny'
    : blocking.some((s) => s.verdict === 'default-deny')
      ? 'default-deny'
      : 'l7-denied';
  const hubbleVerdict = group.kind === 'l7' ? 'l7-denied' : group.kind;
  if (hubbleVerdict !== verdict) notes.push(`Hubble reported ${group.reason}, the loaded policies predict ${verdict}: they may differ from what the cluster ran`);
  const evaluator = [...new Set(blocking.flatMap((s) => responsible(s, set, request, evalOptions)))].sort();
  if (fromHubble && evaluator.length > 0 && !hubble.every((h) => evaluator.includes(h))) {
    notes.push(`Hubble names ${hubble.join(', ')}; the loaded policies blame ${evaluator.join(', ')}`);
  }
  return {
    verdict,
    policyDrop: true,
    summary: blocking.map((s) => sideSummary(group, s)).join('; '),
    policies: fromHubble ? hubble : evaluator,
    policiesFrom: fromHubble ? 'hubble' : evaluator.length > 0 ? 'evaluator' : 'none',
    sides: blocking.map(sideExplanation),
    patches,
    allowedAfterPatches: patches.length > 0 && allowedAfter(buildPolicySet(current), ctx, evalOptions),
    notes,
  };
}

/** Whether the patched policies let the request through, each side judged for the peer identity the patch names. */
function allowedAfter(set: PolicySet, ctx: Parameters<typeof asClusterRequest>[0], options: EvaluateOptions): boolean {
  const d = evaluate(set, ctx.request, options);
  if (d.allowed) return true;
  const egress = asClusterRequest(ctx, 'egress');
  const ingress = asClusterRequest(ctx, 'ingress');
  if (egress === undefined && ingress === undefined) return false;
  const e = sidePasses(d.egress) || (egress !== undefined && sidePasses(evaluate(set, egress, options).egress));
  const i = sidePasses(d.ingress) || (ingress !== undefined && sidePasses(evaluate(set, ingress, options).ingress));
  return e && i;
}

/** Explicit deny and L7: the matching rules' policies; default deny: the policies that put that side into default deny. */
function responsible(s: SideDecision, set: PolicySet, request: EvaluationRequest, options: EvaluateOptions): string[] {
  if (s.verdict === 'default-deny') return defaultDenyPolicies(s, set, request, options).map(policyLabel);
  return s.rules.map(policyLabel);
}

/**
 * Of the policies selecting the side, those with a selecting rule that is default deny for that
 * direction (a policy with `enableDefaultDeny: false` selects but does not deny). Each compiled
 * rule is judged alone, so only rules whose subject selects the endpoint count.
 */
export function defaultDenyPolicies(s: SideDecision, set: PolicySet, request: EvaluationRequest, options: EvaluateOptions): PolicyRef[] {
  const dir = s.direction;
  const out = s.selectedBy.filter((ref) =>
    set.rules.some(
      (r) =>
        policyLabel(r.policy) === policyLabel(ref) &&
        r[dir].defaultDeny &&
        evaluate({ rules: [r], notes: [] }, request, options)[dir].selectedBy.length > 0,
    ),
  );
  return out.length > 0 ? out : [...s.selectedBy];
}

function sideSummary(group: DropGroup, s: SideDecision): string {
  const who = s.direction === 'egress' ? describePeer(group.from) : describePeer(group.to);
  const tail = s.verdict === 'explicit-deny' ? '; an allow rule cannot override a deny' : '';
  return `${s.direction} of ${who}: ${s.reason}${tail}`;
}

const sideExplanation = (s: SideDecision): SideExplanation => ({
  direction: s.direction,
  verdict: s.verdict,
  reason: s.reason,
  selectedBy: s.selectedBy.map(policyLabel),
  rules: s.rules.map((r) => `${policyLabel(r)} ${r.path}`),
});

/** The local cluster: the dropping endpoint's cluster as Hubble names it (egress: source, ingress: destination). */
function clusterOf(flow: Flow): string | undefined {
  const ep = flow.trafficDirection === 'EGRESS' ? flow.source : flow.destination;
  return ep.clusterName || flow.source.clusterName || flow.destination.clusterName || undefined;
}
