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
import net from 'node:net';
import { AbortError, UsageError } from '../errors.js';
import type { Family } from '../wire/facts.js';
import { ProbeSocket } from '../sock/socket.js';
import { canonicalIp } from '../wire/addr.js';
import { resolveTarget } from '../sock/resolve.js';
import { PacketCapture } from './capture.js';
import { buildPtb, MIN_MTU } from './ptb.js';
import { seqDiff, wireSegments, type CapturedPacket, type WireSegment } from './segment.js';
import { judge, type Verdict } from './verdict.js';

export const DEFAULT_MTU = 1280;
export const DEFAULT_TIMEOUT_MS = 3000;
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
  signal?: AbortSignal;
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
  const resolved = await resolveTarget(host, opts.family);
  const family = resolved.family;
  const mtu = opts.mtu ?? DEFAULT_MTU;
  if (mtu < MIN_MTU[family]) {
    throw new UsageError(`the MTU must be at least ${MIN_MTU[family]} for IPv${family} (a smaller one is ignored by the server), got ${mtu}`);
  }
  const bareHost = host.trim().replace(/^\[(.*)\]$/, '$1');
  const hostHeader = opts.hostHeader ?? `${net.isIPv6(bareHost) ? `[${bareHost}]` : bareHost}${port === 80 ? '' : `:${port}`}`;
  const request = opts.rawStream ? 'raw-stream' : `GET ${path}`;
  const signal = opts.signal;
  if (signal?.aborted) throw new AbortError();

  const t0 = process.hrtime.bigint();
  const nowMs = (t: bigint = process.hrtime.bigint()): number => Number(t - t0) / 1e6;

  // Privilege first, before any traffic: the capture socket fails with the way out.
  const capture = PacketCapture.open();
  let icmp: ProbeSocket | undefined;
  let sock: net.Socket | undefined;
  const before: Seen[] = [];
  const after: Seen[] = [];
  let phase: 'before' | 'after' = 'before';
  let rcvNxt: number | null = null;
  let template: { packet: CapturedPacket; size: number } | null = null;
  let lastDataMs = -Infinity;
  let closed = false;
  let connectMs: number | null = null;
  let local: { address: string; port: number } | null = null;
  let ptb: CheckServerResult['ptb'] = null;
  let ptbLastMs = 0;
  let settleMs = 0;
  let repeatedRequest = false;
  let aborted = false;
  let afterBytes = 0;
  let failure: string | null = null;

  const finish = (verdict?: Verdict, reason?: string): CheckServerResult => {
    const judged = after.filter((s) => s.atMs >= ptbLastMs + settleMs);
    const j = verdict !== undefined
      ? { verdict, reason: reason ?? '' }
      : judge({ family, mtu, before, after: judged, ptbSent: ptb !== null });
    const first = judged[0];
    const fitting = judged.find((s) => s.size <= mtu);
    return {
      target: host,
      address: resolved.address,
      port,
      family,
      local,
      mtu,
      request,
      verdict: j.verdict,
      reason: j.reason,
      connectMs,
      ptb,
      firstAfterMs: ptb && first ? first.atMs - ptb.atMs : null,
      firstFittingMs: ptb && fitting && j.verdict === 'success' ? fitting.atMs - ptb.atMs : null,
      before: summarize(before),
      after: summarize(judged),
      inFlight: after.length - judged.length,
      captureDrops: capture.drops(),
      gsoAware: capture.vnetHdr,
      repeatedRequest,
      elapsedMs: nowMs(),
      aborted,
    };
  };

  // Poll a condition every few ms until it holds, the deadline passes, or we are aborted.
  const until = async (cond: () => boolean, ms: number): Promise<boolean> => {
    const end = nowMs() + ms;
    for (;;) {
      capture.drain();
      if (cond()) return true;
      if (signal?.aborted) {
        aborted = true;
        return false;
      }
      if (nowMs() >= end) return false;
      await new Promise((r) => setTimeout(r, 4));
    }
  };

  capture.on('error', (e) => {
    failure ??= `the packet capture failed: ${e.message}`;
  });
  capture.on('sent', (p) => {
    // Our kernel's rcv_nxt, as it told the server: never past the server's snd_nxt.
    if (p.flags.ack && (rcvNxt === null || seqDiff(p.ackNumber, rcvNxt) > 0)) rcvNxt = p.ackNumber;
  });
  capture.on('packet', (p, at) => {
    const atMs = nowMs(at);
    if (p.flags.fin || p.flags.rst) closed = true;
    if (p.payloadLength === 0) return;
    lastDataMs = atMs;
    if (phase === 'after' && afterBytes >= 4 * ENOUGH_AFTER_BYTES) return; // seen enough; keep memory flat
    if (phase === 'after') afterBytes += p.payloadLength;
    const segs = wireSegments(p);
    for (const s of segs) {
      (phase === 'before' ? before : after).push({ ...s, atMs });
      const end = (s.seq + s.payload) >>> 0;
      if (rcvNxt === null || seqDiff(end, rcvNxt) > 0) rcvNxt = end;
    }
    const big = Math.max(...segs.map((s) => s.size));
    if (phase === 'before' && big > mtu && (template === null || big >= template.size)) template = { packet: p, size: big };
  });

  try {
    icmp = ProbeSocket.open('icmp-raw', family);
    sock = new net.Socket();
    const s = sock;
    s.on('error', (e) => {
      failure ??= `connection failed: ${e.message}`;
      closed = true;
    });
    s.on('close', () => {
      closed = true;
    });
    s.on('end', () => {
      closed = true;
    });
    const remote = canonicalIp(resolved.address);
    capture.follow({ remote, remotePort: port });
    capture.start();
    s.once('connect', () => {
      connectMs = nowMs();
    });
    s.connect({ host: resolved.address, port, family });
    const connected = await until(() => connectMs !== null || failure !== null, timeoutMs);
    if (aborted) return finish('error', 'interrupted');
    if (!connected || failure !== null) {
      return finish('error', failure ?? `no connection to ${resolved.address} port ${port} within ${timeoutMs} ms`);
    }
    // Not reading makes the server stop once our window is full: nothing left in flight when it
    // gets the PTB, and what it sends afterwards can only be its answer.
    s.pause();
    local = { address: canonicalIp(s.localAddress ?? ''), port: s.localPort ?? 0 };
    capture.follow({ remote, remotePort: port, local: local.address, localPort: local.port });
    icmp.bind(local.address);
    const rtt = Math.max(connectMs ?? 0, 0.05);
    const quietMs = Math.min(1000, Math.max(100, 4 * rtt));
    settleMs = 1.5 * rtt + 1;
    const req = opts.rawStream ? null : httpRequest(path, hostHeader);
    if (req) s.write(req);

    // Before: wait for big segments and then for the flow to stall (window full or response done).
    await until(() => {
      const quiet = nowMs() - lastDataMs >= quietMs;
      if (closed) return true;
      if (template !== null) return quiet;
      return before.length > 0 && nowMs() - lastDataMs >= 3 * quietMs;
    }, timeoutMs);
    if (aborted) return finish('error', 'interrupted');
    // Stalled: nothing can be in flight, all that comes after the PTB is its answer. Otherwise
    // (a window too large to fill in time) leave out what arrives before the PTB can have acted.
    if (nowMs() - lastDataMs >= quietMs) settleMs = 0;
    const early = judge({ family, mtu, before, after: [], ptbSent: false });
    if (early.verdict === 'no-data' || early.verdict === 'no-df') {
      if (before.length === 0 && failure !== null) return finish('error', failure);
      return finish();
    }
    if (closed) {
      return finish('error', failure ?? 'the server closed the connection before the PTB: there is nothing more to watch (ask for something larger)');
    }

    // Tell the server its segments are too big, quoting the next one it will send.
    const tpl = template!;
    phase = 'after';
    let firstPtbMs: number | null = null;
    for (let i = 0; i < PTB_COPIES; i++) {
      if (i > 0) await until(() => false, Math.max(2, rtt));
      capture.drain();
      const seq = rcvNxt!;
      try {
        icmp.send(buildPtb({ template: tpl.packet, size: tpl.size, seq, mtu }), { address: resolved.address });
      } catch (err) {
        if (ptb !== null) break; // one copy went out; that is enough to judge
        return finish('error', `could not send the PTB: ${(err as Error).message}`);
      }
      ptbLastMs = nowMs();
      firstPtbMs ??= ptbLastMs;
      ptb = { atMs: firstPtbMs, seq, quotedSize: tpl.size, copies: i + 1 };
    }

    // After: open the window again and watch.
    s.on('data', () => {});
    s.resume();
    const judgedBytes = (): number => after.filter((x) => x.atMs >= ptbLastMs + settleMs).reduce((a, x) => a + x.payload, 0);
    const afterDone = (): boolean =>
      closed ||
      judgedBytes() >= ENOUGH_AFTER_BYTES ||
      afterBytes >= 4 * ENOUGH_AFTER_BYTES ||
      (judgedBytes() > 0 && nowMs() - lastDataMs >= quietMs);
    await until(() => afterDone() || nowMs() - ptbLastMs >= 2 * quietMs, timeoutMs);
    if (!aborted && !afterDone() && req !== null && judgedBytes() === 0 && !closed) {
      // The response had been delivered whole before the PTB: ask again on the same connection.
      repeatedRequest = true;
      s.write(req);
      await until(afterDone, timeoutMs);
    } else if (!aborted && !afterDone()) {
      await until(afterDone, timeoutMs);
    }
    if (aborted) return finish('error', 'interrupted');
    const r = finish();
    if (r.verdict === 'error' && r.after.segments === 0 && !closed) {
      r.reason += ` within ${timeoutMs} ms (a server that pauses between sends needs a longer timeout)`;
    }
    return r;
  } finally {
    sock?.destroy();
    icmp?.close();
    capture.close();
  }
}
