// Loaded with `--import` into a real CLI run: records each V8 flag the run sets (node:v8
// setFlagsFromString, wrapped and made visible to ES imports by node:module's
// syncBuiltinESMExports) and the new space's size at exit, as JSON in the file V8_PROBE_OUT names.
import { writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import v8 from 'node:v8';

const flags = [];
const set = v8.setFlagsFromString;
v8.setFlagsFromString = (flag) => {
  flags.push(flag);
  set(flag);
};
syncBuiltinESMExports();
process.on('exit', () => {
  const newSpaceBytes = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  writeFileSync(process.env.V8_PROBE_OUT, JSON.stringify({ flags, newSpaceMb: newSpaceBytes / 1048576 }));
});
