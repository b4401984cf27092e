// Locating a black hole (scamper's TTL-limited approach, all TTLs at once). A size vanishes without
// an ICMP error. Send that size with TTL 1..n: a router before the link that eats it still gets the
// probe and answers time-exceeded; beyond the link nobody does — while small probes get answers
// from the same TTLs. Linux routers check the TTL before the MTU when forwarding, so the router
// whose egress is too small still answers for its own TTL: the link lies after the last TTL that
// answered the large probe. Only time-exceeded or the destination's answer prove that a probe got
// to a TTL: a PTB at TTL t comes from a router before it (one that sends PTBs with MTU 0, say).
//
// Silence is confirmed before it is believed. Routers rate-limit their time-exceededs (Linux: a
// per-destination bucket of about 6, then 1 a second), so a router that stays quiet may simply have
// no token left. Each doubtful TTL gets the large probe again *followed by* a small one: a router
// with a token answers whichever comes first, so "small answered, large not" means the size
// vanished, while "neither" means no token (or a silent router). Those are asked once more after a
// pause long enough for a token to come back. What stays unanswered is reported as a bracket
// (afterTtl..afterTtlMax, uncertain), never as one hop it cannot name.
import { ICMP_REFILL_MS } from '../wire/facts.js';
import type { ProbeOutcome } from '../probe/prober.js';
import type { HopMap, HopObservation } from './hops.js';
import type { Rounds } from './rounds.js';
import type { BlackHole } from './types.js';


export interface LocateOptions {
  /** Pause before asking rate-limited hops again (default ICMP_REFILL_MS). */
  refillMs?: number;
}

export interface Located {
  blackHole: BlackHole | null;
  /** Hops that were silent in the hop map but answered a small probe here (a spent ICMP budget then). */
  revealed: HopObservation[];
  /** The size was lost at a hop that answered a small probe sent right behind it (not a spent rate limit). */
  confirmed: boolean;
  /** PTBs the vanishing size drew (from a router before the link: its value may be 0). */
  ptbs: Array<{ from: string; nextHopMtu: number; size: number; plausible: boolean }>;
}

/** Who answered a probe that provably got to this TTL (time-exceeded there, or the destination). */
function reached(outcomes: ProbeOutcome[]): string | null {
  for (const o of outcomes) {
    if (o.kind === 'timeExceeded' || o.kind === 'delivered') return o.from;
  }
  return null;
}

function answer(ttl: number, outcomes: ProbeOutcome[]): HopObservation | null {
  for (const o of outcomes) {
    if (o.kind === 'timeExceeded') return { ttl, address: o.from, rttMs: o.rttMs, kind: 'timeExceeded' };
    if (o.kind === 'delivered') return { ttl, address: o.from, rttMs: o.rttMs, kind: 'delivered' };
  }
  return null;
}

export async function locateBlackHole(rounds: Rounds, map: HopMap, size: number, small: number, opts: LocateOptions = {}): Promise<Located> {
  const n = map.hops.length;
  const revealed: HopObservation[] = [];
  const ptbs: Located['ptbs'] = [];
  const note = (outs: ProbeOutcome[]): void => {
    for (const o of outs) if (o.kind === 'tooBig') ptbs.push({ from: o.from, nextHopMtu: o.nextHopMtu, size, plausible: o.plausible });
  };
  if (n === 0) return { blackHole: null, revealed, ptbs, confirmed: false };
  const ttls = map.hops.map((h) => h.ttl);
  const first = await rounds.run(ttls.map((ttl) => ({ size, ttl })));
  first.forEach(note);
  const large: Array<string | null> = first.map(reached);
  let lastSent = performance.now();
  /** TTLs where a small probe was answered in the same round as an unanswered large one. */
  const vanished = new Set<number>();
  /** Answers seen in the pairs (small, or the large one that got there), by TTL. */
  const alive = new Map<number, HopObservation>();

  const lastLarge = (): number => {
    let t = 0;
    large.forEach((a, i) => {
      if (a !== null) t = i + 1;
    });
    return t;
  };
  const answersSmall = (t: number): boolean => map.hops[t - 1]!.address !== null || alive.has(t);

  /** Large then small at each TTL, in one round: which TTLs the size reached, which answered only small. */
  const pair = async (doubt: number[]): Promise<void> => {
    const got = await rounds.run(doubt.flatMap((ttl) => [{ size, ttl }, { size: small, ttl }]));
    lastSent = performance.now();
    doubt.forEach((t, i) => {
      note(got[2 * i]!);
      const big = reached(got[2 * i]!);
      const little = answer(t, got[2 * i + 1]!);
      if (big !== null) {
        large[t - 1] ??= big;
        const seen = answer(t, got[2 * i]!);
        if (seen !== null && !alive.has(t)) alive.set(t, seen);
      }
      else if (little !== null) vanished.add(t);
      if (little !== null && !alive.has(t)) alive.set(t, little);
    });
  };

  // Confirm the silence beyond the last TTL that answered: every silent TTL up to the first one
  // that answers small probes (the map's), and that one too.
  const doubtful = (): number[] => {
    const after = lastLarge();
    const out: number[] = [];
    for (const t of ttls) {
      if (t <= after || large[t - 1] !== null || vanished.has(t)) continue;
      out.push(t);
      if (answersSmall(t)) break;
    }
    // Only worth asking when something beyond answers small probes (else nothing can be told).
    return out.some(answersSmall) ? out : [];
  };
  let doubt = doubtful();
  if (doubt.length > 0 && !rounds.aborted) await pair(doubt);

  // What is still open lies between the last TTL reached and the first one known to lose the size:
  // hops that answered neither probe. Give their rate limit time to refill, then ask once more.
  doubt = doubtful().filter((t) => t < (firstVanished() ?? Infinity));
  if (doubt.length > 0 && !rounds.aborted) {
    const wait = lastSent + (opts.refillMs ?? ICMP_REFILL_MS) - performance.now();
    if (wait > 0) await rounds.pause(wait);
    if (!rounds.aborted) await pair(doubt);
  }
  function firstVanished(): number | null {
    const after = lastLarge();
    return ttls.find((t) => t > after && vanished.has(t)) ?? null;
  }

  for (const [t, o] of alive) if (map.hops[t - 1]!.address === null) revealed.push(o);

  const after = lastLarge();
  // The large probe got all the way (the destination answered it): no black hole on the forward path.
  if (after > 0 && map.destinationTtl !== null && after >= map.destinationTtl) return { blackHole: null, revealed, ptbs, confirmed: false };
  // Without the pairs (nothing beyond answers anything), fall back to the map's small answers.
  const firstSilentTtl = firstVanished() ?? ttls.find((t) => t > after && large[t - 1] === null && answersSmall(t)) ?? null;
  const end = firstSilentTtl ?? (map.destinationTtl ?? n + 1);
  const afterTtlMax = Math.max(after, end - 1);
  const firstSilent = firstSilentTtl !== null ? (alive.get(firstSilentTtl)?.address ?? map.hops[firstSilentTtl - 1]!.address) : null;
  return {
    blackHole: {
      afterTtl: after,
      lastAnswering: after > 0 ? large[after - 1]! : null,
      firstSilent,
      firstSilentTtl,
      size,
      afterTtlMax,
      uncertain: afterTtlMax > after,
      beyond: firstSilentTtl !== null ? 'answers' : 'silent',
    },
    revealed,
    ptbs,
    confirmed: firstVanished() !== null,
  };
}
