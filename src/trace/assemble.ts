// From observations to the per-hop picture: pure, so every rule here is unit-tested without a lab.
//
// Rules:
// - A PTB sender sits at the hop whose time-exceeded came from the same address (a router's ICMP
//   errors leave by the interface facing us), or where placeSenders() found it by TTL.
// - A PTB is bogus when a larger packet than its next-hop MTU was delivered: the router lied (or
//   the message was forged or stale). Bogus PTBs never lower the picture.
// - The MTU after hop k is the smallest believed next-hop MTU reported at or before hop k (and the
//   black-hole link's limit past it); the destination's is the path MTU itself.
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

  const drops: MtuDrop[] = [];
  let cur = localMtu;
  const lower = (to: number, afterTtl: number, evidence: MtuDrop['evidence'], by: string | null): void => {
    if (to >= cur) return;
    drops.push({ afterTtl, from: cur, to, evidence, by });
    cur = to;
  };

  // Hop 0: this host. Its stack, a PTB speaking for the first link, or a black hole right after us.
  if (input.localRefusal !== undefined) lower(input.localRefusal, 0, 'local', null);
  for (const p of believed.filter((b) => b.ttl === 0)) lower(p.nextHopMtu, 0, 'ptb', p.from);
  if (blackHole?.afterTtl === 0 && pmtu !== null) lower(pmtu, 0, 'black-hole', null);
  const firstDrop = drops[0];
  const firstHop: FirstHop | null = firstDrop
    ? { interfaceMtu: localMtu, carries: cur, evidence: firstDrop.evidence === 'ptb' ? 'ptb' : firstDrop.evidence === 'local' ? 'local' : 'black-hole' }
    : null;

  const out: TraceHop[] = [];
  for (const h of hops) {
    const isDest = destinationTtl !== null && h.ttl === destinationTtl;
    if (!isDest) {
      for (const p of believed.filter((b) => b.ttl === h.ttl).sort((a, b) => b.nextHopMtu - a.nextHopMtu)) lower(p.nextHopMtu, h.ttl, 'ptb', p.from);
      if (blackHole && blackHole.afterTtl === h.ttl && pmtu !== null) lower(pmtu, h.ttl, 'black-hole', null);
    } else if (pmtu !== null) {
      // Believed PTBs from senders nowhere on the map, then whatever is still unexplained.
      for (const p of believed.filter((b) => b.ttl === null)) lower(p.nextHopMtu, h.ttl - 1, 'ptb', p.from);
      if (pmtu < cur) lower(pmtu, h.ttl - 1, blackHole ? 'black-hole' : 'unexplained', null);
    }
    const hop: TraceHop = {
      ttl: h.ttl,
      address: h.address,
      rttMs: h.rttMs === null ? null : Math.round(h.rttMs * 1000) / 1000,
      mtu: isDest && pmtu !== null ? pmtu : cur,
    };
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
