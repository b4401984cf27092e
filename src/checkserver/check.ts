// checkServer(): does a TCP server honour "packet too big"? (seed 004's question)
//
// 1. Connect with an ordinary socket, but do not read: the server fills our receive window and
//    stops, so nothing of it is in flight and the sequence numbers stand still.
// 2. Ask for data (HTTP GET, or nothing for a server that talks first) and watch its segments
//    arrive (capture.ts), split back into wire segments.
// 3. Once it has sent segments larger than the pseudo-MTU and gone quiet, tell it, as a router
//    would: a frag-needed / PTB quoting its segment at our rcv_nxt (ptb.ts says why that seq).
// 4. Read again; the window opens and what it sends now is its answer (verdict.ts). An HTTP server
//    that had finished its response gets the same request once more on the same connection.
// The server's kernel keeps the announced MTU for our address for ~10 minutes (the route
// exception), so a second run within that time starts with small segments ("no-data").
//
// On the engine: the capture is a packet socket of its own (it follows one TCP flow; no prober
// can share it), so the run is no scheduler job with a lease. Its waits are one-shot wake-ups on
// the engine scheduler's one timer (after()), its default wait is the engine's (timing.ts), and it
// follows the one abort semantic: aborted before the connection is attempted (its first packet to
// the server) it rejects with AbortError; after, it resolves with what it saw, `aborted: true`.
import net from 'node:net';
import { AbortError, UsageError } from '../errors.js';
import type { Family } from '../wire/facts.js';
import { ProbeSocket } from '../sock/socket.js';
import { canonicalIp } from '../wire/addr.js';
import { resolveTarget } from '../sock/resolve.js';
import { ProbeReporter } from '../probe/diagnostics.js';
import { defaultEngine, type Engine } from '../engine/engine.js';
import type { Scheduler } from '../engine/scheduler.js';
import { DEFAULT_MAX_TIMEOUT_MS } from '../engine/timing.js';
import { PacketCapture } from './capture.js';
import { buildPtb, MIN_MTU } from './ptb.js';
import { seqDiff, wireSegments, type CapturedPacket, type WireSegment } from './segment.js';
import { judge, type Verdict } from './verdict.js';

export const DEFAULT_MTU = 1280;
/** Longest wait of each phase: the engine's one default (engine/timing.ts). */
export const DEFAULT_TIMEOUT_MS = DEFAULT_MAX_TIMEOUT_MS;
/** After the PTB, this much judged data is plenty (and keeps a run short on a fast server). */
const ENOUGH_AFTER_BYTES = 64 * 1024;
/** Copies of the PTB, an RTT apart: one lost ICMP must not read as "ignored". */
const PTB_COPIES = 2;

export interface CheckServerOptions {
  /** Address family when `host` is a name. */
  family?: Family;
  /** Pseudo path MTU announced in the PTB (default 1280; at least 68 for IPv4, 1280 for IPv6). */
  mtu?: number;
  /** HTTP path to GET (default '/'). Ignored with rawStream. */
  path?: string;
  /** Host header (default: host as given, with the port when not 80). */
  hostHeader?: string;
  /** Send nothing; just read what the server sends on its own. */
  rawStream?: boolean;
  /** Longest wait of each phase (connect, data before the PTB, data after it), ms. Default 3000. */
  timeoutMs?: number;
  /**
   * Aborted before the connection is attempted: rejects with AbortError. After: resolves at once
   * with what was seen, verdict 'error' ("interrupted") and `aborted: true`.
   */
  signal?: AbortSignal;
  /** The engine whose scheduler times the waits (default: the process-wide one). */
  engine?: Engine;
}

export interface SizeCount {
  /** Whole IP packet size of a segment on the wire. */
  size: number;
  df: boolean;
  count: number;
}

export interface PhaseSummary {
  /** Data segments (with payload). */
  segments: number;
  /** TCP payload bytes. */
  bytes: number;
  largest: number;
  /** Segments sent with DF (IPv6: unfragmented). */
  withDf: number;
  /** Distinct sizes, largest first. */
  sizes: SizeCount[];
}

