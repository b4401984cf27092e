// ping(): echo requests of a chosen size with DF set (or not), one every interval, each answer
// matched to its request by the prober (echo id, sequence, nonce — never by arrival order), so
// other pings' replies, duplicates and forged errors are told apart from ours. Seed 003's ping
// read "the next packet" off a raw socket and took whatever came; this one does not.
import { AbortError, SystemCallError, UsageError } from '../errors.js';
import { resolveTarget } from '../sock/resolve.js';
import type { ProbeOutcome } from '../probe/prober.js';
import { ECHO_METHODS } from '../probe/outcome.js';
import { ProbeReporter } from '../probe/diagnostics.js';
import { overhead, packetSize, sweepSizes } from './sizes.js';
import { openPingProber, type PingProber } from './socket.js';
import { summarize, sweepReport } from './stats.js';
import type { Family } from '../wire/facts.js';
import type { PingHeader, PingMethod, PingMethodChoice, PingOptions, PingProbe, PingResult } from './types.js';

export const DEFAULT_INTERVAL_MS = 1000;
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

  const { prober, method } = openPingProber(family, options.method ?? 'auto', df);
  const header = pingHeader(target, resolved.address, family, method, df, options, sweep, single);
  const sizeOf = (i: number): number => (sweep !== null ? sweep.sizes[i] : single!.size);
  const run = new PingRun(prober, header, options, new ProbeReporter('ping', family, resolved.address));
  try {
    options.onSocketsOpen?.();
    options.onStart?.(header);
    await run.sendAll(sizeOf);
    await run.awaitAnswers();
  } finally {
    run.close();
  }
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
 * One ping run: the requests waiting for their answer (each with its own deadline), the settled
 * ones (to tell duplicates and late answers), and one sleeper woken by whatever needs attention
 * (an answer, a failure, the abort).
 */
class PingRun {
  readonly probes: PingProbe[] = [];
  late = 0;
  ignored = 0;
  readonly #prober: PingProber;
  readonly #header: PingHeader;
  readonly #options: PingOptions;
  readonly #waiting = new Map<number, { probe: PingProbe; timer: NodeJS.Timeout }>();
  readonly #settled = new Map<number, PingProbe>();
  readonly #started = process.hrtime.bigint();
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  readonly #onOutcome = (token: number, o: ProbeOutcome): void => this.#outcome(token, o);
  readonly #onAbort = (): void => this.#poke();

  readonly #reporter: ProbeReporter;

  constructor(prober: PingProber, header: PingHeader, options: PingOptions, reporter: ProbeReporter) {
    this.#reporter = reporter;
    this.#prober = prober;
    this.#header = header;
    this.#options = options;
    prober.on('outcome', this.#onOutcome);
    prober.on('ignored', () => this.ignored++);
    prober.on('error', (err) => {
      this.#failure ??= err;
      this.#poke();
    });
    options.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  elapsed(): number {
    return Number(process.hrtime.bigint() - this.#started) / 1e6;
  }

  #stop(): boolean {
    return this.#options.signal?.aborted === true || this.#failure !== undefined;
  }

  /** Send every request on its absolute schedule, unless stopped. */
  async sendAll(sizeOf: (i: number) => number): Promise<void> {
    const total = this.#header.count ?? Infinity;
    for (let i = 0; i < total && !this.#stop(); i++) {
      // Absolute schedule: a slow callback does not stretch the interval for the requests after it.
      const at = i * this.#header.intervalMs;
      while (!this.#stop() && this.elapsed() < at) await this.#sleepUntil(at);
      if (this.#stop()) break;
      this.#send(i + 1, sizeOf(i));
    }
  }

  /** Wait for the last answers (each request has its own deadline), unless stopped. */
  async awaitAnswers(): Promise<void> {
    while (!this.#stop() && this.#waiting.size > 0) await this.#sleepUntil(Infinity);
    if (this.#failure !== undefined) throw this.#failure;
  }

  #send(seq: number, size: number): void {
    const probe: PingProbe = { seq, size, outcome: 'lost' };
    this.probes.push(probe);
    let token: number;
    try {
      token = this.#prober.send(this.#header.address, size, this.#header.ttl !== null ? { ttl: this.#header.ttl } : {});
    } catch (err) {
      if (!(err instanceof SystemCallError)) throw err;
      // The kernel refused this one (no route, neighbour unreachable, ...): an error, and on we go.
      probe.outcome = 'unreachable';
      probe.reason = `not sent: ${err.message}`;
      this.#report(probe);
      return;
    }
    const ttl = this.#header.ttl ?? undefined;
    this.#reporter.sent(this.#header.method, token, size, ttl);
    const timer = setTimeout(() => {
      this.#reporter.settled(this.#header.method, token, ttl !== undefined ? { kind: 'lost', size, ttl } : { kind: 'lost', size });
      this.#settle(token, () => {});
    }, this.#header.timeoutMs);
    this.#waiting.set(token, { probe, timer });
  }

  #outcome(token: number, o: ProbeOutcome): void {
    this.#reporter.settled(this.#header.method, token, o);
    if (this.#waiting.has(token)) return this.#settle(token, (p) => describe(p, o));
    const first = this.#settled.get(token);
    if (first === undefined) return; // a request from before this run (cannot happen: one prober per run)
    if (first.outcome === 'lost') {
      this.late++;
      return;
    }
    // The prober re-emits every further copy of an answer: a duplicate, never a second reply.
    const dup: PingProbe = { seq: first.seq, size: first.size, outcome: 'lost', duplicate: true };
    describe(dup, o);
    this.probes.push(dup);
    this.#report(dup);
  }

  #settle(token: number, fill: (p: PingProbe) => void): void {
    const w = this.#waiting.get(token);
    if (w === undefined) return;
    clearTimeout(w.timer);
    this.#waiting.delete(token);
    fill(w.probe);
    this.#settled.set(token, w.probe);
    this.#report(w.probe);
    this.#poke();
  }

  #report(p: PingProbe): void {
    try {
      this.#options.onReply?.(p);
    } catch (err) {
      this.#failure ??= err as Error;
      this.#poke();
    }
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** Sleep until `atMs` after the start, or until something needs attention. */
  #sleepUntil(atMs: number): Promise<void> {
    return new Promise((resolve) => {
      let t: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (t !== undefined) clearTimeout(t);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      // No timer for "until poked": Node turns an infinite delay into 1 ms.
      if (Number.isFinite(atMs)) t = setTimeout(done, Math.max(0, atMs - this.elapsed()));
      this.#wake = done;
    });
  }

  close(): void {
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    for (const w of this.#waiting.values()) clearTimeout(w.timer);
    this.#prober.off('outcome', this.#onOutcome);
    this.#prober.close();
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
