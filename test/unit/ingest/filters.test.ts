import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { type FilterFlags, NO_FILTERS, buildWhitelist } from '../../../src/ingest/index.js';

const f = (flags: Partial<FilterFlags>): FilterFlags => ({ ...NO_FILTERS, ...flags });

describe('buildWhitelist (hubble observe flag mapping)', () => {
  it.each([
    ['no flags', {}, []],
    // hubble's documented example: -n kube-system → source_pod OR destination_pod
    ['-n kube-system', { namespace: ['kube-system'] }, [{ source_pod: ['kube-system/'] }, { destination_pod: ['kube-system/'] }]],
    ['--from-namespace a', { fromNamespace: ['a'] }, [{ source_pod: ['a/'] }]],
    ['--to-namespace b (repeated)', { toNamespace: ['b', 'c'] }, [{ destination_pod: ['b/', 'c/'] }]],
    ['--from-namespace a --to-namespace b', { fromNamespace: ['a'], toNamespace: ['b'] }, [{ destination_pod: ['b/'], source_pod: ['a/'] }]],
    ['--verdict DROPPED --verdict audit', { verdict: ['DROPPED', 'audit'] }, [{ verdict: ['DROPPED', 'AUDIT'] }]],
    ['-l app=web', { label: ['app=web'] }, [{ source_label: ['app=web'] }, { destination_label: ['app=web'] }]],
    ['--from-label x --to-label y', { fromLabel: ['x'], toLabel: ['y'] }, [{ source_label: ['x'], destination_label: ['y'] }]],
    [
      '-n shop --verdict DROPPED',
      { namespace: ['shop'], verdict: ['DROPPED'] },
      [
        { verdict: ['DROPPED'], source_pod: ['shop/'] },
        { verdict: ['DROPPED'], destination_pod: ['shop/'] },
      ],
    ],
  ] as const)('%s', (_name, flags, expected) => {
    expect(buildWhitelist(f(flags as Partial<FilterFlags>))).toEqual(expected);
  });

  it.each([
    [{ namespace: ['a'], fromNamespace: ['b'] }, 'filters --namespace and --from-namespace cannot be combined'],
    [{ namespace: ['a'], toNamespace: ['b'] }, 'filters --namespace and --to-namespace cannot be combined'],
    [{ label: ['a'], fromLabel: ['b'] }, 'filters --label and --from-label cannot be combined'],
    [{ label: ['a'], toLabel: ['b'] }, 'filters --label and --to-label cannot be combined'],
    [{ verdict: ['ALLOWED'] }, 'invalid --verdict "ALLOWED"'],
    [{ namespace: ['a/b'] }, 'invalid namespace "a/b"'],
    [{ toNamespace: [''] }, '--to-namespace must not be empty'],
  ] as const)('rejects %j', (flags, message) => {
    expect(() => buildWhitelist(f(flags as Partial<FilterFlags>))).toThrow(UsageError);
    expect(() => buildWhitelist(f(flags as Partial<FilterFlags>))).toThrow(message);
  });
});
