// pathmtu ping: a DF-aware ping (library face).
export { ping, PING_METHOD_CHOICES, isPingMethodChoice, DEFAULT_INTERVAL_MS, DEFAULT_TIMEOUT_MS, MIN_USER_INTERVAL_MS } from './ping.js';
export { leasePingProber, type PingProber } from './socket.js';
export { DEFAULT_PAYLOAD, ICMP_ECHO_HEADER, minSize, overhead, packetSize, parseSweep, sweepSizes } from './sizes.js';
export { rttStats, summarize, sweepReport, sweepRows, type SweepRow } from './stats.js';
export type * from './types.js';
