/** Judging an L7 request against the L7 rules of a proxied port (Cilium/Envoy semantics, simplified). */
import type { HttpRule } from '../model/index.js';
import { fqdnMatches } from './fqdn.js';
import type { L7Spec } from './ports.js';

/** L7 facts of a request, when the flow has them (Hubble L7 records). */
export interface L7Request {
  readonly http?: {
    readonly method?: string;
    /** Path (with query string, as Envoy's `:path`). */
    readonly path?: string;
    readonly host?: string;
    readonly headers?: readonly { readonly key: string; readonly value: string }[];
  };
  readonly dns?: { readonly query: string };
  readonly kafka?: { readonly topic?: string; readonly apiKey?: string; readonly clientID?: string };
}

/** `undefined` = cannot judge (no data of this L7 type, or a custom l7proto). */
export function l7Allows(spec: L7Spec, req: L7Request): boolean | undefined {
  switch (spec.type) {
    case 'http':
      return req.http === undefined ? undefined : spec.rules.some((r) => httpRuleMatches(r, req.http ?? {}));
    case 'dns': {
      const q = req.dns?.query;
      return q === undefined ? undefined : spec.rules.some((r) => fqdnMatches(r, q));
    }
    case 'kafka': {
      const k = req.kafka;
      if (k === undefined) return undefined;
      return spec.rules.some(
        (r) =>
          (r.topic === undefined || r.topic === k.topic) &&
          (r.apiKey === undefined || r.apiKey === k.apiKey) &&
          (r.clientID === undefined || r.clientID === k.clientID),
      );
    }
    case 'l7proto':
      return undefined;
    default: {
      const never: never = spec;
      return never;
    }
  }
}

/** Full-string match of an extended regex; an invalid regex matches nothing. */
function regexMatches(re: string, s: string): boolean {
  try {
    return new RegExp(`^(?:${re})$`).test(s);
  } catch {
    return false;
  }
}

function httpRuleMatches(r: HttpRule, h: NonNullable<L7Request['http']>): boolean {
  if (r.method !== undefined && r.method !== '' && !regexMatches(r.method, h.method ?? '')) return false;
  if (r.path !== undefined && r.path !== '' && !regexMatches(r.path, h.path ?? '')) return false;
  if (r.host !== undefined && r.host !== '' && !regexMatches(r.host, h.host ?? '')) return false;
  return (r.headers ?? []).every((hdr) => {
    const colon = hdr.indexOf(':');
    const name = (colon < 0 ? hdr : hdr.slice(0, colon)).trim().toLowerCase();
    const value = colon < 0 ? undefined : hdr.slice(colon + 1).trim();
    return (h.headers ?? []).some((x) => x.key.toLowerCase() === name && (value === undefined || x.value === value));
  });
}