export interface CheckServerResult {
  target: string;
  address: string;
  port: number;
  family: Family;
  local: { address: string; port: number } | null;
  mtu: number;
  /** 'GET <path>' or 'raw-stream'. */
  request: string;
  verdict: Verdict;
  reason: string;
  connectMs: number | null;
  /** The PTB we sent: when (ms since start), the quoted seq and segment size, how many copies. */
  ptb: { atMs: number; seq: number; quotedSize: number; copies: number } | null;
  /** First data segment judged after the PTB, and (on success) the first at most `mtu`, in ms after the PTB. */
  firstAfterMs: number | null;
  firstFittingMs: number | null;
  before: PhaseSummary;
  after: PhaseSummary;
  /** Segments that arrived right after the PTB but were sent before the server could have it. */
  inFlight: number;
  /** Frames the capture lost (its buffer was full): the sizes shown may miss some segments. */
  captureDrops: number;
  /** Whether GSO super-packets were split by their gso_size (false: sizes may be overstated). */
  gsoAware: boolean;
  /** Whether the HTTP request was sent a second time after the PTB. */
  repeatedRequest: boolean;
  elapsedMs: number;
  aborted: boolean;
}

interface Seen extends WireSegment {
  atMs: number;
}

function summarize(segs: WireSegment[]): PhaseSummary {
  const groups = new Map<string, SizeCount>();
  for (const s of segs) {
    const k = `${s.size}/${s.df}`;
    const g = groups.get(k);
    if (g) g.count++;
    else groups.set(k, { size: s.size, df: s.df, count: 1 });
  }
  return {
    segments: segs.length,
    bytes: segs.reduce((a, s) => a + s.payload, 0),
    largest: Math.max(0, ...segs.map((s) => s.size)),
    withDf: segs.filter((s) => s.df).length,
    sizes: [...groups.values()].sort((a, b) => b.size - a.size || Number(b.df) - Number(a.df)),
  };
}

