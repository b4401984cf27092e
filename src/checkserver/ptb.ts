// The ICMP error we send the server: "fragmentation needed" (ICMPv4 type 3 code 4, RFC 1191) or
// "packet too big" (ICMPv6 type 2, RFC 4443), quoting one of its segments.
//
// What Linux checks before it believes it (tcp_v4_err / tcp_v6_err): the quote's addresses and
// ports name an established socket, and the quoted sequence number lies in [snd_una, snd_nxt] —
// data sent and not yet acknowledged (RFC 5927 §4.1). We are the receiver, and our kernel has
// already ACKed the big segment we saw, so quoting its own seq is refused (measured: the server's
// TcpExtOutOfWindowIcmps counter goes up and nothing changes). We quote our rcv_nxt instead (the
// ack number of our last ACK, or the end of the last segment captured, whichever is later): the
// first byte not yet received is always in that range (snd_una <= rcv_nxt <= snd_nxt), and it is
// the segment a router would have dropped next. The rest of the quote is the big segment's own
// headers, with the IP length set to that segment's size on the wire.
import { UsageError } from '../errors.js';
import * as ipv4 from '../wire/ipv4.js';
import { MIN_MTU } from '../wire/facts.js';
import { encodePtb } from '../wire/ptb.js';
import type { CapturedPacket } from './segment.js';

export { MIN_MTU };

export interface PtbInput {
  /** A captured segment of the flow whose headers are quoted. */
  template: CapturedPacket;
  /** Whole IP size of the too-big segment (written into the quoted header's length field). */
  size: number;
  /** Sequence number to quote (must be unacknowledged at the server). */
  seq: number;
  /** The next-hop MTU to announce. */
  mtu: number;
}

/** The quoted datagram: the segment's IP header (+ extensions) and TCP header, length fixed up. */
export function quoteFor(input: PtbInput): Buffer {
  const t = input.template;
  const q = Buffer.from(t.headers);
  if (t.family === 4) {
    const h = ipv4.decode(q, 0);
    ipv4.encode({ ...h, totalLength: input.size }, q, 0); // fresh header checksum, as it was sent
  } else {
    q.writeUInt16BE(input.size - 40, 4); // payload length: everything after the fixed header
  }
  q.writeUInt32BE(input.seq >>> 0, t.ipHeaderLength + 4);
  return q;
}

/**
 * The ICMP message to send over a raw ICMP / ICMPv6 socket (the kernel adds the IP header and,
 * for ICMPv6, the checksum).
 */
export function buildPtb(input: PtbInput): Buffer {
  const fam = input.template.family;
  if (!Number.isInteger(input.mtu) || input.mtu < MIN_MTU[fam] || input.mtu > 65535) {
    throw new UsageError(`the MTU to announce must be from ${MIN_MTU[fam]} to 65535 for IPv${fam}, got ${input.mtu}`);
  }
  const quoted = quoteFor(input);
  return encodePtb({ family: fam, mtu: input.mtu, quoted });
}
