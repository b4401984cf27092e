// The kernel's PMTU cache: read it (one host or all), flush it.
export { readCache, listCache, lookupCache, cachedPmtu, type CacheEntry, type CacheLookup, type CacheOptions } from './read.js';
export { flushCache, type FlushResult } from './flush.js';
export { NetlinkSocket, type RequestOptions } from './netlink-socket.js';
