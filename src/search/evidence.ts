// What the outcomes so far prove. Pure: a list of probe records and a clock in, an Assessment out.
//
// The path is monotonic in size: if s passes, every smaller size passes; if s does not, no larger
// one does. So the state is two numbers — `lo`, the largest DELIVERED size, and `upper`, the largest
// size not proven to fail — plus the suspects between them that are not proven yet. Proof that s
// fails is one of: the local stack refused s (EMSGSIZE), a settled plausible PTB for a probe of s,
// or K "failure observations" of s (losses while a smaller probe sent around the same time came
// back, or PTBs whose next-hop MTU cannot be trusted), with no delivery of s or larger ever.
import type { RttEstimator } from './rtt.js';
import { plateauBelow } from './plateaus.js';
import { LINUX_ICMP_RATELIMIT, ptbPlausibility, type Family } from '../wire/facts.js';

export interface ProbeRecord {
  token: number;
  size: number;
  sentAt: number;
  /** Sent to prove the path is alive while confirming losses (size <= lo). */
  control: boolean;
  delivered?: { at: number; rttMs: number };
  /** First too-big report that quoted this probe (later ones only go to the PTB log). */
  tooBig?: { at: number; nextHopMtu: number; plausible: boolean; from: string };
  /** The local stack refused it; `mtu` is the interface MTU it reported. */
  local?: { mtu: number };
  timeExceeded?: boolean;
  unreachable?: boolean;
  /** When the search declared it lost (a later answer still counts). */
  lostAt?: number;
}

export function answered(p: ProbeRecord): boolean {
  return !!(p.delivered || p.tooBig || p.local || p.timeExceeded || p.unreachable);
}
export function inFlight(p: ProbeRecord): boolean {
  return !answered(p) && p.lostAt === undefined;
}

export interface Hint {
  size: number;
  /** A probe of this size is in flight: wait for it rather than hunting elsewhere. */
  pending: boolean;
  /** m+1 of some PTB's m: the size that proves the boundary (a PTB, or silence when rate-limited). */
  above: boolean;
  /**
   * The claimed MTU m itself was lost although m+1 drew the PTB: m is only a ceiling, and a smaller
   * MTU further along may drop m silently (a black hole behind the PTB's router). Its copies are
   * sent beside the hunt below it, never instead of it.
   */
  retry?: boolean;
}

export type UpperReason = 'max' | 'local' | 'ptb' | 'loss';

export interface SizeState {
  /** Failure observations counted toward confirmation (alive losses + settled untrusted PTBs). */
  failures: number;
  /** Declared lost but no smaller probe of the same moment came back (yet). */
  lostNotAlive: number;
  /** In flight and not yet overdue. */
  active: number;
  /** In flight, overdue: its peers were answered and it was not. */
  overdue: number;
  /** A too-big report waiting for its settle time. */
  unsettledPtb: boolean;
  /** Any too-big report at all (for telling rate-limited PTBs from black holes). */
  ptb: boolean;
}

export interface Assessment {
  /** Largest delivered size, or null. */
  lo: number | null;
  /** Largest size not proven to fail (>= lo). */
  upper: number;
  upperBy: UpperReason;
  /** Optimistic upper end: just below the smallest unproven suspect (<= upper). */
  edge: number;
  /** Why the smallest suspect is suspect: 'loss' (silence) or 'ptb'; undefined when there is none. */
  edgeBy?: 'loss' | 'ptb';
  /** Losses of one size needed to call it a size limit. */
  confirmations: number;
  /** Interface MTU reported by the local stack, if any. */
  localMtu?: number;
  sizes: Map<number, SizeState>;
  /** Sizes PTB next-hop MTUs point at (m and m+1) worth sending, or already on their way. */
  hints: Hint[];
  /** Observed loss rate of sizes known to pass. */
  lossRate: number;
  /**
   * The target rate-limits its answers (port unreachable for the udp method): the search paces
   * itself, a probe and a smaller control per refill interval, instead of spending its budget.
   */
  rateLimited: boolean;
  /** Anything at all came back (a delivery or an ICMP error). */
  anyAnswer: boolean;
  /** Some router has (nearly) used its ICMP error burst: expect silence instead of PTBs for a while. */
  icmpExhausted: boolean;
  /** Probes above lo in flight and not overdue (what `parallel` limits). */
  active: number;
  /** Some probe smaller than `size` is in flight (it may still prove the path alive). */
  smallerInFlight: (size: number) => boolean;
}

