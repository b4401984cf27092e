// Watcher: many targets, each kept true by its WatchMachine (machine.ts). The Watcher only carries
// out what the machines ask: searches (discover(), bounded), confirmation probes through one shared
// prober per (family, method), one timer for every target (the earliest wake-up), 'change' events.
//
// Searches run at most SEARCH_CONCURRENCY at once (each discover() opens its own sockets until the
// engine's pool lands); confirmation probes of every target share one socket per (family, method),
// their answers routed back by the prober's token. WatchOptions.ratePps caps the confirmation rounds
// of all targets together (a token bucket: a due round waits for its two probes' tokens); the
// searches' own probes are not under it until they run on the engine's pool.
import { EventEmitter } from 'node:events';
import { discover, type DiscoverOptions, type DiscoverResult } from '../discover/discover.js';
import { openMethod } from '../discover/methods.js';
import { PathMtuError, UsageError } from '../errors.js';
import { METHOD_CHOICES, isMethodChoice, type MethodName } from '../probe/outcome.js';
import type { Prober, ProbeOutcome } from '../probe/prober.js';
import type { Family } from '../wire/facts.js';
import { DEFAULT_INTERVAL_S, DEFAULT_RAISE_S, WatchMachine, type Change, type SearchRequest } from './machine.js';
import type { WatchEvent, WatchOptions, WatchState, WatcherApi } from './types.js';

/** Searches (discover runs) in flight at once, all targets together. */
export const SEARCH_CONCURRENCY = 32;
/** Window of WatchState.probesPerSecond. */
const RATE_WINDOW_MS = 60_000;
/** A confirmation probe's token is forgotten this long after it was sent (its machine gave up long before). */
const TOKEN_TTL_MS = 10_000;

/** An error about one watched target (it could not be resolved, a search failed); the others go on. */
export class WatchTargetError extends PathMtuError {
  readonly target: string;
  constructor(target: string, cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`${target}: ${message}`, cause instanceof PathMtuError ? cause.code : 'ERR_WATCH_TARGET', { cause });
    this.target = target;
  }
}

interface Entry {
  target: string;
  machine: WatchMachine;
  address: string | null;
  family: Family | null;
  method: MethodName | null;
  wakeAt: number | null;
  sinceMs: number | null;
  lastEvent: WatchEvent | null;
  changes: number;
  probesSent: number;
  /** [performance.now(), probes] of the last minute. */
  sent: Array<[number, number]>;
  startedAt: number;
  search: AbortController | null;
  removed: boolean;
  /** Last error reported for this target, so it is not repeated at every retry. */
  lastError?: string;
}

interface PendingProbe {
  entry: Entry;
  token: number;
  at: number;
}

interface Shared {
  prober: Prober;
  pending: Map<number, PendingProbe>;
}

export class Watcher extends EventEmitter implements WatcherApi {
  readonly #options: WatchOptions & { intervalS: number; raiseS: number };
  readonly #entries = new Map<string, Entry>();
  readonly #probers = new Map<string, Shared>();
  readonly #queue: Array<{ entry: Entry; request: SearchRequest }> = [];
  readonly #searches = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #armQueued = false;
  #started = false;
  /** ratePps's token bucket (a burst of one second's worth), for the confirmation rounds. */
  #tokens = 0;
  #tokensAt = 0;
  #stopped = false;
  #onAbort = (): void => void this.stop();

