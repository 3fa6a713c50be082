/**
 * Loads our own Hubble proto subset (proto/ at the package root) with @grpc/proto-loader. The
 * loader is imported lazily so that commands without gRPC start fast.
 */
import type { MethodDefinition, PackageDefinition } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/**
 * proto/ at the package root. This file sits at the same depth under src/ (vitest, tsx) and
 * dist/ (the built bin), so one relative path serves both.
 */
export const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

/** proto-loader options, chosen so objects look like protojson with original names (hubble-api.md §7). */
export const LOADER_OPTIONS = {
  keepCase: true,
  enums: String,
  longs: String,
  defaults: false,
  oneofs: true,
} as const;

/** The two Observer methods we call, with proto-loader's (de)serializers. */
export interface ObserverMethods {
  readonly getFlows: MethodDefinition<object, unknown>;
  readonly serverStatus: MethodDefinition<object, unknown>;
  readonly definition: PackageDefinition;
}

let cached: Promise<ObserverMethods> | undefined;

export function loadObserverProto(): Promise<ObserverMethods> {
  cached ??= load();
  return cached;
}

async function load(): Promise<ObserverMethods> {
  const loader = await import('@grpc/proto-loader');
  const definition = await loader.load('observer/observer.proto', { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
  const service = definition['observer.Observer'] as Record<string, MethodDefinition<object, unknown>> | undefined;
  const getFlows = service?.['GetFlows'];
  const serverStatus = service?.['ServerStatus'];
  if (!getFlows || !serverStatus) throw new Error(`${PROTO_DIR}: observer.Observer/GetFlows or ServerStatus missing`);
  return { getFlows, serverStatus, definition };
}
