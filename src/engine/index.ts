// The probe engine: what every probe job (a PMTU search, trace rounds, a ping series) runs on.
//
// - pool.ts: one shared Prober per (network namespace, family, method, port), leased and refcounted;
//   answers routed to the job that sent the probe, by token, after the Prober matched the quote.
// - scheduler.ts: one timer for every job's wake-ups, a global rate cap (token bucket, `ratePps`,
//   default 2,000 pps: timing.ts), per-router mirrors of ICMP error budgets (pacing.ts).
// - timing.ts: the one set of timeout defaults (longest probe wait 3,000 ms).
//
// Abort, one semantic for every job: a signal aborted before the job's first probe rejects with
// AbortError (nothing was learned); aborted after it, the job resolves with what it knows and
// `aborted: true`. Either way every listener the job put on the signal is removed.
export { Engine, defaultEngine, processPool, type EngineOptions } from './engine.js';
export { Lease, ProberPool, currentNetns, type ProberSpec, type PoolOptions, type OutcomeHandler } from './pool.js';
export { Scheduler, type Job, type JobHandle, type SchedulerOptions, type StepResult } from './scheduler.js';
export { Pacer, TokenBucket, LINUX_ICMP_PEER_LIMIT, LINUX_ICMP_GLOBAL_LIMIT, type PacerOptions, type TokenBucketLimit } from './pacing.js';
export { DEFAULT_MAX_TIMEOUT_MS, DEFAULT_MIN_TIMEOUT_MS, DEFAULT_RATE_PPS, INITIAL_TIMEOUT_MS } from './timing.js';
export { MinHeap } from './heap.js';
