// Largest payloads that fit one unfragmented packet: what `ping -s`, a UDP sender and TCP's MSS
// may use on this path. IP headers are counted without options or extension headers.
import { IP_HEADER, type Family } from '../wire/facts.js';
import type { Payload } from './types.js';

/** UDP and ICMP echo headers are both 8 bytes. */
const UDP_HEADER = 8;
const ICMP_ECHO_HEADER = 8;
/** TCP header without options; MSS counts only the data after it (RFC 879, RFC 8200 §8.3). */
const TCP_HEADER = 20;

export function payloadSizes(mtu: number, family: Family): Payload {
  const ip = IP_HEADER[family];
  const clamp = (n: number): number => Math.max(0, n);
  return {
    udp: clamp(mtu - ip - UDP_HEADER),
    icmp: clamp(mtu - ip - ICMP_ECHO_HEADER),
    tcpMss: clamp(mtu - ip - TCP_HEADER),
  };
}
