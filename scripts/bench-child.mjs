// Runs one CLI command in this process and reports its peak RSS and CPU time on fd 3, so the
// benchmark measures the real command without depending on /usr/bin/time.
import { writeSync } from 'node:fs';
import { processIo } from '../dist/cli/io.js';
import { run } from '../dist/cli/run.js';

const started = performance.now();
const code = await run(process.argv.slice(2), processIo());
const usage = process.resourceUsage();
writeSync(
  3,
  JSON.stringify({
    code,
    wallMs: performance.now() - started,
    maxRssMB: usage.maxRSS / 1024,
    userMs: usage.userCPUTime / 1000,
    systemMs: usage.systemCPUTime / 1000,
  }),
);
process.exitCode = code;
