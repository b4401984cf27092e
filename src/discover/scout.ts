// The scout: which of the other permitted methods does the target answer? While auto's first method
// runs its search, a couple of small probes of every other method go out at the same moment, so that
// when the first one turns out to be filtered (a host that drops echo, or UDP) the fallback is known
// after one round trip instead of after a search's worth of timeouts (issue 9 item 3).
import type { ProbeOutcome } from '../probe/prober.js';
import type { Lease } from '../engine/pool.js';
import type { MethodName } from '../probe/outcome.js';

export interface ScoutAnswer {
  /** Index into the probers the scout was given (their order is the order of preference). */
  index: number;
  method: MethodName;
  rttMs: number;
  /** Milliseconds after the scout started. */
  atMs: number;
}

export interface ScoutOptions {
  /** Size of each probe: small, so that no path MTU stands in its way (the floor). */
  size: number;
  /** Probes per method, sent at once (default 2: one random loss does not hide a method). */
  copies?: number;
  /** Each probe sent, for --verbose and the diagnostics channel. */
  onProbe?: (method: MethodName, size: number, token: number) => void;
  /** Each outcome of a scout probe. */
  onOutcome?: (method: MethodName, outcome: ProbeOutcome, token: number) => void;
  /** One-shot timers (default setTimeout; discover passes the engine scheduler's one timer). */
  timer?: (ms: number, fn: () => void) => { cancel(): void };
  /** The first delivery of each method. */
  onAnswer?: (answer: ScoutAnswer) => void;
}

export class Scout {
  /** First delivery per prober index. */
  readonly answers = new Map<number, ScoutAnswer>();
  sent = 0;
  private readonly started = performance.now();
  /** Methods whose socket failed while scouting: not a fallback. */
  readonly failed = new Set<number>();
  private readonly sentTokens: Array<[Lease, number[], (err: Error) => void]> = [];
  private stopped = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly leases: readonly Lease[],
    address: string,
    private readonly opts: ScoutOptions,
  ) {
    const copies = opts.copies ?? 2;
    this.leases.forEach((lease, index) => {
      const prober = lease.prober;
      const onOutcome = (token: number, o: ProbeOutcome): void => {
        if (this.stopped) return;
        opts.onOutcome?.(prober.method, o, token);
        if (o.kind !== 'delivered' || this.answers.has(index)) return;
        const answer = { index, method: prober.method, rttMs: o.rttMs, atMs: performance.now() - this.started };
        this.answers.set(index, answer);
        opts.onAnswer?.(answer);
        for (const w of [...this.waiters]) w();
      };
      // A socket error here only rules the method out as a fallback.
      const onError = (): void => {
        this.failed.add(index);
      };
      lease.onError = onError;
      const mine: number[] = [];
      this.sentTokens.push([lease, mine, onError]);
      const size = Math.max(opts.size, prober.minSize);
      for (let i = 0; i < copies; i++) {
        try {
          const token = lease.send(address, size, {}, onOutcome);
          mine.push(token);
          this.sent++;
          opts.onProbe?.(prober.method, size, token);
        } catch {
          // A method that cannot even send (no route for it, a local refusal) is simply not a fallback.
          break;
        }
      }
    });
  }

  /** The most preferred method that answered, or undefined. */
  best(): ScoutAnswer | undefined {
    let best: ScoutAnswer | undefined;
    for (const a of this.answers.values()) {
      if (!this.failed.has(a.index) && (best === undefined || a.index < best.index)) best = a;
    }
    return best;
  }

  /** The most preferred answer so far, or the first to come within `ms` (undefined when none does). */
  waitForAnswer(ms: number): Promise<ScoutAnswer | undefined> {
    const now = this.best();
    if (now !== undefined || this.stopped) return Promise.resolve(now);
    const after =
      this.opts.timer ??
      ((t: number, fn: () => void) => {
        const h = setTimeout(fn, t);
        return { cancel: () => clearTimeout(h) };
      });
    return new Promise((resolve) => {
      const done = (): void => {
        timer.cancel();
        this.waiters.delete(done);
        resolve(this.best());
      };
      const timer = after(ms, done);
      this.waiters.add(done);
    });
  }

  /** Milliseconds since the scout's probes went out. */
  get ageMs(): number {
    return performance.now() - this.started;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const w of [...this.waiters]) w();
    for (const [lease, tokens, onError] of this.sentTokens) {
      lease.forget(tokens);
      if (lease.onError === onError) lease.onError = undefined;
    }
  }
}
