import type { Flow } from '../flow/index.js';
import { EdgeAggregator, type GraphDelta } from '../graph/index.js';
import { type Db, EdgeWriter, type EdgeWriterBounds } from '../store/index.js';
import type { ShardableSink } from './ingest-session.js';

/**
 * Feeds every ingested flow to the edge aggregator and merges the batch's graph delta into the
 * database inside the batch transaction (IngestWriter.commit), so edges are exactly as durable as
 * the flows counted with them. One sink per source; several may write the same database.
 *
 * Shardable: a replay worker `add`s and `takeDelta`s (a GraphDelta of Maps and plain objects,
 * structured-cloneable); the main thread `applyDelta`s. The merge is associative, so any split of
 * the flows over workers and batches stores the same graph.
 */
export class EdgeSink implements ShardableSink<GraphDelta> {
  readonly #aggregator = new EdgeAggregator();
  readonly #writers = new WeakMap<Db, EdgeWriter>();

  constructor(private readonly writerBounds: EdgeWriterBounds = {}) {}

  add(flow: Flow): void {
    this.#aggregator.add(flow);
  }

  flush(db: Db): void {
    this.applyDelta(db, this.takeDelta());
  }

  takeDelta(): GraphDelta {
    return this.#aggregator.take();
  }

  applyDelta(db: Db, delta: GraphDelta): void {
    let writer = this.#writers.get(db);
    if (writer === undefined) {
      writer = new EdgeWriter(db, this.writerBounds);
      this.#writers.set(db, writer);
    }
    writer.write(delta);
  }

  /** Edges and cluster addresses in the open batch. */
  get pendingItems(): number {
    return this.#aggregator.size;
  }

  get keptChars(): number {
    return this.#aggregator.keptChars;
  }

  /** Distinct raw edges this source produced so far (observe's progress line reads it). */
  get edgeCount(): number {
    return this.#aggregator.edgeCount;
  }
}
