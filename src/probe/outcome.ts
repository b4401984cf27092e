// The probe model (DESIGN.md): a probe is (method, family, size of the whole IP packet, TTL, id);
// its outcome is one of the variants below. Search and trace consume outcomes, never sockets.


/**
 * The probe methods, declared once, in the order `auto` prefers them (see src/discover/methods.ts
 * for why). Every list of method names (option checks, help, config validation) derives from it.
 */
export const METHODS = ['icmp', 'icmp-dgram', 'udp', 'tcp'] as const;
export type MethodName = (typeof METHODS)[number];
/** What a caller may ask for: a method, or 'auto' to take the first one permitted. */
export const METHOD_CHOICES = ['auto', ...METHODS] as const;
/** The methods that send ICMP echo requests (what ping can use). */
export const ECHO_METHODS = ['icmp', 'icmp-dgram'] as const satisfies readonly MethodName[];

export function isMethodChoice(value: unknown): value is MethodName | 'auto' {
  return (METHOD_CHOICES as readonly unknown[]).includes(value);
}

/** What one probe asks: a whole IP packet of `size` bytes, optionally TTL/hop-limited. */
export interface ProbeRequest {
  /** Whole IP packet size in bytes (IP header included). */
  size: number;
  /** TTL / hop limit; undefined means the system default (reach the destination). */
  ttl?: number;
}

interface OutcomeBase {
  /** Whole IP packet size of the probe this outcome belongs to. */
  size: number;
  /** TTL the probe was sent with, when limited. */
  ttl?: number;
  /** Milliseconds from send to answer (absent for lost / local). */
  rttMs?: number;
  /**
   * Set on an ICMP error whose quote does not carry the probe's whole nonce (a router quoting only
   * the headers, or a forger who saw them): why it proves nothing. It matched addresses, ports or
   * echo id and sequence, so it may hint, but must never decide (RFC 8899 §4.6.1, RFC 5927).
   */
  unproven?: string;
}

/** The probe reached the destination (echo reply, port unreachable from the target, SYN-ACK/RST). */
export interface Delivered extends OutcomeBase {
  kind: 'delivered';
  from: string;
  rttMs: number;
  /** TTL / hop limit of the reply as received, when the socket reports it. */
  replyTtl?: number;
}

/** A router said the packet is too big (ICMPv4 frag-needed or ICMPv6 PTB). */
export interface TooBig extends OutcomeBase {
  kind: 'tooBig';
  from: string;
  rttMs: number;
  /** Next-hop MTU as the router reported it (0 when it left the field empty). */
  nextHopMtu: number;
  /** False when the value is bogus: 0, below the floor, or not smaller than the probe. */
  plausible: boolean;
  reason?: string;
}

/** The local stack refused: the probe exceeds the outgoing interface MTU. */
export interface LocalTooBig extends OutcomeBase {
  kind: 'localTooBig';
  mtu: number;
}

/** A router on the way answered time-exceeded (TTL-limited probe). */
export interface TimeExceeded extends OutcomeBase {
  kind: 'timeExceeded';
  from: string;
  rttMs: number;
}

/** Destination or a router said unreachable (other than the delivery proof or too-big). */
export interface Unreachable extends OutcomeBase {
  kind: 'unreachable';
  from: string;
  rttMs: number;
  /** ICMP type and code as received. */
  icmpType: number;
  code: number;
  /** Human name, e.g. 'host unreachable', 'admin prohibited'. */
  reason: string;
}

/** No answer before the deadline. */
export interface Lost extends OutcomeBase {
  kind: 'lost';
}

export type Outcome = Delivered | TooBig | LocalTooBig | TimeExceeded | Unreachable | Lost;
export type OutcomeKind = Outcome['kind'];

/** The one plausibility rule for PTBs lives with the MTU floors (wire/facts.ts); re-exported here. */
export { ptbPlausibility } from '../wire/facts.js';
