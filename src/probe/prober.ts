// What every probe method shares: token bookkeeping, per-probe nonces, RTT, and the events that carry
// outcomes to search and trace. One Prober (one socket per method and family) serves every target and
// every probe in flight; answers are matched by what they quote, never by arrival order.
import { EventEmitter } from 'node:events';
import { randomUint32 } from './random.js';
import { SystemCallError, UsageError } from '../errors.js';
import { ProbeSocket, type ErrQueueEntry, type Message, type SocketKind } from '../sock/socket.js';
import type { MethodName, Outcome } from './outcome.js';
import type { Family } from '../wire/facts.js';

export type Direction = 'forward' | 'round-trip';

export interface SendOptions {
  /** TTL / hop limit of this probe only. */
  ttl?: number;
}

/** An answer that did not match any probe we sent (forged, stale, someone else's). */
export interface Ignored {
  from: string;
  what: string;
  reason: string;
}

/** Outcome plus the destination it concerns (a Prober may serve many targets). */
export type ProbeOutcome = Outcome & { destination: string };

export interface ProberEvents {
  outcome: [token: number, outcome: ProbeOutcome];
  ignored: [Ignored];
  error: [Error];
}

export interface InFlight {
  token: number;
  destination: string;
  size: number;
  ttl?: number;
  /** 8 bytes carried at the start of the probe's payload: token (u32) + random (u32). */
  nonce: Buffer;
  sentAt: bigint;
  /** Method-specific matching key (UDP port, ICMP sequence, TCP sequence). */
  key: number;
  answered: boolean;
}

/** Bytes of the per-probe nonce: token (u32) + random (u32). */
export const NONCE_LENGTH = 8;
/** A prober cuts its nonces from slabs of its own, 1,024 nonces each. */
const NONCE_SLAB_BYTES = 8192;

/** Why a quote carrying `carried` of the nonce's bytes proves nothing, or undefined when it carries all. */
export function unprovenQuote(carried: number): string | undefined {
  return carried >= NONCE_LENGTH ? undefined : `the quote carries ${carried} of the probe's ${NONCE_LENGTH} nonce bytes`;
}

/**
 * How long a probe is remembered after it was sent, so a late answer still matches: longer than
 * the longest loss timeout (3 s) with room for a slow ICMP slow path. The memory scales with the
 * probes in flight (at the engine's default 2,000 pps, ~20,000 probes), never with the targets.
 */
export const REMEMBER_MS = 10_000;
/** Probes always remembered, however old (a lone, slow run still matches answers a minute late). */
export const REMEMBER_MIN = 4096;
/** Hard ceiling on remembered probes (memory stays bounded at any rate): ~50 MB at worst. */
export const REMEMBER_MAX = 262_144;

function indexKey(key: number, destination: string): string {
  return `${key}|${destination}`;
}

export abstract class Prober extends EventEmitter<ProberEvents> {
  abstract readonly method: MethodName;
  abstract readonly direction: Direction;
  readonly family: Family;
  /** Counts of answers ignored, by reason (forged/unmatched evidence is visible, never used). */
  readonly ignoredCounts = new Map<string, number>();
  protected readonly probes = new Map<number, InFlight>();
  /** Remembered probes by (key, destination): an answer finds its candidates in O(1), not by a scan. */
  readonly #byKey = new Map<string, InFlight[]>();
  #nextToken = 1;
  #slab = Buffer.alloc(0);
  #slabUsed = 0;
  protected readonly salt = randomUint32();

  constructor(family: Family) {
    super();
    this.family = family;
  }

  /** Smallest whole-packet size this method can send (its headers plus the 8-byte nonce). */
  abstract get minSize(): number;

  /** Send one probe of `size` bytes (whole IP packet) to `destination`; the answer comes as an 'outcome' event. */
  abstract send(destination: string, size: number, opts?: SendOptions): number;

  abstract close(): void;

  /**
   * Open this method's socket: `setup` prepares it (options, bind), then its events are wired and it
   * is polled. A failure anywhere closes it again, so a half-built prober never leaks an fd.
   */
  protected openSocket(
    kind: SocketKind,
    setup: (sock: ProbeSocket) => void,
    on: { message?: (m: Message) => void; errqueue?: (e: ErrQueueEntry) => void },
  ): ProbeSocket {
    const sock = ProbeSocket.open(kind, this.family);
    try {
      setup(sock);
      if (on.message) sock.on('message', on.message);
      if (on.errqueue) sock.on('errqueue', on.errqueue);
      sock.on('error', (err) => this.emit('error', err));
      sock.start();
    } catch (err) {
      sock.close();
      throw err;
    }
    return sock;
  }

  /**
   * Refuse a size this method cannot send (below its headers + nonce, or above `max`). The largest
   * packet without a jumbogram: IPv4's total length is 16 bits (65535); IPv6's 16-bit payload
   * length excludes its 40-byte header (65575, so lo's 65536 is sendable).
   */
  protected checkSize(size: number, max = this.family === 4 ? 65535 : 65535 + 40): void {
    if (!Number.isInteger(size) || size < this.minSize || size > max) {
      throw new UsageError(`probe size must be ${this.minSize}..${max} bytes for ${this.method} over IPv${this.family}, got ${size}`);
    }
  }

