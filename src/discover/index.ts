export { discover, type DiscoverOptions, type DiscoverResult, type DiscoverEvent, type MethodChoice, type PtbReport } from './discover.js';
export { discoverMany, DEFAULT_CONCURRENCY, type DiscoverManyOptions, type ManyResult, type ManyTarget } from './many.js';
export { interfaceMtu } from './local-mtu.js';
export { resolveTarget, type Resolved } from '../sock/resolve.js';
export { methodOrder, openMethod } from './methods.js';
