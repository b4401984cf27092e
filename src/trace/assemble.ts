// From observations to the per-hop picture: pure, so every rule here is unit-tested without a lab.
//
// Rules:
// - A PTB sender sits at the hop whose time-exceeded came from the same address (a router's ICMP
//   errors leave by the interface facing us), or where placeSenders() found it by TTL.
// - A PTB is bogus when a larger packet than its next-hop MTU was delivered: the router lied (or
//   the message was forged or stale). Bogus PTBs never lower the picture.
// - A hop's MTU is what reaches it: the smallest believed next-hop MTU reported *before* hop k (a
//   drop on the link after hop k shows from hop k + 1 on, as a TTL-limited probe measures it); the
//   destination's is the path MTU itself. Hops inside a black hole's bracket (silent hops next to
//   it) have no known MTU (null).
// - A PTB that claims to come from the destination speaks for what lies before it (a tunnel
//   endpoint or the host's own stack): the drop is on the link into the destination.
import type { HopObservation } from './hops.js';
import type { PtbSeen } from './drops.js';
import type { BlackHole, BogusPtb, FirstHop, HopPtb, MtuDrop, TraceHop } from './types.js';

export interface AssembleInput {
  target: string;
  hops: HopObservation[];
  destinationTtl: number | null;
  /** Interface MTU of the route (where the picture starts). */
  localMtu: number;
  pmtu: number | null;
  /** Largest size known delivered (0: none). */
  delivered: number;
  ptbs: PtbSeen[];
  /** Senders placed by TTL (address -> hop), for those that never answered a time-exceeded. */
  placed: Map<string, number>;
  blackHole: BlackHole | null;
  /** Values found by probing for routers whose PTB said MTU 0 (address -> largest size that passes). */
  zeroValues?: Map<string, number>;
  /** The local stack refused a size and named this MTU (below the interface's: a route MTU). */
  localRefusal?: number;
  names?: Map<string, string>;
}

export interface Assembled {
  hops: TraceHop[];
  drops: MtuDrop[];
  firstHop: FirstHop | null;
  bogusPtbs: BogusPtb[];
  /** Believed PTBs whose sender could not be placed on any hop. */
  unplaced: PtbSeen[];
}

interface Verdict {
  accepted: boolean;
  reason: string;
}

export function judgePtb(p: PtbSeen, delivered: number): Verdict {
  if (p.nextHopMtu === 0) {
    // RFC 1191: a router from before RFC 1191 (RFC 792) says "too big" without a number. Still
    // evidence of where, unless a probe it refused was delivered all the same.
    if (delivered >= Math.min(...p.sizes)) return { accepted: false, reason: `contradicted: a ${delivered}-byte probe was delivered` };
    return { accepted: true, reason: 'next-hop MTU 0 (an RFC 792 router): too big, the value comes from probing' };
  }
  if (!p.plausible) return { accepted: false, reason: `implausible next-hop MTU ${p.nextHopMtu} for a ${Math.min(...p.sizes)}-byte probe` };
  if (delivered > 0 && p.nextHopMtu < delivered) {
    return { accepted: false, reason: `contradicted: a ${delivered}-byte probe was delivered` };
  }
  return { accepted: true, reason: delivered === p.nextHopMtu ? `confirmed: ${delivered} bytes delivered` : 'believed' };
}

/** Hop of an address: the first TTL it answered at, or its placement by TTL. */
export function hopOf(address: string, hops: HopObservation[], placed: Map<string, number>): number | null {
  const h = hops.find((x) => x.address === address);
  if (h) return h.ttl;
  return placed.get(address) ?? null;
}

