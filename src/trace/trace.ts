// trace(): the path hop by hop with the MTU after each hop, the routers that lower it, a black hole
// located to its link, bogus PTBs flagged, and what the final MTU means.
//
// Phases, each a round or two of parallel probes timed from measured RTTs (src/trace/rounds.ts):
//   1. discover()   the path MTU, the method that works, the PTBs it met, whether a black hole exists
//   2. hops         TTL 1..maxHops at once, small: who is at each TTL (silent TTLs asked twice)
//   3. drops        PTBs discover did not meet (one round trip per drop), senders placed on hops,
//                   the path MTU sent once more to catch PTBs that a delivery contradicts
//   4. black hole   when discover saw one: the vanishing size at every TTL, to find the link
//   5. names        reverse DNS, capped at 500 ms, only when asked for
import { AbortError, UsageError } from '../errors.js';
import { discoverKeeping, type DiscoverResult } from '../discover/discover.js';
import type { Lease } from '../engine/pool.js';
import { assemble, hopOf } from './assemble.js';
import { explainTrace } from './explained.js';
import { locateBlackHole } from './blackhole.js';
import { add as addPtb, checkContradictions, fromDiscover, placeSenders, searchZeroMtu, walkDrops, type PtbSeen } from './drops.js';
import { mapHops, type HopMap } from './hops.js';
import { reverseNames } from './names.js';
import { Rounds } from './rounds.js';
import { ProbeReporter } from '../probe/diagnostics.js';
import type { BlackHole, TraceEvent, TraceOptions, TracePhase, TraceResult } from './types.js';

export const DEFAULT_MAX_HOPS = 30;

function validate(o: TraceOptions): void {
  if (o.maxHops !== undefined && (!Number.isInteger(o.maxHops) || o.maxHops < 1 || o.maxHops > 255)) {
    throw new UsageError(`maxHops must be an integer from 1 to 255, got ${o.maxHops}`);
  }
  if (o.signal?.aborted) throw new AbortError();
}

