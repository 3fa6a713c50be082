import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent, type Endpoint } from '../../src/flow/index.js';

/**
 * The decoder shares one frozen Endpoint between flows whose raw endpoints are equal. Endpoints
 * drawn from a small pool (so near-misses collide: same identity and pod, other labels; ID as a
 * string; empty namespace; camelCase spellings) must each decode to exactly what their own fields say.
 */
const rawEndpoint = fc.record(
  {
    identity: fc.constantFrom(1000, 1000, 2001, 2),
    ID: fc.constantFrom(5, 7, '5'),
    namespace: fc.constantFrom('dbms', 'web', ''),
    labels: fc.constantFrom(['k8s:app=a', 'k8s:io.kubernetes.pod.namespace=dbms'], ['k8s:app=b', 'k8s:io.kubernetes.pod.namespace=dbms'], ['k8s:app=a'], []),
    pod_name: fc.constantFrom('a-7d9c9b7c4d-x2x9z', 'a-7d9c9b7c4d-zzzzz', ''),
    podName: fc.constantFrom('a-0', 'b-0'),
    cluster_name: fc.constantFrom('home', ''),
    workloads: fc.constantFrom([{ name: 'a', kind: 'Deployment' }], [{ name: 'a', kind: 'StatefulSet' }], [{ name: 'a' }], []),
  },
  { requiredKeys: ['identity'] },
);

function expected(raw: Record<string, unknown>): Endpoint {
  const id = raw['ID'];
  const pod = (raw['pod_name'] ?? raw['podName']) as string | undefined;
  return {
    id: typeof id === 'string' ? Number(id) : (id as number | undefined),
    identity: raw['identity'] as number,
    clusterName: raw['cluster_name'] as string | undefined,
    namespace: (raw['namespace'] as string | undefined) || undefined,
    labels: (raw['labels'] as string[] | undefined) ?? [],
    podName: pod || undefined,
    workloads: ((raw['workloads'] as { name: string; kind?: string }[] | undefined) ?? []).map((w) => ({ name: w.name, kind: w.kind ?? '' })),
  };
}

describe('shared endpoint decoding', () => {
  it('every endpoint decodes to its own fields, however many similar ones came before', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(rawEndpoint, rawEndpoint), { minLength: 1, maxLength: 40 }), (pairs) => {
        for (const [source, destination] of pairs) {
          const r = decodeEvent({ flow: { time: '2026-11-10T00:00:15.946688897Z', verdict: 'FORWARDED', source: structuredClone(source), destination: structuredClone(destination) } });
          if (!r.ok || r.event.kind !== 'flow') throw new Error(JSON.stringify(r));
          expect(r.event.flow.source).toEqual(expected(source));
          expect(r.event.flow.destination).toEqual(expected(destination));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('equal endpoints decode to one frozen object', () => {
    const ep = { identity: 4242, namespace: 'dbms', labels: ['k8s:app=x'], pod_name: 'x-0' };
    const a = decodeEvent({ flow: { time: '2026-11-10T00:00:15Z', source: { ...ep }, destination: { ...ep, labels: ['k8s:app=x'] } } });
    if (!a.ok || a.event.kind !== 'flow') throw new Error('decode failed');
    expect(a.event.flow.source).toBe(a.event.flow.destination);
    expect(Object.isFrozen(a.event.flow.source)).toBe(true);
  });
});
