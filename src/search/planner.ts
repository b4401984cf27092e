// What to send next, given an Assessment. Pure.
//
// Rounds: the first sends the interface MTU, the common plateaus below it and a binary split, all
// at once. Then, in order of preference:
//  0. nothing delivered yet and probes already lost: the floor, K times (is the target there at all?);
//  1. sizes a PTB pointed at (its next-hop MTU m to confirm by delivery, m+1 to prove the boundary);
//     when m itself vanishes, m is only a ceiling: its loss is confirmed while 2-3 hunt below it;
//  2. when the size just above the largest delivered one (c = lo+1) is itself suspect, enough copies
//     of c to confirm the loss (plus a smaller "control" probe that proves the path alive);
//  3. otherwise a parallel k-ary split of [c, edge], or every size in it when few are left.
// Sizes answered by silence cost nothing at routers; sizes answered by PTBs cost an ICMP error from a
// rate-limited router (about 6 in a burst, then 1/s), so rounds that meet PTBs are kept small.
import { COMMON_MTUS } from './plateaus.js';
import type { Assessment } from './evidence.js';

const PLATEAUS: ReadonlySet<number> = new Set(COMMON_MTUS);

/** Cap of the first round: max + plateaus + split; 5 plateaus above 1400 + the boundary = 6 PTBs. */
const FIRST_ROUND = 8;
/** Cap of a refining round that meets PTBs rather than silence. */
const PTB_ROUND = 5;

export function firstRound(floor: number, max: number, parallel: number): number[] {
  const cap = Math.max(1, Math.min(parallel, FIRST_ROUND));
  const sizes = [max];
  for (const m of COMMON_MTUS) {
    if (sizes.length >= cap - 1) break;
    if (m < max && m >= floor) sizes.push(m);
  }
  const smallest = sizes[sizes.length - 1];
  const mid = floor + Math.floor((smallest - floor) / 2);
  if (sizes.length < cap && mid >= floor && !sizes.includes(mid)) sizes.push(mid);
  return sizes;
}

/** n points splitting the possible answers [from-1, to] into n+1 nearly equal groups. */
export function split(from: number, to: number, n: number): number[] {
  const count = to - from + 2;
  const out: number[] = [];
  for (let i = 1; i <= n; i++) {
    const p = from - 1 + Math.ceil((i * count) / (n + 1));
    if (p >= from && p <= to && !out.includes(p)) out.push(p);
  }
  return out;
}

export interface PlanInput {
  a: Assessment;
  floor: number;
  /** How many more probes may be in flight now (parallel - active), already capped by the budget. */
  free: number;
}

