// discover(): the largest IP packet that crosses the path to a host without fragmentation.
// Orchestration only: the search (src/search) decides what to probe and when it knows; a Prober
// (src/probe) turns orders into packets and answers into outcomes. Both run on the engine
// (src/engine): probers are leased from its pool (shared by every run in the process), the search is
// a job of its scheduler (one timer, the rate cap, per-router pacing). Under auto, the deadline for
// switching to a method the scout heard from is kept here.
import { AbortError, PermissionError, UsageError } from '../errors.js';
import { METHOD_CHOICES, isMethodChoice, type MethodName } from '../probe/outcome.js';
import { MIN_MTU, type Family } from '../wire/facts.js';
import type { Prober, ProbeOutcome, Ignored, Direction } from '../probe/prober.js';
import { ProbeReporter } from '../probe/diagnostics.js';
import { defaultEngine, type Engine } from '../engine/engine.js';
import type { Lease } from '../engine/pool.js';
import type { JobHandle } from '../engine/scheduler.js';
import { PathMtuSearch, type SearchResult } from '../search/index.js';
import { interfaceMtu, kernelPathMtu } from './local-mtu.js';
import { isLocalDestination } from './local-route.js';
import { methodOrder } from './methods.js';
import { Scout } from './scout.js';
import { DEFAULT_MIN_TIMEOUT_MS } from '../search/rtt.js';
import { resolveTarget } from '../sock/resolve.js';

export type MethodChoice = MethodName | 'auto';

export interface DiscoverOptions {
  /** Address family: 4 or 6 (default: what the name resolves to first). */
  family?: Family;
  /**
   * Probe method (default 'auto': icmp when privileged, else icmp-dgram, else udp, then tcp). auto
   * sends two small probes of every other permitted method alongside the first one's search and
   * switches to the most preferred one that answers when the first delivers nothing (scout.ts).
   */
  method?: MethodChoice;
  /** Largest size to consider (default: the MTU of the interface the route leaves by). */
  max?: number;
  /** Smallest size to consider (default: 68 for IPv4, 1280 for IPv6). */
  min?: number;
  /** Longest wait for one probe's answer, in ms (default adaptive from RTT, at most 3000: engine/timing.ts). */
  timeoutMs?: number;
  /** Destination port for the tcp method (default 443) or first port for udp (default 33434). */
  port?: number;
  /** Probe budget per method (default 60). */
  maxProbes?: number;
  signal?: AbortSignal;
  /** Called for each probe sent and each outcome (for --verbose and progress displays). */
  onEvent?: (event: DiscoverEvent) => void;
  /**
   * Called once, before the first probe, when the sockets of every method the run may use are open
   * (discover opens them all up front): nothing after it needs privilege. The CLI gives up root
   * here when started through sudo; the library itself never changes the process's identity.
   */
  onSocketsOpen?: () => void;
  /** The engine to run on (default: the process-wide one; discoverMany passes its own rate cap's). */
  engine?: Engine;
}

export type DiscoverEvent =
  | { type: 'method'; method: MethodName; direction: Direction }
  | { type: 'probe'; method: MethodName; size: number; token: number; atMs: number }
  | { type: 'outcome'; method: MethodName; outcome: ProbeOutcome; atMs: number }
  | { type: 'ignored'; method: MethodName; ignored: Ignored; atMs: number }
  | { type: 'fallback'; from: MethodName; reason: string };

export interface PtbReport {
  from: string;
  nextHopMtu: number;
  /** Sizes of the probes this router answered with this value. */
  sizes: number[];
  accepted: boolean;
  reason: string;
}

export interface DiscoverResult {
  target: string;
  address: string;
  family: Family;
  method: MethodName;
  direction: Direction;
  pmtu: number | null;
  exact: boolean;
  lowerBound: number;
  upperBound: number;
  localMtu: number;
  /**
   * The PMTU this host's kernel applies to ordinary sockets for this destination after the run
   * (IP_MTU on a connected socket): larger than pmtu means applications will hit the black hole,
   * smaller means a cached value is out of date.
   */
  kernelPmtu: number | null;
  probes: number;
  elapsedMs: number;
  ptbs: PtbReport[];
  blackHole: boolean;
  /** A router or the host answered "unreachable" (no route, host down, administratively prohibited). */
  unreachable: boolean;
  /** Largest size seen delivered when sizes above it vanished without an ICMP error. */
  blackHoleAbove?: number;
  /** Methods tried in order, with why each one was left. */
  methodsTried: Array<{ method: MethodName; outcome: string }>;
  /** Answers that matched no probe (forged, stale, someone else's), counted by reason. */
  ignored: Record<string, number>;
  aborted: boolean;
  /** Why the answer is not exact, or why there is none. */
  reason?: string;
}

