// The hub lab as data: many targets behind one router, each with its own path MTU. Pure — no I/O —
// so the truth (which target has which PMTU, which ones are black holes) is testable without root.
//
//   client --link 0-- r1 --link 1-------------- targets      (most targets)
//                      \--link 2-- r2 --link 3--/            (black holes: r2 drops its PTBs)
//
// r1 holds one /32 (/128) route per target, each with its own locked `mtu` metric: Linux honours a
// route's MTU when it forwards and sends frag-needed / packet-too-big for it, so one router gives
// every target its own path MTU. A black-hole target is routed on to r2, whose route to it has a
// smaller MTU and whose PTBs nftables drops: between r2's MTU and r1's, packets vanish silently.
// The targets namespace holds every target address on lo and answers like a lab server (echo,
// port unreachable, RST). Replies go straight back through r1 on 1500-byte links, so a round trip
// measures the forward path too.
//
// Addresses: links as in spec.ts (198.18.<link>.0/24, 2001:db8:<link>::/64); target i is
// 198.19.<1 + i div 254>.<1 + i mod 254> and 2001:db8:100::<i + 1 in hex>.
import type { Family } from '../wire/facts.js';
import { LabError } from '../errors.js';
import { prng } from '../search/prng.js';
import { linkAddress, type NodeSpec } from './spec.js';

export interface HubSpec {
  /** Targets per family (default 1000, at most MAX_HUB_TARGETS). */
  targets?: number;
  /** Share of targets behind r2, the router that drops its PTBs (default 0.1; 0 to 0.5). */
  blackHoles?: number;
  /** Seed of the route MTUs (default 1): the same seed gives the same hub. */
  seed?: number;
  /** Smallest route MTU handed out per family (defaults 576 for IPv4, 1280 for IPv6). */
  minMtu?: Partial<Record<Family, number>>;
  /** ICMP rate limits of the routers (r1 and r2); kernel defaults unless set. */
  routers?: NodeSpec;
  /** ICMP rate limits of the targets namespace (its port unreachables); kernel defaults unless set. */
  targetHost?: NodeSpec;
}

export interface HubTarget {
  family: Family;
  /** Position in its family's list (0-based). */
  index: number;
  address: string;
  /** The path MTU from the client, forward (and round trip: the way back is 1500 all along). */
  pmtu: number;
  /** Behind r2: packets above pmtu (and up to r1Mtu) vanish without a PTB. */
  blackHole: boolean;
  /** MTU of r1's route to this target. */
  r1Mtu: number;
  /** MTU of r2's route to this target (black holes only). */
  r2Mtu?: number;
  /**
   * Who answers a packet of pmtu + 1 bytes with a PTB: r1's client-side address, or undefined for a
   * black hole (r2 stays silent).
   */
  ptbFrom: string | undefined;
}

export const HUB_NODES = ['client', 'r1', 'r2', 'targets'] as const;
export type HubNode = (typeof HUB_NODES)[number];
export const MAX_HUB_TARGETS = 50_000;
export const DEFAULT_HUB_TARGETS = 1000;
const MAX_MTU = 1500;

/** Links of the hub: [left node, left interface, right node, right interface]. */
export const HUB_LINKS: ReadonlyArray<readonly [HubNode, string, HubNode, string]> = [
  ['client', 'eth0', 'r1', 'eth0'],
  ['r1', 'eth1', 'targets', 'eth0'],
  ['r1', 'eth2', 'r2', 'eth0'],
  ['r2', 'eth1', 'targets', 'eth1'],
];

export interface HubPlan {
  spec: HubSpec;
  targets: Record<Family, HubTarget[]>;
}

/** Address of hub target `i` (0-based) of a family. */
export function hubTargetAddress(family: Family, i: number): string {
  return family === 4 ? `198.19.${1 + Math.floor(i / 254)}.${1 + (i % 254)}` : `2001:db8:100::${(i + 1).toString(16)}`;
}


function checkMtuFloor(family: Family, v: number | undefined): number {
  const floor = family === 4 ? 552 : 1280; // below Linux's min_pmtu (v4) or IPv6's minimum the kernel clamps
  const value = v ?? (family === 4 ? 576 : 1280);
  if (!Number.isInteger(value) || value < floor || value > MAX_MTU - 1) {
    throw new LabError(`hub minMtu for IPv${family} must be a whole number from ${floor} to ${MAX_MTU - 1}, not ${v}`);
  }
  return value;
}

/** Validate a hub spec and draw every target's route MTUs. Throws LabError on nonsense. */
export function planHub(spec: HubSpec = {}): HubPlan {
  const n = spec.targets ?? DEFAULT_HUB_TARGETS;
  if (!Number.isInteger(n) || n < 1 || n > MAX_HUB_TARGETS) {
    throw new LabError(`hub targets must be a whole number from 1 to ${MAX_HUB_TARGETS}, not ${spec.targets}`);
  }
  const share = spec.blackHoles ?? 0.1;
  if (typeof share !== 'number' || !(share >= 0 && share <= 0.5)) {
    throw new LabError(`hub blackHoles is a share from 0 to 0.5, not ${spec.blackHoles}`);
  }
  const seed = spec.seed ?? 1;
  if (!Number.isInteger(seed)) throw new LabError(`hub seed must be a whole number, not ${spec.seed}`);
  const targets = { 4: [], 6: [] } as Record<Family, HubTarget[]>;
  for (const family of [4, 6] as const) {
    const floor = checkMtuFloor(family, spec.minMtu?.[family]);
    const rand = prng(seed * 2 + family);
    // An integer from lo to hi inclusive.
    const draw = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
    for (let i = 0; i < n; i++) {
      // Exactly floor(n * share) black holes, spread evenly through the list.
      const blackHole = Math.floor((i + 1) * share) > Math.floor(i * share);
      const address = hubTargetAddress(family, i);
      if (blackHole) {
        const r2Mtu = draw(floor, MAX_MTU - 1);
        const r1Mtu = draw(r2Mtu + 1, MAX_MTU);
        targets[family].push({ family, index: i, address, pmtu: r2Mtu, blackHole, r1Mtu, r2Mtu, ptbFrom: undefined });
      } else {
        const r1Mtu = draw(floor, MAX_MTU);
        targets[family].push({ family, index: i, address, pmtu: r1Mtu, blackHole, r1Mtu, ptbFrom: linkAddress(0, family, 'right') });
      }
    }
  }
  return { spec, targets };
}
