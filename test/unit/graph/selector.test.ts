import { describe, expect, it } from 'vitest';
import { chooseSelector, commonLabels, labelMap } from '../../../src/graph/selector.js';

const pods = (...sets: string[][]): Map<string, string>[] => sets.map(labelMap);

describe('chooseSelector keeps the labels that tell instances apart', () => {
  it("an Envoy Gateway's proxies keep the owning gateway, although no other gateway was seen", () => {
    const common = commonLabels([['app.kubernetes.io/name=envoy', 'gateway.envoyproxy.io/owning-gateway-name=external', 'pod-template-hash=abc']]);
    const r = chooseSelector(common, [pods(['app.kubernetes.io/name=cloudflared'])]);
    expect(r.selector).toEqual({ 'app.kubernetes.io/name': 'envoy', 'gateway.envoyproxy.io/owning-gateway-name': 'external' });
    expect(r.unique).toBe(true);
  });

  it('a chart installed under a release name keeps app.kubernetes.io/instance (immich-server is not any "server")', () => {
    const common = commonLabels([['app.kubernetes.io/name=server', 'app.kubernetes.io/instance=immich']]);
    expect(chooseSelector(common, []).selector).toEqual({ 'app.kubernetes.io/instance': 'immich', 'app.kubernetes.io/name': 'server' });
  });

  it('a CNPG cluster keeps cnpg.io/cluster, never the instance name or role', () => {
    const common = commonLabels([
      ['cnpg.io/cluster=pg', 'cnpg.io/instanceName=pg-1', 'cnpg.io/instanceRole=primary', 'role=primary'],
      ['cnpg.io/cluster=pg', 'cnpg.io/instanceName=pg-2', 'cnpg.io/instanceRole=replica', 'role=replica'],
    ]);
    expect(chooseSelector(common, [pods(['app=other'])]).selector).toEqual({ 'cnpg.io/cluster': 'pg' });
  });
});
