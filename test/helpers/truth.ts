import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';
import type { PeerJson } from './peer-json.js';

/** A request edge of a generator's truth file (recordings/README.md "Truth file"). */
export interface TruthEdge {
  from: PeerJson;
  to: PeerJson;
  protocol: string;
  port: number;
  forwarded: boolean;
  dropped: boolean;
  dropReasons?: Record<string, number>;
}

/** A truth file of scripts/generate-recording.mjs or generate-cluster.mjs (fields one of them writes are optional). */
export interface Truth {
  /** generate-recording.mjs: the rollout phase of the topology, if any. */
  rollout?: string | null;
  /** generate-cluster.mjs: flows and lost events written. */
  flows?: number;
  lostEvents?: number;
  edges: TruthEdge[];
  workloads: { namespace: string; kind: string; name: string; selector?: Record<string, string>; labels?: Record<string, string> }[];
}

export function readTruth(file: string): Truth {
  return JSON.parse(readFileSync(file, 'utf8')) as Truth;
}

/** The bundled home-lab recording's truth (recordings/home-lab.truth.json). */
export const readHomeLabTruth = (): Truth => readTruth(join(REPO_ROOT, 'recordings/home-lab.truth.json'));
