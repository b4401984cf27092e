// The engine: a prober pool (shared sockets) and a scheduler (one timer, the rate cap, per-router
// pacing). One process-wide engine serves discover() and every command built on it; tests and runs
// with their own rate cap construct their own (sharing the process's pool, so sockets stay shared).
import { ProberPool, type PoolOptions } from './pool.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

export interface EngineOptions extends SchedulerOptions {
  /** The pool to take probers from (default: the process-wide one). */
  pool?: ProberPool;
  /** Options of a pool of its own, when `pool` is not given and this engine should not share. */
  poolOptions?: PoolOptions;
}

export class Engine {
  readonly pool: ProberPool;
  readonly scheduler: Scheduler;

  constructor(opts: EngineOptions = {}) {
    const { pool, poolOptions, ...sched } = opts;
    this.pool = pool ?? (poolOptions !== undefined ? new ProberPool(poolOptions) : processPool());
    this.scheduler = new Scheduler(sched);
  }
}

let sharedPool: ProberPool | undefined;
let sharedEngine: Engine | undefined;

/** The process-wide prober pool. */
export function processPool(): ProberPool {
  sharedPool ??= new ProberPool();
  return sharedPool;
}

/** The process-wide engine (default rate cap, the process-wide pool). */
export function defaultEngine(): Engine {
  sharedEngine ??= new Engine({ pool: processPool() });
  return sharedEngine;
}