/** IPv4 total length is 16 bits; IPv6's payload length (16 bits) excludes its 40-byte header. */
const LARGEST_PACKET = { 4: 65535, 6: 65575 } as const;
/** Probes without a single delivery after which auto moves on to the next method. */
const SILENT_GIVE_UP = 16;
/**
 * How long the one probe to a local destination may take before the ordinary search is run instead.
 * Loopback answers in well under a millisecond; this only bounds the cost of a local firewall that
 * drops the method (the search and its fallbacks then find out, as for any host).
 */
const LOCAL_PROBE_TIMEOUT_MS = 250;

export async function discover(target: string, options: DiscoverOptions = {}): Promise<DiscoverResult> {
  return discoverKeeping(target, options, null);
}

/**
 * discover(), handing the lease on the prober of the method it settled on to the caller instead of
 * releasing it: trace goes on through that socket (opened before any privilege was given up). The
 * leases are exclusive (probers of this run's own), so the caller may release `kept.lease` or close
 * `kept.prober` alike; when this throws, nothing is kept.
 */
export async function discoverKeeping(target: string, options: DiscoverOptions, kept: { prober?: Prober; lease?: Lease } | null): Promise<DiscoverResult> {
  const started = performance.now();
  validate(options);
  options.signal?.throwIfAborted?.();
  const { address, family } = await resolveTarget(target, options.family);
  // Aborted before the first probe: nothing was learned, the run rejects (engine/index.ts).
  if (options.signal?.aborted) throw new AbortError();
  const engine = options.engine ?? defaultEngine();
  // Every probe and outcome on 'pathmtu:probe', in the shape every tool shares (probe/diagnostics.ts).
  const reporter = new ProbeReporter('discover', family, address, started);
  const localMtu = interfaceMtu(address, family);
  const floor = options.min ?? MIN_MTU[family];
  // Nothing larger than the interface MTU leaves this host, nor than the IP length fields allow.
  const ceiling = Math.min(localMtu, LARGEST_PACKET[family]);
  const max = Math.min(options.max ?? ceiling, ceiling);
  if (floor < MIN_MTU[family]) throw new UsageError((n) => `${n('min', floor)} is below the IPv${family} minimum ${MIN_MTU[family]}`);
  if (max < floor) {
    // Name the limit the caller met: their own max, or what this host and IP allow (not a max never given).
    const limit =
      ceiling === LARGEST_PACKET[family] && localMtu >= ceiling
        ? `the largest IPv${family} packet, ${ceiling} bytes`
        : `the MTU of the interface towards ${address}, ${ceiling} bytes`;
    throw new UsageError((n) =>
      options.max !== undefined && options.max <= ceiling
        ? options.min !== undefined ? `${n('max', max)} is below ${n('min', floor)}` : `${n('max', max)} is below the IPv${family} minimum ${floor}`
        : options.min !== undefined ? `${n('min', floor)} is above ${limit}` : `nothing can be probed: ${limit}, is below the IPv${family} minimum ${floor}`,
    );
  }

  // This host itself (route type local): no router on the path, so the largest size, delivered, is
  // the exact answer: it is probed first and alone, before any scout of the other methods.
  const local = isLocalDestination(address, family);
  const order = options.method === undefined || options.method === 'auto' ? methodOrder(family) : [options.method];
  const tried: DiscoverResult['methodsTried'] = [];
  let last: { run: RunResult; method: MethodName; direction: Direction; lease: Lease } | undefined;
  let totalProbes = 0;
  let permissionError: PermissionError | undefined;

  // Every permitted method, leased up front from the engine's pool (shared sockets: opened only when
  // no run in this namespace holds one already). A missing privilege only rules that one out.
  const open: Lease[] = [];
  for (const method of order) {
    // icmp-dgram sends the same echo requests as icmp, from another socket: no second chance there.
    if (method === 'icmp-dgram' && open.some((l) => l.prober.method === 'icmp')) continue;
    try {
      open.push(engine.pool.acquire({ method, family, ...(options.port !== undefined ? { port: options.port } : {}) }, { exclusive: kept !== null }));
    } catch (err) {
      if (err instanceof PermissionError && order.length > 1) {
        permissionError ??= err;
        tried.push({ method, outcome: `unavailable: ${err.needed} needed` });
        continue;
      }
      for (const l of open) l.release();
      throw err;
    }
  }
  try {
    options.onSocketsOpen?.();
  } catch (err) {
    for (const l of open) l.release();
    throw err;
  }
  const close = (l: Lease): void => l.release();

  try {
    let index = 0;
    let rttHintMs: number | undefined;
    let scout: Scout | undefined;
    while (index < open.length) {
      const lease = open[index];
      const prober = lease.prober;
      const method = prober.method;
      const hasFallback = index < open.length - 1;
      options.onEvent?.({ type: 'method', method, direction: prober.direction });
      // This host itself: the largest size, alone and first. Delivered, it is the exact answer; lost
      // or refused, the ordinary search below (auto's scout included) finds out why, as for any host.
      let quick: RunResult | undefined;
      if (local && index === 0) {
        const timeoutMs = Math.min(options.timeoutMs ?? LOCAL_PROBE_TIMEOUT_MS, LOCAL_PROBE_TIMEOUT_MS);
        quick = await runSearch(engine, lease, address, family, max, max, localMtu, { ...options, maxProbes: 1, timeoutMs }, started, false, { reporter });
        if (!quick.deliveredAny && !quick.aborted) {
          totalProbes += quick.totalProbes;
          quick = undefined;
        }
      }
      // auto, first method: scout the others at the same moment (see scout.ts). When one of them
      // answers and this one has delivered nothing a few of its round trips later, switch to it.
      const race = index === 0 && hasFallback && quick === undefined ? new AbortController() : undefined;
      let deliveredHere = false;
      let switchTimer: { cancel(): void } | undefined;
      // The scout goes out with the first method's first batch (the search's first step, when the
      // rate cap lets it): its answers and the first method's are then timed from the same moment.
      let startScout: (() => number) | undefined;
      if (race) startScout = (): number => {
        const scoutStarted = performance.now();
        scout = new Scout(open.slice(1), address, {
          size: floor,
          timer: (ms, fn) => engine.scheduler.after(ms, fn),
          onProbe: (m, size, token) => {
            options.onEvent?.({ type: 'probe', method: m, size, token, atMs: performance.now() - started });
            reporter.sent(m, token, size);
          },
          onOutcome: (m, outcome, token) => {
            options.onEvent?.({ type: 'outcome', method: m, outcome, atMs: performance.now() - started });
            reporter.settled(m, token, outcome);
          },
          onAnswer: (a) => {
            if (deliveredHere || switchTimer) return;
            // The first method's small probes went out with the scout's: give them the same time to
            // come back as the answer took, several times over, with the search's timeout floor.
            const waitMs = Math.max(DEFAULT_MIN_TIMEOUT_MS, 4 * a.rttMs) - (performance.now() - scoutStarted);
            // setImmediate: on a busy host the timer may fire with this method's answer already
            // waiting in its socket; the poll phase reads it first, then the check phase decides.
            switchTimer = engine.scheduler.after(Math.max(0, waitMs), () => {
              setImmediate(() => {
                if (!deliveredHere) race.abort();
              });
            });
          },
        });
        totalProbes += scout.sent;
        return scout.sent;
      };
      let run: RunResult;
      try {
        run = quick ?? await runSearch(engine, lease, address, family, floor, max, localMtu, options, started, hasFallback, {
          reporter,
          ...(race ? { switchSignal: race.signal } : {}),
          ...(startScout ? { onFirstStep: startScout } : {}),
          ...(rttHintMs !== undefined ? { rttHintMs } : {}),
          onDelivered: () => {
            deliveredHere = true;
            switchTimer?.cancel();
          },
        });
      } finally {
        switchTimer?.cancel();
        if (kept === null) close(lease);
      }
      last = { run, method, direction: prober.direction, lease };
      totalProbes += run.totalProbes;
      const answered = run.result.lowerBound >= floor && run.deliveredAny;
      // "Unreachable" for this method only (a REJECT rule for echo, say) while another method is
      // answered: that one is the fallback. A host or network unreachable silences the scout too;
      // it is given a few of the unreachable's round trips to show that.
      const rejected =
        run.unreachable && !answered && index === 0 && scout !== undefined && (await scout.waitForAnswer(Math.max(DEFAULT_MIN_TIMEOUT_MS, 3 * scout.ageMs))) !== undefined;
      if (answered || run.aborted || !hasFallback || (run.unreachable && !rejected)) {
        tried.push({ method, outcome: answered ? 'answered' : run.aborted ? 'aborted' : 'no answer' });
        break;
      }
      // Where to go next: the most preferred method the scout heard from, else the next in order.
      const heard = scout?.best();
      let next = index + 1;
      if (heard !== undefined && heard.index + 1 > index) {
        next = heard.index + 1;
        rttHintMs = heard.rttMs;
      }
      scout?.stop();
      const switched = (run.switched || rejected) && heard !== undefined;
      const refusal = rejected ? (run.result.reason ?? 'unreachable') : 'no answer';
      const why = switched
        ? `${address} ${rejected ? `refused ${method}` : `delivered nothing to ${method}`} while ${open[next].prober.method} answered in ${heard.rttMs.toFixed(1)} ms`
        : `${address} did not answer ${method} probes`;
      tried.push({ method, outcome: switched ? `${refusal}: ${open[next].prober.method} answered instead` : 'no answer: falling back' });
      for (let skipped = index + 1; skipped < next; skipped++) {
        tried.push({ method: open[skipped].prober.method, outcome: 'no answer to the first small probes: skipped' });
        close(open[skipped]);
      }
      options.onEvent?.({ type: 'fallback', from: method, reason: why });
      index = next;
    }
    if (scout) scout.stop();
  } catch (err) {
    last = undefined; // nothing is kept for a run that failed
    throw err;
  } finally {
    for (const l of open) if (l !== last?.lease || kept === null) close(l);
  }
  if (last === undefined) throw permissionError ?? new UsageError('no probe method is available');
  // Aborted before any probe went out: nothing was learned (one abort semantic, engine/index.ts).
  if (last.run.aborted && totalProbes === 0) {
    if (kept !== null) close(last.lease);
    throw new AbortError();
  }
  if (kept !== null) {
    kept.lease = last.lease;
    kept.prober = last.lease.prober;
  }

  // In the order of preference; the unavailable ones were found when opening them all up front,
  // and those after the method that ended the run were never needed.
  const lastAt = order.indexOf(last.method);
  const methodsTried = tried
    .filter((t) => order.indexOf(t.method) <= lastAt)
    .sort((a, b) => order.indexOf(a.method) - order.indexOf(b.method));
  const r = last.run.result;
  // Nothing delivered, no unreachable, not interrupted, not a hop limit: the method is filtered.
  const silent = !last.run.deliveredAny && !last.run.unreachable && !last.run.aborted && r.lowerBound === 0 && !r.reason?.startsWith('time exceeded');
  const reason = silent ? silentReason(address, last.method, methodsTried, r.ptbs.length > 0, options.port) : r.reason;
  return {
    target,
    address,
    family,
    method: last.method,
    direction: last.direction,
    pmtu: r.pmtu,
    exact: r.exact,
    lowerBound: r.lowerBound,
    upperBound: r.upperBound,
    localMtu,
    kernelPmtu: kernelPathMtu(address, family),
    probes: totalProbes,
    elapsedMs: Math.round((performance.now() - started) * 10) / 10,
    ptbs: groupPtbs(r.ptbs),
    blackHole: r.blackHole,
    unreachable: last.run.unreachable,
    ...(r.blackHoleAbove !== undefined ? { blackHoleAbove: r.blackHoleAbove } : {}),
    methodsTried,
    ignored: Object.fromEntries(last.run.ignored),
    aborted: last.run.aborted,
    ...(reason !== undefined ? { reason } : {}),
  };
}

