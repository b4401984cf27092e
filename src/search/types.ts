// The search's public shapes. Sizes are whole IP packets (header included), as everywhere.
import type { Family } from '../wire/facts.js';

export interface SearchOptions {
  family: Family;
  /** Smallest size to consider; default MIN_MTU[family] (68 / 1280). */
  floor?: number;
  /** Upper end: the local interface MTU for the route, or --max. Clamped to the largest IP packet. */
  max: number;
  /**
   * True (default) when `max` is the outgoing interface MTU: nothing larger can leave this host, so a
   * delivered `max` is an exact answer. Pass false for a user's --max below the interface MTU.
   */
  maxIsLocal?: boolean;
  /** A first RTT estimate (ms), e.g. from an earlier run; without it the first loss timeout is 1 s. */
  rttHintMs?: number;
  /** Floor of the adaptive loss timeout; default 50 ms (see rtt.ts for why). */
  minTimeoutMs?: number;
  /** Ceiling of the adaptive loss timeout; default 3000 ms. */
  maxTimeoutMs?: number;
  /** Probe budget; default 60. */
  maxProbes?: number;
  /**
   * The target's answers are ICMP errors it rate-limits (udp method: port unreachable; Linux allows
   * about 6, then 1/s, per destination). Default false: the search detects the token bucket from
   * starved answers, which costs probes; with true it paces itself from the first delivery (a round
   * per refill), slower when PTBs would have answered at once but exact when they do not.
   */
  answersRateLimited?: boolean;
  /** How many probes may be in flight (not yet overdue) at once; default 10. */
  parallel?: number;
}

export interface ProbeOrder {
  /** Opaque id to hand back to record(); unique within one search. */
  token: number;
  /** Whole IP packet size. */
  size: number;
}

export interface PtbRecord {
  from: string;
  nextHopMtu: number;
  /** Size of the probe the PTB quoted (extension of the contract). */
  size: number;
  /** Trusted as a statement about the path (plausible and not contradicted by a delivery). */
  accepted: boolean;
  reason: string;
}

export interface SearchResult {
  /** Largest size proven to pass (always a delivered size), or null when none did / unreachable. */
  pmtu: number | null;
  /** pmtu + 1 is proven not to pass (PTB for it, local EMSGSIZE, or confirmed loss), or pmtu = max. */
  exact: boolean;
  /** Largest delivered size; 0 when nothing was delivered. */
  lowerBound: number;
  /** Largest size not proven to fail. */
  upperBound: number;
  /** The outgoing interface MTU when known (maxIsLocal, or reported by the local stack). */
  localMtu?: number;
  /** Probes sent. */
  probes: number;
  ptbs: PtbRecord[];
  /** Sizes above lowerBound vanish with no ICMP error that explains it. */
  blackHole: boolean;
  /** Largest delivered size when a black hole is detected. */
  blackHoleAbove?: number;
  /** Why not exact, or why there is no answer. */
  reason?: string;
  /** How many losses of one size were required to call it a size limit (adaptive, >= 3). */
  lossConfirmations: number;
  /** Final loss timeout (ms) and smoothed RTT (ms) when measured. */
  timeoutMs: number;
  srttMs?: number;
}
