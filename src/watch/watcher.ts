// Watcher: many targets, each kept true by its WatchMachine (machine.ts). The Watcher only carries
// out what the machines ask, on the engine (src/engine) that discover() runs on:
//
// - each target is a job of the engine's Scheduler: its machine's wake-ups share the scheduler's one
//   timer, and its confirmation rounds go out under the same global rate cap (`ratePps`) as the
//   searches, which are discover() calls on the same engine;
// - confirmation probes go through leases on the engine's pool: one shared prober per (netns,
//   family, method, port) for every target, and the very probers discover()'s searches lease (the
//   pool hands the same socket to both). Answers come back by the prober's token.
// - start() leases the probers of every (family, method) the targets may need up front, then calls
//   `onSocketsOpen` (the CLI gives up root there, as discover does); they are held until stop().
//
// Memory per target is one Entry (its machine, the last event, two in-flight tokens, three numbers
// for the probe rate): no closures, no history arrays, no timer.
import { EventEmitter } from 'node:events';
import { discover, type DiscoverOptions, type DiscoverResult } from '../discover/discover.js';
import { leaseUpFront } from '../discover/methods.js';
import { interfaceMtu } from '../discover/local-mtu.js';
import { Engine, defaultEngine, processPool } from '../engine/engine.js';
import type { Lease } from '../engine/pool.js';
import type { Job, JobHandle, StepResult } from '../engine/scheduler.js';
import { PathMtuError, PermissionError, UsageError } from '../errors.js';
import { METHOD_CHOICES, isMethodChoice, type MethodName } from '../probe/outcome.js';
import type { ProbeOutcome } from '../probe/prober.js';
import { resolveTarget } from '../sock/resolve.js';
import { ipFamily } from '../wire/addr.js';
import type { Family } from '../wire/facts.js';
import { DEFAULT_INTERVAL_S, DEFAULT_RAISE_S, WatchMachine, type Change, type MachineOptions, type SearchRequest } from './machine.js';
import type { WatchEvent, WatchOptions, WatchState, WatcherApi } from './types.js';

/** Searches (discover runs) in flight at once, all targets together. */
export const SEARCH_CONCURRENCY = 32;
/** Window of WatchState.probesPerSecond. */
const RATE_WINDOW_MS = 60_000;

/** An error about one watched target (it could not be resolved, a search failed); the others go on. */
export class WatchTargetError extends PathMtuError {
  readonly target: string;
  constructor(target: string, cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`${target}: ${message}`, cause instanceof PathMtuError ? cause.code : 'ERR_WATCH_TARGET', { cause });
    this.target = target;
  }
}

/** One watched target: its machine, what the table shows, and its job on the scheduler. */
class Entry implements Job {
  address: string | null = null;
  family: Family | null = null;
  method: MethodName | null = null;
  sinceMs: number | null = null;
  lastEvent: WatchEvent | null = null;
  changes = 0;
  probesSent = 0;
  /** Probes counted in the current and the previous RATE_WINDOW_MS window (a sliding estimate). */
  windowStart: number;
  windowCount = 0;
  previousCount = 0;
  startedAt: number;
  search: AbortController | null = null;
  removed = false;
  /** Prober tokens of the round in flight and the machine's token of each: [prober, machine, ...]. */
  inflight: number[] | null = null;
  /** The lease the round in flight went out on. */
  inflightLease: Lease | null = null;
  handle: JobHandle | null = null;
  /** Last error reported for this target, so it is not repeated at every retry. */
  lastError: string | undefined;

  constructor(
    readonly target: string,
    readonly machine: WatchMachine,
    readonly owner: Watcher,
    now: number,
  ) {
    this.windowStart = now;
    this.startedAt = now;
  }

  step(now: number): StepResult {
    return this.owner._step(this, now);
  }

  fail(err: unknown): void {
    this.owner._failed(this, err);
  }
}

