// discover(): the largest IP packet that crosses the path to a host without fragmentation.
// Orchestration only: the search (src/search) decides what to probe and when it knows; a Prober
// (src/probe) turns orders into packets and answers into outcomes. Timers live here, one at a time.
import { channel } from 'node:diagnostics_channel';
import { AbortError, PermissionError, UsageError } from '../errors.js';
import { MIN_MTU, type Family, type MethodName } from '../probe/outcome.js';
import type { Prober, ProbeOutcome, Ignored, Direction } from '../probe/prober.js';
import { PathMtuSearch, type SearchResult } from '../search/index.js';
import { interfaceMtu, kernelPathMtu } from './local-mtu.js';
import { openMethod, methodOrder } from './methods.js';
import { resolveTarget } from '../sock/resolve.js';

export type MethodChoice = MethodName | 'auto';

export interface DiscoverOptions {
  /** Address family: 4 or 6 (default: what the name resolves to first). */
  family?: Family;
  /** Probe method (default 'auto': icmp when privileged, else icmp-dgram, else udp; falls back when unanswered). */
  method?: MethodChoice;
  /** Largest size to consider (default: the MTU of the interface the route leaves by). */
  max?: number;
  /** Smallest size to consider (default: 68 for IPv4, 1280 for IPv6). */
  min?: number;
  /** Longest wait for one probe's answer, in ms (default adaptive from RTT, at most 2000). */
  timeoutMs?: number;
  /** Destination port for the tcp method (default 443) or first port for udp (default 33434). */
  port?: number;
  /** Probe budget per method (default 60). */
  maxProbes?: number;
  signal?: AbortSignal;
  /** Called for each probe sent and each outcome (for --verbose and progress displays). */
  onEvent?: (event: DiscoverEvent) => void;
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

const probeChannel = channel('pathmtu:probe');
/** IPv4 total length is 16 bits; IPv6's payload length (16 bits) excludes its 40-byte header. */
const LARGEST_PACKET = { 4: 65535, 6: 65575 } as const;
/** Probes without a single delivery after which auto moves on to the next method. */
const SILENT_GIVE_UP = 16;

export async function discover(target: string, options: DiscoverOptions = {}): Promise<DiscoverResult> {
  const started = performance.now();
  validate(options);
  options.signal?.throwIfAborted?.();
  const { address, family } = await resolveTarget(target, options.family);
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

  const order = options.method === undefined || options.method === 'auto' ? methodOrder(family) : [options.method];
  const tried: DiscoverResult['methodsTried'] = [];
  let last: { run: RunResult; method: MethodName; direction: Direction } | undefined;
  let totalProbes = 0;
  let permissionError: PermissionError | undefined;

  const skip = new Set<MethodName>();
  for (const method of order) {
    if (skip.has(method)) continue;
    let prober: Prober;
    try {
      prober = openMethod(method, family, { port: options.port });
    } catch (err) {
      if (err instanceof PermissionError && order.length > 1) {
        permissionError ??= err;
        tried.push({ method, outcome: `unavailable: ${err.needed} needed` });
        continue;
      }
      throw err;
    }
    options.onEvent?.({ type: 'method', method, direction: prober.direction });
    let run: RunResult;
    const hasFallback = order.indexOf(method) < order.length - 1;
    try {
      run = await runSearch(prober, address, family, floor, max, localMtu, options, started, hasFallback);
    } finally {
      prober.close();
    }
    last = { run, method, direction: prober.direction };
    totalProbes += run.totalProbes;
    const answered = run.result.lowerBound >= floor && run.deliveredAny;
    if (answered || run.aborted || !hasFallback || run.unreachable) {
      tried.push({ method, outcome: answered ? 'answered' : run.aborted ? 'aborted' : 'no answer' });
      break;
    }
    const reason = `${address} did not answer ${method} probes`;
    if (method === 'icmp') skip.add('icmp-dgram'); // the same echo requests, from another socket
    tried.push({ method, outcome: 'no answer: falling back' });
    options.onEvent?.({ type: 'fallback', from: method, reason });
  }
  if (last === undefined) throw permissionError ?? new UsageError('no probe method is available');

  const r = last.run.result;
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
    methodsTried: tried,
    ignored: Object.fromEntries(last.run.ignored),
    aborted: last.run.aborted,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
  };
}

