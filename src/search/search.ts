// PathMtuSearch: the decision logic of path MTU discovery, driven from outside.
//
//   const s = new PathMtuSearch({ family: 4, max: 1500 }, now);
//   loop: { send, wakeAt } = s.poll(now)  -> send each order (token, size)
//         on an answer: s.record(token, outcome, now), then poll again
//         at wakeAt (if nothing arrived before): poll again
//   until s.finished; then s.result().
//
// No sockets and no timers: the caller owns the clock (ms numbers, any origin, non-decreasing).
// Losses are declared by the search itself (poll); the caller never reports 'lost'. A late answer
// to a probe already declared lost, or a second answer to one probe, is still used as evidence
// (a delivery always wins: what arrived, passed).
import { UsageError } from '../errors.js';
import type { Outcome } from '../probe/outcome.js';
import { MIN_MTU, ptbPlausibility } from '../wire/facts.js';
import { assess, inFlight, type Assessment, type ProbeRecord } from './evidence.js';
import { firstRound, plan } from './planner.js';
import { MAX_PACKET, plateauBelow } from './plateaus.js';
import { DEFAULT_MAX_TIMEOUT_MS, DEFAULT_MIN_TIMEOUT_MS, RttEstimator } from './rtt.js';
import type { ProbeOrder, PtbRecord, SearchOptions, SearchResult } from './types.js';

export const DEFAULT_MAX_PROBES = 60;
export const DEFAULT_PARALLEL = 10;
/**
 * Paced mode (a target that rate-limits its answers): one refill of Linux's ICMP token bucket
 * (icmp_ratelimit, 1 s; IPv6 uses a quarter of it for a /64); see nextRound().
 */
const PACED_INTERVAL_MS = 1000;
/** Time-exceeded answers with nothing delivered before we call the target unreachable by TTL. */
const MAX_TIME_EXCEEDED = 3;

interface PtbLog {
  token: number | undefined;
  size: number;
  from: string;
  nextHopMtu: number;
  plausible: boolean;
  reason?: string;
}

export class PathMtuSearch {
  private readonly floor: number;
  private readonly max: number;
  private readonly maxIsLocal: boolean;
  private readonly maxProbes: number;
  private readonly parallel: number;
  private readonly rtt: RttEstimator;
  private readonly probes: ProbeRecord[] = [];
  private readonly byToken = new Map<number, ProbeRecord>();
  private readonly ptbLog: PtbLog[] = [];
  private nextToken = 1;
  private done = false;
  private endReason: string | undefined;
  private unreachable = false;
  private timeExceeded = 0;
  private last: Assessment;
  private now: number;
  private lastBatchAt = -Infinity;
  private icmpExhaustedHint = false;

  constructor(private readonly opts: SearchOptions, now: number) {
    const family = opts.family;
    if (family !== 4 && family !== 6) throw new UsageError((n) => `${n('family')} must be 4 or 6, not ${String(family)}`);
    this.floor = opts.floor ?? MIN_MTU[family];
    this.max = Math.min(opts.max, MAX_PACKET[family]);
    if (!Number.isInteger(this.floor) || this.floor < MIN_MTU[family]) {
      throw new UsageError((n) => `${n('floor', this.floor)} is not a whole number of bytes from the IPv${family} minimum, ${MIN_MTU[family]}`);
    }
    if (!Number.isInteger(opts.max)) throw new UsageError((n) => `${n('max', opts.max)} is not a whole number of bytes`);
    if (this.max < this.floor) {
      throw new UsageError((n) =>
        opts.floor !== undefined
          ? `${n('max', opts.max)} is below ${n('floor', this.floor)}: nothing is left to search`
          : `${n('max', opts.max)} is below the IPv${family} minimum of ${this.floor} bytes`,
      );
    }
    this.maxIsLocal = opts.maxIsLocal ?? true;
    this.maxProbes = positive(opts.maxProbes, DEFAULT_MAX_PROBES, 'maxProbes');
    this.parallel = positive(opts.parallel, DEFAULT_PARALLEL, 'parallel');
    this.rtt = new RttEstimator(
      positive(opts.minTimeoutMs, DEFAULT_MIN_TIMEOUT_MS, 'minTimeoutMs'),
      positive(opts.maxTimeoutMs, DEFAULT_MAX_TIMEOUT_MS, 'maxTimeoutMs'),
      opts.rttHintMs,
    );
    this.now = now;
    this.last = this.assess();
  }

  get finished(): boolean {
    return this.done;
  }

  /** Current loss timeout in ms (what poll uses to declare a probe lost). */
  get timeoutMs(): number {
    return this.rtt.timeout();
  }

  /**
   * Tell the search that the router answering its large probes has (or no longer has) spent its ICMP
   * error budget, e.g. on other searches behind it (see engine/pacing.ts): it then expects silence rather
   * than "too big" above the answer, and sends loss confirmations at once instead of one per timeout.
   */
  setIcmpExhausted(exhausted: boolean): void {
    if (exhausted === this.icmpExhaustedHint) return;
    this.icmpExhaustedHint = exhausted;
    if (!this.done) this.update();
  }

