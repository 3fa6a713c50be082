import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingShared } from '../helpers/shared-check.js';
import { tempDir } from '../helpers/paths.js';

describe('the ../shared check (vitest globalSetup)', () => {
  it('names each missing part', () => {
    const tmp = tempDir();
    try {
      expect(missingShared(join(tmp.path, 'nope'))).toEqual(['samples/hubble', 'oracle', 'user-docs', 'design']);
      mkdirSync(join(tmp.path, 'samples/hubble'), { recursive: true });
      mkdirSync(join(tmp.path, 'oracle'));
      expect(missingShared(tmp.path)).toEqual(['user-docs', 'design']);
    } finally {
      tmp.remove();
    }
  });

  it('finds the real one', () => {
    expect(missingShared()).toEqual([]);
  });
});
