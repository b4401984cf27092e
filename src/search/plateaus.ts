// Size tables. RFC 1191 §7 lists MTU plateaus to fall back on when a router sends a PTB with an
// empty (0) next-hop MTU field; COMMON_MTUS holds the values seen on real links today (seed 002's
// field stories: PPPoE 1492, 1480 tunnels, VXLAN 1450, WireGuard 1420, IPv6 minimum 1280, jumbo).

/** RFC 1191 table 7-1 plateaus, descending. */
export const RFC1191_PLATEAUS = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68] as const;

/**
 * First-round candidates, descending. Kept short on purpose: every size above the bottleneck costs
 * one ICMP error from a router that sends about 6 in a burst (then 1/s), and the search needs one
 * more for the final boundary.
 */
export const COMMON_MTUS = [
  65535, 16384, 9216, 9000, 8192, 4470, 4352, 2002, 1500, 1492, 1480, 1450, 1420, 1400, 1280, 1006, 576, 296,
] as const;

/** Largest RFC 1191 plateau strictly below `size` (the guess for a PTB that says 0), or undefined. */
export function plateauBelow(size: number): number | undefined {
  return RFC1191_PLATEAUS.find((p) => p < size);
}

/** Largest IP packet: IPv4 total length is 16 bits; IPv6 adds its 40-byte header to a 16-bit payload length. */
export const MAX_PACKET = { 4: 65535, 6: 65535 + 40 } as const;