  poll(now: number): { send: ProbeOrder[]; wakeAt: number | null } {
    this.tick(now);
    if (this.done) return { send: [], wakeAt: null };
    const timeout = this.rtt.timeout();
    for (const p of this.probes) {
      if (inFlight(p) && now >= p.sentAt + timeout) p.lostAt = now;
    }
    this.update();
    if (this.done) return { send: [], wakeAt: null };

    const budget = this.maxProbes - this.probes.length;
    const sizes = this.probes.length === 0 ? firstRound(this.floor, this.max, this.parallel) : this.nextRound(now, budget);
    const send: ProbeOrder[] = [];
    // Largest first: tokens then follow the send order, which evidence.ts relies on (a smaller
    // probe sent later vouches that the target would have answered the larger one).
    const batch = sizes.slice(0, Math.max(0, budget)).sort((a, b) => b - a);
    for (const size of batch) {
      const p: ProbeRecord = { token: this.nextToken++, size, sentAt: now, control: this.last.lo !== null && size <= this.last.lo };
      this.probes.push(p);
      this.byToken.set(p.token, p);
      send.push({ token: p.token, size });
    }
    if (send.length > 0) {
      this.lastBatchAt = now;
      this.update();
    }
    const wakeAt = this.wakeAt(now);
    if (wakeAt === null && !this.done) {
      // Nothing in flight and nothing more worth sending: stop with what is known.
      this.finish(budget <= 0 ? `probe budget exhausted (${this.maxProbes})` : 'no probe left that could narrow the range');
      return { send, wakeAt: null };
    }
    return { send, wakeAt: this.done ? null : wakeAt };
  }

  record(token: number, outcome: Outcome, now: number): void {
    this.tick(now);
    const p = this.byToken.get(token);
    if (outcome.kind === 'tooBig') {
      this.ptbLog.push({
        token: p?.token,
        size: p?.size ?? outcome.size,
        from: outcome.from,
        nextHopMtu: outcome.nextHopMtu,
        plausible: outcome.plausible,
        reason: outcome.reason,
      });
    }
    if (!p || this.done) return;
    switch (outcome.kind) {
      case 'delivered':
        if (!p.delivered) {
          // Karn: every probe has its own token, so each sample is unambiguous.
          const rttMs = Number.isFinite(outcome.rttMs) ? outcome.rttMs : now - p.sentAt;
          p.delivered = { at: now, rttMs };
          this.rtt.sample(rttMs);
        }
        break;
      case 'tooBig':
        p.tooBig ??= { at: now, nextHopMtu: outcome.nextHopMtu, plausible: outcome.plausible, from: outcome.from };
        break;
      case 'localTooBig':
        p.local ??= { mtu: outcome.mtu };
        break;
      case 'timeExceeded':
        // Not delivered, but the path is alive: says nothing about the size.
        if (!p.timeExceeded) this.timeExceeded++;
        p.timeExceeded = true;
        break;
      case 'unreachable':
        p.unreachable = true;
        this.unreachable = true;
        this.finish(`unreachable: ${outcome.reason} from ${outcome.from}`);
        return;
      case 'lost':
        // The search decides losses itself; an explicit report only marks it early.
        if (inFlight(p)) p.lostAt = now;
        break;
    }
    this.update();
  }

