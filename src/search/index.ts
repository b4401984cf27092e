// Pure path MTU search: decision logic (PathMtuSearch) and a simulated path to test it against.
// Driving it: poll(now) -> send the orders; record(token, outcome, now) for every answer and poll
// again; poll again at wakeAt when nothing arrived; stop when `finished`. The search declares losses
// itself. Extensions of the original contract: SearchOptions.maxIsLocal (default true: pass false
// for a user's --max below the interface MTU, so a delivered max is not called exact),
// PtbRecord.size, SearchResult.lossConfirmations / timeoutMs / srttMs, the timeoutMs getter, and
// setIcmpExhausted() (a pacer saying the router's ICMP budget, shared with other searches, is spent).
export { PathMtuSearch, DEFAULT_MAX_PROBES, DEFAULT_PARALLEL } from './search.js';
export type { SearchOptions, SearchResult, ProbeOrder, PtbRecord } from './types.js';
export { RFC1191_PLATEAUS, COMMON_MTUS, plateauBelow, MAX_PACKET } from './plateaus.js';
export { RttEstimator, DEFAULT_MIN_TIMEOUT_MS, DEFAULT_MAX_TIMEOUT_MS, INITIAL_TIMEOUT_MS } from './rtt.js';
export { simulate, SimPath, type SimPathModel, type SimHop, type SimResult } from './simulate.js';
export {
  simulateMany, hubTopology, SimNetwork, PlateauGuesser,
  type SimTopology, type SimRouter, type SimManyTarget, type ManyOptions, type ManyResult, type ManyTargetResult, type ManyJob, type HubOptions,
} from './simulate-many.js';
export { Pacer, TokenBucket, LINUX_ICMP_PEER_LIMIT, LINUX_ICMP_GLOBAL_LIMIT, type PacerOptions, type TokenBucketLimit } from '../engine/pacing.js';
