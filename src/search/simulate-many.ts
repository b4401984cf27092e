// Many targets on one simulated topology: routers shared by many targets, each router with Linux's
// ICMP error rate limits, and one PathMtuSearch per target driven by a scheduler (a global
// packets-per-second cap and per-router pacing, engine/pacing.ts) on one virtual clock. Pure and seeded.
//
// Router limits, as Linux implements them (net/ipv4/icmp.c, net/ipv6/icmp.c):
// - per peer: inet_peer_xrlim_allow, a bucket of 6 × icmp_ratelimit (1000 ms) keyed by the
//   DESTINATION of the error — our host — so all targets behind a router share one budget for the
//   errors it sends us; a token per error sent, none taken for an error it drops;
// - global: icmp_global_allow, icmp_msgs_per_sec (1000) with icmp_msgs_burst (50), over all peers;
// - which errors: the ratemask (v4 default 0x1818: dest unreachable, source quench, time exceeded,
//   parameter problem), but frag-needed is exempt ("Don't limit PMTU discovery"), and the v6 default
//   mask 0-1,3-127 leaves out Packet Too Big. `limitsPtb` (default false, as Linux) makes a router
//   rate-limit its PTBs too, as many hardware routers do: the hard case this mode exists for.
// Targets: echo replies are not limited; a port unreachable (udp method) is, by the target's own
// per-peer bucket.
import type { Outcome } from '../probe/outcome.js';
import { MIN_MTU, ptbPlausibility, type Family } from '../wire/facts.js';
import { MinHeap } from '../engine/heap.js';
import { LINUX_ICMP_GLOBAL_LIMIT, LINUX_ICMP_PEER_LIMIT, Pacer, TokenBucket, type TokenBucketLimit } from '../engine/pacing.js';
import { prng } from './prng.js';
import { PathMtuSearch } from './search.js';
import type { ProbeOrder, SearchOptions, SearchResult } from './types.js';

export interface SimRouter {
  address: string;
  /** False: filters its ICMP errors (a PMTUD black hole). */
  sendsPtb: boolean;
  /** Rate-limit PTBs as well (Linux does not: frag-needed and PTB are exempt by default). */
  limitsPtb?: boolean;
  /** Per-destination budget; default Linux's 6 then 1/s. null = unlimited. */
  peerLimit?: TokenBucketLimit | null;
  /** All-destinations budget; default Linux's 50 then 1000/s. null = unlimited. */
  globalLimit?: TokenBucketLimit | null;
}

export interface SimManyTarget {
  address: string;
  /** Routers in path order, each with the MTU of the link it forwards this target's packets onto. */
  path: Array<{ router: string; mtu: number }>;
  rttMs: number;
  /** 'echo' (default): replies unlimited; 'port-unreachable': limited per target (6, then 1/s). */
  answers?: 'echo' | 'port-unreachable';
}

export interface SimTopology {
  family?: Family;
  /** Our interface MTU (the searches' max). */
  localMtu: number;
  routers: Record<string, SimRouter>;
  targets: SimManyTarget[];
  /** Probability of loss in each direction, on every packet. */
  lossRate?: number;
  /** Uniform extra delay [0, jitterMs) on each answer. */
  jitterMs?: number;
}

export interface ManyOptions {
  /** Global cap, probes per second over all targets. */
  ratePps: number;
  /** Tell each search when its router's budget is spent (pacing.ts); default true. */
  pacing?: boolean;
  /**
   * How the scheduler knows a target's router: 'path' (default) — the first router on its path, as
   * an engine knows it from the route or one trace; 'ptb' — only once a PTB from it arrived.
   */
  routerOf?: 'path' | 'ptb';
  /** Searches running at once (the rest wait their turn); default all. */
  concurrency?: number;
  search?: Partial<SearchOptions>;
  /** 'search' (default): PathMtuSearch; 'plateau-guess': the scamper-like PlateauGuesser. */
  strategy?: 'search' | 'plateau-guess';
}

