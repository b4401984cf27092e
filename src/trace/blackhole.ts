// Locating a black hole (scamper's TTL-limited approach, all TTLs at once). discover found a size
// that vanishes without an ICMP error. Send that size with TTL 1..n: a router before the link that
// eats it still gets the probe and answers time-exceeded; beyond the link nobody does — while the
// small probes of the hop map got answers from the same TTLs. Linux routers check the TTL before
// the MTU when forwarding, so the router whose egress is too small still answers for its own TTL:
// the link lies after the last TTL that answered the large probe.
//
// Silence is confirmed before it is believed: each silent TTL that answered small probes is asked
// once more. Each router is asked for at most two more time-exceededs here (burst is about 6).
import type { ProbeOutcome } from '../probe/prober.js';
import type { HopMap } from './hops.js';
import type { Rounds } from './rounds.js';
import type { BlackHole } from './types.js';

/** Did the large probe reach the hop at this TTL? (Any answer from there on proves it did.) */
function reached(outcomes: ProbeOutcome[]): string | null {
  for (const o of outcomes) {
    if (o.kind === 'timeExceeded' || o.kind === 'delivered' || o.kind === 'tooBig') return o.from;
  }
  return null;
}

export async function locateBlackHole(rounds: Rounds, map: HopMap, size: number): Promise<BlackHole | null> {
  const n = map.hops.length;
  if (n === 0) return null;
  const ttls = map.hops.map((h) => h.ttl);
  const large = (await rounds.run(ttls.map((ttl) => ({ size, ttl })))).map(reached);

  const smallAnswered = (ttl: number): boolean => map.hops[ttl - 1]!.address !== null;
  const lastLarge = (): number => {
    let t = 0;
    large.forEach((a, i) => {
      if (a !== null) t = i + 1;
    });
    return t;
  };

  // Confirm the silence that matters: beyond the last TTL that answered, where small probes were answered.
  const doubt = ttls.filter((t) => t > lastLarge() && large[t - 1] === null && smallAnswered(t));
  if (doubt.length > 0 && !rounds.aborted) {
    const again = await rounds.run(doubt.map((ttl) => ({ size, ttl })));
    doubt.forEach((t, i) => {
      large[t - 1] ??= reached(again[i]!);
    });
  }

  const after = lastLarge();
  const firstSilentTtl = ttls.find((t) => t > after && large[t - 1] === null && smallAnswered(t)) ?? null;
  // The large probe got all the way (the destination answered it): no black hole on the forward path.
  if (after > 0 && map.destinationTtl !== null && after >= map.destinationTtl) return null;
  return {
    afterTtl: after,
    lastAnswering: after > 0 ? large[after - 1]! : null,
    firstSilent: firstSilentTtl !== null ? map.hops[firstSilentTtl - 1]!.address : null,
    firstSilentTtl,
    size,
    beyond: firstSilentTtl !== null ? 'answers' : 'silent',
  };
}
