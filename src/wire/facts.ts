// Facts every layer needs (DESIGN.md "Layers"): the address family, IP header sizes and the
// protocol MTU floors. They sit here, below sock/probe/search/lab, so no lower layer imports a
// higher one to learn them.

export type Family = 4 | 6;

/** IP header sizes without options/extensions, and the protocol floors (RFC 791 / RFC 8200). */
export const IP_HEADER = { 4: 20, 6: 40 } as const;
export const MIN_MTU = { 4: 68, 6: 1280 } as const;

/** Whether a reported next-hop MTU can be believed, and if not, why (in words). */
export interface PtbPlausibility {
  plausible: boolean;
  reason?: string;
}

/**
 * Is a "packet too big" / "fragmentation needed" next-hop MTU believable for a probe of `size`
 * bytes? RFC 1191/8201: a value of 0 (old routers), below the floor, or not smaller than the probe
 * itself cannot be right. `floor` is the protocol minimum unless a search was told a higher one.
 * The one place this is decided: the probe layer marks outcomes with it, the search and trace
 * weigh PTBs with it.
 */
export function ptbPlausibility(family: Family, size: number, nextHopMtu: number, floor: number = MIN_MTU[family]): PtbPlausibility {
  if (nextHopMtu === 0) return { plausible: false, reason: 'next-hop MTU is 0 (old router: use the plateau table)' };
  if (nextHopMtu < floor) return { plausible: false, reason: `next-hop MTU ${nextHopMtu} is below the IPv${family} minimum ${floor}` };
  if (nextHopMtu >= size) return { plausible: false, reason: `next-hop MTU ${nextHopMtu} is not smaller than the ${size}-byte probe` };
  return { plausible: true };
}

/**
 * Linux's default ICMP error rate limit per destination (inet_peer_xrlim_allow): a burst of about
 * 6, then one every net.ipv4.icmp_ratelimit ms (1000). Routers answer time-exceeded, frag-needed
 * and port-unreachable from this budget; the search and trace plan around it.
 */
export const LINUX_ICMP_RATELIMIT = { burst: 6, intervalMs: 1000 } as const;
/** A pause long enough for a router's ICMP token to refill, with a margin. */
export const ICMP_REFILL_MS = LINUX_ICMP_RATELIMIT.intervalMs + 50;
