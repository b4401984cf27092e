// ping(): echo requests of a chosen size with DF set (or not), one every interval, each answer
// matched to its request by the prober (echo id, sequence, nonce — never by arrival order), so
// other pings' replies, duplicates and forged errors are told apart from ours. Seed 003's ping
// read "the next packet" off a raw socket and took whatever came; this one does not.
import { AbortError, SystemCallError, UsageError } from '../errors.js';
import { resolveTarget } from '../sock/resolve.js';
import type { ProbeOutcome } from '../probe/prober.js';
import { overhead, packetSize, sweepSizes } from './sizes.js';
import { openPingProber } from './socket.js';
import { summarize, sweepReport } from './stats.js';
import type { PingHeader, PingOptions, PingProbe, PingResult } from './types.js';

export const DEFAULT_INTERVAL_MS = 1000;
export const DEFAULT_TIMEOUT_MS = 1000;
/** Faster than this only as root, like iputils: a user must not flood a network by accident. */
export const MIN_USER_INTERVAL_MS = 200;

function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

function checkOptions(o: PingOptions): void {
  const positive = (name: string, v: number | undefined, max: number): void => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0 && v <= max)) throw new UsageError(`${name} must be more than 0 and at most ${max}, got ${v}`);
  };
  if (o.count !== undefined && !(Number.isInteger(o.count) && o.count >= 1)) throw new UsageError(`count must be a whole number of at least 1, got ${o.count}`);
  if (o.sweep !== undefined && o.count !== undefined) throw new UsageError('a sweep sends one request per size; count does not apply');
  if (o.sweep !== undefined && (o.size !== undefined || o.payload !== undefined)) throw new UsageError('a sweep sets the sizes itself; size/payload do not apply');
  if (o.count === undefined && o.sweep === undefined && o.signal === undefined) {
    throw new UsageError('give a count (or a signal to stop an endless ping)');
  }
  positive('interval (ms)', o.intervalMs, 3_600_000);
  positive('timeout (ms)', o.timeoutMs, 600_000);
  if (o.intervalMs !== undefined && o.intervalMs < MIN_USER_INTERVAL_MS && !isRoot()) {
    throw new UsageError(`an interval below ${MIN_USER_INTERVAL_MS / 1000} s needs root (as with ping: flooding is for the superuser)`);
  }
  if (o.ttl !== undefined && !(Number.isInteger(o.ttl) && o.ttl >= 1 && o.ttl <= 255)) throw new UsageError(`ttl must be 1..255, got ${o.ttl}`);
  const method = o.method ?? 'auto';
  if (!['auto', 'icmp', 'icmp-dgram'].includes(method)) throw new UsageError(`method must be auto, icmp or icmp-dgram, got '${String(method)}'`);
}

