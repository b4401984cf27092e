// Mapping the hops: small probes with TTL 1..16 sent at once (then 17..32, ... while the path has not
// ended, up to maxHops). A time-exceeded names the
// hop at that TTL; a delivery (or unreachable) from the target ends the path. TTLs that stay silent
// get one more probe each (a lost answer, or an ICMP rate limit, is not a silent router). Every
// router is asked at most twice, well inside Linux's burst of about 6 time-exceededs.
import { ICMP_REFILL_MS } from '../wire/facts.js';
import type { ProbeOutcome } from '../probe/prober.js';
import type { Rounds } from './rounds.js';

export interface HopObservation {
  ttl: number;
  /** Who answered: the router (time-exceeded), the target, or whoever said unreachable. */
  address: string | null;
  rttMs: number | null;
  kind: 'timeExceeded' | 'delivered' | 'unreachable' | 'silent';
  /** Unreachable reason, when the path ends in one. */
  reason?: string;
}

export interface HopMap {
  /** One entry per TTL from 1 to the destination (or to maxHops when it never answered). */
  hops: HopObservation[];
  /** TTL at which the target answered (delivered or unreachable from it); null when it never did. */
  destinationTtl: number | null;
  /** TTL at which a router said unreachable (the path ends there without reaching the target). */
  endTtl: number | null;
}

function observe(ttl: number, outcomes: ProbeOutcome[], target: string): HopObservation {
  for (const o of outcomes) {
    if (o.kind === 'timeExceeded') return { ttl, address: o.from, rttMs: o.rttMs, kind: 'timeExceeded' };
    if (o.kind === 'delivered') return { ttl, address: o.from || target, rttMs: o.rttMs, kind: 'delivered' };
    if (o.kind === 'unreachable') return { ttl, address: o.from, rttMs: o.rttMs, kind: 'unreachable', reason: o.reason };
  }
  return { ttl, address: null, rttMs: null, kind: 'silent' };
}

/** Lowest TTL at which the path ends (the target answered, or someone said unreachable). */
function endOf(hops: HopObservation[]): number | null {
  const end = hops.find((h) => h.kind === 'delivered' || h.kind === 'unreachable');
  return end ? end.ttl : null;
}

/** TTLs per round: most paths end within 16 hops, so one round maps them; longer ones take more. */
export const HOP_WINDOW = 16;

export interface MapOptions {
  /**
   * The target answers with ICMP errors, which it rate-limits (udp: port-unreachable): walk a
   * silent gap before its first answer one TTL at a time after a pause (see pacedEnd).
   */
  paced?: boolean;
  /** The pause for the target's rate limit to refill (default ICMP_REFILL_MS). */
  refillMs?: number;
}

export async function mapHops(rounds: Rounds, target: string, size: number, maxHops: number, opts: MapOptions = {}): Promise<HopMap> {
  // Probes beyond a TTL the target already answered stop mattering (their answers, if any, are
  // rate-limited duplicates from the target): no waiting for them.
  const ends = (o: ProbeOutcome[]): boolean => o.some((x) => x.kind === 'delivered' || x.kind === 'unreachable');
  const hops: HopObservation[] = [];
  for (let first = 1; first <= maxHops && !rounds.aborted; first += HOP_WINDOW) {
    const ttls = Array.from({ length: Math.min(HOP_WINDOW, maxHops - first + 1) }, (_, i) => first + i);
    const answers = await rounds.run(
      ttls.map((ttl) => ({ size, ttl })),
      (i, got) => got.slice(0, i).some(ends),
    );
    hops.push(...ttls.map((ttl, i) => observe(ttl, answers[i]!, target)));
    if (endOf(hops) !== null) break;
  }

  // Second chance for silent TTLs below the end (or all of them when nothing ended the path).
  const end = endOf(hops);
  const silent = hops.filter((h) => h.kind === 'silent' && (end === null || h.ttl < end));
  if (silent.length > 0 && !rounds.aborted) {
    const again = await rounds.run(silent.map((h) => ({ size, ttl: h.ttl })));
    silent.forEach((h, i) => {
      const o = observe(h.ttl, again[i]!, target);
      if (o.kind !== 'silent') hops[h.ttl - 1] = o;
    });
  }
  if (opts.paced) await pacedEnd(rounds, hops, target, size, maxHops, opts.refillMs ?? ICMP_REFILL_MS);
  const last = endOf(hops);
  const destinationTtl = last !== null && hops[last - 1]!.kind === 'delivered' ? last : null;
  // An unreachable from the target itself (e.g. admin-prohibited for this protocol) still reached it.
  const fromTarget = last !== null && hops[last - 1]!.kind === 'unreachable' && hops[last - 1]!.address === target ? last : null;
  const reachedAt = destinationTtl ?? fromTarget;
  const cut = last ?? Math.min(maxHops, lastAnswering(hops) + 1);
  return {
    hops: hops.slice(0, Math.max(1, cut)),
    destinationTtl: reachedAt,
    endTtl: reachedAt === null ? last : null,
  };
}

/** How far past the last answering router to walk when the target never answered. */
export const PACED_REACH = 4;

/**
 * The target's own answers can be rate-limited (a UDP port-unreachable: Linux allows a burst of
 * about 6, then 1 a second — and discover has just spent them): probes of every TTL at once then
 * leave the TTLs that reach it unanswered, or let a later TTL take the one token that came back.
 * So when silence sits between the last router that answered and the target's first answer (or
 * the target never answered), wait for a token, then walk those TTLs one probe at a time: only
 * the first probe that reaches the target can take the token, so it answers at its real TTL, and
 * never beyond a TTL that already reached it. Costs nothing on paths without such a gap.
 */
async function pacedEnd(rounds: Rounds, hops: HopObservation[], target: string, size: number, maxHops: number, refillMs: number): Promise<void> {
  if (rounds.aborted || hops.length === 0) return;
  const end = endOf(hops);
  let lastRouter = 0;
  for (const h of hops) if (h.kind === 'timeExceeded' && (end === null || h.ttl < end)) lastRouter = h.ttl;
  const upTo = end !== null ? end - 1 : Math.min(maxHops, lastRouter + PACED_REACH);
  if (upTo <= lastRouter) return;
  await rounds.pause(refillMs);
  for (let ttl = lastRouter + 1; ttl <= upTo && !rounds.aborted; ttl++) {
    const [got] = await rounds.run([{ size, ttl }]);
    const o = observe(ttl, got!, target);
    if (o.kind === 'silent') continue;
    while (hops.length < ttl) hops.push({ ttl: hops.length + 1, address: null, rttMs: null, kind: 'silent' });
    hops[ttl - 1] = o;
    if (o.kind === 'delivered' || o.kind === 'unreachable') {
      // Anything past it was a stale or rate-limited answer for a later TTL.
      hops.length = ttl;
      return;
    }
  }
}

function lastAnswering(hops: HopObservation[]): number {
  let t = 0;
  for (const h of hops) if (h.kind !== 'silent') t = h.ttl;
  return t;
}