export interface ManyTargetResult {
  address: string;
  truePmtu: number;
  pmtu: number | null;
  /** The job's own claim (the search's `exact`; the guesser claims every answer it gives). */
  exact: boolean;
  probes: number;
  reason?: string;
  /** The whole search result (strategy 'search'). */
  result?: SearchResult;
  /** Virtual ms from the start of the run until this search finished. */
  doneAtMs: number;
}

export interface ManyResult {
  targets: ManyTargetResult[];
  /** Virtual ms until the last search finished. */
  virtualMs: number;
  probes: number;
  /** ICMP errors the routers dropped by rate limit, and sent. */
  errorsDropped: number;
  errorsSent: number;
  /** Highest send rate over any 1 s window (probes), to check the global cap. */
  peakPps: number;
}


/** The topology's ICMP and forwarding behaviour: send a probe, get the answers it causes. */
export class SimNetwork {
  readonly family: Family;
  private readonly rand: () => number;
  private readonly peer = new Map<string, TokenBucket | null>();
  private readonly global = new Map<string, TokenBucket | null>();
  private readonly targetBuckets = new Map<string, TokenBucket>();
  errorsSent = 0;
  errorsDropped = 0;

  constructor(readonly topo: SimTopology, seed: number) {
    this.family = topo.family ?? 4;
    this.rand = prng(seed);
    for (const [id, r] of Object.entries(topo.routers)) {
      const peer = r.peerLimit === undefined ? LINUX_ICMP_PEER_LIMIT : r.peerLimit;
      const global = r.globalLimit === undefined ? LINUX_ICMP_GLOBAL_LIMIT : r.globalLimit;
      this.peer.set(id, peer ? new TokenBucket(peer, 0) : null);
      this.global.set(id, global ? new TokenBucket(global, 0) : null);
    }
    for (const t of topo.targets) {
      for (const hop of t.path) if (!topo.routers[hop.router]) throw new RangeError(`target ${t.address}: unknown router ${hop.router}`);
      if (t.answers === 'port-unreachable') this.targetBuckets.set(t.address, new TokenBucket(LINUX_ICMP_PEER_LIMIT, 0));
    }
  }

  static truePmtu(t: SimManyTarget, localMtu: number): number {
    return Math.min(localMtu, ...t.path.map((h) => h.mtu));
  }

  private lost(): boolean {
    const p = this.topo.lossRate ?? 0;
    return p > 0 && this.rand() < p;
  }
  private jitter(): number {
    const j = this.topo.jitterMs ?? 0;
    return j > 0 ? this.rand() * j : 0;
  }

  /** Linux's order: the global credit first, then the per-peer bucket (icmpv4_xrlim_allow). */
  private allowError(routerId: string, now: number): boolean {
    const g = this.global.get(routerId);
    if (g && !g.take(now)) return false;
    const p = this.peer.get(routerId);
    return !p || p.take(now);
  }

  send(t: SimManyTarget, size: number, now: number): Array<{ at: number; outcome: Outcome }> {
    if (size > this.topo.localMtu) return [{ at: now, outcome: { kind: 'localTooBig', size, mtu: this.topo.localMtu } }];
    if (this.lost()) return [];
    const n = t.path.length;
    for (let i = 0; i < n; i++) {
      const hop = t.path[i];
      if (size <= hop.mtu) continue;
      const r = this.topo.routers[hop.router];
      if (!r.sendsPtb) return [];
      if (r.limitsPtb && !this.allowError(hop.router, now)) {
        this.errorsDropped++;
        return [];
      }
      this.errorsSent++;
      if (this.lost()) return [];
      const at = now + t.rttMs * ((i + 1) / (n + 1)) + this.jitter();
      const m = hop.mtu;
      return [{ at, outcome: { kind: 'tooBig', size, from: r.address, rttMs: at - now, nextHopMtu: m, ...ptbPlausibility(this.family, size, m) } }];
    }
    const bucket = this.targetBuckets.get(t.address);
    if (bucket && !bucket.take(now)) return [];
    if (this.lost()) return [];
    const at = now + t.rttMs + this.jitter();
    return [{ at, outcome: { kind: 'delivered', size, from: t.address, rttMs: at - now } }];
  }
}

