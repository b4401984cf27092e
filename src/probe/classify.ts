// Turning the ICMP error a probe met into an Outcome, shared by every method.
import {
  ICMP6_DST_UNREACH,
  ICMP6_PACKET_TOO_BIG,
  ICMP6_PARAM_PROB,
  ICMP6_TIME_EXCEEDED,
  ICMP_DEST_UNREACH,
  ICMP_FRAG_NEEDED,
  ICMP_PARAMETER_PROBLEM,
  ICMP_TIME_EXCEEDED,
  icmpv4CodeName,
  icmpv6CodeName,
} from '../wire/icmp-types.js';
import { ptbPlausibility, type Outcome } from './outcome.js';
import type { Family } from '../wire/facts.js';

/** An ICMP error as both the raw path and the error queue see it. */
export interface IcmpErrorInfo {
  family: Family;
  type: number;
  code: number;
  /** Next-hop MTU of a frag-needed / PTB (0 when the router left it empty). */
  mtu: number;
  from: string;
}

/**
 * Turn an ICMP error about a probe into an outcome; null when the type is not an error a probe can
 * meet (e.g. source quench, redirects). Shared by the icmp, icmp-dgram and tcp methods: for them
 * an unreachable from the destination is only that (their arrival proof is an echo reply or a
 * SYN-ACK/RST), unlike udp where the destination's port-unreachable means "delivered".
 */
export function classifyIcmpError(e: IcmpErrorInfo, base: { size: number; ttl?: number }, rttMs: number): Outcome | null {
  const { family, type, code, from } = e;
  if (family === 4) {
    if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) return { ...base, kind: 'tooBig', from, rttMs, nextHopMtu: e.mtu, ...ptbPlausibility(4, base.size, e.mtu) };
    if (type === ICMP_TIME_EXCEEDED) return { ...base, kind: 'timeExceeded', from, rttMs };
    if (type === ICMP_DEST_UNREACH || type === ICMP_PARAMETER_PROBLEM) return { ...base, kind: 'unreachable', from, rttMs, icmpType: type, code, reason: icmpv4CodeName(type, code) };
    return null;
  }
  if (type === ICMP6_PACKET_TOO_BIG) return { ...base, kind: 'tooBig', from, rttMs, nextHopMtu: e.mtu, ...ptbPlausibility(6, base.size, e.mtu) };
  if (type === ICMP6_TIME_EXCEEDED) return { ...base, kind: 'timeExceeded', from, rttMs };
  if (type === ICMP6_DST_UNREACH || type === ICMP6_PARAM_PROB) return { ...base, kind: 'unreachable', from, rttMs, icmpType: type, code, reason: icmpv6CodeName(type, code) };
  return null;
}