export interface AssessInput {
  family: Family;
  probes: readonly ProbeRecord[];
  floor: number;
  max: number;
  rtt: RttEstimator;
  now: number;
  /** Told from outside (a pacer watching the router's budget shared with other searches). */
  icmpExhausted?: boolean;
  /** Told from outside: the target's answers are rate-limited ICMP errors (SearchOptions). */
  answersRateLimited?: boolean;
}

/** Probability of mistaking random loss for a size limit that we accept per confirmed size. */
const FALSE_LIMIT_RISK = 1e-4;
export const MIN_CONFIRMATIONS = 3;
const ICMP_BURST = LINUX_ICMP_RATELIMIT.burst;
const ICMP_WINDOW_MS = LINUX_ICMP_RATELIMIT.intervalMs;
export const MAX_CONFIRMATIONS = 6;
/** Starved answers (see assess) before the target counts as rate-limiting them. */
const RATE_LIMITED_AFTER = 3;
/** How long a token bucket may stay empty after it answered: Linux's icmp_ratelimit. */
const BUCKET_REFILL_MS = LINUX_ICMP_RATELIMIT.intervalMs;


export function assess({ family, probes, floor, max, rtt, now, icmpExhausted: told = false, answersRateLimited = false }: AssessInput): Assessment {
  let lo: number | null = null;
  for (const p of probes) if (p.delivered && (lo === null || p.size > lo)) lo = p.size;
  const base = lo ?? floor - 1;
  const ctx: Ctx = { family, probes, floor, max, now, lo, base, settle: rtt.settle(), delivered: probes.filter((q) => q.delivered) };

  const { rateLimited, lossRate, confirmations } = lossModel(ctx, answersRateLimited);
  const w = weigh(ctx, confirmations);
  const { edge, edgeBy } = findEdge(w.sizes, w.upper, rateLimited);
  const hints = ptbHints(ctx, w.sizes, w.upper, edge);
  const icmpExhausted = told || routerBudgetSpent(ctx);
  const smallerInFlight = (size: number): boolean => probes.some((q) => q.size < size && inFlight(q));
  const anyAnswer = probes.some(answered);
  return {
    lo, upper: w.upper, upperBy: w.upperBy, edge, edgeBy, confirmations, localMtu: w.localMtu, sizes: w.sizes, hints, lossRate, rateLimited,
    active: w.active, icmpExhausted, anyAnswer, smallerInFlight,
  };
}

/** What every step of assess() reads. */
interface Ctx {
  family: Family;
  probes: readonly ProbeRecord[];
  floor: number;
  max: number;
  now: number;
  /** Largest delivered size, and the size every probe must exceed to tell something new. */
  lo: number | null;
  base: number;
  settle: number;
  delivered: ProbeRecord[];
}

/**
 * How often probes of sizes known to pass vanish at random, whether the target rate-limits its
 * answers, and so how many losses of one size prove a size limit.
 */
function lossModel({ probes, lo, delivered }: Ctx, answersRateLimited: boolean): { rateLimited: boolean; lossRate: number; confirmations: number } {
  // A target that rate-limits its answers (a token bucket: Linux sends about 6 port unreachables,
  // then 1 per second) leaves a telltale: a size known to pass goes unanswered although an earlier
  // probe of the same burst was answered — that one took the last token. Such losses say nothing
  // about the path, nor about random loss; enough of them put the search in paced mode.
  const starvedBy = (p: ProbeRecord): boolean =>
    delivered.some((q) => q.token < p.token && p.sentAt - q.sentAt < BUCKET_REFILL_MS);

  // Loss rate among sizes that pass: the chance that a probe (or its answer) vanishes at random.
  let known = 0;
  let lost = 0;
  let starved = 0;
  for (const p of probes) {
    if (lo === null || p.size > lo) continue;
    if (p.delivered) known++;
    else if (p.lostAt !== undefined || p.tooBig) {
      // A "too big" for a size that passes was forged or stale, and its real answer was lost.
      known++;
      lost++;
      if (p.lostAt !== undefined && starvedBy(p)) starved++;
    }
  }
  // Random loss hits about as often after an answer as anywhere; a token bucket hits mostly there.
  // Told so (answers are port unreachables): paced from the first delivery, before the bucket runs
  // dry — detecting it costs a burst of probes that confirm nothing.
  const rateLimited = (answersRateLimited && lo !== null) || (starved >= RATE_LIMITED_AFTER && starved >= known * 0.3);
  const lossRate = known === 0 ? 0 : (rateLimited ? lost - starved : lost) / (rateLimited ? known - starved : known);
  const confirmations =
    lossRate <= 0
      ? MIN_CONFIRMATIONS
      : Math.min(
          MAX_CONFIRMATIONS,
          Math.max(MIN_CONFIRMATIONS, Math.ceil(Math.log(FALSE_LIMIT_RISK) / Math.log(Math.min(lossRate, 0.5)))),
        );
  return { rateLimited, lossRate, confirmations };
}