/** What the scheduler drives: PathMtuSearch, or the plateau guesser the bench compares against. */
export interface ManyJob {
  poll(now: number): { send: ProbeOrder[]; wakeAt: number | null };
  record(token: number, outcome: Outcome, now: number): void;
  readonly finished: boolean;
  setIcmpExhausted?(exhausted: boolean): void;
  /** The answer, whether it claims to be exact, probes sent. */
  answer(): { pmtu: number | null; exact: boolean; probes: number; reason?: string };
}

/**
 * A scamper-like strategy (trace -M's PMTUD as issue 8 describes it): one probe at a time, trust a
 * PTB's number, and on silence (2 tries, 1 s each) step down to the next plateau of a table; the
 * first size delivered is the answer. Here for comparison only: it guesses, so it is often wrong.
 */
export class PlateauGuesser implements ManyJob {
  static readonly TABLE = [65535, 17914, 9000, 8166, 4464, 4352, 2002, 1500, 1492, 1480, 1454, 1400, 1280, 1006, 576, 552, 544, 512, 508, 296, 68];
  private size: number;
  private token = 0;
  private tries = 0;
  private sentAt = 0;
  private outstanding: number | null = null;
  private probes = 0;
  private pmtu: number | null = null;
  done = false;
  constructor(private readonly max: number, private readonly floor: number, private readonly timeoutMs = 1000) {
    this.size = max;
  }
  get finished(): boolean {
    return this.done;
  }
  poll(now: number): { send: ProbeOrder[]; wakeAt: number | null } {
    if (this.done) return { send: [], wakeAt: null };
    if (this.outstanding !== null && now >= this.sentAt + this.timeoutMs) {
      this.outstanding = null;
      if (this.tries >= 2) this.stepDown(PlateauGuesser.TABLE.find((m) => m < this.size && m >= this.floor));
    }
    if (this.done) return { send: [], wakeAt: null };
    if (this.outstanding === null) {
      this.outstanding = ++this.token;
      this.tries++;
      this.probes++;
      this.sentAt = now;
      return { send: [{ token: this.token, size: this.size }], wakeAt: now + this.timeoutMs };
    }
    return { send: [], wakeAt: this.sentAt + this.timeoutMs };
  }
  private stepDown(next: number | undefined): void {
    this.tries = 0;
    if (next === undefined) this.done = true;
    else this.size = next;
  }
  record(token: number, outcome: Outcome, _now: number): void {
    if (this.done || token !== this.outstanding) return;
    this.outstanding = null;
    if (outcome.kind === 'delivered') {
      this.pmtu = this.size;
      this.done = true;
    } else if (outcome.kind === 'tooBig' || outcome.kind === 'localTooBig') {
      const m = outcome.kind === 'tooBig' ? outcome.nextHopMtu : outcome.mtu;
      this.stepDown(m >= this.floor && m < this.size ? m : PlateauGuesser.TABLE.find((p) => p < this.size && p >= this.floor));
    }
  }
  answer(): { pmtu: number | null; exact: boolean; probes: number; reason?: string } {
    return { pmtu: this.pmtu, exact: this.pmtu !== null, probes: this.probes };
  }
}

/** PathMtuSearch as a ManyJob. */
class SearchJob implements ManyJob {
  constructor(readonly search: PathMtuSearch) {}
  poll(now: number): { send: ProbeOrder[]; wakeAt: number | null } {
    return this.search.poll(now);
  }
  record(token: number, outcome: Outcome, now: number): void {
    this.search.record(token, outcome, now);
  }
  get finished(): boolean {
    return this.search.finished;
  }
  setIcmpExhausted(exhausted: boolean): void {
    this.search.setIcmpExhausted(exhausted);
  }
  answer(): { pmtu: number | null; exact: boolean; probes: number; reason?: string } {
    const r = this.search.result();
    return { pmtu: r.pmtu, exact: r.exact, probes: r.probes, ...(r.reason ? { reason: r.reason } : {}) };
  }
}