  /**
   * Put a probe's bytes on the wire. A datagram above the interface MTU becomes a localTooBig outcome
   * (the kernel's LOCAL error carries that MTU); any other failure is thrown.
   */
  protected transmit(sock: ProbeSocket, p: InFlight, data: Buffer, to: { address: string; port?: number }): void {
    const r = sock.sendProbe(data, to, { ttl: p.ttl });
    if (r.ok) return;
    if (r.localMtu === undefined) throw new SystemCallError('sendmsg', r.errno);
    this.resolveSoon(p, { kind: 'localTooBig', size: p.size, ttl: p.ttl, mtu: r.localMtu });
  }

  /** The probe a token names, if still remembered. */
  probe(token: number): InFlight | undefined {
    return this.probes.get(token);
  }

  protected register(destination: string, size: number, ttl: number | undefined, key: number): InFlight {
    const token = this.#nextToken++;
    // Cut from a slab of this prober's own (both words are written below). Not from Node's shared
    // pool: there each remembered nonce pins an 8 KB slab shared with the process's other small
    // Buffers (probe packets among them); 2,000 watched targets pinned 3,263 slabs, 26 MB.
    if (this.#slabUsed + NONCE_LENGTH > this.#slab.length) {
      this.#slab = Buffer.allocUnsafeSlow(NONCE_SLAB_BYTES);
      this.#slabUsed = 0;
    }
    const nonce = this.#slab.subarray(this.#slabUsed, (this.#slabUsed += NONCE_LENGTH));
    nonce.writeUInt32BE(token >>> 0, 0);
    nonce.writeUInt32BE((this.salt ^ Math.imul(token, 0x9e3779b1)) >>> 0, 4);
    const p: InFlight = { token, destination, size, ttl, nonce, sentAt: process.hrtime.bigint(), key, answered: false };
    this.#forgetOld(p.sentAt);
    this.probes.set(token, p);
    const k = indexKey(key, destination);
    const list = this.#byKey.get(k);
    if (list) list.push(p);
    else this.#byKey.set(k, [p]);
    return p;
  }

  /** Drop the oldest probes past REMEMBER_MS (keeping at least REMEMBER_MIN, at most REMEMBER_MAX). */
  #forgetOld(now: bigint): void {
    const horizon = now - BigInt(REMEMBER_MS) * 1_000_000n;
    while (this.probes.size >= REMEMBER_MIN) {
      const oldest = this.probes.values().next().value;
      if (oldest === undefined) break;
      if (oldest.sentAt > horizon && this.probes.size < REMEMBER_MAX) break;
      this.probes.delete(oldest.token);
      const k = indexKey(oldest.key, oldest.destination);
      const list = this.#byKey.get(k);
      if (list) {
        // The oldest of its bucket is first (probes are appended in sending order).
        const i = list.indexOf(oldest);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.#byKey.delete(k);
      }
    }
  }

  /** Probes remembered right now (in flight or recently answered). */
  get remembered(): number {
    return this.probes.size;
  }

  /** The token of the newest probe to `destination` with matching key (and nonce, when quoted). */
  protected match(destination: string | null, key: number, quotedNonce: Buffer | null): InFlight | undefined {
    // Without a destination (an error-queue entry that names none) every probe with the key is a
    // candidate: the slow path, a scan.
    const candidates = destination !== null ? (this.#byKey.get(indexKey(key, destination)) ?? []) : [...this.probes.values()].filter((p) => p.key === key);
    for (let i = candidates.length - 1; i >= 0; i--) {
      const p = candidates[i]!;
      if (quotedNonce !== null && quotedNonce.length > 0) {
        const n = Math.min(quotedNonce.length, p.nonce.length);
        if (!quotedNonce.subarray(0, n).equals(p.nonce.subarray(0, n))) continue;
      }
      return p; // the newest
    }
    return undefined;
  }

  /**
   * Set an outcome aside as evidence not taken (counted in ignoredCounts and reported as 'ignored'):
   * for callers that cannot act on it, e.g. discover on an unproven unreachable.
   */
  disregard(outcome: ProbeOutcome, reason: string): void {
    const from = 'from' in outcome ? outcome.from : outcome.destination;
    this.ignore(from, `${outcome.kind} about a ${outcome.size}-byte probe`, reason);
  }

  protected ignore(from: string, what: string, reason: string): void {
    this.ignoredCounts.set(reason, (this.ignoredCounts.get(reason) ?? 0) + 1);
    this.emit('ignored', { from, what, reason });
  }

  protected rttMs(p: InFlight, at: bigint): number {
    return Number(at - p.sentAt) / 1e6;
  }

  /** Deliver an outcome for a probe (marks it answered; later duplicates are still reported). */
  protected resolve(p: InFlight, outcome: Outcome): void {
    p.answered = true;
    this.emit('outcome', p.token, { ...outcome, destination: p.destination });
  }

  /** Emit after the current call returns (for outcomes known synchronously, e.g. local EMSGSIZE). */
  protected resolveSoon(p: InFlight, outcome: Outcome): void {
    process.nextTick(() => this.resolve(p, outcome));
  }

  /** Payload of `length` bytes starting with the probe's nonce, padded with a recognisable pattern. */
  protected payload(p: InFlight, length: number): Buffer {
    const b = Buffer.alloc(Math.max(0, length), 0x50); // 'P'
    p.nonce.copy(b, 0, 0, Math.min(8, b.length));
    return b;
  }
}
