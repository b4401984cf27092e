// Pacing for many concurrent searches: a global packets-per-second cap, and a mirror of each
// router's ICMP error budget. Pure: the caller passes the clock (ms, non-decreasing); no sockets, no
// timers. The engine's scheduler (scheduler.ts) and the simulator (search/simulate-many.ts) drive it.
//
//   const pacer = new Pacer({ ratePps: 2000 });
//   when a job is due:  if (pacer.mayPoll(now)) { orders = job.poll(now); send; pacer.sent(orders.length, now) }
//                       else come back at pacer.nextPollAt(now)
//   on an ICMP error:   pacer.icmpError(reporter, now)
//   before polling a job behind a known router: job.icmpExhausted(pacer.routerExhausted(router, now))
//
// Why a mirror of the router's bucket. Linux limits the ICMP errors a router sends to one host
// (inet_peer_xrlim_allow, keyed by the error's destination: us) with a bucket of 6 × icmp_ratelimit
// (1 s) tokens, one per error, refilled one per second. The kernel takes a token only when it sends,
// so the errors we receive are exactly the tokens spent (less the few lost on the way back). All our
// targets behind one router share that bucket: once it is empty, every probe that would draw an
// error there gets silence, and a search that still waits for errors wastes round trips. The mirror
// tells each search so, and it then plans for silence (loss confirmations sent at once).
// Caveat, from the kernel: Linux does not rate-limit IPv4 frag-needed (icmpv4_mask_allow: "Don't
// limit PMTU discovery") nor, with the default net.ipv6.icmp.ratemask 0-1,3-127, IPv6 Packet Too
// Big; it does limit time-exceeded and port/host unreachables. Other routers limit PTBs too.

export interface TokenBucketLimit {
  /** Tokens a full bucket holds (packets in a burst). */
  burst: number;
  /** Tokens added per second. */
  perSec: number;
}

/** A token bucket on a caller's clock. take() may run into debt so a batch is never split. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    readonly limit: TokenBucketLimit,
    now: number,
    initial = limit.burst,
  ) {
    if (!(limit.burst > 0) || !(limit.perSec > 0)) throw new RangeError('a token bucket needs a positive burst and rate');
    this.tokens = initial;
    this.last = now;
  }
  level(now: number): number {
    if (now > this.last) {
      this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) / 1000) * this.limit.perSec);
      this.last = now;
    }
    return this.tokens;
  }
  /** Take n tokens if there are (at least one full token, when debt is allowed); true when taken. */
  take(now: number, n = 1, allowDebt = false): boolean {
    const level = this.level(now);
    if (allowDebt ? level < 1 : level < n) return false;
    this.tokens -= n;
    return true;
  }
  /** When the bucket next holds `n` tokens (now if it does). */
  readyAt(now: number, n = 1): number {
    const level = this.level(now);
    if (level >= n) return now;
    // At least a microsecond later: a wait below the clock's float resolution would never come.
    return now + Math.max(0.001, ((n - level) / this.limit.perSec) * 1000);
  }
}

/** Linux's default per-destination ICMP error budget: net.ipv4.icmp_ratelimit 1000 ms, burst factor 6. */
export const LINUX_ICMP_PEER_LIMIT: TokenBucketLimit = { burst: 6, perSec: 1 };
/** Linux's default global ICMP error budget: net.ipv4.icmp_msgs_per_sec 1000, icmp_msgs_burst 50. */
export const LINUX_ICMP_GLOBAL_LIMIT: TokenBucketLimit = { burst: 50, perSec: 1000 };

export interface PacerOptions {
  /** Global cap on probes sent per second (all jobs together). */
  ratePps: number;
  /** Probes the global cap lets out at once; default max(10, 1% of ratePps). */
  burst?: number;
  /** The per-router error budget to mirror; default Linux's (6, then 1/s). */
  routerLimit?: TokenBucketLimit;
  /** Mirror tokens under which a router counts as exhausted; default 1 (its next error will be dropped). */
  reserve?: number;
}

export class Pacer {
  private readonly global: TokenBucket;
  private readonly routers = new Map<string, TokenBucket>();
  private readonly routerLimit: TokenBucketLimit;
  private readonly reserve: number;
  private sentTotal = 0;

  constructor(opts: PacerOptions, now: number) {
    if (!(opts.ratePps > 0) || !Number.isFinite(opts.ratePps)) throw new RangeError(`ratePps must be a positive number, not ${opts.ratePps}`);
    const burst = opts.burst ?? Math.max(10, Math.ceil(opts.ratePps / 100));
    this.global = new TokenBucket({ burst, perSec: opts.ratePps }, now);
    this.routerLimit = opts.routerLimit ?? LINUX_ICMP_PEER_LIMIT;
    this.reserve = opts.reserve ?? 1;
  }

  /** Probes sent so far through this pacer. */
  get sentCount(): number {
    return this.sentTotal;
  }

  /**
   * May a job poll (and send whatever it decides) now? A job's batch goes out whole (the search
   * stamps its probes with the poll time), so the cap is kept on average: a batch may take the
   * bucket into debt, and the next poll waits until it is paid.
   */
  mayPoll(now: number): boolean {
    return this.global.level(now) >= 1;
  }
  /** When mayPoll() will next be true. */
  nextPollAt(now: number): number {
    return this.global.readyAt(now, 1);
  }
  /** Account for `n` probes sent at `now` (after a poll that mayPoll allowed). */
  sent(n: number, now: number): void {
    if (n <= 0) return;
    this.global.take(now, n, true);
    this.sentTotal += n;
  }

  /** An ICMP error from `router` reached us: it spent one token of its budget for us. */
  icmpError(router: string, now: number): void {
    let b = this.routers.get(router);
    if (!b) {
      b = new TokenBucket(this.routerLimit, now);
      this.routers.set(router, b);
    }
    b.take(now, 1, true);
  }
  /** Estimated errors `router` can still send us right now (full budget for a router never heard). */
  routerTokens(router: string, now: number): number {
    return this.routers.get(router)?.level(now) ?? this.routerLimit.burst;
  }
  /** True when `router`'s next error to us will most likely be dropped: plan for silence. */
  routerExhausted(router: string, now: number): boolean {
    return this.routerTokens(router, now) < this.reserve;
  }
}