export class Watcher extends EventEmitter implements WatcherApi {
  readonly #options: WatchOptions & { intervalS: number; raiseS: number };
  readonly #engine: Engine;
  readonly #machineOptions: MachineOptions;
  /** The same, for targets given by name (resolved again at each raise timer). */
  readonly #nameMachineOptions: MachineOptions;
  readonly #entries = new Map<string, Entry>();
  /** Held from start() to stop(): `${family}/${method}` -> lease on the pool's shared prober. */
  readonly #leases = new Map<string, Lease>();
  /** Per lease: prober token -> the target whose round it belongs to (tokens are per prober). */
  readonly #routes = new Map<Lease, Map<number, Entry>>();
  /** Per lease: the one handler its answers come to. */
  readonly #handlers = new Map<Lease, (token: number, outcome: ProbeOutcome) => void>();
  readonly #queue: Array<{ entry: Entry; request: SearchRequest }> = [];
  #queueHead = 0;
  readonly #searches = new Set<Promise<void>>();
  #started = false;
  #stopped = false;
  #onAbort = (): void => void this.stop();

  constructor(targets: string[], options: WatchOptions = {}) {
    super();
    validate(options);
    this.#options = { ...options, intervalS: options.intervalS ?? DEFAULT_INTERVAL_S, raiseS: options.raiseS ?? DEFAULT_RAISE_S };
    // One engine for the searches and the confirmations: one rate cap for both. A cap of our own
    // still shares the process's pool of sockets.
    this.#engine = options.engine ?? (options.ratePps !== undefined ? new Engine({ ratePps: options.ratePps, pool: processPool() }) : defaultEngine());
    this.#machineOptions = {
      intervalMs: this.#options.intervalS * 1000,
      raiseMs: this.#options.raiseS * 1000,
      ...(options.min !== undefined ? { min: options.min } : {}),
      ...(options.max !== undefined ? { max: options.max } : {}),
    };
    this.#nameMachineOptions = { ...this.#machineOptions, searchAtRaise: true };
    this.#setTargetList(targets);
  }

  /** The engine the searches and confirmations run on. */
  get engine(): Engine {
    return this.#engine;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#options.signal?.aborted) return this.stop();
    this.#openUpFront();
    try {
      this.#options.onSocketsOpen?.();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    for (const e of this.#entries.values()) this.#schedule(e);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#queue.length = 0;
    this.#queueHead = 0;
    for (const e of this.#entries.values()) {
      if (e.handle !== null) this.#engine.scheduler.remove(e.handle);
      e.handle = null;
      e.search?.abort();
    }
    await Promise.allSettled([...this.#searches]);
    for (const lease of this.#leases.values()) lease.release();
    this.#leases.clear();
    this.#routes.clear();
    this.#handlers.clear();
  }

  setTargets(targets: string[]): void {
    const keep = new Set(targets.map((t) => t.trim()).filter((t) => t !== ''));
    for (const [name, e] of this.#entries) {
      if (keep.has(name)) continue;
      this.#drop(e);
      this.#entries.delete(name);
    }
    const added = this.#setTargetList([...keep]);
    if (this.#started && !this.#stopped) for (const e of added) this.#schedule(e);
  }

  states(): WatchState[] {
    const now = this.#engine.scheduler.now();
    const out: WatchState[] = [];
    for (const e of this.#entries.values()) {
      const m = e.machine;
      out.push({
        target: e.target,
        address: e.address,
        family: e.family,
        method: e.method,
        pmtu: m.pmtu,
        blackHole: m.blackHole,
        phase: m.phase,
        sinceMs: e.sinceMs,
        lastEvent: e.lastEvent,
        changes: e.changes,
        probesSent: e.probesSent,
        probesPerSecond: this.#rate(e, now),
        ...(m.error !== undefined ? { error: m.error } : {}),
      });
    }
    return out;
  }

  /** Probes sent for every target together since start. */
  get probesSent(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.probesSent;
    return n;
  }

  // ---------------------------------------------------------------------------------------------

  #setTargetList(targets: string[]): Entry[] {
    const added: Entry[] = [];
    const now = this.#engine.scheduler.now();
    for (const raw of targets) {
      const target = raw.trim();
      if (target === '' || this.#entries.has(target)) continue;
      const e = new Entry(target, new WatchMachine(isName(target) ? this.#nameMachineOptions : this.#machineOptions), this, now);
      this.#entries.set(target, e);
      added.push(e);
    }
    return added;
  }

  #schedule(e: Entry): void {
    if (e.handle === null && !e.removed && !this.#stopped) e.handle = this.#engine.scheduler.add(e);
  }

  #wake(e: Entry): void {
    if (e.handle !== null) this.#engine.scheduler.wake(e.handle);
  }

  #drop(e: Entry): void {
    e.removed = true;
    e.search?.abort();
    if (e.handle !== null) this.#engine.scheduler.remove(e.handle);
    e.handle = null;
    this.#forgetRound(e);
  }

  /**
   * Lease the prober of every (family, method) the targets may need, before the first probe: the
   * method asked for (under auto, every permitted one, as discover opens them), for each family
   * the targets are in (both for names, unless a family was asked for). A method this process may
   * not open is left out here; a search that needs it reports that.
   */
  #openUpFront(): void {
    const o = this.#options;
    const families = new Set<Family>();
    for (const t of this.#entries.keys()) {
      const literal = isName(t) ? 0 : ipFamily(t.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, ''));
      if (o.family !== undefined) families.add(o.family);
      else if (literal === 4 || literal === 6) families.add(literal);
      else {
        families.add(4);
        families.add(6);
      }
    }
    leaseUpFront(families, o.method, (family, method) => this.#lease(family, method), (err, alone) => {
      if (!(err instanceof PermissionError) && alone && this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  #lease(family: Family, method: MethodName): Lease {
    const key = `${family}/${method}`;
    const held = this.#leases.get(key);
    if (held !== undefined && !held.released) return held;
    const port = this.#options.port;
    const lease = this.#engine.pool.acquire({ method, family, ...(port !== undefined ? { port } : {}) });
    lease.onError = (err) => {
      // The socket failed: every target on it loses this round; the next one leases a fresh socket.
      if (this.#leases.get(key) === lease) this.#leases.delete(key);
      this.#routes.delete(lease);
      this.#handlers.delete(lease);
      lease.release();
      if (this.listenerCount('error') > 0) this.emit('error', err);
    };
    const routes = new Map<number, Entry>();
    this.#leases.set(key, lease);
    this.#routes.set(lease, routes);
    this.#handlers.set(lease, (token, outcome) => this.#outcome(lease, routes, token, outcome));
    return lease;
  }

  /** The scheduler runs a target's job: poll its machine and do what it asks. @internal */
  _step(e: Entry, now: number): StepResult {
    if (this.#stopped || e.removed) return { sent: 0, wakeAt: null };
    // At the raise timer the interface MTU is read again: it may have grown since the last search.
    if (e.address !== null && e.family !== null && e.machine.raiseDue(now)) {
      try {
        e.machine.localMtu = interfaceMtu(e.address, e.family);
      } catch {
        // no route now: the search finds out and says so
      }
    }
    const p = e.machine.poll(now);
    for (const c of p.changes) this.#emitChange(e, c);
    const sent = p.probes.length > 0 ? this.#sendProbes(e, p.probes, now) : 0;
    if (p.search !== null) {
      this.#forgetRound(e);
      this.#enqueueSearch(e, p.search);
    }
    // -Infinity: act at once (on the scheduler's next turn, never inside this step).
    return { sent, wakeAt: p.wakeAt === null ? null : Math.max(p.wakeAt, now) };
  }

  /** A step threw (a bug, not a network condition): the target is reported and rescheduled. @internal */
  _failed(e: Entry, err: unknown): void {
    e.handle = null;
    this.#report(e, err);
    if (!this.#stopped && !e.removed) {
      e.machine.searchFailed(err instanceof Error ? err : new Error(String(err)), this.#engine.scheduler.now());
      this.#schedule(e);
    }
  }

  #sendProbes(e: Entry, probes: Array<{ token: number; size: number }>, now: number): number {
    this.#forgetRound(e);
    let lease: Lease;
    try {
      lease = this.#lease(e.family!, e.method!);
    } catch (err) {
      this.#report(e, err);
      return 0; // the machine declares them lost; a permission that never comes makes the target look down
    }
    const routes = this.#routes.get(lease)!;
    const onOutcome = this.#handlers.get(lease)!;
    const inflight: number[] = [];
    for (const probe of probes) {
      const size = Math.max(probe.size, lease.prober.minSize);
      try {
        const t = lease.send(e.address!, size, {}, onOutcome);
        routes.set(t, e);
        inflight.push(t, probe.token);
      } catch (err) {
        this.#report(e, err);
      }
    }
    e.inflight = inflight;
    e.inflightLease = lease;
    this.#count(e, inflight.length / 2, now);
    return inflight.length / 2;
  }

  /** The round's answers are no longer routed (a new round, a search, the target removed). */
  #forgetRound(e: Entry): void {
    const lease = e.inflightLease;
    const inflight = e.inflight;
    e.inflight = null;
    e.inflightLease = null;
    if (lease === null || inflight === null) return;
    const routes = this.#routes.get(lease);
    for (let i = 0; i < inflight.length; i += 2) {
      routes?.delete(inflight[i]!);
      if (!lease.released) lease.forget([inflight[i]!]);
    }
  }

  /** An answer to a round's probe (the pool routed it to this lease by token; `routes` names the target). */
  #outcome(lease: Lease, routes: Map<number, Entry>, token: number, outcome: ProbeOutcome): void {
    const e = routes.get(token);
    if (e === undefined || e.removed || e.inflightLease !== lease || e.inflight === null) return;
    const i = e.inflight.indexOf(token);
    if (i < 0 || i % 2 !== 0) return;
    if ((outcome.kind === 'tooBig' || outcome.kind === 'unreachable') && outcome.unproven !== undefined) {
      lease.prober.disregard(outcome, `unproven ${outcome.kind}: ${outcome.unproven}`);
    }
    e.machine.outcome(e.inflight[i + 1]!, outcome, this.#engine.scheduler.now());
    this.#wake(e);
  }

  #enqueueSearch(e: Entry, request: SearchRequest): void {
    this.#queue.push({ entry: e, request });
    this.#drainQueue();
  }

  #drainQueue(): void {
    while (!this.#stopped && this.#searches.size < SEARCH_CONCURRENCY && this.#queueHead < this.#queue.length) {
      const { entry, request } = this.#queue[this.#queueHead++]!;
      if (entry.removed) continue;
      const run = this.#runSearch(entry, request).finally(() => {
        this.#searches.delete(run);
        this.#drainQueue();
      });
      this.#searches.add(run);
    }
    if (this.#queueHead === this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
    }
  }

  async #runSearch(e: Entry, request: SearchRequest): Promise<void> {
    const ac = new AbortController();
    e.search = ac;
    const o = this.#options;
    // The first search resolves the name and picks the method; later ones keep both. At the raise
    // timer a name is resolved again: its address may have changed (then the whole range is searched).
    const first = e.address === null;
    let address = e.address;
    let min = request.min ?? o.min;
    try {
      if (!first && request.purpose === 'up' && isName(e.target)) {
        const r = await resolveTarget(e.target, e.family!);
        if (r.address !== e.address) {
          e.machine.addressChanged(`${e.target} is now ${r.address} (was ${e.address})`);
          address = r.address;
          min = o.min;
        }
      }
    } catch (err) {
      return this.#searchFailed(e, err);
    }
    const max = request.max ?? o.max;
    const opts: DiscoverOptions = {
      signal: ac.signal,
      engine: this.#engine,
      ...(first ? (o.method !== undefined ? { method: o.method } : {}) : { method: e.method! }),
      ...(first ? (o.family !== undefined ? { family: o.family } : {}) : { family: e.family! }),
      ...(min !== undefined ? { min } : {}),
      ...(max !== undefined ? { max } : {}),
      ...(o.port !== undefined ? { port: o.port } : {}),
    };
    let result: DiscoverResult;
    try {
      result = await discover(first ? e.target : address!, opts);
    } catch (err) {
      return this.#searchFailed(e, err);
    }
    e.search = null;
    this.#count(e, result.probes, this.#engine.scheduler.now());
    if (this.#stopped || e.removed || result.aborted) return;
    e.address = result.address;
    e.family = result.family;
    e.method = result.method;
    e.lastError = undefined;
    e.machine.searchDone(result, this.#engine.scheduler.now()); // a DiscoverResult is a SearchOutcome
    this.#wake(e);
  }

  #searchFailed(e: Entry, err: unknown): void {
    e.search = null;
    if (this.#stopped || e.removed) return;
    e.machine.searchFailed(err instanceof Error ? err : new Error(String(err)), this.#engine.scheduler.now());
    this.#report(e, err);
    this.#wake(e);
  }

  #emitChange(e: Entry, c: Change): void {
    // The machine's clock is the scheduler's; the event's time is the wall clock at that moment.
    const wall = Date.now() - (this.#engine.scheduler.now() - c.atMs);
    const ev: WatchEvent = {
      time: new Date(wall).toISOString(),
      target: e.target,
      address: e.address ?? e.target,
      family: e.family ?? 4,
      method: e.method ?? 'udp',
      pmtu: c.pmtu,
      previous: c.previous,
      reason: c.reason,
      blackHole: c.blackHole,
      ...(c.ptbFrom !== undefined ? { ptbFrom: c.ptbFrom } : {}),
      detail: c.detail,
    };
    e.lastEvent = ev;
    e.changes++;
    e.sinceMs = wall;
    this.emit('change', ev);
  }

  #report(e: Entry, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (message === e.lastError) return;
    e.lastError = message;
    if (this.listenerCount('error') > 0) this.emit('error', new WatchTargetError(e.target, err));
  }

  /** Move the rate window on: the current window becomes the previous one (or both empty). */
  #roll(e: Entry, now: number): void {
    const windows = Math.floor((now - e.windowStart) / RATE_WINDOW_MS);
    if (windows <= 0) return;
    e.previousCount = windows === 1 ? e.windowCount : 0;
    e.windowCount = 0;
    e.windowStart += windows * RATE_WINDOW_MS;
  }

  #count(e: Entry, n: number, now: number): void {
    if (n <= 0) return;
    e.probesSent += n;
    this.#roll(e, now);
    e.windowCount += n;
  }

  /** Probes per second over the last minute: the current window plus the previous one's overlap. */
  #rate(e: Entry, now: number): number {
    this.#roll(e, now);
    const into = now - e.windowStart;
    const age = now - e.startedAt;
    if (age < RATE_WINDOW_MS) return (e.windowCount * 1000) / Math.max(1000, age);
    const recent = e.windowCount + e.previousCount * (1 - into / RATE_WINDOW_MS);
    return (recent * 1000) / RATE_WINDOW_MS;
  }
}

