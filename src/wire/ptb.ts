// The one "too big" message builder: ICMPv4 destination unreachable / fragmentation needed
// (type 3 code 4, RFC 1191 §4) or ICMPv6 packet too big (type 2 code 0, RFC 4443 §3.2), quoting
// the given bytes of the offending datagram, with its checksum. inject, checkserver and the lab's
// liar all send this same message; only what they quote and how they send it differ.
import type { Family } from './facts.js';
import { ICMP_FRAG_NEEDED } from './icmp-types.js';
import * as icmpv4 from './icmpv4.js';
import * as icmpv6 from './icmpv6.js';
import type { PseudoHeader } from './pseudo.js';

export interface PtbInput {
  family: Family;
  /** The next-hop MTU to announce. */
  mtu: number;
  /** The quoted datagram (its IP header first), as many bytes as the sender chose to quote. */
  quoted: Buffer;
  /**
   * ICMPv6 only: the addresses of the IP header this message will travel in, for its checksum.
   * Without them the checksum is left 0 for the kernel to fill in (a raw ICMPv6 socket does).
   * The ICMPv4 checksum covers the message alone and is always computed.
   */
  pseudo?: PseudoHeader;
}

/** Encode a frag-needed (IPv4) or packet-too-big (IPv6) ICMP message. */
export function encodePtb(p: PtbInput): Buffer {
  return p.family === 4
    ? icmpv4.encode({ kind: 'destUnreachable', code: ICMP_FRAG_NEEDED, nextHopMtu: p.mtu, quoted: p.quoted })
    : icmpv6.encode({ kind: 'packetTooBig', code: 0, mtu: p.mtu, quoted: p.quoted }, undefined, 0, p.pseudo);
}
