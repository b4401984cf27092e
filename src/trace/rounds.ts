// Rounds of probes sent all at once, answered in any order: the one timing engine of trace.
//
// A round ends when every probe has a final answer or has been unanswered for longer than the loss
// timeout — derived from the RTTs measured so far (src/search's estimator, floor 50 ms), never a
// fixed second per hop. A packet-too-big is not final at once: the same probe may still be
// delivered (a router that lies about its MTU, but forwards), so a PTB waits until a delivery
// would have arrived. Answers to earlier rounds that straggle in are not mixed into later ones.
//
// Each round is a job of the engine's scheduler (src/engine): its probes go out in the job's first
// step (under the global rate cap, with every other job's), its loss deadlines are wake-ups on the
// scheduler's one timer, and its answers come through a lease on a shared prober, routed by token.
// The routers that answer are mirrored in the scheduler's per-router ICMP budgets, as discover's are.
import type { ProbeOutcome } from '../probe/prober.js';
import { ProbeReporter } from '../probe/diagnostics.js';
import { defaultEngine, type Engine } from '../engine/engine.js';
import type { Lease } from '../engine/pool.js';
import type { JobHandle, StepResult } from '../engine/scheduler.js';
import { RttEstimator, DEFAULT_MIN_TIMEOUT_MS, DEFAULT_MAX_TIMEOUT_MS } from '../search/rtt.js';

export interface RoundRequest {
  /** Whole IP packet size. */
  size: number;
  ttl?: number;
}

export interface RoundsOptions {
  /** Ceiling of the loss timeout, ms (default 3000, engine/timing.ts). */
  maxTimeoutMs?: number;
  /** Floor of the loss timeout, ms (default: the search's, 50). */
  minTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called whenever the number of unanswered probes changes. */
  onProgress?: (sent: number, outstanding: number) => void;
  /** Publishes each probe and outcome on 'pathmtu:probe' (default: as tool 'trace', timed from now). */
  reporter?: ProbeReporter;
  /** The engine whose scheduler runs the rounds (default: the process-wide one). */
  engine?: Engine;
}

export class Rounds {
  readonly rtt: RttEstimator;
  /** Probes sent in all rounds. */
  sent = 0;
  /** Largest RTT of any answer so far (the farthest hop or the destination). */
  #maxRtt = 0;
  /** Largest RTT of a delivery: how long to wait for one after a PTB. */
  #deliveryRtt = 0;
  readonly #reporter: ProbeReporter;
  readonly #engine: Engine;

  /** `lease`: the prober to probe through; the caller keeps it and releases it when done. */
  constructor(
    private readonly lease: Lease,
    private readonly destination: string,
    private readonly opts: RoundsOptions = {},
  ) {
    this.rtt = new RttEstimator(opts.minTimeoutMs ?? DEFAULT_MIN_TIMEOUT_MS, opts.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS);
    this.#reporter = opts.reporter ?? new ProbeReporter('trace', lease.prober.family, destination);
    this.#engine = opts.engine ?? defaultEngine();
  }

  get aborted(): boolean {
    return this.opts.signal?.aborted ?? false;
  }