interface RunResult {
  result: SearchResult;
  totalProbes: number;
  deliveredAny: boolean;
  unreachable: boolean;
  aborted: boolean;
  ignored: Map<string, number>;
}

/** Drive one search with one prober until the search is done, or the signal aborts it. */
function runSearch(
  prober: Prober,
  address: string,
  family: Family,
  floor: number,
  max: number,
  localMtu: number,
  options: DiscoverOptions,
  started: number,
  hasFallback: boolean,
): Promise<RunResult> {
  const now = (): number => performance.now() - started;
  const search = new PathMtuSearch(
    {
      family,
      floor,
      max,
      maxIsLocal: max >= Math.min(localMtu, LARGEST_PACKET[family]),
      ...(options.timeoutMs !== undefined ? { maxTimeoutMs: options.timeoutMs } : {}),
      ...(options.maxProbes !== undefined ? { maxProbes: options.maxProbes } : {}),
    },
    now(),
  );
  const tokens = new Map<number, number>(); // prober token -> search token
  let sent = 0;
  let deliveredAny = false;
  let unreachable = false;

  return new Promise<RunResult>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    // A send may deliver earlier probes' answers synchronously (it drains the error queue); those
    // are recorded after the batch is out, so the search never sees a poll inside a poll.
    let sending = false;
    const pending: Array<[number, ProbeOutcome]> = [];

    const finish = (aborted: boolean): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      prober.off('outcome', onOutcome);
      prober.off('ignored', onIgnored);
      prober.off('error', onError);
      resolve({ result: search.result(), totalProbes: sent, deliveredAny, unreachable, aborted, ignored: prober.ignoredCounts });
    };

    const pump = (): void => {
      if (done) return;
      try {
        const { send, wakeAt } = search.poll(now());
        sending = true;
        try {
          for (const order of send) {
            const ev = { type: 'probe' as const, method: prober.method, size: order.size, token: order.token, atMs: now() };
            options.onEvent?.(ev);
            if (probeChannel.hasSubscribers) probeChannel.publish(ev);
            const t = prober.send(address, order.size);
            tokens.set(t, order.token);
            sent++;
          }
        } finally {
          sending = false;
        }
        if (pending.length > 0) {
          for (const [token, outcome] of pending.splice(0)) onOutcome(token, outcome);
          return;
        }
        if (search.finished) return finish(false);
        // A host that never confirms arrival for this method (it drops UDP, or echo) is left early when
        // another method remains: auto falls back instead of spending the whole budget on silence.
        if (hasFallback && !deliveredAny && sent >= SILENT_GIVE_UP && !unreachable) return finish(false);
        if (timer) clearTimeout(timer);
        if (wakeAt !== null) timer = setTimeout(pump, Math.max(0, wakeAt - now()));
      } catch (err) {
        done = true;
        if (timer) clearTimeout(timer);
        reject(err);
      }
    };

    const onOutcome = (token: number, outcome: ProbeOutcome): void => {
      if (sending) {
        pending.push([token, outcome]);
        return;
      }
      const st = tokens.get(token);
      if (st === undefined || done) return;
      if (outcome.kind === 'delivered') deliveredAny = true;
      if (outcome.kind === 'unreachable') unreachable = true;
      const ev = { type: 'outcome' as const, method: prober.method, outcome, atMs: now() };
      options.onEvent?.(ev);
      if (probeChannel.hasSubscribers) probeChannel.publish(ev);
      search.record(st, outcome, now());
      pump();
    };
    const onIgnored = (ignored: Ignored): void => options.onEvent?.({ type: 'ignored', method: prober.method, ignored, atMs: now() });
    const onError = (err: Error): void => {
      done = true;
      if (timer) clearTimeout(timer);
      reject(err);
    };
    const onAbort = (): void => finish(true);

    prober.on('outcome', onOutcome);
    prober.on('ignored', onIgnored);
    prober.on('error', onError);
    if (options.signal?.aborted) return finish(true);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    pump();
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
  const methods = ['auto', 'udp', 'icmp', 'icmp-dgram', 'tcp'];
  if (o.method !== undefined && !methods.includes(o.method)) throw new UsageError((n) => `unknown ${n('method', `'${o.method}'`)} (choose from ${methods.join(', ')})`);
  if (o.signal?.aborted) throw new AbortError();
}
