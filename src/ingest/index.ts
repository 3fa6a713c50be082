export { openInput, gunzipIfCompressed, forEachLine } from './line-reader.js';
export { LineSplitter, MAX_LINE_BYTES, type LineHandler, type OverlongHandler } from './line-splitter.js';
export * from './relay/index.js';
export { forEachLineInRange } from './range-reader.js';
