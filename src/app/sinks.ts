import { EdgeSink } from './edge-sink.js';
import type { FlowSink } from './ingest-session.js';

/** The sinks every ingest (replay and observe) feeds, one fresh set per source. */
export function defaultSinks(): FlowSink[] {
  return [new EdgeSink()];
}
