import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DIGITS, PLAIN_PATH, PLAIN_WORD, plainIsUnambiguous } from '../../src/report/yaml-safe.js';

/**
 * `plainIsUnambiguous` answers names matching PLAIN_WORD without parsing them. Every such string
 * must read back as itself, plain, in YAML 1.1 and 1.2; words near the booleans, nulls, numbers
 * and timestamps both schemas know are drawn on purpose.
 */
const tricky = ['true', 'false', 'yes', 'no', 'on', 'off', 'null', 'nan', 'inf', 'infinity', 'NaN', 'e10', 'E5', 'x1F', 'b101', 'o17', '0x', '0b', '0o', '2026-12-07', 't10', 'y', 'n', '~', 'Yes', 'NULL', 'Off', 'TRUE'];
const part = fc.oneof(fc.constantFrom(...tricky, ':', ': ', '-', '.'), fc.stringMatching(/^[A-Za-z0-9_./:-]{0,6}$/));
const candidate = fc.oneof(
  fc.constantFrom(...tricky),
  fc.array(part, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('')),
  fc.tuple(fc.stringMatching(/^[A-Za-z]$/), fc.array(part, { maxLength: 4 })).map(([first, rest]) => first + rest.join('')),
);

describe('PLAIN_WORD', () => {
  it('holds only strings that YAML 1.1 and 1.2 both read plain as themselves', () => {
    fc.assert(
      fc.property(candidate, (s) => {
        if (!PLAIN_WORD.test(s)) return;
        expect(parse(`k: ${s}`, { version: '1.1' })).toEqual({ k: s });
        expect(parse(`k: ${s}`, { version: '1.2' })).toEqual({ k: s });
        expect(plainIsUnambiguous(s)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  // Addresses and label keys: a slash, no colon; ports: digits.
  const pathLike = fc.oneof(
    fc.array(fc.oneof(part, fc.constantFrom('/', '/32', '10.0.0.1/32', 'app.kubernetes.io/name', '1/2', '2026/12/07')), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('')),
    fc.stringMatching(/^[0-9]{1,6}$/),
  );

  it('answers strings with a slash and no colon as plain, and digits as not, as both versions read them', () => {
    let paths = 0;
    fc.assert(
      fc.property(pathLike, (s) => {
        const plain = /^[A-Za-z0-9_./:-]+$/.test(s) && !/^[-:.]/.test(s);
        if (plain && PLAIN_PATH.test(s)) paths++;
        if (plain && PLAIN_PATH.test(s)) {
          expect(parse(`k: ${s}`, { version: '1.1' })).toEqual({ k: s });
          expect(parse(`k: ${s}`, { version: '1.2' })).toEqual({ k: s });
        }
        if (DIGITS.test(s)) expect(parse(`k: ${s}`, { version: '1.2' })).not.toEqual({ k: s });
      }),
      { numRuns: 3000 },
    );
    expect(paths).toBeGreaterThan(300);
    for (const w of ['10.0.0.1/32', 'app.kubernetes.io/name', '/', '2026/12/07']) expect(plainIsUnambiguous(w)).toBe(true);
    for (const w of ['8080', '053', '0', 'a/b:', '1:20']) expect(plainIsUnambiguous(w)).toBe(false);
  });

  it('leaves the short words and everything else to the parser', () => {
    for (const w of ['yes', 'false', 'FALSE', 'null', 'Off', '0x1F', '1:20', '2026-12-07', 'a:b:c:d:e:f']) expect(PLAIN_WORD.test(w)).toBe(false);
    for (const w of ['yes', 'false', 'FALSE', 'null', 'Off', '0x1F', '1:20', '2026-12-07']) expect(plainIsUnambiguous(w)).toBe(false);
  });
});