interface Job {
  index: number;
  target: SimManyTarget;
  search: ManyJob;
  /** Router that reported for this target (learned from its PTBs), for pacing. */
  router?: string;
  wakeAt: number | null;
  queued: boolean;
  doneAt?: number;
}

/**
 * Run one PathMtuSearch per target, all at once, on a virtual clock from 0. The scheduler: a job is
 * due when an answer arrived for it or its wakeAt passed; due jobs wait in FIFO order for the
 * pacer's global cap; before each poll the job learns whether its router's budget is spent.
 */
export function simulateMany(topo: SimTopology, opts: ManyOptions, seed: number): ManyResult {
  const net = new SimNetwork(topo, seed);
  const family = topo.family ?? 4;
  const pacer = new Pacer({ ratePps: opts.ratePps }, 0);
  const pacing = opts.pacing ?? true;
  const concurrency = opts.concurrency ?? topo.targets.length;
  const events = new MinHeap<{ at: number; seq: number; job: Job; token: number; outcome: Outcome }>();
  const timers = new MinHeap<{ at: number; seq: number; job: Job }>();
  let seq = 0;
  const jobs: Job[] = [];
  const ready: Job[] = [];
  let readyHead = 0;
  let started = 0;
  let finished = 0;
  const sendTimes: number[] = [];

  const enqueue = (job: Job): void => {
    if (job.queued || job.doneAt !== undefined) return;
    job.queued = true;
    ready.push(job);
  };
  const start = (now: number): void => {
    while (started < topo.targets.length && started - finished < concurrency) {
      const target = topo.targets[started];
      const job: Job = {
        index: started,
        target,
        search:
          opts.strategy === 'plateau-guess'
            ? new PlateauGuesser(topo.localMtu, MIN_MTU[family])
            : new SearchJob(
                new PathMtuSearch(
                  { family, max: topo.localMtu, ...(target.answers === 'port-unreachable' ? { answersRateLimited: true } : {}), ...opts.search },
                  now,
                ),
              ),
        wakeAt: null,
        queued: false,
        ...((opts.routerOf ?? 'path') === 'path' ? { router: topo.routers[target.path[0].router].address } : {}),
      };
      jobs.push(job);
      started++;
      enqueue(job);
    }
  };

  let now = 0;
  start(now);
  for (let guard = 0; guard < 50_000_000; guard++) {
    // Deliver what has arrived.
    while (events.size > 0 && events.peek()!.at <= now) {
      const e = events.pop()!;
      if (e.outcome.kind === 'tooBig') {
        pacer.icmpError(e.outcome.from, now);
        e.job.router ??= e.outcome.from;
      }
      if (e.job.doneAt !== undefined) continue;
      e.job.search.record(e.token, e.outcome, now);
      enqueue(e.job);
    }
    while (timers.size > 0 && timers.peek()!.at <= now) {
      const t = timers.pop()!;
      if (t.job.wakeAt === t.at) enqueue(t.job);
    }
    // Poll due jobs while the global cap allows.
    while (readyHead < ready.length && pacer.mayPoll(now)) {
      const job = ready[readyHead++];
      job.queued = false;
      if (job.doneAt !== undefined) continue;
      if (pacing && job.router !== undefined) job.search.setIcmpExhausted?.(pacer.routerExhausted(job.router, now));
      const { send, wakeAt } = job.search.poll(now);
      for (const order of send) {
        sendTimes.push(now);
        for (const e of net.send(job.target, order.size, now)) events.push({ ...e, seq: seq++, job, token: order.token });
      }
      pacer.sent(send.length, now);
      if (job.search.finished) {
        job.doneAt = now;
        finished++;
        start(now);
      } else {
        job.wakeAt = wakeAt;
        if (wakeAt !== null) timers.push({ at: wakeAt, seq: seq++, job });
      }
    }
    if (readyHead > 4096 && readyHead * 2 > ready.length) {
      ready.splice(0, readyHead);
      readyHead = 0;
    }
    if (finished === topo.targets.length) break;
    let next = Math.min(events.peek()?.at ?? Infinity, timers.peek()?.at ?? Infinity);
    if (readyHead < ready.length) next = Math.min(next, pacer.nextPollAt(now));
    if (next === Infinity) break;
    now = Math.max(now, next);
  }

  // Peak rate over any 1 s window of sends.
  let peakPps = 0;
  for (let i = 0, j = 0; i < sendTimes.length; i++) {
    while (sendTimes[i] - sendTimes[j] >= 1000) j++;
    peakPps = Math.max(peakPps, i - j + 1);
  }
  const targets = jobs.map((job): ManyTargetResult => ({
    address: job.target.address,
    truePmtu: SimNetwork.truePmtu(job.target, topo.localMtu),
    ...job.search.answer(),
    ...(job.search instanceof SearchJob ? { result: job.search.search.result() } : {}),
    doneAtMs: job.doneAt ?? now,
  }));
  return {
    targets,
    virtualMs: Math.max(0, ...targets.map((t) => t.doneAtMs)),
    probes: sendTimes.length,
    errorsDropped: net.errorsDropped,
    errorsSent: net.errorsSent,
    peakPps,
  };
}

