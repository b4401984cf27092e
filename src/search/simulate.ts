// A simulated path for the pure search: routers with MTUs, some silent (black holes), some lying,
// ICMP rate limits per router, random loss both ways, RTT with jitter, an on-path PTB forger —
// and a driver that runs PathMtuSearch on a virtual clock. Pure and seeded: same seed, same run.
import type { Outcome } from '../probe/outcome.js';
import { MIN_MTU, ptbPlausibility, type Family } from '../wire/facts.js';
import { MAX_PACKET } from './plateaus.js';
import { prng } from './prng.js';
import { PathMtuSearch } from './search.js';
import type { SearchOptions, SearchResult } from './types.js';

export interface SimHop {
  /** MTU of the link this router forwards onto. */
  mtu: number;
  /** False: the router filters its ICMP errors (a PMTUD black hole). */
  sendsPtb: boolean;
  /** Next-hop MTU it reports instead of `mtu` (0 = the RFC 1191 empty field). */
  ptbLie?: number;
  /** The link's L2 carries only this much: larger frames vanish without ICMP (e.g. QinQ eating 4 bytes). */
  l2Mtu?: number;
}

export interface RateLimit {
  burst: number;
  perSec: number;
  /** Tokens at the start (default: a full burst). 0 = a run right after another one. */
  initial?: number;
}

export interface SimPathModel {
  family?: Family;
  /** The sender's interface MTU: larger probes fail locally (EMSGSIZE) at once. */
  localMtu?: number;
  hops: SimHop[];
  rttMs: number;
  /** Uniform extra delay in [0, jitterMs) on each answer. */
  jitterMs?: number;
  /** Probability of loss in each direction (probe, then answer). */
  lossRate?: number;
  /** ICMP error rate limit of every router (Linux default: burst 6, 1/s); null = unlimited. */
  icmpRateLimit?: RateLimit | null;
  /** Rate limit on the target's answers (UDP method: port unreachable). */
  destRateLimit?: RateLimit;
  /** The target never answers (it filters this method: echo, or UDP); routers still send PTBs. */
  silentTarget?: boolean;
  /** The target answers every probe with this unreachable instead of delivering. */
  unreachable?: { icmpType: number; code: number; reason: string };
  /** An on-path forger sends a PTB quoting the probe (valid quote) ahead of the real answer. */
  forgedPtb?: { probability: number; nextHopMtu?: number[]; delayFraction?: number };
}

export interface SimEvent {
  at: number;
  outcome: Outcome;
}


