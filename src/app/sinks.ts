import type { EdgeWriterBounds } from '../store/index.js';
import { EdgeSink } from './edge-sink.js';
import type { FlowSink } from './ingest-session.js';

/** The sinks every ingest (replay and observe) feeds, one fresh set per source. */
export function defaultSinks(writerBounds: EdgeWriterBounds = {}): FlowSink[] {
  return [new EdgeSink(writerBounds)];
}