function httpRequest(path: string, host: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: pathmtu-check-server\r\nAccept: */*\r\nAccept-Encoding: identity\r\n\r\n`;
}

export async function checkServer(host: string, port: number, opts: CheckServerOptions = {}): Promise<CheckServerResult> {
  const { path, timeoutMs } = checkArguments(port, opts);
  const resolved = await resolveTarget(host, opts.family);
  const family = resolved.family;
  const mtu = opts.mtu ?? DEFAULT_MTU;
  if (mtu < MIN_MTU[family]) {
    throw new UsageError(`the MTU must be at least ${MIN_MTU[family]} for IPv${family} (a smaller one is ignored by the server), got ${mtu}`);
  }
  if (opts.signal?.aborted) throw new AbortError();
  const req = opts.rawStream ? null : httpRequest(path, opts.hostHeader ?? hostHeaderFor(host, port));
  const run = new CheckRun({
    host, port, address: resolved.address, family, mtu, timeoutMs, req, signal: opts.signal,
    scheduler: (opts.engine ?? defaultEngine()).scheduler,
    request: opts.rawStream ? 'raw-stream' : `GET ${path}`,
  });
  try {
    const r = await run.run();
    // The verdict is what became of the PTB (published only when one was sent).
    if (r.ptb !== null) run.reporter.verdict('ptb', 1, r.ptb.quotedSize, r.verdict, r.reason);
    return r;
  } finally {
    run.close();
  }
}

/** Usage errors before anything is resolved or sent. */
function checkArguments(port: number, opts: CheckServerOptions): { path: string; timeoutMs: number } {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`port must be from 1 to 65535, got ${port}`);
  const path = opts.path ?? '/';
  if (!opts.rawStream && (!path.startsWith('/') || /[\s\x00-\x1f\x7f]/.test(path))) {
    throw new UsageError(`the HTTP path must start with '/' and contain no spaces or control characters, got '${path}'`);
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new UsageError(`timeout must be positive, got ${timeoutMs}`);
  if (opts.mtu !== undefined && (!Number.isInteger(opts.mtu) || opts.mtu < 68 || opts.mtu > 65535)) {
    throw new UsageError(`the MTU must be a whole number from 68 to 65535, got ${opts.mtu}`);
  }
  return { path, timeoutMs };
}

/** The Host header: host as given (an IPv6 literal in brackets), with the port when not 80. */
function hostHeaderFor(host: string, port: number): string {
  const bareHost = host.trim().replace(/^\[(.*)\]$/, '$1');
  return `${net.isIPv6(bareHost) ? `[${bareHost}]` : bareHost}${port === 80 ? '' : `:${port}`}`;
}

interface RunSpec {
  host: string;
  port: number;
  address: string;
  family: Family;
  mtu: number;
  timeoutMs: number;
  /** The HTTP request to send, or null for a server that talks first. */
  req: string | null;
  request: string;
  signal: AbortSignal | undefined;
  scheduler: Scheduler;
}

/**
 * A condition a run waits for: true once it holds, otherwise the time (ms since the start) at
 * which it may hold without anything arriving (Infinity: only an event can make it hold).
 */
type Condition = () => true | number;

/** One check: the capture, the connection, what was seen in each phase, and the waits between. */
class CheckRun {
  readonly #spec: RunSpec;
  readonly #t0 = process.hrtime.bigint();
  /** Each PTB copy is one probe (token 1: the same question asked again); the verdict its outcome. */
  readonly reporter: ProbeReporter;
  // Privilege first, before any traffic: the capture socket fails with the way out.
  readonly #capture = PacketCapture.open();
  #icmp: ProbeSocket | undefined;
  #sock: net.Socket | undefined;
  readonly #before: Seen[] = [];
  readonly #after: Seen[] = [];
  #phase: 'before' | 'after' = 'before';
  #rcvNxt: number | null = null;
  #template: { packet: CapturedPacket; size: number } | null = null;
  #lastDataMs = -Infinity;
  #closed = false;
  #connectMs: number | null = null;
  #local: { address: string; port: number } | null = null;
  #ptb: CheckServerResult['ptb'] = null;
  #ptbLastMs = 0;
  #settleMs = 0;
  #repeatedRequest = false;
  #aborted = false;
  #afterBytes = 0;
  #failure: string | null = null;
  /** The wait in progress, re-checked on every event of the capture and the connection. */
  #waiter: (() => void) | null = null;
  #wakeQueued = false;

  constructor(spec: RunSpec) {
    this.#spec = spec;
    this.reporter = new ProbeReporter('check-server', spec.family, spec.address);
    const capture = this.#capture;
    capture.on('error', (e) => {
      this.#failure ??= `the packet capture failed: ${e.message}`;
      this.#wake();
    });
    capture.on('sent', (p) => {
      // Our kernel's rcv_nxt, as it told the server: never past the server's snd_nxt.
      if (p.flags.ack && (this.#rcvNxt === null || seqDiff(p.ackNumber, this.#rcvNxt) > 0)) this.#rcvNxt = p.ackNumber;
    });
    capture.on('packet', (p, at) => {
      this.#onPacket(p, at);
      this.#wake();
    });
  }

  #nowMs(t: bigint = process.hrtime.bigint()): number {
    return Number(t - this.#t0) / 1e6;
  }

  async run(): Promise<CheckServerResult> {
    const { family, mtu, timeoutMs } = this.#spec;
    const connected = await this.#connect();
    if (connected !== null) return connected;
    const rtt = Math.max(this.#connectMs ?? 0, 0.05);
    const quietMs = Math.min(1000, Math.max(100, 4 * rtt));
    this.#settleMs = 1.5 * rtt + 1;
    if (this.#spec.req) this.#sock!.write(this.#spec.req);

    await this.#awaitStall(quietMs);
    if (this.#aborted) return this.#finish('error', 'interrupted');
    // Stalled: nothing can be in flight, all that comes after the PTB is its answer. Otherwise
    // (a window too large to fill in time) leave out what arrives before the PTB can have acted.
    if (this.#nowMs() - this.#lastDataMs >= quietMs) this.#settleMs = 0;
    const early = judge({ family, mtu, before: this.#before, after: [], ptbSent: false });
    if (early.verdict === 'no-data' || early.verdict === 'no-df') {
      if (this.#before.length === 0 && this.#failure !== null) return this.#finish('error', this.#failure);
      return this.#finish();
    }
    if (this.#closed) {
      return this.#finish('error', this.#failure ?? 'the server closed the connection before the PTB: there is nothing more to watch (ask for something larger)');
    }

    const unsent = await this.#sendPtbs(rtt);
    if (unsent !== null) return unsent;
    await this.#watchAfter(quietMs);
    if (this.#aborted) return this.#finish('error', 'interrupted');
    const r = this.#finish();
    if (r.verdict === 'error' && r.after.segments === 0 && !this.#closed) {
      r.reason += ` within ${timeoutMs} ms (a server that pauses between sends needs a longer timeout)`;
    }
    return r;
  }

  /** Connect and stop reading; a result when that failed, else null. */
  async #connect(): Promise<CheckServerResult | null> {
    const { address, port, family, timeoutMs } = this.#spec;
    this.#icmp = ProbeSocket.open('icmp-raw', family);
    const s = (this.#sock = new net.Socket());
    s.on('error', (e) => {
      this.#failure ??= `connection failed: ${e.message}`;
      this.#closed = true;
      this.#wake();
    });
    for (const ev of ['close', 'end'] as const) {
      s.on(ev, () => {
        this.#closed = true;
        this.#wake();
      });
    }
    const remote = canonicalIp(address);
    this.#capture.follow({ remote, remotePort: port });
    this.#capture.start();
    s.once('connect', () => {
      this.#connectMs = this.#nowMs();
      this.#wake();
    });
    s.connect({ host: address, port, family });
    const connected = await this.#until(() => (this.#connectMs !== null || this.#failure !== null ? true : Infinity), timeoutMs);
    if (this.#aborted) return this.#finish('error', 'interrupted');
    if (!connected || this.#failure !== null) {
      return this.#finish('error', this.#failure ?? `no connection to ${address} port ${port} within ${timeoutMs} ms`);
    }
    // Not reading makes the server stop once our window is full: nothing left in flight when it
    // gets the PTB, and what it sends afterwards can only be its answer.
    s.pause();
    this.#local = { address: canonicalIp(s.localAddress ?? ''), port: s.localPort ?? 0 };
    this.#capture.follow({ remote, remotePort: port, local: this.#local.address, localPort: this.#local.port });
    this.#icmp.bind(this.#local.address);
    return null;
  }

  /** Before: wait for big segments and then for the flow to stall (window full or response done). */
  #awaitStall(quietMs: number): Promise<boolean> {
    return this.#until(() => {
      if (this.#closed) return true;
      if (this.#template !== null) return this.#reached(this.#lastDataMs + quietMs);
      return this.#before.length > 0 ? this.#reached(this.#lastDataMs + 3 * quietMs) : Infinity;
    }, this.#spec.timeoutMs);
  }

  /** Tell the server its segments are too big, quoting the next one it will send; a result if none went out. */
  async #sendPtbs(rtt: number): Promise<CheckServerResult | null> {
    const { address, mtu } = this.#spec;
    const tpl = this.#template!;
    this.#phase = 'after';
    let firstPtbMs: number | null = null;
    for (let i = 0; i < PTB_COPIES; i++) {
      if (i > 0) await this.#until(() => Infinity, Math.max(2, rtt));
      this.#capture.drain();
      const seq = this.#rcvNxt!;
      try {
        this.#icmp!.send(buildPtb({ template: tpl.packet, size: tpl.size, seq, mtu }), { address });
      } catch (err) {
        if (this.#ptb !== null) break; // one copy went out; that is enough to judge
        return this.#finish('error', `could not send the PTB: ${(err as Error).message}`);
      }
      this.#ptbLastMs = this.#nowMs();
      this.reporter.sent('ptb', 1, tpl.size, undefined, mtu);
      firstPtbMs ??= this.#ptbLastMs;
      this.#ptb = { atMs: firstPtbMs, seq, quotedSize: tpl.size, copies: i + 1 };
    }
    return null;
  }

  /** After: open the window again and watch; ask an HTTP server again if it had already finished. */
  async #watchAfter(quietMs: number): Promise<void> {
    const { timeoutMs, req } = this.#spec;
    const s = this.#sock!;
    s.on('data', () => {});
    s.resume();
    const afterDone: Condition = () => {
      if (this.#closed || this.#judgedBytes() >= ENOUGH_AFTER_BYTES || this.#afterBytes >= 4 * ENOUGH_AFTER_BYTES) return true;
      return this.#judgedBytes() > 0 ? this.#reached(this.#lastDataMs + quietMs) : Infinity;
    };
    const done = (): boolean => afterDone() === true;
    await this.#until(() => either(afterDone(), this.#reached(this.#ptbLastMs + 2 * quietMs)), timeoutMs);
    if (!this.#aborted && !done() && req !== null && this.#judgedBytes() === 0 && !this.#closed) {
      // The response had been delivered whole before the PTB: ask again on the same connection.
      this.#repeatedRequest = true;
      s.write(req);
      await this.#until(afterDone, timeoutMs);
    } else if (!this.#aborted && !done()) {
      await this.#until(afterDone, timeoutMs);
    }
  }

  #onPacket(p: CapturedPacket, at: bigint): void {
    const atMs = this.#nowMs(at);
    if (p.flags.fin || p.flags.rst) this.#closed = true;
    if (p.payloadLength === 0) return;
    this.#lastDataMs = atMs;
    const after = this.#phase === 'after';
    if (after && this.#afterBytes >= 4 * ENOUGH_AFTER_BYTES) return; // seen enough; keep memory flat
    if (after) this.#afterBytes += p.payloadLength;
    const segs = wireSegments(p);
    for (const s of segs) {
      (after ? this.#after : this.#before).push({ ...s, atMs });
      const end = (s.seq + s.payload) >>> 0;
      if (this.#rcvNxt === null || seqDiff(end, this.#rcvNxt) > 0) this.#rcvNxt = end;
    }
    const big = Math.max(...segs.map((s) => s.size));
    if (!after && big > this.#spec.mtu && (this.#template === null || big >= this.#template.size)) this.#template = { packet: p, size: big };
  }

  /** Segments sent after the server could have acted on the (last) PTB. */
  #judged(): Seen[] {
    return this.#after.filter((x) => x.atMs >= this.#ptbLastMs + this.#settleMs);
  }

  #judgedBytes(): number {
    return this.#judged().reduce((a, x) => a + x.payload, 0);
  }

  /** True once `atMs` has passed, else `atMs` (when to look again). */
  #reached(atMs: number): true | number {
    return this.#nowMs() >= atMs ? true : atMs;
  }

  /**
   * Wait until the condition holds, `ms` pass, or the caller aborts (false for the last two).
   * Readiness, not polling: the condition is looked at again when the capture socket delivers
   * (its uv_poll readiness), the connection changes, the abort fires, or the time it named comes.
   */
  #until(cond: Condition, ms: number): Promise<boolean> {
    const { signal, scheduler } = this.#spec;
    const end = this.#nowMs() + ms;
    return new Promise((resolve) => {
      let timer: { cancel(): void } | undefined;
      const finish = (ok: boolean): void => {
        timer?.cancel();
        this.#waiter = null;
        signal?.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const look = (): void => {
        timer?.cancel();
        const r = cond();
        if (r === true) return finish(true);
        if (signal?.aborted) {
          this.#aborted = true;
          return finish(false);
        }
        const now = this.#nowMs();
        if (now >= end) return finish(false);
        // +0.1 ms: a timer may fire a hair early by the hrtime clock; never spin on it.
        timer = scheduler.after(Math.min(end, r) - now + 0.1, look);
      };
      const onAbort = (): void => this.#wake();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiter = look;
      look();
    });
  }

  /** Something happened: look at the waited-for condition once the current events are handled. */
  #wake(): void {
    if (this.#waiter === null || this.#wakeQueued) return;
    this.#wakeQueued = true;
    setImmediate(() => {
      this.#wakeQueued = false;
      this.#waiter?.();
    });
  }

  #finish(verdict?: Verdict, reason?: string): CheckServerResult {
    const { host, address, port, family, mtu, request } = this.#spec;
    const before = this.#before;
    const ptb = this.#ptb;
    const judged = this.#judged();
    const j = verdict !== undefined
      ? { verdict, reason: reason ?? '' }
      : judge({ family, mtu, before, after: judged, ptbSent: ptb !== null });
    const first = judged[0];
    const fitting = judged.find((s) => s.size <= mtu);
    return {
      target: host,
      address,
      port,
      family,
      local: this.#local,
      mtu,
      request,
      verdict: j.verdict,
      reason: j.reason,
      connectMs: this.#connectMs,
      ptb,
      firstAfterMs: ptb && first ? first.atMs - ptb.atMs : null,
      firstFittingMs: ptb && fitting && j.verdict === 'success' ? fitting.atMs - ptb.atMs : null,
      before: summarize(before),
      after: summarize(judged),
      inFlight: this.#after.length - judged.length,
      captureDrops: this.#capture.drops(),
      gsoAware: this.#capture.vnetHdr,
      repeatedRequest: this.#repeatedRequest,
      elapsedMs: this.#nowMs(),
      aborted: this.#aborted,
    };
  }

  close(): void {
    this.#waiter = null;
    this.#sock?.destroy();
    this.#icmp?.close();
    this.#capture.close();
  }
}

/** Either condition: true when one holds, else the earlier time to look again. */
function either(a: true | number, b: true | number): true | number {
  return a === true || b === true ? true : Math.min(a, b);
}
