/** toFQDNs / DNS-rule name matching (Cilium pkg/fqdn/matchpattern semantics). */
import { normaliseName } from './peer.js';

export interface FqdnSpec {
  readonly matchName?: string;
  readonly matchPattern?: string;
}

const LABEL_CHARS = '[-a-zA-Z0-9_]';

/** Compiles a matchPattern: `*` alone = everything; `**.` prefix = one or more labels; `*` in a label = `[-a-zA-Z0-9_]*`. */
export function patternRegex(pattern: string): RegExp {
  const p = normaliseName(pattern);
  if (p === '*') return /^.*$/;
  let prefix = '';
  let rest = p;
  if (rest.startsWith('**.')) {
    prefix = `(?:${LABEL_CHARS}+\\.)+`;
    rest = rest.slice(3);
  }
  const body = rest
    .split('')
    .map((c) => (c === '*' ? `${LABEL_CHARS}*` : c.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${prefix}${body}$`);
}

/** One regex for a selector: exact for matchName, pattern semantics for matchPattern. */
export function fqdnRegex(spec: FqdnSpec): RegExp {
  if (spec.matchName !== undefined) return new RegExp(`^${normaliseName(spec.matchName).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  if (spec.matchPattern !== undefined) return patternRegex(spec.matchPattern);
  return /(?!)/;
}

export function fqdnMatches(spec: FqdnSpec, name: string): boolean {
  return fqdnRegex(spec).test(normaliseName(name));
}

/** The selector as Cilium writes it in `fqdn:` identity labels. */
export const fqdnSelectorText = (spec: FqdnSpec): string => normaliseName(spec.matchName ?? spec.matchPattern ?? '');
