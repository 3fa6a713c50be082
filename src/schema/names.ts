import { parsePrefix } from '../net/cidr.js';
import type { StringCheck } from './types.js';

/** Name and label formats of k8s.io/apimachinery/pkg/util/validation. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Longest metadata.name we emit: a DNS-1123 label's 63, so names also fit labels and derived names. */
export const MAX_NAME = 63;

export const dns1123Subdomain: StringCheck = (s) => {
  if (s === '') return 'must not be empty';
  if (s.length > 253) return `must be at most 253 characters, is ${s.length}`;
  if (!s.split('.').every((part) => DNS1123_LABEL.test(part))) {
    return `${JSON.stringify(s)} is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)`;
  }
  return undefined;
};

export const dns1123Label: StringCheck = (s) => {
  if (s.length > 63) return `must be at most 63 characters, is ${s.length}`;
  if (!DNS1123_LABEL.test(s)) return `${JSON.stringify(s)} is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit)`;
  return undefined;
};

/** metadata.name of the objects we generate: a DNS-1123 subdomain of at most 63 characters. */
export const objectName: StringCheck = (s) => dns1123Subdomain(s) ?? (s.length > MAX_NAME ? `must be at most ${MAX_NAME} characters, is ${s.length}` : undefined);

/** A label key: `[prefix/]name`, prefix a DNS-1123 subdomain, name a qualified name of at most 63. */
export const labelKey: StringCheck = (s) => {
  const slash = s.lastIndexOf('/');
  const prefix = slash >= 0 ? s.slice(0, slash) : undefined;
  const name = slash >= 0 ? s.slice(slash + 1) : s;
  if (prefix !== undefined) {
    const why = dns1123Subdomain(prefix);
    if (why !== undefined) return `prefix ${why}`;
  }
  if (name === '' || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return 'name part must be 1-63 characters of letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  }
  return undefined;
};

/** Cilium selector keys may carry a source prefix (`k8s:app`, `reserved:host`, `any:team`). */
export const ciliumLabelKey: StringCheck = (s) => {
  const m = /^([a-z0-9-]+):(.*)$/.exec(s);
  return labelKey(m ? (m[2] as string) : s);
};

export const labelValue: StringCheck = (s) => {
  if (s.length > 63) return `must be at most 63 characters, is ${s.length}`;
  if (!LABEL_VALUE.test(s)) return `${JSON.stringify(s)} is not a valid label value (letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`;
  return undefined;
};

/** Kubernetes IsValidPortName: an IANA service name, lowercase, 1-15 characters with a letter. */
export const k8sPortName: StringCheck = (s) => {
  if (s.length === 0 || s.length > 15) return `port name ${JSON.stringify(s)} must be 1-15 characters`;
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) || s.includes('--') || !/[a-z]/.test(s)) {
    return `port name ${JSON.stringify(s)} must be an IANA service name (lowercase letters, digits and single '-', at least one letter); a number must be written as an integer`;
  }
  return undefined;
};

/** Cilium's iana.IsSvcName: 1-15 characters, at least one letter, single '-' between alphanumerics. */
export function isCiliumPortName(s: string): boolean {
  return s.length >= 1 && s.length <= 15 && /^([a-zA-Z0-9]-?)*[a-zA-Z](-?[a-zA-Z0-9])*$/.test(s);
}

/** A decimal port number 0-65535 without leading zeros, or undefined. */
export function portNumber(s: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

/** Cilium `ports[].port`: a number 0-65535 as a string, or a named port. */
export const ciliumPort: StringCheck = (s) => {
  if (s === '') return 'must not be empty';
  if (portNumber(s) !== undefined || isCiliumPortName(s)) return undefined;
  return `${JSON.stringify(s)} is neither a port number 0-65535 nor a port name (1-15 letters, digits and single '-', with a letter)`;
};

/**
 * DNS names for toFQDNs / dns rules. The CRD pattern is `^([-a-zA-Z0-9_]+[.]?)+$` (plus `*` for patterns),
 * i.e. that charset with no leading dot and no empty label; checked without the backtracking regex.
 */
function dnsChars(allowed: RegExp, what: string): StringCheck {
  return (s) => {
    if (s === '') return 'must not be empty';
    if (!allowed.test(s) || s.startsWith('.') || s.includes('..')) {
      return `${JSON.stringify(s)} is not a valid ${what} (letters, digits, '-', '_'${what === 'pattern' ? ", '*'" : ''} and single '.' between labels)`;
    }
    return undefined;
  };
}
export const fqdnName = dnsChars(/^[-a-zA-Z0-9_.]+$/, 'DNS name');
export const fqdnPattern = dnsChars(/^[-a-zA-Z0-9_.*]+$/, 'pattern');

export const cidrCheck: StringCheck = (s) =>
  parsePrefix(s) === undefined ? `${JSON.stringify(s)} is not a valid CIDR (an IPv4 or IPv6 address with a /prefix length)` : undefined;