/** A target given by name, not an address literal. */
function isName(target: string): boolean {
  return ipFamily(target.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '')) === 0;
}

function validate(o: WatchOptions): void {
  const seconds = (name: 'intervalS' | 'raiseS', lo: number, hi: number): void => {
    const v = o[name];
    if (v !== undefined && !(typeof v === 'number' && v >= lo && v <= hi)) {
      throw new UsageError((n) => `${n(name)} must be from ${lo} to ${hi} seconds, got ${String(v)}`);
    }
  };
  seconds('intervalS', 0.01, 86_400);
  seconds('raiseS', 0.01, 7 * 86_400);
  const intIn = (name: 'min' | 'max' | 'port' | 'ratePps', v: number | undefined, lo: number, hi: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < lo || v > hi)) throw new UsageError((n) => `${n(name)} must be an integer from ${lo} to ${hi}, got ${v}`);
  };
  intIn('min', o.min, 68, 65575);
  intIn('max', o.max, 68, 65575);
  intIn('port', o.port, 1, 65535);
  intIn('ratePps', o.ratePps, 1, 10_000_000);
  if (o.family !== undefined && o.family !== 4 && o.family !== 6) throw new UsageError((n) => `${n('family')} must be 4 or 6, got ${String(o.family)}`);
  if (o.method !== undefined && !isMethodChoice(o.method)) throw new UsageError((n) => `unknown ${n('method', `'${o.method}'`)} (choose from ${METHOD_CHOICES.join(', ')})`);
  if (o.engine !== undefined && o.ratePps !== undefined) throw new UsageError((n) => `${n('ratePps')} is the engine's when an ${n('engine')} is given: set it there`);
}