  /** Wait `ms` (for a router's ICMP rate limit to refill) on the scheduler's timer; ends early on abort. */
  pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.aborted) return resolve();
      const done = (): void => {
        timer.cancel();
        this.opts.signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.#engine.scheduler.after(ms, done);
      this.opts.signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Loss timeout now: the estimator's, but never below twice the slowest answer seen (far hops are slower). */
  timeoutMs(): number {
    const max = this.opts.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS;
    return Math.min(max, Math.max(this.rtt.timeout(), 2 * this.#maxRtt));
  }

  /** After a PTB, how long (from sending) a delivery of the same probe may still come. */
  #settleMs(): number {
    if (this.#deliveryRtt === 0) return this.timeoutMs();
    return Math.min(this.timeoutMs(), 1.5 * this.#deliveryRtt + 2);
  }

  /**
   * Send every request now; resolve with all outcomes of each (in arrival order, empty = no answer)
   * once each has a final answer, has timed out, or no longer matters: `moot(i, answers)` lets the
   * caller stop waiting for request i (e.g. TTLs beyond one the target already answered).
   * `linger` keeps listening for the whole loss timeout even after answers came: for errors that
   * trail a delivery (a router's slow-path ICMP, a PTB that lies).
   */
  run(requests: RoundRequest[], moot?: (i: number, answers: ProbeOutcome[][]) => boolean, opts: { linger?: boolean } = {}): Promise<ProbeOutcome[][]> {
    const answers: ProbeOutcome[][] = requests.map(() => []);
    if (requests.length === 0 || this.aborted) return Promise.resolve(answers);
    const { lease, destination } = this;
    const prober = lease.prober;
    const scheduler = this.#engine.scheduler;
    const signal = this.opts.signal;
    const index = new Map<number, number>(); // prober token -> request index
    const sentAt: number[] = [];
    const settledAt: Array<number | undefined> = []; // when a final answer came

    return new Promise<ProbeOutcome[][]>((resolve, reject) => {
      let handle: JobHandle | undefined;
      let unsent = true;
      /** Inside the sending loop: an answer read during a send (a local error) waits for the loop's end. */
      let sending = false;
      let done = false;

      // Every way out comes here: the job leaves the scheduler, every listener is removed, and
      // answers to this round's probes are no longer routed to it.
      const end = (): void => {
        done = true;
        if (handle !== undefined) scheduler.remove(handle);
        signal?.removeEventListener('abort', onAbort);
        if (lease.onError === onError) lease.onError = undefined;
        lease.forget(index.keys());
      };
      const finish = (): void => {
        if (done) return;
        if (!this.aborted) reportLost();
        end();
        resolve(answers);
      };
      const fail = (err: unknown): void => {
        if (done) return;
        end();
        reject(err);
      };

      const outstanding = (now: number): { open: number; wakeAt: number } => {
        let open = 0;
        let wakeAt = Infinity;
        const timeout = this.timeoutMs();
        const settle = this.#settleMs();
        for (let i = 0; i < requests.length; i++) {
          if (sentAt[i] === undefined) continue;
          if (!opts.linger && (settledAt[i] !== undefined || moot?.(i, answers))) continue;
          const got = answers[i]!;
          // Only PTBs so far: wait for a delivery that would contradict them, then take them.
          const until = sentAt[i]! + (got.length > 0 && !opts.linger ? settle : timeout);
          if (now >= until) continue;
          open++;
          if (until < wakeAt) wakeAt = until;
        }
        return { open, wakeAt };
      };

      // What the wait ended without: every request no answer came for, and that still mattered.
      const reportLost = (): void => {
        for (const [token, i] of index) {
          if (answers[i]!.length > 0 || moot?.(i, answers)) continue;
          const r = requests[i]!;
          this.#reporter.settled(prober.method, token, r.ttl !== undefined ? { kind: 'lost', size: r.size, ttl: r.ttl } : { kind: 'lost', size: r.size });
        }
      };

      /** Done when nothing is open any more; else the next deadline, on the scheduler's clock. */
      const check = (): number | null => {
        const now = performance.now();
        const { open, wakeAt } = outstanding(now);
        this.opts.onProgress?.(this.sent, open);
        if (open === 0) {
          finish();
          return null;
        }
        return scheduler.now() + Math.max(0, wakeAt - now);
      };

      // The first step sends the whole round (the rate cap lets a step's probes out together);
      // later steps are the loss deadlines coming due.
      const step = (): StepResult => {
        if (done) return { sent: 0, wakeAt: null };
        let n = 0;
        if (unsent) {
          unsent = false;
          sending = true;
          try {
            for (let i = 0; i < requests.length && !done; i++) {
              const r = requests[i]!;
              sentAt[i] = performance.now();
              const token = lease.send(destination, r.size, r.ttl !== undefined ? { ttl: r.ttl } : {}, onOutcome);
              index.set(token, i);
              this.#reporter.sent(prober.method, token, r.size, r.ttl);
              this.sent++;
              n++;
            }
          } finally {
            sending = false;
          }
          if (done) return { sent: n, wakeAt: null };
        }
        return { sent: n, wakeAt: check() };
      };

      const onOutcome = (token: number, outcome: ProbeOutcome): void => {
        const i = index.get(token);
        if (i === undefined || done) return;
        // An unreachable whose quote lacks our nonce may be forged: it must not end the path.
        if (outcome.kind === 'unreachable' && outcome.unproven !== undefined) return prober.disregard(outcome, `unproven unreachable: ${outcome.unproven}`);
        answers[i]!.push(outcome);
        this.#reporter.settled(prober.method, token, outcome);
        if (outcome.kind !== 'localTooBig' && outcome.rttMs !== undefined && Number.isFinite(outcome.rttMs)) {
          // Karn: one token per probe, so every sample is unambiguous; only the first answer counts.
          if (answers[i]!.length === 1) this.rtt.sample(outcome.rttMs);
          this.#maxRtt = Math.max(this.#maxRtt, outcome.rttMs);
          if (outcome.kind === 'delivered') this.#deliveryRtt = Math.max(this.#deliveryRtt, outcome.rttMs);
        }
        // A router's error spent a token of its ICMP budget towards us: mirrored for every job's pacing.
        if ((outcome.kind === 'tooBig' || outcome.kind === 'timeExceeded' || outcome.kind === 'unreachable') && outcome.from !== destination) {
          scheduler.routerError(outcome.from);
        }
        if (outcome.kind !== 'tooBig') settledAt[i] ??= performance.now();
        if (sending) return; // the step looks at the whole round once every probe is out
        // The round may be over now (no need to wait for the rate cap to say so); else its next
        // deadline may have come closer (a PTB's settle time): the job re-arms its wake-up.
        if (check() !== null && handle !== undefined) scheduler.wake(handle);
      };
      const onError = (err: Error): void => fail(err);
      const onAbort = (): void => finish();

      lease.onError = onError;
      signal?.addEventListener('abort', onAbort, { once: true });
      handle = scheduler.add({ step, fail });
    });
  }
}

/** The first answer of a kind, if any. */
export function first<K extends ProbeOutcome['kind']>(outcomes: ProbeOutcome[], kind: K): Extract<ProbeOutcome, { kind: K }> | undefined {
  return outcomes.find((o) => o.kind === kind) as Extract<ProbeOutcome, { kind: K }> | undefined;
}
