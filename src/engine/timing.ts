// The timing defaults every probe job shares (one place, so discover, trace, ping and the engine
// cannot drift apart again: they had 2000 and 3000 ms ceilings before the engine).
//
// Loss timeouts are adaptive (search/rtt.ts: RFC 6298 smoothing, 2*SRTT + 4*RTTVAR) between a floor
// and a ceiling. Floor 50 ms: above scheduler and ICMP generation jitter on a loaded host, still 20x
// below the fixed 1 s of ping/tracepath. Ceiling 3 s: RFC 6298's initial RTO (1 s) x 3, what a
// satellite hop or an ICMP slow path under load may take; a caller's timeoutMs lowers it.

/** Shortest loss timeout, ms. */
export const DEFAULT_MIN_TIMEOUT_MS = 50;
/** Longest wait for one probe's answer, ms (the default of every command's timeoutMs). */
export const DEFAULT_MAX_TIMEOUT_MS = 3000;
/** RFC 6298 §2.1: before any RTT sample, 1 s. */
export const INITIAL_TIMEOUT_MS = 1000;
/**
 * The engine's default global cap on probes per second, all jobs of one engine together. 2,000 pps
 * of at most 1,500-byte packets is ~24 Mbit/s: enough for 1,000 targets in a few seconds, gentle
 * on a real network. A run sets its own with `ratePps` (the CLI's --rate).
 */
export const DEFAULT_RATE_PPS = 2000;
