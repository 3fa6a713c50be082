/**
 * The policy loaders of load-policies.ts run on a second thread, so that a command reads its
 * database while the policy files are parsed: on a 3,000-workload cluster both take about a
 * second and the machine has two cores. The result is exactly the in-thread loader's (the same
 * files in the same order, read by the same code); only parsed documents cross between threads,
 * and the compiling, where needed, happens on the calling thread as they arrive.
 */
import { Worker } from 'node:worker_threads';
import { compileAhead, type Policy } from '../policy/index.js';
import { InputError, UsageError } from '../errors.js';
import {
  addBatch,
  addSetBatch,
  emptyLoad,
  emptySetLoad,
  finishSetLoad,
  loadPolicies,
  loadPolicySet,
  type LoadedPolicies,
  type LoadedPolicySet,
  type LoadPoliciesOptions,
  type PolicyFileBatch,
} from './load-policies.js';
import type { PolicyLoadFailure, PolicyLoadJob, PolicyLoadMessage, PostedBatch } from './policy-load-worker.js';

/**
 * What the in-thread loader gives; rejects with the error it would throw. It may be awaited only
 * after a long synchronous read: a failure meanwhile is not an unhandled rejection.
 */
export type BackgroundPolicyLoad<T> = Promise<T>;

/**
 * `loadPolicies` on a second thread. With `compileAhead` each policy is also compiled as it
 * arrives (`compileAhead` of policy/), so a `buildPolicySet` of them afterwards costs little.
 */
export function loadPoliciesInBackground(paths: readonly string[], options: LoadPoliciesOptions & { readonly compileAhead?: boolean } = {}): BackgroundPolicyLoad<LoadedPolicies> {
  if (paths.includes('-')) return inThread(loadPolicies(paths, options));
  const into = emptyLoad();
  return inBackground(
    paths,
    options,
    (b) => {
      addBatch(into, b);
      if (options.compileAhead) for (const p of b.policies) compileAhead(p);
    },
    () => into,
  );
}

/** `loadPolicySet` with the files read on a second thread, each batch compiled here as it arrives. */
export function loadPolicySetInBackground(paths: readonly string[], options: LoadPoliciesOptions = {}): BackgroundPolicyLoad<LoadedPolicySet> {
  if (paths.includes('-')) return inThread(loadPolicySet(paths, options));
  const into = emptySetLoad();
  return inBackground(paths, options, (b) => addSetBatch(into, b), () => finishSetLoad(into));
}

/** Stdin belongs to the main thread: such a load runs here. */
function inThread<T>(loaded: Promise<T>): BackgroundPolicyLoad<T> {
  loaded.catch(() => undefined);
  return loaded;
}

function inBackground<T>(paths: readonly string[], options: LoadPoliciesOptions, add: (batch: PolicyFileBatch) => void, finish: () => T): BackgroundPolicyLoad<T> {
  const job: PolicyLoadJob = { paths: [...paths], ...(options.defaultNamespace !== undefined && { defaultNamespace: options.defaultNamespace }) };
  const worker = startWorker(job);
  let settled = false;
  const loaded = new Promise<T>((resolve, reject) => {
    const fail = (e: Error): void => {
      if (settled) return;
      settled = true;
      reject(e);
      void worker.terminate();
    };
    worker.on('message', (m: PolicyLoadMessage) => {
      if (settled) return;
      try {
        if (m.kind === 'batch') add(receivedBatch(m.batch));
        else if (m.kind === 'failed') fail(rebuild(m.error));
        else {
          settled = true;
          resolve(finish());
        }
      } catch (e) {
        fail(e instanceof Error ? e : new Error(String(e)));
      }
    });
    worker.on('error', (e) => fail(e));
    worker.on('exit', (code) => fail(new Error(`the policy reader thread stopped (exit code ${code}) before it finished`)));
  });
  loaded.catch(() => undefined);
  return loaded;
}

function startWorker(job: PolicyLoadJob): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./policy-load-worker.js', here), { workerData: job });
  // Under vitest or tsx the sources are TypeScript: register tsx's loader inside the worker first.
  const entry = JSON.stringify(new URL('./policy-load-worker.ts', here).href);
  const bootstrap = `import('tsx/esm/api').then((api) => { api.register(); return import(${entry}); });`;
  return new Worker(bootstrap, { eval: true, workerData: job });
}

function receivedBatch({ policiesJson, ...rest }: PostedBatch): PolicyFileBatch {
  return { ...rest, policies: JSON.parse(policiesJson) as Policy[] };
}

function rebuild(f: PolicyLoadFailure): Error {
  switch (f.kind) {
    case 'input':
      return new InputError(f.file, f.line, f.field, f.reason);
    case 'usage':
      return new UsageError(f.message);
    case 'internal': {
      const e = new Error(f.message);
      if (f.stack !== undefined) e.stack = f.stack;
      return e;
    }
    default: {
      const never: never = f;
      return never;
    }
  }
}