  constructor(targets: string[], options: WatchOptions = {}) {
    super();
    validate(options);
    this.#options = { ...options, intervalS: options.intervalS ?? DEFAULT_INTERVAL_S, raiseS: options.raiseS ?? DEFAULT_RAISE_S };
    this.#setTargetList(targets);
    this.#tokens = this.#options.ratePps ?? 0;
    this.#tokensAt = performance.now();
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#options.signal?.aborted) return this.stop();
    this.#options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    for (const e of this.#entries.values()) this.#pump(e);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
    for (const e of this.#entries.values()) e.search?.abort();
    await Promise.allSettled([...this.#searches]);
    for (const s of this.#probers.values()) s.prober.close();
    this.#probers.clear();
  }

  setTargets(targets: string[]): void {
    const keep = new Set(targets.map((t) => t.trim()).filter((t) => t !== ''));
    for (const [name, e] of this.#entries) {
      if (keep.has(name)) continue;
      e.removed = true;
      e.search?.abort();
      this.#entries.delete(name);
    }
    const added = this.#setTargetList([...keep]);
    if (this.#started && !this.#stopped) for (const e of added) this.#pump(e);
    this.#armSoon();
  }

  states(): WatchState[] {
    const now = performance.now();
    return [...this.#entries.values()].map((e) => {
      const m = e.machine;
      e.sent = e.sent.filter(([at]) => at > now - RATE_WINDOW_MS);
      const window = Math.max(1000, Math.min(RATE_WINDOW_MS, now - e.startedAt));
      const recent = e.sent.reduce((n, [, c]) => n + c, 0);
      return {
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
        probesPerSecond: (recent * 1000) / window,
        ...(m.error !== undefined ? { error: m.error } : {}),
      };
    });
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
    for (const raw of targets) {
      const target = raw.trim();
      if (target === '' || this.#entries.has(target)) continue;
      const machine = new WatchMachine({
        intervalMs: this.#options.intervalS * 1000,
        raiseMs: this.#options.raiseS * 1000,
        ...(this.#options.min !== undefined ? { min: this.#options.min } : {}),
        ...(this.#options.max !== undefined ? { max: this.#options.max } : {}),
      });
      const e: Entry = {
        target, machine, address: null, family: null, method: null, wakeAt: null, sinceMs: null, lastEvent: null,
        changes: 0, probesSent: 0, sent: [], startedAt: performance.now(), search: null, removed: false,
      };
      this.#entries.set(target, e);
      added.push(e);
    }
    return added;
  }

  /** Poll one target's machine and do what it asks. */
  #pump(e: Entry): void {
    if (this.#stopped || e.removed) return;
    const now = performance.now();
    const p = e.machine.poll(now);
    for (const c of p.changes) this.#emitChange(e, c);
    if (p.probes.length > 0) this.#sendProbes(e, p.probes, now);
    if (p.search !== null) this.#enqueueSearch(e, p.search);
    e.wakeAt = p.wakeAt;
    this.#armSoon();
  }

  #sendProbes(e: Entry, probes: Array<{ token: number; size: number }>, now: number): void {
    let shared: Shared;
    try {
      shared = this.#shared(e.family!, e.method!);
    } catch (err) {
      this.#report(e, err);
      return; // the machine declares them lost; a permission that never comes makes the target look down
    }
    for (const probe of probes) {
      const size = Math.max(probe.size, shared.prober.minSize);
      try {
        const t = shared.prober.send(e.address!, size);
        shared.pending.set(t, { entry: e, token: probe.token, at: now });
        this.#count(e, 1, now);
        this.#tokens--;
      } catch (err) {
        this.#report(e, err);
      }
    }
  }

  #shared(family: Family, method: MethodName): Shared {
    const key = `${family}/${method}`;
    let s = this.#probers.get(key);
    if (s !== undefined) return s;
    const prober = openMethod(method, family, this.#options.port !== undefined ? { port: this.#options.port } : {});
    const pending = new Map<number, PendingProbe>();
    s = { prober, pending };
    prober.on('outcome', (token: number, outcome: ProbeOutcome) => {
      const p = pending.get(token);
      if (p === undefined) return;
      // A delivery may follow an error for the same probe; keep the token until it is old.
      if (outcome.kind === 'delivered') pending.delete(token);
      if ((outcome.kind === 'tooBig' || outcome.kind === 'unreachable') && outcome.unproven !== undefined) {
        prober.disregard(outcome, `unproven ${outcome.kind}: ${outcome.unproven}`);
      }
      if (p.entry.removed) return;
      p.entry.machine.outcome(p.token, outcome, performance.now());
      this.#pump(p.entry);
    });
    prober.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    this.#probers.set(key, s);
    return s;
  }

  #enqueueSearch(e: Entry, request: SearchRequest): void {
    this.#queue.push({ entry: e, request });
    this.#drainQueue();
  }

  #drainQueue(): void {
    while (!this.#stopped && this.#searches.size < SEARCH_CONCURRENCY && this.#queue.length > 0) {
      const { entry, request } = this.#queue.shift()!;
      if (entry.removed) continue;
      const run = this.#runSearch(entry, request).finally(() => {
        this.#searches.delete(run);
        this.#drainQueue();
      });
      this.#searches.add(run);
    }
  }

  async #runSearch(e: Entry, request: SearchRequest): Promise<void> {
    const ac = new AbortController();
    e.search = ac;
    const o = this.#options;
    // The first search resolves the name and picks the method; later ones keep both.
    const first = e.address === null;
    const min = request.min ?? o.min;
    const max = request.max ?? o.max;
    const opts: DiscoverOptions = {
      signal: ac.signal,
      ...(first ? (o.method !== undefined ? { method: o.method } : {}) : { method: e.method! }),
      ...(first ? (o.family !== undefined ? { family: o.family } : {}) : { family: e.family! }),
      ...(min !== undefined ? { min } : {}),
      ...(max !== undefined ? { max } : {}),
      ...(o.port !== undefined ? { port: o.port } : {}),
    };
    let result: DiscoverResult;
    try {
      result = await discover(first ? e.target : e.address!, opts);
    } catch (err) {
      e.search = null;
      if (this.#stopped || e.removed) return;
      e.machine.searchFailed(err instanceof Error ? err : new Error(String(err)), performance.now());
      this.#report(e, err);
      this.#pump(e);
      return;
    }
    e.search = null;
    this.#count(e, result.probes, performance.now());
    if (this.#stopped || e.removed || result.aborted) return;
    e.address = result.address;
    e.family = result.family;
    e.method = result.method;
    e.lastError = undefined;
    e.machine.searchDone(
      {
        family: result.family,
        pmtu: result.pmtu,
        exact: result.exact,
        blackHole: result.blackHole,
        unreachable: result.unreachable,
        localMtu: result.localMtu,
        ptbs: result.ptbs,
        ...(result.blackHoleAbove !== undefined ? { blackHoleAbove: result.blackHoleAbove } : {}),
        ...(result.reason !== undefined ? { reason: result.reason } : {}),
      },
      performance.now(),
    );
    this.#pump(e);
  }

  #emitChange(e: Entry, c: Change): void {
    const ev: WatchEvent = {
      time: new Date(performance.timeOrigin + c.atMs).toISOString(),
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
    e.sinceMs = performance.timeOrigin + c.atMs;
    this.emit('change', ev);
  }

  #report(e: Entry, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (message === e.lastError) return;
    e.lastError = message;
    if (this.listenerCount('error') > 0) this.emit('error', new WatchTargetError(e.target, err));
  }

  #count(e: Entry, n: number, now: number): void {
    if (n <= 0) return;
    e.probesSent += n;
    e.sent.push([now, n]);
    if (e.sent.length > 256) e.sent = e.sent.filter(([at]) => at > now - RATE_WINDOW_MS);
  }

  /** Refill the bucket up to one second's worth; true when it holds `n` tokens. */
  #tokensFor(n: number, now: number, rate: number): boolean {
    this.#tokens = Math.min(Math.max(2, rate), this.#tokens + ((now - this.#tokensAt) / 1000) * rate);
    this.#tokensAt = now;
    return this.#tokens >= n;
  }

  /** Re-arm the one timer after the current burst of work (many pumps coalesce into one scan). */
  #armSoon(): void {
    if (this.#armQueued || this.#stopped || !this.#started) return;
    this.#armQueued = true;
    queueMicrotask(() => {
      this.#armQueued = false;
      this.#arm();
    });
  }

  #arm(): void {
    if (this.#stopped) return;
    let at = Infinity;
    for (const e of this.#entries.values()) if (e.wakeAt !== null && e.wakeAt < at) at = e.wakeAt;
    if (at === this.#timerAt && this.#timer !== undefined) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === Infinity) return;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, Math.ceil(at - performance.now())));
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    const rate = this.#options.ratePps;
    for (const e of this.#entries.values()) {
      if (e.wakeAt === null || e.wakeAt > now) continue;
      // The global cap: a due round waits until the bucket holds its two probes.
      if (rate !== undefined && !this.#tokensFor(2, now, rate)) {
        e.wakeAt = now + (2 - this.#tokens) * (1000 / rate);
        continue;
      }
      this.#pump(e);
    }
    for (const s of this.#probers.values()) {
      for (const [t, p] of s.pending) if (p.at < now - TOKEN_TTL_MS) s.pending.delete(t);
    }
    this.#arm();
  }
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
}
