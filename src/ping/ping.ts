// ping(): echo requests of a chosen size with DF set (or not), one every interval, each answer
// matched to its request by the prober (echo id, sequence, nonce — never by arrival order), so
// other pings' replies, duplicates and forged errors are told apart from ours. Seed 003's ping
// read "the next packet" off a raw socket and took whatever came; this one does not.
// The series is a job of the engine's scheduler (src/engine): requests go out through a lease on
// the pool's shared prober, under the global rate cap, and the send times and each request's
// deadline are wake-ups on the scheduler's one timer (no timer per request).
import { AbortError, SystemCallError, UsageError } from '../errors.js';
import { resolveTarget } from '../sock/resolve.js';
import type { Ignored, ProbeOutcome } from '../probe/prober.js';
import { ECHO_METHODS } from '../probe/outcome.js';
import { ProbeReporter } from '../probe/diagnostics.js';
import { overhead, packetSize, sweepSizes } from './sizes.js';
import { leasePingProber } from './socket.js';
import { defaultEngine, type Engine } from '../engine/engine.js';
import type { Lease } from '../engine/pool.js';
import type { JobHandle, StepResult } from '../engine/scheduler.js';
import { summarize, sweepReport } from './stats.js';
import type { Family } from '../wire/facts.js';
import type { PingHeader, PingMethod, PingMethodChoice, PingOptions, PingProbe, PingResult } from './types.js';

export const DEFAULT_INTERVAL_MS = 1000;
/** -W: ping's own default wait per request (iputils' 1 s), not the engine's adaptive loss timeout. */
export const DEFAULT_TIMEOUT_MS = 1000;
/** What ping's `method` accepts: auto or one of the echo methods. */
export const PING_METHOD_CHOICES: readonly PingMethodChoice[] = ['auto', ...ECHO_METHODS];

export function isPingMethodChoice(value: unknown): value is PingMethodChoice {
  return (PING_METHOD_CHOICES as readonly unknown[]).includes(value);
}
/** Faster than this only as root, like iputils: a user must not flood a network by accident. */
export const MIN_USER_INTERVAL_MS = 200;

function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

function checkOptions(o: PingOptions): void {
  const positive = (name: string, v: number | undefined, max: number): void => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0 && v <= max)) throw new UsageError(`${name} must be more than 0 and at most ${max}, got ${v}`);
  };
  if (o.count !== undefined && !(Number.isInteger(o.count) && o.count >= 1)) throw new UsageError(`count must be a whole number of at least 1, got ${o.count}`);
  if (o.sweep !== undefined && o.count !== undefined) throw new UsageError('a sweep sends one request per size; count does not apply');
  if (o.sweep !== undefined && (o.size !== undefined || o.payload !== undefined)) throw new UsageError('a sweep sets the sizes itself; size/payload do not apply');
  if (o.count === undefined && o.sweep === undefined && o.signal === undefined) {
    throw new UsageError('give a count (or a signal to stop an endless ping)');
  }
  positive('interval (ms)', o.intervalMs, 3_600_000);
  positive('timeout (ms)', o.timeoutMs, 600_000);
  if (o.intervalMs !== undefined && o.intervalMs < MIN_USER_INTERVAL_MS && !isRoot()) {
    throw new UsageError(`an interval below ${MIN_USER_INTERVAL_MS / 1000} s needs root (as with ping: flooding is for the superuser)`);
  }
  if (o.ttl !== undefined && !(Number.isInteger(o.ttl) && o.ttl >= 1 && o.ttl <= 255)) throw new UsageError(`ttl must be 1..255, got ${o.ttl}`);
  const method = o.method ?? 'auto';
  if (!isPingMethodChoice(method)) throw new UsageError(`method must be ${PING_METHOD_CHOICES.join(', ')}, got '${String(method)}'`);
}

/** Echo the target with DF-aware requests; resolves with every probe's fate and the summary. */
export async function ping(target: string, options: PingOptions = {}): Promise<PingResult> {
  checkOptions(options);
  const { signal } = options;
  if (signal?.aborted) throw new AbortError();
  const resolved = await resolveTarget(target, options.family);
  const family = resolved.family;
  const df = options.df ?? true;
  const sweep = options.sweep !== undefined ? sweepSizes(options.sweep, family) : null;
  const single = sweep === null ? packetSize(options, family) : null;
  if (signal?.aborted) throw new AbortError();

  const engine = options.engine ?? defaultEngine();
  const { lease, method } = leasePingProber(engine.pool, family, options.method ?? 'auto', df);
  const header = pingHeader(target, resolved.address, family, method, df, options, sweep, single);
  const sizeOf = (i: number): number => (sweep !== null ? sweep.sizes[i] : single!.size);
  const run = new PingRun(engine, lease, header, options, new ProbeReporter('ping', family, resolved.address));
  try {
    options.onSocketsOpen?.();
    options.onStart?.(header);
    await run.run(sizeOf);
  } finally {
    run.close();
  }
  // Aborted before the first request: nothing was learned, the run rejects (engine/index.ts).
  if (run.probes.length === 0 && signal?.aborted) throw new AbortError();
  // Requests still waiting when interrupted stay 'lost': sent, never answered (as ping counts them).
  const elapsedMs = run.elapsed();
  return {
    ...header,
    probes: run.probes,
    summary: summarize(run.probes, run.late, elapsedMs),
    sweepReport: sweep !== null ? sweepReport(sweep.range, run.probes) : null,
    ignored: run.ignored,
    aborted: signal?.aborted === true,
  };
}

