/** Paths of the shared oracle data, read in place (never copied into the repo). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SHARED } from '../helpers/paths.js';

export const ORACLE = join(SHARED, 'oracle');

export function readOracleYaml(relative: string): unknown {
  return parse(readFileSync(join(ORACLE, relative), 'utf8'));
}

export const readOracleText = (relative: string): string => readFileSync(join(ORACLE, relative), 'utf8');
