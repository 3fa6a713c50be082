import { afterAll, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/flow/index.js';
import { EdgeAggregator } from '../../src/graph/index.js';
import { type Db, EdgeWriter, openDatabase } from '../../src/store/index.js';
import { tempDir } from '../helpers/paths.js';
import { HOUR, T0, flow, pod } from '../unit/graph/builders.js';

/**
 * A writer skips re-reading an edge's sets while it knows them exactly; another writer (another
 * process on the same file, or a new sink on the same connection) must make it read them again,
 * or a merge from a stale copy would drop what the other one stored.
 */
const tmp = tempDir();
afterAll(() => tmp.remove());

function batch(pods: readonly string[], hour: number): Flow[] {
  return pods.map((name) =>
    flow({
      src: pod('shop', name, { app: 'web' }, { kind: 'Deployment', name: 'web' }, 30001),
      dst: pod('db', 'postgres-0', { app: 'postgres' }, { kind: 'StatefulSet', name: 'postgres' }, 30002),
      dstIp: '10.0.2.7',
      proto: 'TCP',
      dport: 5432,
      sport: 40000,
      flags: { SYN: true },
      t: T0 + hour * HOUR,
      verdict: 'FORWARDED',
      dir: 'EGRESS',
      eventType: 4,
      destinationNames: [],
    }),
  );
}

function write(db: Db, writer: EdgeWriter, flows: readonly Flow[]): void {
  const agg = new EdgeAggregator();
  for (const f of flows) agg.add(f);
  // As IngestWriter.commit does: the batch's own rows first, so the write lock is held.
  db.transaction(() => {
    db.prepare("INSERT INTO edge_skips (reason, flows) VALUES ('reply', 0) ON CONFLICT (reason) DO NOTHING").run();
    writer.write(agg.take());
  })();
}

const srcPods = (db: Db): string[] => JSON.parse((db.prepare('SELECT src_pods FROM edges').get() as { src_pods: string }).src_pods) as string[];

describe('EdgeWriter with other writers on the same database', () => {
  it('another connection and another writer on its own connection: every pod name stays stored', () => {
    const file = tmp.file('writers.db');
    const a = openDatabase(file);
    const b = openDatabase(file);
    try {
      // Pod sets keep the 5 smallest names: the others' names sort first and must stay.
      const mine = new EdgeWriter(a);
      write(a, mine, batch(['web-x-1'], 0));
      write(a, mine, batch(['web-x-2'], 1)); // known exactly now
      write(b, new EdgeWriter(b), batch(['web-b-1'], 2)); // another process
      write(a, mine, batch(['web-x-3'], 3));
      write(a, new EdgeWriter(a), batch(['web-c-1'], 4)); // a new sink on this connection
      write(a, mine, batch(['web-x-0'], 5));
      expect(srcPods(a)).toEqual(['web-b-1', 'web-c-1', 'web-x-0', 'web-x-1', 'web-x-2']);
    } finally {
      a.close();
      b.close();
    }
  });

  it('rewrites the edges it holds in row-id order, and inserts new ones in the order they came', () => {
    const db = openDatabase(tmp.file('order.db'));
    try {
      // Records the row id of every UPDATE of an edge row, in order (a temp trigger: this connection only).
      db.exec('CREATE TEMP TABLE edge_updates (seq INTEGER PRIMARY KEY, id INTEGER NOT NULL);');
      db.exec('CREATE TEMP TRIGGER record_edge_updates AFTER UPDATE ON main.edges BEGIN INSERT INTO edge_updates (id) VALUES (NEW.id); END;');
      const toPorts = (ports: readonly number[], hour: number): Flow[] => ports.map((dport) => ({ ...(batch(['web-x-1'], hour)[0] as Flow), l4: { protocol: 'TCP', sourcePort: 40000, destinationPort: dport, flags: { SYN: true } } }));
      const idOf = (port: number): number => (db.prepare('SELECT id FROM edges WHERE port = ?').get(port) as { id: number }).id;
      const writer = new EdgeWriter(db);
      write(db, writer, toPorts([5001, 5002, 5003, 5004], 0));
      // Known edges come in another order than their ids, new ones between them.
      write(db, writer, toPorts([5004, 5006, 5002, 5001, 5005, 5003], 1));
      const updated = db.prepare('SELECT id FROM temp.edge_updates ORDER BY seq').pluck().all() as number[];
      expect(updated).toEqual([5001, 5002, 5003, 5004].map(idOf));
      expect(idOf(5006), 'a new edge takes the next row id in the order the batch brought it').toBeLessThan(idOf(5005));
      expect(db.prepare('SELECT port, eg_flows FROM edges ORDER BY port').all()).toEqual([5001, 5002, 5003, 5004, 5005, 5006].map((port) => ({ port, eg_flows: port <= 5004 ? 2 : 1 })));
    } finally {
      db.close();
    }
  });

  it('rewrites an edge row once per batch, and its sets only when they change', () => {
    const db = openDatabase(tmp.file('rewrites.db'));
    try {
      // Counts the UPDATEs of edge rows, and those that write the pod sets (temp triggers: this connection only).
      db.exec('CREATE TEMP TABLE edge_updates (rows INTEGER NOT NULL, sets INTEGER NOT NULL); INSERT INTO edge_updates VALUES (0, 0);');
      db.exec('CREATE TEMP TRIGGER count_edge_updates AFTER UPDATE ON main.edges BEGIN UPDATE edge_updates SET rows = rows + 1; END;');
      db.exec('CREATE TEMP TRIGGER count_set_writes AFTER UPDATE OF src_pods ON main.edges BEGIN UPDATE edge_updates SET sets = sets + 1; END;');
      const counts = (): { rows: number; sets: number } => db.prepare('SELECT rows, sets FROM temp.edge_updates').get() as { rows: number; sets: number };
      const updatesOf = (writer: EdgeWriter, pods: readonly string[]): string => {
        const before = counts();
        write(db, writer, batch(pods, 0));
        const after = counts();
        return `${after.rows - before.rows} rows, ${after.sets - before.sets} sets`;
      };
      const writer = new EdgeWriter(db);
      expect(updatesOf(writer, ['web-x-a', 'web-x-b', 'web-x-c', 'web-x-d', 'web-x-e', 'web-x-f']), 'a new edge is inserted whole').toBe('0 rows, 0 sets');
      // Six more pods, all sorting above the stored five: the batch's own set is truncated too.
      expect(updatesOf(writer, ['web-x-g', 'web-x-h', 'web-x-i', 'web-x-j', 'web-x-k', 'web-x-l']), 'counters only').toBe('1 rows, 0 sets');
      // A writer that never knew the sets reads them, and finds nothing new to store.
      expect(updatesOf(new EdgeWriter(db), ['web-x-z']), 'counters only, sets read').toBe('1 rows, 0 sets');
      expect(updatesOf(writer, ['web-x-0']), 'counters and sets in one UPDATE').toBe('1 rows, 1 sets');
      expect(srcPods(db)).toEqual(['web-x-0', 'web-x-a', 'web-x-b', 'web-x-c', 'web-x-d']);
      expect((db.prepare('SELECT eg_flows FROM edges').get() as { eg_flows: number }).eg_flows).toBe(14);
    } finally {
      db.close();
    }
  });
});