type Sweep = ReturnType<typeof sweepSizes>;

/** What the run will do, as reported before the first request (onStart) and in the result. */
function pingHeader(
  target: string,
  address: string,
  family: Family,
  method: PingMethod,
  df: boolean,
  options: PingOptions,
  sweep: Sweep | null,
  single: ReturnType<typeof packetSize> | null,
): PingHeader {
  return {
    target,
    address,
    family,
    method,
    socket: method === 'icmp' ? 'raw' : 'ping',
    sizeUnit: single?.unit ?? 'packet',
    size: single?.size ?? null,
    payload: single !== null ? single.size - overhead(family) : null,
    overhead: overhead(family),
    df,
    ttl: options.ttl ?? null,
    intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    count: sweep !== null ? sweep.sizes.length : (options.count ?? null),
    sweep: sweep?.range ?? null,
  };
}

/**
 * One ping run, a scheduler job: each step sends the requests whose time has come (an absolute
 * schedule, i × interval from the start) and gives up the ones whose deadline passed; it wakes at
 * whichever comes next. Answers arrive through the lease, routed by token, and settle their request
 * at once; the settled ones are kept to tell duplicates and late answers.
 */
class PingRun {
  readonly probes: PingProbe[] = [];
  late = 0;
  ignored = 0;
  readonly #engine: Engine;
  readonly #lease: Lease;
  readonly #header: PingHeader;
  readonly #options: PingOptions;
  readonly #reporter: ProbeReporter;
  /** Requests waiting for their answer, in sending order (so in deadline order: one timeout for all). */
  readonly #waiting = new Map<number, { probe: PingProbe; deadline: number }>();
  readonly #settled = new Map<number, PingProbe>();
  readonly #started = performance.now();
  #next = 0;
  #handle: JobHandle | undefined;
  #done: ((err?: Error) => void) | undefined;
  readonly #onAbort = (): void => this.#end();

  constructor(engine: Engine, lease: Lease, header: PingHeader, options: PingOptions, reporter: ProbeReporter) {
    this.#engine = engine;
    this.#lease = lease;
    this.#header = header;
    this.#options = options;
    this.#reporter = reporter;
    lease.onIgnored = (_i: Ignored) => this.ignored++;
    lease.onError = (err) => this.#end(err);
  }

  /** Milliseconds since the run began. */
  elapsed(): number {
    return performance.now() - this.#started;
  }

  /** Send every request on its schedule and wait for the answers; resolves early when aborted. */
  run(sizeOf: (i: number) => number): Promise<void> {
    const { signal } = this.#options;
    return new Promise<void>((resolve, reject) => {
      this.#done = (err) => (err !== undefined ? reject(err) : resolve());
      if (signal?.aborted) return this.#end();
      signal?.addEventListener('abort', this.#onAbort, { once: true });
      this.#handle = this.#engine.scheduler.add({ step: () => this.#step(sizeOf), fail: (err) => this.#end(err as Error) });
    });
  }

  #step(sizeOf: (i: number) => number): StepResult {
    if (this.#done === undefined) return { sent: 0, wakeAt: null };
    const total = this.#header.count ?? Infinity;
    const interval = this.#header.intervalMs;
    let now = this.elapsed();
    this.#expire(now);
    let sent = 0;
    // Absolute schedule: a slow callback does not stretch the interval for the requests after it.
    while (this.#done !== undefined && this.#next < total && this.#next * interval <= now) {
      this.#send(this.#next + 1, sizeOf(this.#next));
      this.#next++;
      sent++;
      now = this.elapsed();
    }
    if (this.#done === undefined) return { sent, wakeAt: null };
    if (this.#finished()) {
      this.#end();
      return { sent, wakeAt: null };
    }
    let wakeAt = this.#next < total ? this.#next * interval : Infinity;
    const first = this.#waiting.values().next();
    if (!first.done) wakeAt = Math.min(wakeAt, first.value.deadline);
    return { sent, wakeAt: this.#engine.scheduler.now() + Math.max(0, wakeAt - now) };
  }

  #finished(): boolean {
    return this.#next >= (this.#header.count ?? Infinity) && this.#waiting.size === 0;
  }

  /** Give up the requests whose deadline has passed (sending order is deadline order). */
  #expire(now: number): void {
    for (const [token, w] of this.#waiting) {
      if (w.deadline > now) break;
      this.#lost(token, w.probe);
    }
  }

  #lost(token: number, probe: PingProbe): void {
    const ttl = this.#header.ttl ?? undefined;
    this.#reporter.settled(this.#header.method, token, ttl !== undefined ? { kind: 'lost', size: probe.size, ttl } : { kind: 'lost', size: probe.size });
    this.#settle(token, () => {});
  }