export async function trace(target: string, options: TraceOptions = {}): Promise<TraceResult> {
  const started = performance.now();
  validate(options);
  const maxHops = options.maxHops ?? DEFAULT_MAX_HOPS;
  const at = (): number => Math.round((performance.now() - started) * 10) / 10;
  const phase = (p: TracePhase): void => options.onEvent?.({ type: 'phase', phase: p, atMs: at() });
  let current: TracePhase = 'discover';
  const progress = (sent: number, outstanding: number): void =>
    options.onEvent?.({ type: 'probes', phase: current, sent, outstanding, atMs: at() } satisfies TraceEvent);

  phase('discover');
  let discoverProbes = 0;
  // The rounds go on through the socket discover settled on, opened before the caller's
  // onSocketsOpen (where the CLI gives up root): nothing after that needs privilege. discover
  // hands its lease over; the rounds run on the same engine, and the lease is released at the end.
  const kept: { lease?: Lease } = {};
  const d: DiscoverResult = await discoverKeeping(target, {
    ...(options.family !== undefined ? { family: options.family } : {}),
    ...(options.method !== undefined ? { method: options.method } : {}),
    ...(options.max !== undefined ? { max: options.max } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.onSocketsOpen !== undefined ? { onSocketsOpen: options.onSocketsOpen } : {}),
    ...(options.engine !== undefined ? { engine: options.engine } : {}),
    onEvent: (e) => {
      if (e.type === 'probe') progress(++discoverProbes, 0);
    },
  }, kept);

  const lease = kept.lease!; // discover returned, so it settled on a method and kept its lease
  const prober = lease.prober;
  const rounds = new Rounds(lease, d.address, {
    ...(options.engine !== undefined ? { engine: options.engine } : {}),
    ...(options.timeoutMs !== undefined ? { maxTimeoutMs: options.timeoutMs } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    onProgress: progress,
    reporter: new ProbeReporter('trace', d.family, d.address, started),
  });
  let map: HopMap = { hops: [], destinationTtl: null, endTtl: null };
  let ptbs: PtbSeen[] = fromDiscover(d.ptbs, d.family);
  let delivered = d.lowerBound;
  let localRefusal: number | undefined;
  let placed = new Map<string, number>();
  let blackHole: BlackHole | null = null;
  let pinned = false;
  const zeroValues = new Map<string, number>();
  try {
    if (!d.aborted) {
      current = 'hops';
      phase('hops');
      // udp: the target's answer is a port-unreachable, which it rate-limits (echo replies are not).
      map = await mapHops(rounds, d.address, prober.minSize, maxHops, { paced: d.method === 'udp' });

      current = 'drops';
      phase('drops');
      const start = Math.min(options.max ?? d.localMtu, d.localMtu);
      const walk = await walkDrops(rounds, start, delivered, ptbs, d.blackHole ? d.blackHoleAbove : undefined);
      ptbs = walk.ptbs;
      delivered = walk.delivered;
      if (walk.localMtu !== undefined && walk.localMtu < d.localMtu) localRefusal = walk.localMtu;
      if (delivered > 0 && !rounds.aborted) await checkContradictions(rounds, delivered, ptbs);
      const addresses = new Set(map.hops.map((h) => h.address));
      const unplaced = ptbs.filter((p) => ((p.plausible && p.nextHopMtu >= delivered) || p.nextHopMtu === 0) && !addresses.has(p.from) && p.from !== d.address);
      if (unplaced.length > 0 && map.hops.some((h) => h.address === null)) {
        placed = await placeSenders(rounds, unplaced, map.hops.length, maxHops);
      }

      // A black hole: discover saw sizes vanish, or the path MTU is below everything the PTBs and
      // this host explain (a PTB, then further on a router that drops its own: the PTB's value is
      // only a ceiling, and what vanishes below it vanishes silently).
      const explained = Math.min(start, localRefusal ?? Infinity, ...ptbs.filter((p) => p.plausible && p.nextHopMtu >= delivered).map((p) => p.nextHopMtu));
      if (d.pmtu !== null && (d.blackHole || d.pmtu < explained) && !rounds.aborted) {
        current = 'black-hole';
        phase('black-hole');
        const located = await locateBlackHole(rounds, map, (d.blackHoleAbove ?? d.pmtu) + 1, prober.minSize);
        for (const o of located.revealed) if (map.hops[o.ttl - 1]?.address === null) map.hops[o.ttl - 1] = o;
        for (const p of located.ptbs) addPtb(ptbs, p.from, p.nextHopMtu, p.size, p.plausible);
        blackHole = located.blackHole;
        // The size just above the path MTU vanished at a hop that answered a small probe in the same
        // round, twice: with the path MTU delivered, that pins the answer even when discover's
        // budget ran out before it could say so (a PTB's ceiling, then a silent drop below it).
        if (located.confirmed && blackHole !== null && blackHole.size === delivered + 1 && d.pmtu === delivered) pinned = true;
        // The vanishing size drew a PTB without a number (MTU 0) from the router right before the
        // link: it said "too big" after all, so this is that router's drop, not a black hole.
        if (blackHole && blackHole.afterTtl > 0) {
          const at = map.hops[blackHole.afterTtl - 1]?.address;
          if (ptbs.some((p) => p.nextHopMtu === 0 && p.from === at)) blackHole = null;
        }
      }

      // Routers that said "too big" with MTU 0: their value, by probing from there (RFC 1191 §5).
      for (const z of ptbs.filter((p) => p.nextHopMtu === 0 && Math.min(...p.sizes) > delivered)) {
        if (rounds.aborted) break;
        const hop = hopOf(z.from, map.hops, placed);
        const beyond = ptbs.filter((p) => p.from !== z.from && p.plausible && hop !== null && (hopOf(p.from, map.hops, placed) ?? -1) > hop);
        const past = Math.max(delivered, ...beyond.flatMap((p) => p.sizes));
        const refused = Math.min(...z.sizes);
        const found = refused - past > 1 ? await searchZeroMtu(rounds, z.from, past, refused, ptbs) : { value: past, exact: true };
        zeroValues.set(z.from, found.value);
      }
    }
  } finally {
    lease.release();
  }

  let names: Map<string, string> | undefined;
  if (options.names && !rounds.aborted) {
    phase('names');
    names = await reverseNames(map.hops.flatMap((h) => (h.address !== null ? [h.address] : [])));
  }

  const a = assemble({
    target: d.address,
    hops: map.hops,
    destinationTtl: map.destinationTtl,
    localMtu: d.localMtu,
    pmtu: d.pmtu,
    delivered,
    ptbs,
    placed,
    blackHole,
    zeroValues,
    ...(localRefusal !== undefined ? { localRefusal } : {}),
    ...(names !== undefined ? { names } : {}),
  });
  const ex = explainTrace({ pmtu: d.pmtu, family: d.family, localMtu: d.localMtu, method: d.method });
  const reasons: string[] = [];
  const exact = d.exact || (pinned && blackHole !== null);
  if (d.reason && !(exact && !d.exact)) reasons.push(d.reason);
  if (map.destinationTtl === null && !d.aborted) {
    reasons.push(map.endTtl !== null ? `the path ends at hop ${map.endTtl} (unreachable)` : `no answer from ${d.address} within ${maxHops} hops`);
  }
  return {
    target,
    address: d.address,
    family: d.family,
    method: d.method,
    direction: d.direction,
    pmtu: d.pmtu,
    exact,
    localMtu: d.localMtu,
    reached: map.destinationTtl !== null,
    hops: a.hops,
    drops: a.drops,
    firstHop: a.firstHop,
    blackHole,
    bogusPtbs: a.bogusPtbs,
    explanation: ex ? ex.candidates.map((c) => ({ cause: c.cause, overhead: c.overhead, underlay: c.underlay, confidence: c.confidence })) : [],
    fixes: ex ? ex.fixes.map((f) => ({ what: f.what, command: f.command })) : [],
    summary: ex ? ex.summary : null,
    probes: d.probes + rounds.sent,
    elapsedMs: at(),
    ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
    aborted: d.aborted || rounds.aborted,
  };
}
