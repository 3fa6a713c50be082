export type * from './selector.js';
export type * from './cnp.js';
export type * from './knp.js';
export type * from './policy.js';
export { SELECTOR_OPERATORS } from './selector.js';
export { ENTITIES } from './cnp.js';
export { ciliumRules } from './policy.js';