  result(): SearchResult {
    const a = this.last;
    const lo = a.lo;
    const exactUpper = lo !== null && a.upper === lo && !this.unreachable;
    const reachedUserMax = exactUpper && a.upperBy === 'max' && !this.maxIsLocal;
    const exact = exactUpper && !reachedUserMax;
    let reason = this.endReason;
    if (exact) reason = undefined;
    else if (reachedUserMax) reason = `the upper end of the search (${this.max}) was delivered; the path may carry more`;
    else if (!reason) reason = 'search not finished';
    const ptbs = this.ptbRecords(lo, a.upper);
    const blackHole = exact && a.upperBy === 'loss' && !this.ptbExplains(lo!);
    const localMtu = a.localMtu ?? (this.maxIsLocal ? this.max : undefined);
    return {
      pmtu: this.unreachable ? null : lo,
      exact,
      lowerBound: lo ?? 0,
      upperBound: a.upper,
      ...(localMtu !== undefined ? { localMtu } : {}),
      probes: this.probes.length,
      ptbs,
      blackHole,
      ...(blackHole ? { blackHoleAbove: lo! } : {}),
      ...(reason !== undefined ? { reason } : {}),
      lossConfirmations: a.confirmations,
      timeoutMs: this.rtt.timeout(),
      ...(this.rtt.srtt !== undefined && this.rtt.samples > 0 ? { srttMs: this.rtt.srtt } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------------

  private tick(now: number): void {
    // A clock that steps back (caller bug or clock change) must not resurrect probes.
    if (now > this.now) this.now = now;
  }

  private assess(): Assessment {
    return assess({
      family: this.opts.family, probes: this.probes, floor: this.floor, max: this.max, rtt: this.rtt, now: this.now, icmpExhausted: this.icmpExhaustedHint,
      answersRateLimited: this.opts.answersRateLimited ?? false,
    });
  }

  private update(): void {
    const a = (this.last = this.assess());
    if (this.done) return;
    if (a.lo !== null && a.upper === a.lo) return this.finish(undefined);
    if (a.upper < this.floor) {
      return this.finish(`even the smallest size (${this.floor}) does not pass`);
    }
    if (a.lo === null) {
      const st = a.sizes.get(this.floor);
      if (st && st.lostNotAlive + st.failures >= a.confirmations && st.active + st.overdue === 0) {
        return this.finish('no answer from the target (every probe lost, even the smallest)');
      }
      if (this.timeExceeded >= MAX_TIME_EXCEEDED) {
        return this.finish('time exceeded: the probes do not reach the target (hop limit or routing loop)');
      }
    }
  }

  private finish(reason: string | undefined): void {
    this.done = true;
    this.endReason = reason;
  }

  /**
   * The next round. Paced mode (a target that rate-limits its answers, e.g. port unreachables for the
   * udp method): one round per refill interval, ending with a control at the largest delivered size.
   * The round goes out largest first, so the target's single token goes to the largest size that
   * passes: every size above it counts as failed (vouched for by the later, smaller delivery), and
   * the round still splits the range as widely as an unpaced one.
   */
  private nextRound(now: number, budget: number): number[] {
    const a = this.last;
    const free = Math.min(budget, this.parallel - a.active);
    if (!a.rateLimited) return plan({ a, floor: this.floor, free });
    if (now < this.lastBatchAt + PACED_INTERVAL_MS || a.active > 0) return [];
    const sizes = plan({ a, floor: this.floor, free: free - 1 });
    if (sizes.length > 0 && a.lo !== null && !sizes.some((s) => s <= a.lo!)) sizes.push(a.lo);
    return sizes;
  }

  private wakeAt(now: number): number | null {
    const timeout = this.rtt.timeout();
    const settle = this.rtt.settle();
    let at = Infinity;
    for (const p of this.probes) {
      const candidates: number[] = [];
      if (inFlight(p)) candidates.push(p.sentAt + timeout, p.sentAt + settle);
      else if (p.tooBig && !p.delivered) candidates.push(p.sentAt + settle);
      for (const t of candidates) if (t > now && t < at) at = t;
    }
    // Paced: the next round is due once the target's bucket has refilled.
    const nextRound = this.lastBatchAt + PACED_INTERVAL_MS;
    if (this.last.rateLimited && nextRound > now && nextRound < at && this.last.active === 0) at = nextRound;
    return at === Infinity ? null : at;
  }

  /** True when some PTB explains why lo+1 vanished (its router is rate-limited, not silent). */
  private ptbExplains(lo: number): boolean {
    return this.ptbLog.some(
      (l) => l.size > lo && (l.nextHopMtu <= lo || !l.plausible || !ptbPlausibility(this.opts.family, l.size, l.nextHopMtu, this.floor).plausible),
    );
  }

  private ptbRecords(lo: number | null, upper: number): PtbRecord[] {
    const deliveredMax = lo ?? 0;
    return this.ptbLog.map((l): PtbRecord => {
      const base = { from: l.from, nextHopMtu: l.nextHopMtu, size: l.size };
      const m = l.nextHopMtu;
      if (l.token === undefined) return { ...base, accepted: false, reason: 'does not match a probe of this search' };
      if (m === 0) {
        const guess = plateauBelow(l.size);
        return { ...base, accepted: false, reason: `next-hop MTU 0 (RFC 1191 plateau ${guess ?? 'none'} tried instead)` };
      }
      const plausibility = ptbPlausibility(this.opts.family, l.size, m, this.floor);
      if (!plausibility.plausible) return { ...base, accepted: false, reason: plausibility.reason! };
      if (!l.plausible) return { ...base, accepted: false, reason: l.reason ?? 'marked implausible by the probe layer' };
      if (lo !== null && l.size <= lo) {
        return { ...base, accepted: false, reason: `contradicted: a probe of ${deliveredMax} bytes was delivered (forged or stale)` };
      }
      if (lo !== null && m < lo) {
        return { ...base, accepted: false, reason: `next-hop MTU ${m} contradicted: ${lo} bytes were delivered` };
      }
      if (m > upper) return { ...base, accepted: true, reason: `plausible; a smaller MTU lies further along` };
      if (m === lo) return { ...base, accepted: true, reason: `confirmed: ${m} bytes delivered` };
      return { ...base, accepted: true, reason: 'plausible, not confirmed by a delivery' };
    });
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new UsageError((n) => `${n(name)} must be a positive number, not ${value}`);
  return value;
}
