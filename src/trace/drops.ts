// Every place the MTU drops, and who said so. discover() fires many sizes at once and stops as soon
// as it knows the answer, so it may not have met every router that lowers the MTU on the way (a
// 1492 at hop 1 hidden behind the 1450 at hop 3). Here the drops are walked like tracepath does,
// but only where discover left a gap: probe the largest size not yet answered, follow the
// next-hop MTU its PTB names, until a size is known to pass. PTBs are not rate-limited by Linux
// routers (RFC 1191/8201 need them), so this costs one round trip per drop, and nothing when
// discover already saw them all.
import type { PtbReport } from '../discover/discover.js';
import type { Family } from '../wire/facts.js';
import type { Rounds } from './rounds.js';
import { RFC1191_PLATEAUS } from '../search/plateaus.js';

/** One packet-too-big as seen, by router and value. */
export interface PtbSeen {
  from: string;
  nextHopMtu: number;
  /** Sizes of the probes it answered. */
  sizes: number[];
  plausible: boolean;
}

export interface DropWalk {
  ptbs: PtbSeen[];
  /** Largest size seen delivered (discover's, or a walk probe's). */
  delivered: number;
  /** The local stack refused a size, reporting this MTU (the interface, or a route's MTU). */
  localMtu?: number;
}

export function add(list: PtbSeen[], from: string, nextHopMtu: number, size: number, plausible: boolean): void {
  const g = list.find((p) => p.from === from && p.nextHopMtu === nextHopMtu);
  if (g) {
    if (!g.sizes.includes(size)) g.sizes.push(size);
    g.plausible &&= plausible;
  } else list.push({ from, nextHopMtu, sizes: [size], plausible });
}

/** discover's PTB reports, regrouped; plausibility from its verdict reasons (contradiction is judged later). */
export function fromDiscover(reports: PtbReport[], family: Family): PtbSeen[] {
  const out: PtbSeen[] = [];
  const floor = family === 4 ? 68 : 1280;
  for (const r of reports) {
    for (const s of r.sizes) add(out, r.from, r.nextHopMtu, s, r.nextHopMtu >= floor && r.nextHopMtu < s);
  }
  return out;
}

/**
 * Walk from `start` down to `delivered`: at each size, use an answer discover already had, or send
 * one probe (one retry when unanswered, none above `silentAbove`, where discover already confirmed
 * that sizes vanish). Stops at a delivery, at silence (a black hole: located elsewhere), or after
 * `maxSteps`.
 */
export async function walkDrops(rounds: Rounds, start: number, delivered: number, known: PtbSeen[], silentAbove?: number, maxSteps = 12): Promise<DropWalk> {
  const ptbs = known.map((p) => ({ ...p, sizes: [...p.sizes] }));
  let lo = delivered;
  let localMtu: number | undefined;
  let s = start;
  for (let step = 0; step < maxSteps && s > lo && !rounds.aborted; step++) {
    // A size discover already asked about: follow the largest believable answer it got.
    const seen = ptbs.filter((p) => p.plausible && p.sizes.includes(s) && p.nextHopMtu >= lo && p.nextHopMtu < s);
    if (seen.length > 0) {
      s = Math.max(...seen.map((p) => p.nextHopMtu));
      continue;
    }
    let answers = (await rounds.run([{ size: s }]))[0]!;
    if (answers.length === 0 && !rounds.aborted && !(silentAbove !== undefined && s > silentAbove)) answers = (await rounds.run([{ size: s }]))[0]!;
    if (answers.some((o) => o.kind === 'delivered')) {
      lo = Math.max(lo, s);
    }
    let next: number | undefined;
    for (const o of answers) {
      if (o.kind === 'tooBig') {
        add(ptbs, o.from, o.nextHopMtu, s, o.plausible);
        // Below a size known to pass, the PTB is contradicted; it is judged later, never followed.
        if (o.plausible && o.nextHopMtu >= lo && o.nextHopMtu < s) next = Math.max(next ?? 0, o.nextHopMtu);
      } else if (o.kind === 'localTooBig' && o.mtu < s) {
        localMtu = o.mtu;
        next = Math.max(next ?? 0, o.mtu);
      }
    }
    if (s <= lo || next === undefined) break;
    s = next;
  }
  return { ptbs, delivered: lo, ...(localMtu !== undefined ? { localMtu } : {}) };
}

