// pathmtu's public API: one entry point, typed.
export { discover, type DiscoverOptions, type DiscoverResult, type DiscoverEvent, type MethodChoice, type PtbReport } from './discover/index.js';
export { interfaceMtu, resolveTarget } from './discover/index.js';
export { explain, fixes, payloadSizes, rankCandidates, renderExplanation } from './explain/index.js';
export type { Explanation } from './explain/index.js';
export { PathMtuSearch } from './search/index.js';
export type { SearchOptions, SearchResult } from './search/index.js';
export { ProbeSocket } from './sock/socket.js';
export type { ErrQueueEntry, Message, PmtuMode, SocketKind } from './sock/socket.js';
export { Prober, type Direction, type ProbeOutcome } from './probe/prober.js';
export { UdpProber } from './probe/udp.js';
export type { Family, MethodName, Outcome, ProbeRequest } from './probe/outcome.js';
export * from './errors.js';
export * as wire from './wire/index.js';