export interface HubOptions {
  family?: Family;
  targets: number;
  /** Share of targets behind a second router that drops its PTBs; default 0.1. */
  behindBlackHole?: number;
  /** The hub rate-limits its PTBs (not Linux's default); default true, the hard case. */
  limitsPtb?: boolean;
  rttMs?: number;
  lossRate?: number;
  jitterMs?: number;
  answers?: 'echo' | 'port-unreachable';
}

/**
 * issue 8's lab hub as a topology: one hub router, each target behind it with its own bottleneck
 * MTU (a per-target route MTU), a share of them behind a second router that filters its PTBs.
 * Target MTUs: the common plateaus and, as often, an arbitrary value between the floor and 1500.
 */
export function hubTopology(o: HubOptions, seed: number): SimTopology {
  const family = o.family ?? 4;
  const rand = prng(seed ^ 0x5eed);
  const floor = MIN_MTU[family];
  const plateaus = [1500, 1492, 1480, 1450, 1420, 1400, 1380, 1280, 1006, 576].filter((m) => m >= floor);
  const v4 = family === 4;
  const routers: Record<string, SimRouter> = {
    hub: { address: v4 ? '198.18.0.1' : '2001:db8::1', sendsPtb: true, limitsPtb: o.limitsPtb ?? true },
    hole: { address: v4 ? '198.18.1.1' : '2001:db8:1::1', sendsPtb: false },
  };
  const targets: SimManyTarget[] = [];
  const share = o.behindBlackHole ?? 0.1;
  const holes = Math.round(o.targets * share);
  const every = holes > 0 ? Math.max(1, Math.round(o.targets / holes)) : 0;
  let placed = 0;
  for (let i = 0; i < o.targets; i++) {
    const mtu = rand() < 0.5 ? plateaus[Math.floor(rand() * plateaus.length)] : floor + Math.floor(rand() * (1500 - floor + 1));
    const address = v4 ? `198.18.${2 + (i >> 8)}.${i & 255}` : `2001:db8:2::${(i + 1).toString(16)}`;
    // Every tenth-ish target (evenly spread) sits behind the silent router.
    const behindHole = every > 0 && i % every === 0 && placed < holes;
    if (behindHole) placed++;
    const path = behindHole ? [{ router: 'hub', mtu: 1500 }, { router: 'hole', mtu }] : [{ router: 'hub', mtu }];
    targets.push({ address, path, rttMs: o.rttMs ?? 1, ...(o.answers ? { answers: o.answers } : {}) });
  }
  return { family, localMtu: 1500, routers, targets, ...(o.lossRate ? { lossRate: o.lossRate } : {}), ...(o.jitterMs ? { jitterMs: o.jitterMs } : {}) };
}