class Bucket {
  private tokens: number;
  private last = 0;
  constructor(private readonly limit: RateLimit) {
    this.tokens = limit.initial ?? limit.burst;
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) / 1000) * this.limit.perSec);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class SimPath {
  readonly family: Family;
  private readonly rand: () => number;
  private readonly routerBuckets: (Bucket | null)[];
  private readonly destBucket: Bucket | null;

  constructor(readonly model: SimPathModel, seed: number) {
    this.family = model.family ?? 4;
    this.rand = prng(seed);
    const limit = model.icmpRateLimit === undefined ? { burst: 6, perSec: 1 } : model.icmpRateLimit;
    this.routerBuckets = model.hops.map(() => (limit ? new Bucket(limit) : null));
    this.destBucket = model.destRateLimit ? new Bucket(model.destRateLimit) : null;
  }

  /** The true path MTU: the largest size that reaches the target. */
  get pmtu(): number {
    let m = this.model.localMtu ?? Infinity;
    for (const h of this.model.hops) m = Math.min(m, h.mtu, h.l2Mtu ?? Infinity);
    return Math.min(m, MAX_PACKET[this.family]);
  }

  hopAddress(i: number): string {
    return this.family === 4 ? `198.18.${i + 1}.1` : `2001:db8:${i + 1}::1`;
  }
  get targetAddress(): string {
    return this.family === 4 ? '198.18.200.2' : '2001:db8:200::2';
  }

  private lost(): boolean {
    const p = this.model.lossRate ?? 0;
    return p > 0 && this.rand() < p;
  }
  private delay(fraction: number): number {
    const j = this.model.jitterMs ?? 0;
    return this.model.rttMs * fraction + (j > 0 ? this.rand() * j : 0);
  }

  /** Send one probe of `size` at `now`: the answers it will cause (none = silence). */
  send(size: number, now: number): SimEvent[] {
    const events: SimEvent[] = [];
    const floor = MIN_MTU[this.family];
    const forger = this.model.forgedPtb;
    if (forger && this.rand() < forger.probability) {
      const list = forger.nextHopMtu;
      const m = list && list.length > 0 ? list[Math.floor(this.rand() * list.length)] : Math.floor(this.rand() * size);
      const at = now + this.model.rttMs * (forger.delayFraction ?? 0.3);
      events.push({ at, outcome: this.tooBig(size, m, '198.18.66.6', at - now, floor) });
    }
    if (this.model.localMtu !== undefined && size > this.model.localMtu) {
      events.push({ at: now, outcome: { kind: 'localTooBig', size, mtu: this.model.localMtu } });
      return events;
    }
    if (this.lost()) return events;
    const n = this.model.hops.length;
    for (let i = 0; i < n; i++) {
      const hop = this.model.hops[i];
      if (size > hop.mtu) {
        const bucket = this.routerBuckets[i];
        if (!hop.sendsPtb || (bucket && !bucket.take(now)) || this.lost()) return events;
        const at = now + this.delay((i + 1) / (n + 1));
        events.push({ at, outcome: this.tooBig(size, hop.ptbLie ?? hop.mtu, this.hopAddress(i), at - now, floor) });
        return events;
      }
      if (hop.l2Mtu !== undefined && size > hop.l2Mtu) return events;
    }
    if (this.model.silentTarget) return events;
    if (this.destBucket && !this.destBucket.take(now)) return events;
    if (this.lost()) return events;
    const at = now + this.delay(1);
    const from = this.targetAddress;
    const u = this.model.unreachable;
    events.push({
      at,
      outcome: u
        ? { kind: 'unreachable', size, from, rttMs: at - now, icmpType: u.icmpType, code: u.code, reason: u.reason }
        : { kind: 'delivered', size, from, rttMs: at - now },
    });
    return events;
  }

  private tooBig(size: number, m: number, from: string, rttMs: number, floor: number): Outcome {
    // What the probe layer reports: the raw value and whether it is plausible (the same rule).
    return { kind: 'tooBig', size, from, rttMs, nextHopMtu: m, ...ptbPlausibility(this.family, size, m, floor) };
  }
}

export interface SimProbe {
  token: number;
  size: number;
  sentAt: number;
  outcomes: Array<{ at: number; kind: Outcome['kind'] }>;
}

export interface SimResult {
  result: SearchResult;
  /** Virtual ms from start until the search finished. */
  virtualMs: number;
  probes: number;
  /** The true path MTU of the model. */
  truePmtu: number;
  trace: SimProbe[];
}

/** Run PathMtuSearch against `path` on a virtual clock starting at 0. */
export function simulate(path: SimPathModel, options: Partial<SearchOptions> & { max?: number }, seed: number): SimResult {
  const sim = new SimPath(path, seed);
  const family = options.family ?? sim.family;
  const max = options.max ?? path.localMtu ?? Math.max(...path.hops.map((h) => h.mtu));
  const search = new PathMtuSearch({ ...options, family, max }, 0);
  const queue: Array<SimEvent & { token: number; seq: number }> = [];
  const trace = new Map<number, SimProbe>();
  let seq = 0;
  let now = 0;
  for (let step = 0; step < 100_000; step++) {
    const { send, wakeAt } = search.poll(now);
    for (const order of send) {
      trace.set(order.token, { token: order.token, size: order.size, sentAt: now, outcomes: [] });
      for (const e of sim.send(order.size, now)) queue.push({ ...e, token: order.token, seq: seq++ });
    }
    if (search.finished) break;
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const nextEvent = queue.length > 0 ? queue[0].at : Infinity;
    const next = Math.min(nextEvent, wakeAt ?? Infinity);
    if (next === Infinity) break;
    now = Math.max(now, next);
    // Deliver everything due by now, then poll once (as an event loop would after a read burst).
    while (queue.length > 0 && queue[0].at <= now) {
      const e = queue.shift()!;
      trace.get(e.token)?.outcomes.push({ at: e.at, kind: e.outcome.kind });
      search.record(e.token, e.outcome, now);
    }
  }
  const result = search.result();
  return { result, virtualMs: now, probes: result.probes, truePmtu: sim.pmtu, trace: [...trace.values()] };
}
