import { sql as core } from './001-core.js';
import { sql as edges } from './002-edges.js';
import { sql as resume } from './003-resume.js';
import { sql as namespaces } from './004-namespaces.js';
import { sql as clusterIps } from './005-cluster-ips.js';
import { sql as graphSnapshot } from './006-graph-snapshot.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Ordered; `PRAGMA user_version` records the last one applied. Never edit a released migration. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'core', sql: core },
  { version: 2, name: 'edges', sql: edges },
  { version: 3, name: 'resume', sql: resume },
  { version: 4, name: 'namespaces', sql: namespaces },
  { version: 5, name: 'cluster-ips', sql: clusterIps },
  { version: 6, name: 'graph-snapshot', sql: graphSnapshot },
];
