#!/usr/bin/env node
import { afterGraphResolved } from '../store/index.js';
import { fullCollector } from './heap.js';
import { processIo } from './io.js';
import { run } from './run.js';

// A read that resolved the graph from its rows collects the resolve's garbage before going on
// (store/edge-store.ts `loadGraph`): at 3,000 workloads `recommend -A` peaked 305-345 -> ~270 MB.
afterGraphResolved(fullCollector());
process.exitCode = await run(process.argv.slice(2), processIo());
