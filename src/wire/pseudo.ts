// The pseudo-header that UDP, TCP and ICMPv6 checksums cover (RFC 768, RFC 793, RFC 8200 §8.1):
// source and destination addresses, upper-layer length and protocol. Summed, never copied.
import { ipToBytes } from './addr.js';
import { pseudoHeaderSum } from './checksum.js';

export interface PseudoHeader {
  /** Source address (IPv4 or IPv6; both must be of the same family). */
  src: string;
  dst: string;
}

export function pseudoSum(p: PseudoHeader, protocol: number, length: number): number {
  const src = ipToBytes(p.src);
  return pseudoHeaderSum(src, ipToBytes(p.dst, src.length === 4 ? 4 : 6), protocol, length);
}
