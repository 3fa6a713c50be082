/** A replay worker thread: runs ranges (range-runner.ts) and posts their batches to the main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { type RangeJob, runRanges } from './range-runner.js';
import { defaultSinks } from './sinks.js';

const port = parentPort;
if (!port) throw new Error('replay-worker must run in a worker thread');
runRanges(workerData as RangeJob, defaultSinks(), (msg) => port.postMessage(msg));