/** Echo the target with DF-aware requests; resolves with every probe's fate and the summary. */
export async function ping(target: string, options: PingOptions = {}): Promise<PingResult> {
  checkOptions(options);
  const { signal } = options;
  if (signal?.aborted) throw new AbortError();
  const resolved = await resolveTarget(target, options.family);
  const family = resolved.family;
  const df = options.df ?? true;
  const sweep = options.sweep !== undefined ? sweepSizes(options.sweep, family) : null;
  const single = sweep === null ? packetSize(options, family) : null;
  if (signal?.aborted) throw new AbortError();

  const { prober, method } = openPingProber(family, options.method ?? 'auto', df);
  const header: PingHeader = {
    target,
    address: resolved.address,
    family,
    method,
    socket: method === 'icmp' ? 'raw' : 'ping',
    sizeUnit: single?.unit ?? 'packet',
    size: single?.size ?? null,
    payload: single !== null ? single.size - overhead(family) : null,
    overhead: overhead(family),
    df,
    ttl: options.ttl ?? null,
    intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    count: sweep !== null ? sweep.sizes.length : (options.count ?? null),
    sweep: sweep?.range ?? null,
  };

  const probes: PingProbe[] = [];
  const waiting = new Map<number, { probe: PingProbe; timer: NodeJS.Timeout }>();
  const settled = new Map<number, PingProbe>();
  let late = 0;
  let ignored = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const report = (p: PingProbe): void => {
    try {
      options.onReply?.(p);
    } catch (err) {
      failure ??= err as Error;
      poke();
    }
  };

  const settle = (token: number, fill: (p: PingProbe) => void): void => {
    const w = waiting.get(token);
    if (w === undefined) return;
    clearTimeout(w.timer);
    waiting.delete(token);
    fill(w.probe);
    settled.set(token, w.probe);
    report(w.probe);
    poke();
  };

  const onOutcome = (token: number, o: ProbeOutcome): void => {
    if (waiting.has(token)) return settle(token, (p) => describe(p, o));
    const first = settled.get(token);
    if (first === undefined) return; // a request from before this run (cannot happen: one prober per run)
    if (first.outcome === 'lost') {
      late++;
      return;
    }
    // The prober re-emits every further copy of an answer: a duplicate, never a second reply.
    const dup: PingProbe = { seq: first.seq, size: first.size, outcome: 'lost', duplicate: true };
    describe(dup, o);
    probes.push(dup);
    report(dup);
  };
  prober.on('outcome', onOutcome);
  prober.on('ignored', () => ignored++);
  prober.on('error', (err) => {
    failure ??= err;
    poke();
  });

  const onAbort = (): void => poke();
  signal?.addEventListener('abort', onAbort, { once: true });
  const started = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e6;
  const stop = (): boolean => signal?.aborted === true || failure !== undefined;
  /** Sleep until `ms` after the start, or until something needs attention. */
  const sleepUntil = (atMs: number): Promise<void> =>
    new Promise((resolve) => {
      // No timer for "until poked": Node turns an infinite delay into 1 ms.
      const t = Number.isFinite(atMs) ? setTimeout(done, Math.max(0, atMs - elapsed())) : undefined;
      function done(): void {
        if (t !== undefined) clearTimeout(t);
        if (wake === done) wake = undefined;
        resolve();
      }
      wake = done;
    });

  try {
    options.onSocketsOpen?.();
    options.onStart?.(header);
    const sizeOf = (i: number): number => (sweep !== null ? sweep.sizes[i] : single!.size);
    const total = header.count ?? Infinity;
    for (let i = 0; i < total && !stop(); i++) {
      // Absolute schedule: a slow callback does not stretch the interval for the requests after it.
      const at = i * header.intervalMs;
      while (!stop() && elapsed() < at) await sleepUntil(at);
      if (stop()) break;
      const seq = i + 1;
      const size = sizeOf(i);
      const probe: PingProbe = { seq, size, outcome: 'lost' };
      probes.push(probe);
      let token: number;
      try {
        token = prober.send(resolved.address, size, header.ttl !== null ? { ttl: header.ttl } : {});
      } catch (err) {
        if (!(err instanceof SystemCallError)) throw err;
        // The kernel refused this one (no route, neighbour unreachable, ...): an error, and on we go.
        probe.outcome = 'unreachable';
        probe.reason = `not sent: ${err.message}`;
        report(probe);
        continue;
      }
      const timer = setTimeout(() => settle(token, () => {}), header.timeoutMs);
      waiting.set(token, { probe, timer });
    }
    // Wait for the last answers (each request has its own deadline), unless stopped.
    while (!stop() && waiting.size > 0) await sleepUntil(Infinity);
    if (failure !== undefined) throw failure;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    for (const w of waiting.values()) clearTimeout(w.timer);
    prober.off('outcome', onOutcome);
    prober.close();
  }
  // Requests still waiting when interrupted stay 'lost': sent, never answered (as ping counts them).
  const elapsedMs = elapsed();
  return {
    ...header,
    probes,
    summary: summarize(probes, late, elapsedMs),
    sweepReport: sweep !== null ? sweepReport(sweep.range, probes) : null,
    ignored,
    aborted: signal?.aborted === true,
  };
}

/** Copy a probe outcome into a ping record. */
function describe(p: PingProbe, o: ProbeOutcome): void {
  switch (o.kind) {
    case 'delivered':
      p.outcome = 'reply';
      p.from = o.from;
      p.rttMs = o.rttMs;
      if (o.replyTtl !== undefined) p.ttl = o.replyTtl;
      return;
    case 'tooBig':
      p.outcome = 'tooBig';
      p.from = o.from;
      p.rttMs = o.rttMs;
      p.nextHopMtu = o.nextHopMtu;
      p.plausible = o.plausible;
      if (o.reason !== undefined) p.reason = o.reason;
      return;
    case 'localTooBig':
      p.outcome = 'localTooBig';
      p.mtu = o.mtu;
      return;
    case 'timeExceeded':
      p.outcome = 'timeExceeded';
      p.from = o.from;
      p.rttMs = o.rttMs;
      return;
    case 'unreachable':
      p.outcome = 'unreachable';
      p.from = o.from;
      p.rttMs = o.rttMs;
      p.reason = o.reason;
      return;
    case 'lost':
      p.outcome = 'lost';
      return;
  }
}