/** What the silence means and what to try, naming the methods (issue 9 item 2). */
function silentReason(address: string, method: MethodName, tried: DiscoverResult['methodsTried'], routersAnswered: boolean, port?: number): string {
  const what: Record<MethodName, string> = {
    icmp: 'ICMP echo requests',
    'icmp-dgram': 'ICMP echo requests',
    udp: 'UDP probes (no port unreachable came back)',
    tcp: `TCP SYNs to port ${port ?? 443}`,
  };
  const routers = routersAnswered ? ' (routers on the way did answer)' : '';
  const silentMethods = tried.filter((t) => t.outcome.startsWith('no answer')).map((t) => t.method);
  if (silentMethods.length > 1) {
    return `${address} answered none of the methods tried (${silentMethods.join(', ')})${routers}: it may be down, or filter them all; try --method tcp -p <a port it serves>`;
  }
  const others: Record<MethodName, string> = {
    icmp: '--method udp, or --method tcp -p <a port it serves>',
    'icmp-dgram': '--method udp, or --method tcp -p <a port it serves> (root)',
    udp: '--method icmp (root) or icmp-dgram, or --method tcp -p <a port it serves> (root)',
    tcp: 'another port with -p (one the host serves), or --method icmp / udp',
  };
  // A host's port unreachables are rate-limited (Linux: a burst of 6, then 1 per second per source),
  // so udp to many addresses of one host, or runs in quick succession, can meet silence too.
  const limited = method === 'udp' ? ', or its port-unreachable budget is spent (Linux sends 6, then 1 per second)' : '';
  return `${address} answered none of the ${method} probes, not even the smallest${routers}: it or a firewall drops ${what[method]}${limited}; try ${others[method]}`;
}

