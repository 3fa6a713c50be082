// The process `storeSnapshotAfterReplay` (replay-snapshot.ts) starts for a large graph: stores the graph snapshot of the database it is given.
import { storeGraphSnapshot } from '../store/edge-store.js';

const path = process.argv[2];
if (path === undefined) process.exit(2);
storeGraphSnapshot(path);