export function assemble(input: AssembleInput): Assembled {
  const { hops, destinationTtl, localMtu, pmtu, delivered, placed, blackHole } = input;
  const bogusPtbs: BogusPtb[] = [];
  const believed: Array<PtbSeen & { ttl: number | null }> = [];
  const markers = new Map<number, HopPtb>();

  for (const p of input.ptbs) {
    const v = judgePtb(p, delivered);
    let ttl = hopOf(p.from, hops, placed);
    // A PTB from the destination describes the link into it.
    const fromTarget = p.from === input.target || (destinationTtl !== null && ttl === destinationTtl);
    if (!v.accepted && v.reason.startsWith('contradicted')) {
      bogusPtbs.push({ from: p.from, ttl, nextHopMtu: p.nextHopMtu, contradictedBy: delivered });
    }
    if (ttl !== null) {
      const mark = markers.get(ttl);
      // One marker per hop: a believed value wins over a bogus one, then the smaller value.
      if (!mark || (v.accepted && !mark.accepted) || (v.accepted === mark.accepted && p.nextHopMtu < mark.nextHopMtu)) {
        markers.set(ttl, { from: p.from, nextHopMtu: p.nextHopMtu, accepted: v.accepted, reason: v.reason });
      }
    }
    if (v.accepted) {
      if (fromTarget && ttl !== null) ttl -= 1;
      believed.push({ ...p, ttl });
    }
  }
  // A PTB without a number (MTU 0) lowers the path to what is known to get past its sender: the
  // path MTU, or a larger size that a router beyond it answered.
  const zeroValue = (z: { from: string; ttl: number | null }): number => {
    const found = input.zeroValues?.get(z.from);
    if (found !== undefined) return found;
    const past = believed.filter((b) => b.nextHopMtu > 0 && b.ttl !== null && z.ttl !== null && b.ttl > z.ttl).flatMap((b) => b.sizes);
    return Math.max(pmtu ?? delivered, delivered, ...past);
  };

  const drops: MtuDrop[] = [];
  let cur = localMtu;
  const lower = (to: number, afterTtl: number, evidence: MtuDrop['evidence'], by: string | null, zero = false): void => {
    if (to >= cur) return;
    const d: MtuDrop = { afterTtl, from: cur, to, evidence, by };
    if (zero) d.zeroMtu = true;
    if (evidence === 'black-hole' && blackHole?.uncertain && blackHole.afterTtl === afterTtl) {
      d.uncertain = true;
      d.afterTtlMax = blackHole.afterTtlMax;
    }
    drops.push(d);
    cur = to;
  };

  // Hop 0: this host. Its stack, a PTB speaking for the first link, or a black hole right after us.
  if (input.localRefusal !== undefined) lower(input.localRefusal, 0, 'local', null);
  const ptbValue = (p: (typeof believed)[number]): number => (p.nextHopMtu === 0 ? zeroValue(p) : p.nextHopMtu);
  for (const p of believed.filter((b) => b.ttl === 0)) lower(ptbValue(p), 0, 'ptb', p.from, p.nextHopMtu === 0);
  if (blackHole?.afterTtl === 0 && pmtu !== null) lower(pmtu, 0, 'black-hole', null);
  const firstDrop = drops[0];
  const firstHop: FirstHop | null = firstDrop
    ? { interfaceMtu: localMtu, carries: cur, evidence: firstDrop.evidence === 'ptb' ? 'ptb' : firstDrop.evidence === 'local' ? 'local' : 'black-hole' }
    : null;

  const bracket = blackHole?.uncertain ? { from: blackHole.afterTtl, to: blackHole.afterTtlMax } : null;
  const out: TraceHop[] = [];
  for (const h of hops) {
    const isDest = destinationTtl !== null && h.ttl === destinationTtl;
    if (isDest && pmtu !== null) {
      // Believed PTBs from senders nowhere on the map, then whatever is still unexplained.
      for (const p of believed.filter((b) => b.ttl === null)) lower(ptbValue(p), h.ttl - 1, 'ptb', p.from, p.nextHopMtu === 0);
      if (pmtu < cur) lower(pmtu, h.ttl - 1, blackHole ? 'black-hole' : 'unexplained', null);
    }
    // What reaches this hop: everything lowered before it (the destination: the path MTU).
    const inBracket = bracket !== null && h.ttl > bracket.from && h.ttl <= bracket.to && !isDest;
    const hop: TraceHop = {
      ttl: h.ttl,
      address: h.address,
      rttMs: h.rttMs === null ? null : Math.round(h.rttMs * 1000) / 1000,
      mtu: isDest && pmtu !== null ? pmtu : inBracket ? null : cur,
    };
    if (!isDest) {
      for (const p of believed.filter((b) => b.ttl === h.ttl).sort((a, b) => ptbValue(b) - ptbValue(a))) lower(ptbValue(p), h.ttl, 'ptb', p.from, p.nextHopMtu === 0);
      if (blackHole && blackHole.afterTtl === h.ttl && pmtu !== null) lower(pmtu, h.ttl, 'black-hole', null);
    }
    const name = h.address !== null ? input.names?.get(h.address) : undefined;
    if (name !== undefined) hop.name = name;
    const mark = markers.get(h.ttl);
    if (mark) hop.ptb = mark;
    if (isDest) hop.destination = true;
    if (h.kind === 'unreachable' && !isDest) hop.unreachable = h.reason ?? 'unreachable';
    out.push(hop);
  }
  return { hops: out, drops, firstHop, bogusPtbs, unplaced: believed.filter((b) => b.ttl === null) };
}