interface RunResult {
  result: SearchResult;
  totalProbes: number;
  deliveredAny: boolean;
  unreachable: boolean;
  aborted: boolean;
  /** Ended because another method answered while this one delivered nothing (auto's scout). */
  switched: boolean;
  ignored: Map<string, number>;
}

/**
 * Drive one search with one leased prober until the search is done, or the signal aborts it. The
 * search is a job of the engine's scheduler: its wake-ups share the scheduler's one timer, its
 * batches the rate cap, and the router answering its large probes is mirrored for pacing.
 */
function runSearch(
  engine: Engine,
  lease: Lease,
  address: string,
  family: Family,
  floor: number,
  max: number,
  localMtu: number,
  options: DiscoverOptions,
  started: number,
  hasFallback: boolean,
  extra: {
    reporter: ProbeReporter;
    switchSignal?: AbortSignal;
    rttHintMs?: number;
    onDelivered?: () => void;
    /** Called once, in the first step, before the first batch; returns the probes it sent itself. */
    onFirstStep?: () => number;
  },
): Promise<RunResult> {
  const prober = lease.prober;
  const scheduler = engine.scheduler;
  const now = (): number => performance.now() - started;
  const search = new PathMtuSearch(
    {
      family,
      floor,
      max,
      maxIsLocal: max >= Math.min(localMtu, LARGEST_PACKET[family]),
      ...(options.timeoutMs !== undefined ? { maxTimeoutMs: options.timeoutMs } : {}),
      ...(options.maxProbes !== undefined ? { maxProbes: options.maxProbes } : {}),
      ...(extra.rttHintMs !== undefined ? { rttHintMs: extra.rttHintMs } : {}),
    },
    now(),
  );
  const tokens = new Map<number, number>(); // prober token -> search token
  // What this run ignored: the shared prober's counts now, subtracted at the end.
  const ignoredBefore = new Map(prober.ignoredCounts);
  let sent = 0;
  let deliveredAny = false;
  let unreachable = false;
  /** The router that said "too big" for this target: its ICMP budget is mirrored (pacing). */
  let router: string | undefined;

  return new Promise<RunResult>((resolve, reject) => {
    let done = false;
    let first = true;
    let handle: JobHandle | undefined;

    // Every way out goes through here: the job leaves the scheduler, every listener is removed.
    const end = (): void => {
      done = true;
      if (handle !== undefined) scheduler.remove(handle);
      options.signal?.removeEventListener('abort', onAbort);
      extra.switchSignal?.removeEventListener('abort', onSwitch);
      if (lease.onError === onError) lease.onError = undefined;
      if (lease.onIgnored === onIgnored) lease.onIgnored = undefined;
      lease.forget(tokens.keys());
    };
    const finish = (aborted: boolean, switched = false): void => {
      if (done) return;
      end();
      const ignored = new Map<string, number>();
      for (const [reason, n] of prober.ignoredCounts) {
        const d = n - (ignoredBefore.get(reason) ?? 0);
        if (d > 0) ignored.set(reason, d);
      }
      resolve({ result: search.result(), totalProbes: sent, deliveredAny, unreachable, aborted, switched, ignored });
    };
    const fail = (err: unknown): void => {
      if (done) return;
      end();
      reject(err);
    };

    const step = (): { sent: number; wakeAt: number | null } => {
      if (done) return { sent: 0, wakeAt: null };
      const at = now();
      if (router !== undefined) search.setIcmpExhausted(scheduler.routerExhausted(router));
      let n = 0;
      if (first) {
        first = false;
        n += extra.onFirstStep?.() ?? 0;
      }
      const { send, wakeAt } = search.poll(at);
      for (const order of send) {
        if (done) break; // an answer read during the last send ended the search
        options.onEvent?.({ type: 'probe', method: prober.method, size: order.size, token: order.token, atMs: now() });
        if (done) break; // the caller aborted from its onEvent: this probe never leaves
        const t = lease.send(address, order.size, {}, onOutcome);
        extra.reporter.sent(prober.method, t, order.size);
        tokens.set(t, order.token);
        sent++;
        n++;
      }
      if (search.finished) {
        finish(false);
        return { sent: n, wakeAt: null };
      }
      // A host that never confirms arrival for this method (it drops UDP, or echo) is left early when
      // another method remains: auto falls back instead of spending the whole budget on silence.
      if (hasFallback && !deliveredAny && sent >= SILENT_GIVE_UP && !unreachable) {
        finish(false);
        return { sent: n, wakeAt: null };
      }
      return { sent: n, wakeAt: wakeAt === null ? null : scheduler.now() + Math.max(0, wakeAt - now()) };
    };

    // An answer is recorded at once and the search polled on the scheduler's next turn (after every
    // answer already waiting has been read): never a poll inside a send.
    const onOutcome = (token: number, outcome: ProbeOutcome): void => {
      const st = tokens.get(token);
      if (st === undefined || done) return;
      // An unreachable that does not quote the probe's nonce may be forged: it cannot end the search.
      if (outcome.kind === 'unreachable' && outcome.unproven !== undefined) return prober.disregard(outcome, `unproven unreachable: ${outcome.unproven}`);
      if (outcome.kind === 'delivered' && !deliveredAny) {
        deliveredAny = true;
        extra.onDelivered?.();
      }
      if (outcome.kind === 'unreachable') unreachable = true;
      if ((outcome.kind === 'tooBig' || outcome.kind === 'timeExceeded' || outcome.kind === 'unreachable') && outcome.from !== address) {
        scheduler.routerError(outcome.from);
        if (outcome.kind === 'tooBig') router = outcome.from;
      }
      options.onEvent?.({ type: 'outcome', method: prober.method, outcome, atMs: now() });
      extra.reporter.settled(prober.method, token, outcome);
      search.record(st, outcome, now());
      if (search.finished) return finish(false);
      if (handle !== undefined) scheduler.wake(handle);
    };
    const onIgnored = (ignored: Ignored): void => options.onEvent?.({ type: 'ignored', method: prober.method, ignored, atMs: now() });
    const onError = (err: Error): void => fail(err);
    const onAbort = (): void => finish(true);
    const onSwitch = (): void => finish(false, true);

    lease.onError = onError;
    if (options.onEvent) lease.onIgnored = onIgnored;
    if (options.signal?.aborted) return finish(true);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    extra.switchSignal?.addEventListener('abort', onSwitch, { once: true });
    handle = scheduler.add({ step, fail });
  });
}