/** Sizes to send now (repeats mean several probes of that size). */
export function plan({ a, floor, free }: PlanInput): number[] {
  const out: number[] = [];
  if (free <= 0) return out;
  const add = (size: number, n = 1): void => {
    for (let i = 0; i < n && out.length < free; i++) out.push(size);
  };
  const c = (a.lo ?? floor - 1) + 1;
  if (c > a.upper) return out;
  const needControl = (): boolean => a.lo !== null && !a.smallerInFlight(c) && !out.includes(a.lo);

  // 0. Total silence so far: is anything there at all? Ask with the smallest size, K times (one
  // more than that on the first ask: a target that rate-limits its answers then shows itself —
  // the first copy answered, the others not).
  const askFloor = (): void => {
    const st = a.sizes.get(floor);
    const seen = st ? st.overdue + st.lostNotAlive + st.failures : 0;
    const pending = st ? st.active : 0;
    add(floor, Math.max(0, (seen === 0 ? a.confirmations + 1 : a.confirmations) - seen - pending));
  };
  if (!a.anyAnswer) {
    if (a.active > 0) return out; // the first answers may still come
    askFloor();
    return out;
  }
  // 0b. Routers answered (PTBs), the target nothing, and probes have already gone lost: does the
  // target answer this method at all? (It may filter echo, or UDP.) The same question, asked beside
  // whatever else is worth sending; if the floor stays silent too, the search ends after one more
  // timeout (update() in search.ts) instead of hunting with a budget of unanswerable probes.
  if (a.lo === null && [...a.sizes.values()].some((st) => st.lostNotAlive + st.failures > 0)) askFloor();

  // 1. PTB-pointed sizes: one round trip to the exact answer when the router told the truth.
  // A claimed MTU that was itself lost is a ceiling, not an answer: its loss is confirmed like any
  // other (copies and a control at once, so the losses count), while the hunt below goes on.
  let waitForHint = false;
  let retrying = false;
  for (const h of a.hints) {
    if (h.retry) {
      retrying = true;
      if (h.pending) continue;
      const st = a.sizes.get(h.size);
      const need = a.confirmations - (st?.failures ?? 0);
      if (need > 0) {
        if (a.lo !== null && a.lo < h.size && !a.smallerInFlight(h.size) && !out.includes(a.lo)) add(a.lo);
        add(h.size, need);
      }
    } else if (h.pending) waitForHint = true;
    // m+1 just above a delivered m will be answered by silence if the router's burst is spent:
    // send the confirmations at once rather than one per timeout.
    else if (a.icmpExhausted && h.above) {
      if (a.lo !== null && a.lo < h.size && !a.smallerInFlight(h.size)) add(a.lo);
      add(h.size, a.confirmations);
    } else add(h.size);
  }
  if (waitForHint || (out.length > 0 && !retrying)) return out;
  if (out.length >= free) return out;

  const sc = a.sizes.get(c);
  const pendingAt = (s: number): number => {
    const st = a.sizes.get(s);
    return st ? st.active + st.overdue : 0;
  };

  // 2. c itself is suspect: confirm (or refute) the limit right there.
  if (a.edge < c) {
    if (!sc || sc.unsettledPtb) return out; // a PTB for c is settling: wait for it
    const revivable = a.lo === null || a.smallerInFlight(c) ? sc.lostNotAlive : 0;
    const need = a.confirmations - sc.failures - pendingAt(c) - revivable;
    if (need > 0) {
      if (needControl()) add(a.lo!);
      add(c, need);
    }
    return out;
  }

  // 3. Refine [c, edge], once the previous round there has been answered (or gone overdue).
  for (let s = c; s <= a.edge; s++) if ((a.sizes.get(s)?.active ?? 0) > 0) return out;
  // Silence expected: the edge was set by loss, or the routers' ICMP burst is spent.
  const lossMode = a.icmpExhausted || (a.edgeBy ? a.edgeBy === 'loss' : a.upperBy === 'loss');
  let n = free - out.length;
  if (!lossMode) n = Math.min(n, PTB_ROUND);
  const w = a.edge - c + 1;
  const k = a.confirmations;
  // In silence, the smallest suspect is probed again too: if its loss was random, this saves the
  // rounds of hunting below it; if not, it counts toward confirming the limit.
  const suspect = a.edge + 1;
  const suspectSt = a.sizes.get(suspect);
  const suspectNeed =
    lossMode && suspect <= a.upper && suspectSt && suspectSt.active === 0
      ? Math.max(0, k - suspectSt.failures - suspectSt.overdue)
      : 0;
  // Rounds that carry confirmations carry a control too (a smaller size: proof the path is alive).
  const control = (): void => {
    if (needControl()) {
      add(a.lo!);
      n--;
    }
  };
  if (lossMode && w + suspectNeed + 1 <= n) {
    // Few sizes left: all of them, and in silence (no ICMP cost) copies, so that whichever turns out
    // to be just above the answer has its confirmations when this round times out.
    control();
    add(suspect, suspectNeed);
    for (let s = c; s <= a.edge; s++) add(s);
    for (let copy = 1; copy < k; copy++) for (let s = c; s <= a.edge; s++) add(s);
    return out;
  }
  if (!lossMode && w <= n) {
    for (let s = c; s <= a.edge; s++) add(s);
    return out;
  }
  if (lossMode && suspect <= a.upper && suspectSt && suspectSt.active === 0 && n > 1) {
    add(suspect);
    n--;
  }
  if (lossMode && n >= k + 3 && a.lo !== null && PLATEAUS.has(a.lo)) {
    // A delivered plateau is the likeliest answer: the limit sits right above it. Confirm now.
    control();
    add(c, k);
    for (const p of split(c + 1, a.edge, n - k)) add(p);
  } else {
    for (const p of split(c, a.edge, n)) add(p);
  }
  return out;
}