interface Weighed {
  sizes: Map<number, SizeState>;
  upper: number;
  upperBy: UpperReason;
  localMtu: number | undefined;
  active: number;
}

/** Each size above lo: what its probes prove, and so the largest size not proven to fail. */
function weigh(ctx: Ctx, confirmations: number): Weighed {
  const { probes, floor, max, now, lo, base, settle, delivered } = ctx;
  const aliveWindow = Math.max(settle, 1);
  // A loss counts only if the path was alive at that moment AND the target would have answered: a
  // smaller probe sent just AFTER it (within the settle time, ~1.25 RTT) was delivered. Otherwise
  // the route or the target may have been down for a moment. "After" matters because targets
  // rate-limit their answers with a token bucket (Linux: port unreachable, ~6 then 1/s): had the lost
  // probe arrived, it would have reached the bucket first and been answered whenever the later one
  // was. Batches are sent largest first (search.ts), so every smaller probe in a batch is later.
  const aliveAround = (p: ProbeRecord): boolean =>
    delivered.some((q) => q.size < p.size && q.token > p.token && q.sentAt - p.sentAt <= aliveWindow);
  // An in-flight probe is overdue once a probe sent no earlier was delivered and the settle time
  // passed. Only deliveries count: a PTB from a near router comes back sooner than any delivery.
  const deliveredSince = (p: ProbeRecord): boolean =>
    delivered.some((q) => q !== p && q.sentAt >= p.sentAt);

  const sizes = new Map<number, SizeState>();
  const state = (s: number): SizeState => {
    let st = sizes.get(s);
    if (!st) {
      st = { failures: 0, lostNotAlive: 0, active: 0, overdue: 0, unsettledPtb: false, ptb: false };
      sizes.set(s, st);
    }
    return st;
  };

  let upper = max;
  let upperBy: UpperReason = 'max';
  const lower = (value: number, by: UpperReason): void => {
    if (value < upper) {
      upper = value;
      upperBy = by;
    }
  };
  let localMtu: number | undefined;
  const ptbSettled: number[] = [];

  // Probes at or below lo cannot tell anything new: they do not hold a place among `parallel`.
  let active = 0;
  for (const p of probes) {
    if (p.size > base && inFlight(p) && !(now >= p.sentAt + settle && deliveredSince(p))) active++;
  }
  for (const p of probes) {
    if (p.size <= base || p.delivered) continue; // passes; failures below lo are random or forged
    const st = state(p.size);
    if (p.local) {
      // The local stack cannot be forged or lose packets: hard upper bound, at once.
      lower(p.size - 1, 'local');
      if (p.local.mtu >= floor && p.local.mtu < p.size) {
        localMtu = localMtu === undefined ? p.local.mtu : Math.min(localMtu, p.local.mtu);
        lower(p.local.mtu, 'local');
      }
      continue;
    }
    if (tally(ctx, p, st, aliveAround, deliveredSince)) ptbSettled.push(p.size);
  }
  for (const s of ptbSettled) lower(s - 1, 'ptb');
  for (const [s, st] of sizes) if (st.failures >= confirmations) lower(s - 1, 'loss');
  if (lo !== null && upper < lo) {
    // Only possible when the local MTU shrank during the run; the delivery stands.
    upper = lo;
  }
  return { sizes, upper, upperBy, localMtu, active };
}

/**
 * Count one unanswered-or-refused probe above lo into its size's state; true when it carries a
 * settled, trusted PTB (a proof that its size fails).
 */
function tally(
  { family, floor, now, base, settle }: Ctx,
  p: ProbeRecord,
  st: SizeState,
  aliveAround: (p: ProbeRecord) => boolean,
  deliveredSince: (p: ProbeRecord) => boolean,
): boolean {
  if (p.tooBig) {
    st.ptb = true;
    if (now < p.sentAt + settle) {
      st.unsettledPtb = true;
      return false;
    }
    const m = p.tooBig.nextHopMtu;
    const trusted = p.tooBig.plausible && ptbPlausibility(family, p.size, m, floor).plausible && m >= base;
    if (trusted) return true;
    // Something said "too big" but its number is wrong: weak evidence, counted like a loss.
    if (aliveAround(p)) st.failures++;
    else st.lostNotAlive++;
    return false;
  }
  if (p.lostAt !== undefined) {
    if (aliveAround(p)) st.failures++;
    else st.lostNotAlive++;
    return false;
  }
  if (p.timeExceeded || p.unreachable) return false;
  if (now >= p.sentAt + settle && deliveredSince(p)) st.overdue++;
  else st.active++;
  return false;
}

