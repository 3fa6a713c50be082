import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEvent, type Flow } from '../../../src/flow/index.js';
import { groupDrops } from '../../../src/triage/index.js';
import { SAMPLES_DIR } from '../../helpers/paths.js';
import { drop, podEp } from './triage-helpers.js';

describe('groupDrops', () => {
  it('retransmitted SYNs of one 5-tuple are one attempt; a new source port is another; flows keep the raw count', () => {
    const t = 1_700_000_000_000;
    const flows = [
      drop({ timeMs: t, eventType: { type: 5, subType: 0 } }),
      drop({ timeMs: t }),
      drop({ timeMs: t + 1000 }),
      drop({ timeMs: t + 3000 }),
      drop({ timeMs: t + 60_000, sport: 40001 }),
      drop({ timeMs: t + 60_000 + 30_000, sport: 40001 }),
    ];
    const [g, ...rest] = groupDrops(flows);
    expect(rest).toEqual([]);
    expect(g).toMatchObject({ attempts: 3, flows: 6, protocol: 'TCP', port: 80, reason: 'POLICY_DENIED', kind: 'default-deny' });
    expect(g?.from).toEqual({ kind: 'workload', namespace: 'ns', workloadKind: 'Deployment', name: 'client' });
    // The policy-verdict event is the one explained.
    expect(g?.sample.eventType?.type).toBe(5);
  });

  it('groups by edge and reason, newest first; replies and forwarded flows are left out; -n filters either end', () => {
    const t = 1_700_000_000_000;
    const other = { ...drop({ timeMs: t + 5000, dropReason: 'CT_MAP_INSERTION_FAILED', dropReasonCode: 155 }) };
    const flows: Flow[] = [
      drop({ timeMs: t }),
      other,
      drop({ timeMs: t + 9000, dport: 443, source: podEp('other', 'x') }),
      drop({ timeMs: t + 9500, isReply: true }),
      { ...drop({ timeMs: t + 9600 }), verdict: 'FORWARDED' },
    ];
    const groups = groupDrops(flows);
    expect(groups.map((g) => `${g.port} ${g.reason}`)).toEqual(['443 POLICY_DENIED', '80 CT_MAP_INSERTION_FAILED', '80 POLICY_DENIED']);
    expect(groups[1]?.kind).toBe('other');
    expect(groupDrops(flows, { namespaces: ['other'] }).map((g) => g.port)).toEqual([443]);
  });

  it('keeps Hubble *_denied_by, and names a world IP by the DNS names Hubble gave it', () => {
    const f = drop({
      dropReason: 'POLICY_DENY',
      trafficDirection: 'EGRESS',
      destination: { identity: 2, labels: ['reserved:world'], workloads: [] },
      ip: { source: '10.0.1.1', destination: '93.184.216.34' },
      destinationNames: ['Example.com.'],
      egressDeniedBy: [{ name: 'no-web', namespace: 'ns', kind: 'CiliumNetworkPolicy', labels: [] }],
    });
    const [g] = groupDrops([f]);
    expect(g).toMatchObject({ kind: 'explicit-deny', to: { kind: 'fqdn', fqdn: 'example.com' }, deniedBy: ['CiliumNetworkPolicy ns/no-web'] });
  });

  it('the public stranger-to-shop sample (observer, read in place): one 133 drop at the shop ingress', () => {
    const text = readFileSync(join(SAMPLES_DIR, 'ephico2real2-cilium-poc__26-flow-stranger-to-shop.observer.json'), 'utf8');
    const ev = decodeEvent(JSON.parse(text) as unknown);
    if (!ev.ok || ev.event.kind !== 'flow') throw new Error('sample did not decode');
    const [g] = groupDrops([ev.event.flow]);
    expect(g).toMatchObject({ kind: 'default-deny', protocol: 'TCP', port: 80, attempts: 1, directions: ['INGRESS'] });
    expect(g?.from).toMatchObject({ kind: 'workload', namespace: 'cf2cnp-lab', name: 'stranger' });
  });
});