/**
 * Send the largest delivered size once more and listen for the whole loss timeout: a PTB for a
 * probe that is delivered all the same is contradicted on the spot. Routers build ICMP errors on a
 * slow path, so such a PTB may trail the delivery by more than discover waited for. Adds what it
 * hears to `ptbs`.
 */
export async function checkContradictions(rounds: Rounds, size: number, ptbs: PtbSeen[]): Promise<boolean> {
  const [answers] = await rounds.run([{ size }], undefined, { linger: true });
  for (const o of answers!) if (o.kind === 'tooBig') add(ptbs, o.from, o.nextHopMtu, size, o.plausible);
  return answers!.some((o) => o.kind === 'delivered');
}

/**
 * Place routers whose PTB address never answered a time-exceeded (silent routers, or routers that
 * answer from another address). Linux checks the TTL before the MTU when forwarding, so a probe
 * too big for router R draws R's PTB only when its TTL outlives R: the smallest TTL that draws it
 * is R's hop + 1. One round: a size R refused, at every TTL from 2 to `upTo` + 1.
 */
export async function placeSenders(rounds: Rounds, senders: PtbSeen[], upTo: number, maxHops: number): Promise<Map<string, number>> {
  const placed = new Map<string, number>();
  if (senders.length === 0 || upTo < 1) return placed;
  const last = Math.min(maxHops, upTo + 1);
  const reqs: Array<{ from: string; ttl: number; size: number }> = [];
  for (const p of senders) {
    const size = Math.min(...p.sizes);
    for (let ttl = 2; ttl <= last; ttl++) reqs.push({ from: p.from, ttl, size });
  }
  const answers = await rounds.run(reqs.map((r) => ({ size: r.size, ttl: r.ttl })));
  reqs.forEach((r, i) => {
    if (!answers[i]!.some((o) => o.kind === 'tooBig' && o.from === r.from)) return;
    const hop = r.ttl - 1;
    if ((placed.get(r.from) ?? Infinity) > hop) placed.set(r.from, hop);
  });
  return placed;
}

/** Sizes per round when searching a value nobody named (RFC 1191 plateaus first, then even steps). */
const ZERO_SEARCH_WIDTH = 8;
const ZERO_SEARCH_ROUNDS = 6;

/**
 * A router that says "too big" with next-hop MTU 0 (RFC 1191 §5: a router from before RFC 1191)
 * names no value; find it by probing from there. `past` is the largest size known to get past it,
 * `refused` the smallest it refused. First the RFC 1191 plateaus in between, then even steps, all
 * sizes of a round at once: a size that draws its MTU-0 PTB again is refused; one delivered, or
 * answered by a router beyond it, got past. Routers do not rate-limit PTBs, so each round is one
 * round trip. Returns the largest size known to pass and whether the next one is known refused.
 */
export async function searchZeroMtu(rounds: Rounds, from: string, past: number, refused: number, ptbs: PtbSeen[]): Promise<{ value: number; exact: boolean }> {
  let lo = past;
  let hi = refused;
  for (let round = 0; round < ZERO_SEARCH_ROUNDS && hi - lo > 1 && !rounds.aborted; round++) {
    const plateaus = round === 0 ? RFC1191_PLATEAUS.filter((p) => p > lo && p < hi) : [];
    const n = Math.min(ZERO_SEARCH_WIDTH, hi - lo - 1);
    const sizes = plateaus.length > 0 ? [...plateaus] : Array.from({ length: n }, (_, i) => lo + Math.round(((i + 1) * (hi - lo)) / (n + 1)));
    const got = await rounds.run([...new Set(sizes)].map((size) => ({ size })));
    [...new Set(sizes)].forEach((s, i) => {
      for (const o of got[i]!) {
        if (o.kind === 'tooBig') add(ptbs, o.from, o.nextHopMtu, s, o.plausible);
        if (o.kind === 'tooBig' && o.from === from && o.nextHopMtu === 0) hi = Math.min(hi, s);
        else if (o.kind === 'delivered' || (o.kind === 'tooBig' && o.from !== from)) lo = Math.max(lo, s);
      }
    });
    if (lo >= hi) break; // contradictory answers: keep what was known to pass
  }
  return { value: Math.min(lo, hi - 1), exact: hi - lo === 1 };
}