  #send(seq: number, size: number): void {
    const probe: PingProbe = { seq, size, outcome: 'lost' };
    this.probes.push(probe);
    let token: number;
    try {
      token = this.#lease.send(this.#header.address, size, this.#header.ttl !== null ? { ttl: this.#header.ttl } : {}, this.#onOutcome);
    } catch (err) {
      if (!(err instanceof SystemCallError)) throw err;
      // The kernel refused this one (no route, neighbour unreachable, ...): an error, and on we go.
      probe.outcome = 'unreachable';
      probe.reason = `not sent: ${err.message}`;
      this.#report(probe);
      return;
    }
    this.#reporter.sent(this.#header.method, token, size, this.#header.ttl ?? undefined);
    this.#waiting.set(token, { probe, deadline: this.elapsed() + this.#header.timeoutMs });
  }

  readonly #onOutcome = (token: number, o: ProbeOutcome): void => {
    const w = this.#waiting.get(token);
    // Stopped (aborted, failed): what was waiting stays lost, as it was when the run stopped.
    if (w !== undefined && this.#done === undefined) return;
    // Past its deadline (the step that gives it up has not run yet): lost first, then late, as -W says.
    if (w !== undefined && this.elapsed() >= w.deadline) this.#lost(token, w.probe);
    this.#reporter.settled(this.#header.method, token, o);
    // (A copy of the last answer read with it, after the run ended, is still counted below until close.)
    if (this.#waiting.has(token)) {
      this.#settle(token, (p) => describe(p, o));
      // The last answer ends the run now, without waiting for the scheduler's next turn.
      if (this.#done !== undefined && this.#finished()) this.#end();
      return;
    }
    const first = this.#settled.get(token);
    if (first === undefined) return;
    if (first.outcome === 'lost') {
      this.late++;
      return;
    }
    // The prober re-emits every further copy of an answer: a duplicate, never a second reply.
    const dup: PingProbe = { seq: first.seq, size: first.size, outcome: 'lost', duplicate: true };
    describe(dup, o);
    this.probes.push(dup);
    this.#report(dup);
  };

  #settle(token: number, fill: (p: PingProbe) => void): void {
    const w = this.#waiting.get(token);
    if (w === undefined) return;
    this.#waiting.delete(token);
    fill(w.probe);
    this.#settled.set(token, w.probe);
    this.#report(w.probe);
  }

  #report(p: PingProbe): void {
    try {
      this.#options.onReply?.(p);
    } catch (err) {
      this.#end(err as Error);
    }
  }

  /** Every way out: the job leaves the scheduler, the listener leaves the signal; once. */
  #end(err?: Error): void {
    const done = this.#done;
    if (done === undefined) return;
    this.#done = undefined;
    if (this.#handle !== undefined) this.#engine.scheduler.remove(this.#handle);
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    done(err);
  }

  /** Let go of the prober (answers still on their way are no longer routed here). */
  close(): void {
    this.#end();
    this.#lease.release();
  }
}

/** Copy a probe outcome into a ping record. */
function describe(p: PingProbe, o: ProbeOutcome): void {
  switch (o.kind) {
    case 'delivered':
      p.outcome = 'reply';
      p.from = o.from;
      p.rttMs = o.rttMs;
      if (o.replyTtl !== undefined) p.ttl = o.replyTtl;
      return;
    case 'tooBig':
      p.outcome = 'tooBig';
      p.from = o.from;
      p.rttMs = o.rttMs;
      p.nextHopMtu = o.nextHopMtu;
      p.plausible = o.plausible;
      if (o.reason !== undefined) p.reason = o.reason;
      return;
    case 'localTooBig':
      p.outcome = 'localTooBig';
      p.mtu = o.mtu;
      return;
    case 'timeExceeded':
      p.outcome = 'timeExceeded';
      p.from = o.from;
      p.rttMs = o.rttMs;
      return;
    case 'unreachable':
      p.outcome = 'unreachable';
      p.from = o.from;
      p.rttMs = o.rttMs;
      p.reason = o.reason;
      return;
    case 'lost':
      p.outcome = 'lost';
      return;
  }
}
