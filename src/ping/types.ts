// What a DF-aware ping asks for and what it reports. Sizes are whole IP packets (IP header
// included) unless a field says payload: seed 000's warning is that tools differ here, so the
// result always carries both.
import type { Family } from '../wire/facts.js';
import type { ECHO_METHODS } from '../probe/outcome.js';
import type { Engine } from '../engine/engine.js';

/** How the echo requests leave: a raw ICMP socket (root) or an unprivileged ping socket. */
export type PingMethod = (typeof ECHO_METHODS)[number];
export type PingMethodChoice = 'auto' | PingMethod;

export type PingOutcomeKind = 'reply' | 'tooBig' | 'localTooBig' | 'timeExceeded' | 'unreachable' | 'lost';

export interface SweepRange {
  /** First whole-packet size. */
  from: number;
  /** Last whole-packet size (inclusive). */
  to: number;
  /** Step between sizes (default 1). */
  step?: number;
}

export interface PingOptions {
  /** Echo requests to send (default: until `signal` aborts; one of the two is required). Not with `sweep`. */
  count?: number;
  /** Whole IP packet size in bytes (default: 56 payload bytes, as ping). Exclusive with `payload`. */
  size?: number;
  /** ICMP echo payload in bytes (what iputils `ping -s` sets). Exclusive with `size`. */
  payload?: number;
  /** Set "don't fragment" (default true). False: IPv4 IP_PMTUDISC_DONT, IPv6 IPV6_DONTFRAG 0 — the kernel may fragment. */
  df?: boolean;
  /** Milliseconds between requests (default 1000; below 200 only as root, like ping). */
  intervalMs?: number;
  /** Milliseconds to wait for each answer (default 1000). */
  timeoutMs?: number;
  /** TTL / hop limit of the requests (default: the system's). */
  ttl?: number;
  family?: Family;
  /** auto (default): a raw socket when permitted, else a ping socket. */
  method?: PingMethodChoice;
  /** One request per size from `from` to `to` instead of `count` requests of one size. */
  sweep?: SweepRange;
  /**
   * Aborting stops sending, forgets the waits, and returns the result so far (`aborted: true`);
   * aborted before the first request, ping rejects with AbortError (the engine's one semantic).
   */
  signal?: AbortSignal;
  /**
   * Called once the socket is open, before onStart and the first request: nothing after it needs
   * privilege. The CLI gives up root here when started through sudo, as ping does.
   */
  onSocketsOpen?: () => void;
  /** Called once the socket is open, before the first request. */
  onStart?: (header: PingHeader) => void;
  /** Called for each probe as it settles, and for each duplicate answer. */
  onReply?: (probe: PingProbe) => void;
  /** The engine to run on (default: the process-wide one): its pool's shared socket, its scheduler and rate cap. */
  engine?: Engine;
}

export interface PingHeader {
  target: string;
  address: string;
  family: Family;
  method: PingMethod;
  /** 'raw' for icmp, 'ping' for icmp-dgram (an unprivileged ping socket). */
  socket: 'raw' | 'ping';
  /** The unit the caller gave sizes in: whole IP packets, or ICMP payload bytes. */
  sizeUnit: 'packet' | 'payload';
  /** Whole IP packet size of every request (null when sweeping). */
  size: number | null;
  /** ICMP payload bytes of every request (null when sweeping). */
  payload: number | null;
  /** IP header + ICMP header: size = payload + overhead. */
  overhead: number;
  df: boolean;
  ttl: number | null;
  intervalMs: number;
  timeoutMs: number;
  /** Requests to send (null: until interrupted). */
  count: number | null;
  sweep: Required<SweepRange> | null;
}

/** One request and what became of it (or, with duplicate: true, one more copy of an answer). */
export interface PingProbe {
  /** 1-based, in sending order (like ping's icmp_seq). */
  seq: number;
  /** Whole IP packet size of the request. */
  size: number;
  outcome: PingOutcomeKind;
  rttMs?: number;
  /** TTL / hop limit of the reply as received. */
  ttl?: number;
  /** Who answered: the target, or the router that sent the error. */
  from?: string;
  /** tooBig: the next-hop MTU the router reported. */
  nextHopMtu?: number;
  /** tooBig: false when the reported MTU cannot be right (0, below the floor, not smaller than the request). */
  plausible?: boolean;
  /** localTooBig: the outgoing interface's MTU. */
  mtu?: number;
  /** unreachable (and implausible tooBig): why, in words. */
  reason?: string;
  /** An extra copy of an answer already counted for this seq. */
  duplicate?: boolean;
}

export interface RttStats {
  min: number;
  avg: number;
  max: number;
  /** sqrt(mean(x²) − mean(x)²), as iputils prints it. */
  mdev: number;
}

export interface PingSummary {
  /** Requests sent (duplicates not counted). */
  sent: number;
  /** Requests answered by an echo reply. */
  received: number;
  /** Requests answered by an error (too big, time exceeded, unreachable, refused locally). */
  errors: number;
  /** Extra copies of answers. */
  duplicates: number;
  /** Answers that came after their request was given up as lost (not counted as received). */
  late: number;
  /** (sent − received) / sent × 100. */
  lossPercent: number;
  rtt: RttStats | null;
  elapsedMs: number;
}

export interface SweepReport extends Required<SweepRange> {
  /** Largest size that got an echo reply (null: none did). */
  largestPassed: number | null;
  /** Smallest size that did not (null: all passed). */
  smallestFailed: number | null;
}

export interface PingResult extends PingHeader {
  /** One entry per request, in seq order; a duplicate answer adds an entry (duplicate: true) where it arrived. */
  probes: PingProbe[];
  summary: PingSummary;
  /** With sweep: the largest size that passed. */
  sweepReport: SweepReport | null;
  /** Answers seen and not taken as ours (other pings' replies, forged or stale errors). */
  ignored: number;
  /** Stopped by the signal. */
  aborted: boolean;
}
