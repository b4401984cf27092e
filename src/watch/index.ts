// Watching path MTUs over time (RFC 8899's timers): the pure state machine, its simulator, and the
// Watcher that runs many targets through shared probers and one timer.
export { Watcher, WatchTargetError, SEARCH_CONCURRENCY } from './watcher.js';
export { WatchMachine, DEFAULT_INTERVAL_S, DEFAULT_RAISE_S, MAX_PROBES } from './machine.js';
export type { Change, SearchOutcome, SearchRequest, SearchPurpose, Trigger, MachineOptions, Poll } from './machine.js';
export { simulateWatch, type WatchSimResult, type WatchScriptStep } from './simulate.js';
export type { WatchOptions, WatchEvent, WatchReason, WatchState, WatcherApi } from './types.js';
