import { expect } from 'vitest';
import { parsePolicies, parsePoliciesByYamlPackage } from '../../src/policy/index.js';

/** The result, or the message of the limit a refused file throws: the two readings must agree on either. */
function outcome(read: () => unknown): unknown {
  try {
    return read();
  } catch (e) {
    return `throws ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** `parsePolicies` (with its js-yaml and block-reader fast paths) reads `text` as the `yaml` package alone does. */
export function expectSameReading(text: string): void {
  const options = { file: 'p.yaml' };
  expect(outcome(() => parsePolicies(text, options))).toEqual(outcome(() => parsePoliciesByYamlPackage(text, options)));
}
