// Shapes returned by explain(): what an MTU number probably means and what to do about it.
import type { Family } from '../wire/facts.js';

/** How much weight a candidate deserves. Never certainty: an MTU number alone cannot prove a cause. */
export type Confidence = 'high' | 'medium' | 'low';

/** One likely reason the path MTU is what it is. */
export interface Candidate {
  /** Human name, e.g. 'VXLAN over IPv4', 'WireGuard (IPv6 outer) over PPPoE'. */
  cause: string;
  /** Bytes taken from the underlay (underlay - mtu); 0 for a link whose MTU is simply this value. */
  overhead: number;
  /** The link MTU the overhead is taken from (1500 Ethernet, 9000 jumbo, ...). */
  underlay: number;
  confidence: Confidence;
  /** Why: the arithmetic and where the number comes from. */
  note: string;
}

/** One way to make things work: what it does, the exact command(s) (one per line), why. */
export interface Fix {
  what: string;
  command: string;
  why: string;
}

/** Largest payloads that fit in one unfragmented packet of the path MTU. */
export interface Payload {
  /** UDP payload: mtu - IP header - 8. */
  udp: number;
  /** ICMP echo payload (ping -s): mtu - IP header - 8. */
  icmp: number;
  /** TCP MSS without TCP/IP options: mtu - 40 (IPv4) or mtu - 60 (IPv6). */
  tcpMss: number;
}

export interface Explanation {
  mtu: number;
  family: Family;
  /** The local interface MTU, when the caller knows it. */
  localMtu?: number;
  /** Which way the measurement covered: UDP probes see the forward path, ICMP echo both ways. */
  direction?: 'forward' | 'round-trip';
  payload: Payload;
  candidates: Candidate[];
  fixes: Fix[];
  summary: string;
}

export interface ExplainInput {
  mtu: number;
  family?: Family;
  localMtu?: number;
  /** Probe method that measured the MTU (udp, icmp, icmp-dgram, tcp); sets direction when not given. */
  method?: string;
  direction?: 'forward' | 'round-trip';
  /** Interface name for the fix commands; '<iface>' when unknown. */
  iface?: string;
}

export interface FixesInput {
  pmtu: number;
  localMtu?: number;
  iface?: string;
  family: Family;
}
