// Rounds of probes sent all at once, answered in any order: the one timing engine of trace.
//
// A round ends when every probe has a final answer or has been unanswered for longer than the loss
// timeout — derived from the RTTs measured so far (src/search's estimator, floor 50 ms), never a
// fixed second per hop. A packet-too-big is not final at once: the same probe may still be
// delivered (a router that lies about its MTU, but forwards), so a PTB waits until a delivery
// would have arrived. Answers to earlier rounds that straggle in are not mixed into later ones.
import type { ProbeOutcome, Prober } from '../probe/prober.js';
import { ProbeReporter } from '../probe/diagnostics.js';
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
}


export class Rounds {
  readonly rtt: RttEstimator;
  /** Probes sent in all rounds. */
  sent = 0;
  /** Largest RTT of any answer so far (the farthest hop or the destination). */
  #maxRtt = 0;
  /** Largest RTT of a delivery: how long to wait for one after a PTB. */
  #deliveryRtt = 0;

  constructor(
    private readonly prober: Prober,
    private readonly destination: string,
    private readonly opts: RoundsOptions = {},
  ) {
    this.rtt = new RttEstimator(opts.minTimeoutMs ?? DEFAULT_MIN_TIMEOUT_MS, opts.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS);
    this.#reporter = opts.reporter ?? new ProbeReporter('trace', prober.family, destination);
  }

  readonly #reporter: ProbeReporter;

  get aborted(): boolean {
    return this.opts.signal?.aborted ?? false;
  }

  /** Wait `ms` (for a router's ICMP rate limit to refill); ends early on abort. */
  pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.aborted) return resolve();
      const done = (): void => {
        clearTimeout(t);
        this.opts.signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
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
    const index = new Map<number, number>(); // prober token -> request index
    const sentAt: number[] = [];
    const settledAt: Array<number | undefined> = []; // when a final answer came
    const early: Array<[number, ProbeOutcome]> = [];
    let sending = true;

    return new Promise<ProbeOutcome[][]>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        if (!err && !this.aborted) reportLost();
        if (timer) clearTimeout(timer);
        this.prober.off('outcome', onOutcome);
        this.prober.off('error', onError);
        this.opts.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(answers);
      };

      const outstanding = (now: number): { open: number; wakeAt: number } => {
        let open = 0;
        let wakeAt = Infinity;
        const timeout = this.timeoutMs();
        const settle = this.#settleMs();
        for (let i = 0; i < requests.length; i++) {
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
          this.#reporter.settled(this.prober.method, token, r.ttl !== undefined ? { kind: 'lost', size: r.size, ttl: r.ttl } : { kind: 'lost', size: r.size });
        }
      };

      const check = (): void => {
        if (done) return;
        const now = performance.now();
        const { open, wakeAt } = outstanding(now);
        this.opts.onProgress?.(this.sent, open);
        if (open === 0) return finish();
        if (timer) clearTimeout(timer);
        timer = setTimeout(check, Math.max(1, wakeAt - now));
      };

      const onOutcome = (token: number, outcome: ProbeOutcome): void => {
        if (sending) {
          early.push([token, outcome]);
          return;
        }
        const i = index.get(token);
        if (i === undefined || done) return;
        // An unreachable whose quote lacks our nonce may be forged: it must not end the path.
        if (outcome.kind === 'unreachable' && outcome.unproven !== undefined) return this.prober.disregard(outcome, `unproven unreachable: ${outcome.unproven}`);
        answers[i]!.push(outcome);
        this.#reporter.settled(this.prober.method, token, outcome);
        if (outcome.kind !== 'localTooBig' && outcome.rttMs !== undefined && Number.isFinite(outcome.rttMs)) {
          // Karn: one token per probe, so every sample is unambiguous; only the first answer counts.
          if (answers[i]!.length === 1) this.rtt.sample(outcome.rttMs);
          this.#maxRtt = Math.max(this.#maxRtt, outcome.rttMs);
          if (outcome.kind === 'delivered') this.#deliveryRtt = Math.max(this.#deliveryRtt, outcome.rttMs);
        }
        if (outcome.kind !== 'tooBig') settledAt[i] ??= performance.now();
        check();
      };
      const onError = (err: Error): void => finish(err);
      const onAbort = (): void => finish();

      this.prober.on('outcome', onOutcome);
      this.prober.on('error', onError);
      this.opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        requests.forEach((r, i) => {
          sentAt[i] = performance.now();
          const token = this.prober.send(this.destination, r.size, r.ttl !== undefined ? { ttl: r.ttl } : {});
          index.set(token, i);
          this.#reporter.sent(this.prober.method, token, r.size, r.ttl);
          this.sent++;
        });
      } catch (err) {
        sending = false;
        return finish(err as Error);
      } finally {
        sending = false;
      }
      for (const [t, o] of early.splice(0)) onOutcome(t, o);
      check();
    });
  }
}

/** The first answer of a kind, if any. */
export function first<K extends ProbeOutcome['kind']>(outcomes: ProbeOutcome[], kind: K): Extract<ProbeOutcome, { kind: K }> | undefined {
  return outcomes.find((o) => o.kind === kind) as Extract<ProbeOutcome, { kind: K }> | undefined;
}
