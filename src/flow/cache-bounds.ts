import type { Endpoint } from './model.js';

/**
 * Decoders share endpoints seen before (a cluster has few and every flow repeats two of them).
 * Counting entries does not bound such a cache: 40 flows with 9 MB of labels each kept 355 MB
 * alive through it. An endpoint longer than this is decoded every time it comes, never cached:
 * a pod's labels are a few KB.
 */
export const MAX_CACHED_ENDPOINT_CHARS = 64 * 1024;

/** Characters all cached endpoints of one cache may hold before it starts over. */
export const ENDPOINT_CACHE_CHARS = 16 * 1024 * 1024;

/** About how many characters an endpoint holds (its labels, names and owners). */
export function endpointChars(e: Endpoint): number {
  let n = (e.podName?.length ?? 0) + (e.namespace?.length ?? 0) + (e.clusterName?.length ?? 0);
  for (const l of e.labels) n += l.length;
  for (const w of e.workloads) n += w.name.length + w.kind.length;
  return n;
}
