// The pseudo-header that UDP, TCP and ICMPv6 checksums cover (RFC 768, RFC 793, RFC 8200 §8.1):
// source and destination addresses, upper-layer length and protocol. Summed, never copied.
import { DecodeError } from '../errors.js';
import { ipBytesShared } from './addr.js';
import { pseudoHeaderSum } from './checksum.js';

export interface PseudoHeader {
  /** Source address (IPv4 or IPv6; both must be of the same family). */
  src: string;
  dst: string;
}

export function pseudoSum(p: PseudoHeader, protocol: number, length: number): number {
  const src = ipBytesShared(p.src);
  const dst = ipBytesShared(p.dst);
  if (src.length !== dst.length) throw new DecodeError('pseudo-header', `${p.src} and ${p.dst} are of different families`);
  return pseudoHeaderSum(src, dst, protocol, length);
}
