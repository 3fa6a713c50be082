export { openInput, gunzipIfCompressed, forEachLine, MAX_LINE_BYTES, type LineHandler } from './line-reader.js';
export * from './relay/index.js';
export { forEachLineInRange } from './range-reader.js';
