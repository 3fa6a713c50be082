/**
 * How `recommend --out` recognises the files it wrote: the first line is MARKER and every
 * document carries the `app.kubernetes.io/managed-by: hubble-advisor` label. Only such files
 * are ever replaced or removed; a user who deletes the marker line takes the file over.
 */
import { parseAllDocuments } from 'yaml';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'hubble-advisor';
export const MARKER = '# Managed by hubble-advisor (recommend --out): replaced or removed on the next run. Delete this line to keep the file as your own.';

export function isOwnedText(text: string): boolean {
  if (!text.startsWith(`${MARKER}\n`)) return false;
  const docs = parseAllDocuments(text);
  let any = false;
  for (const d of docs) {
    if (d.errors.length > 0) return false;
    if (d.contents === null) continue;
    const value: unknown = d.getIn(['metadata', 'labels', MANAGED_BY_LABEL]);
    if (value !== MANAGED_BY_VALUE) return false;
    any = true;
  }
  return any;
}

export interface DefinedPolicy {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** Kind/namespace/name of every object a (user's) file defines; unreadable documents are skipped. */
export function definedObjects(text: string): DefinedPolicy[] {
  const out: DefinedPolicy[] = [];
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length > 0) continue;
    const kind: unknown = d.get('kind');
    const name: unknown = d.getIn(['metadata', 'name']);
    const namespace: unknown = d.getIn(['metadata', 'namespace']);
    if (typeof kind === 'string' && typeof name === 'string') {
      out.push({ kind, name, ...(typeof namespace === 'string' && { namespace }) });
    }
  }
  return out;
}