/** One entry per (router, value, verdict): a router answers every oversized probe alike. */
function groupPtbs(ptbs: SearchResult['ptbs']): PtbReport[] {
  const out = new Map<string, PtbReport>();
  for (const p of ptbs) {
    const key = `${p.from}|${p.nextHopMtu}|${p.accepted}|${p.reason}`;
    const g = out.get(key);
    if (g) g.sizes.push(p.size);
    else out.set(key, { from: p.from, nextHopMtu: p.nextHopMtu, accepted: p.accepted, reason: p.reason, sizes: [p.size] });
  }
  return [...out.values()];
}

function validate(o: DiscoverOptions): void {
  const intIn = (name: string, v: number | undefined, lo: number, hi: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < lo || v > hi)) throw new UsageError((n) => `${n(name)} must be an integer from ${lo} to ${hi}, got ${v}`);
  };
  intIn('max', o.max, 68, 65575);
  intIn('min', o.min, 68, 65575);
  intIn('port', o.port, 1, 65535);
  intIn('maxProbes', o.maxProbes, 2, 10000);
  if (o.timeoutMs !== undefined && !(o.timeoutMs > 0 && o.timeoutMs <= 600_000)) {
    throw new UsageError((n) => `${n('timeoutMs')} must be more than 0 and at most 600000 ms, got ${o.timeoutMs}`);
  }
  if (o.method !== undefined && !isMethodChoice(o.method)) throw new UsageError((n) => `unknown ${n('method', `'${o.method}'`)} (choose from ${METHOD_CHOICES.join(', ')})`);
  if (o.signal?.aborted) throw new AbortError();
}