/** The optimistic upper end: just below the smallest size that is suspect but not proven to fail. */
function findEdge(sizes: Map<number, SizeState>, upper: number, rateLimited: boolean): { edge: number; edgeBy?: 'loss' | 'ptb' } {
  const ordered = [...sizes.keys()].sort((a, b) => a - b);
  for (const s of ordered) {
    if (s > upper) break;
    const st = sizes.get(s)!;
    // A rate-limiting target leaves most probes unanswered whatever their size: there, only losses
    // vouched for by a later, smaller delivery (failures) mark where the path stops.
    const silent = !rateLimited && (st.lostNotAlive > 0 || st.overdue > 0);
    if (st.failures > 0 || silent || st.unsettledPtb || st.ptb) return { edge: s - 1, edgeBy: st.ptb ? 'ptb' : 'loss' };
  }
  return { edge: upper };
}

/**
 * Search points from PTBs: the reported next-hop MTU (to confirm by delivery) and one above it
 * (to prove the boundary). RFC 1191: a PTB with 0 means "too big" without a number; try the
 * plateau below the probe instead.
 * The claimed MTU is re-probed after a loss (until confirmed lost): it is the likeliest answer, and
 * one random loss there must not send the search off into a k-ary hunt below it.
 */
function ptbHints({ family, probes, floor, base }: Ctx, sizes: Map<number, SizeState>, upper: number, edge: number): Hint[] {
  const probed = new Set(probes.filter((p) => !p.timeExceeded).map((p) => p.size));
  // One claim per reporter (its smallest still possible): a real router always reports its own
  // MTU, while a flood of PTBs from one source with varying numbers must not buy a probe each.
  const hintSet = new Set<number>();
  const above = new Set<number>();
  const claim = new Map<string, number>();
  for (const p of probes) {
    if (!p.tooBig || p.size <= base || p.delivered) continue;
    const m = p.tooBig.nextHopMtu;
    if (ptbPlausibility(family, p.size, m, floor).plausible) {
      if (m >= base) claim.set(p.tooBig.from, Math.min(claim.get(p.tooBig.from) ?? Infinity, m));
    } else if (m === 0) {
      const guess = rfc1191Guess(p.size, floor);
      if (guess !== undefined) hintSet.add(guess);
    }
  }
  for (const m of claim.values()) {
    hintSet.add(m);
    hintSet.add(m + 1);
    above.add(m + 1);
  }
  const hints: Hint[] = [];
  for (const x of [...hintSet].sort((a, b) => a - b)) {
    if (x <= base || x > upper) continue;
    const st = sizes.get(x);
    if (!probed.has(x)) {
      if (x <= edge) hints.push({ size: x, pending: false, above: above.has(x) });
    } else if (st && hintSet.has(x + 1) && !st.ptb && st.failures + st.lostNotAlive > 0) {
      // The claimed MTU itself (x+1 also pointed at), lost: re-probed until its loss is confirmed,
      // in parallel with the search below it (see Hint.retry).
      hints.push({ size: x, pending: st.active + st.overdue > 0, above: false, retry: true });
    } else if (st && st.active + st.overdue > 0) {
      hints.push({ size: x, pending: true, above: above.has(x) });
    }
  }
  return hints;
}

/**
 * Routers send about 6 ICMP errors in a burst, then 1/s (Linux icmp_ratelimit, per destination).
 * After 5 from one router within a second, its next "too big" will most likely be silence.
 * Probes still in flight above what a router said (or above the smallest size it refused) will
 * draw on the same burst, so they count too.
 */
function routerBudgetSpent({ family, probes, floor, now }: Ctx): boolean {
  const recent = new Map<string, { count: number; limit: number }>();
  for (const p of probes) {
    if (!p.tooBig || now - p.tooBig.at >= ICMP_WINDOW_MS) continue;
    const m = p.tooBig.nextHopMtu;
    const limit = ptbPlausibility(family, p.size, m, floor).plausible ? m : p.size - 1;
    const r = recent.get(p.tooBig.from);
    if (r) {
      r.count++;
      r.limit = Math.min(r.limit, limit);
    } else recent.set(p.tooBig.from, { count: 1, limit });
  }
  return [...recent.values()].some(
    (r) => r.count + probes.filter((q) => inFlight(q) && q.size > r.limit).length >= ICMP_BURST - 1,
  );
}

function rfc1191Guess(size: number, floor: number): number | undefined {
  const p = plateauBelow(size);
  return p !== undefined && p >= floor ? p : undefined;
}
