// The datagram the target is told it sent: target -> about, of a size that was too big for the
// claimed MTU. Built whole with the wire codecs (so its checksums are right, as a real one's would
// be), then cut to what a router quotes: RFC 1812 §4.3.2.3 "as much as possible without the ICMP
// error exceeding 576 bytes" for IPv4 (RFC 1122's minimum is the IP header + 8 bytes), RFC 4443
// §2.4(c) as much as fits in the minimum MTU of 1280 for IPv6.
import type { Family } from '../wire/facts.js';
import * as icmpv4 from '../wire/icmpv4.js';
import * as icmpv6 from '../wire/icmpv6.js';
import * as ipv4 from '../wire/ipv4.js';
import * as ipv6 from '../wire/ipv6.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../wire/protocols.js';
import * as tcp from '../wire/tcp.js';
import * as udp from '../wire/udp.js';

export type QuoteProto = 'icmp' | 'udp' | 'tcp';

export interface OriginalFlow {
  family: Family;
  /** The target's own address: the quoted packet's source. */
  src: string;
  /** The peer the target was sending to. */
  dst: string;
  proto: QuoteProto;
  /** udp/tcp: the target's port; icmp: the echo id. */
  srcPort: number;
  /** udp/tcp: the peer's port. */
  dstPort: number;
  /** tcp: sequence number (Linux ignores a quote outside snd_una..snd_nxt); icmp: echo sequence. */
  seq: number;
  /** Whole size of the original packet, IP header included. */
  length: number;
}

/** Largest quote: IPv4 576 - 20 (IP) - 8 (ICMP); IPv6 1280 - 40 - 8. */
export const QUOTE_LIMIT: Record<Family, number> = { 4: 548, 6: 1232 };

const IP_HEADER: Record<Family, number> = { 4: 20, 6: 40 };

/** A size that would not have fitted: above the MTU, at least an Ethernet-sized packet. */
export function tooBigLength(mtu: number): number {
  return Math.min(65535, Math.max(mtu + 1, 1500));
}

/** The whole original packet, every checksum computed. */
export function buildOriginal(f: OriginalFlow): Buffer {
  const inner = f.length - IP_HEADER[f.family];
  const pseudo = { src: f.src, dst: f.dst };
  let l4: Buffer;
  let protocol: number;
  switch (f.proto) {
    case 'udp':
      protocol = IPPROTO_UDP;
      l4 = udp.encode({ srcPort: f.srcPort, dstPort: f.dstPort, payload: Buffer.alloc(inner - udp.HEADER_LENGTH) }, undefined, 0, pseudo);
      break;
    case 'tcp':
      protocol = IPPROTO_TCP;
      l4 = tcp.encode(
        { srcPort: f.srcPort, dstPort: f.dstPort, seq: f.seq, ackNumber: 0, flags: { ack: true, psh: true }, window: 502, urgentPointer: 0, options: [], payload: Buffer.alloc(inner - tcp.MIN_HEADER_LENGTH) },
        undefined,
        0,
        pseudo,
      );
      break;
    case 'icmp': {
      // An echo REPLY the target sent: Linux's icmp_err() updates the PMTU for a quoted echo reply
      // with no socket involved (a quoted echo request goes to the ping socket instead); IPv6's
      // icmpv6_err() updates it for any quoted ICMPv6 message.
      const echo = { kind: 'echoReply' as const, code: 0, id: f.srcPort, seq: f.seq, payload: Buffer.alloc(inner - 8) };
      if (f.family === 4) {
        protocol = IPPROTO_ICMP;
        l4 = icmpv4.encode(echo);
      } else {
        protocol = IPPROTO_ICMPV6;
        l4 = icmpv6.encode(echo, undefined, 0, pseudo);
      }
      break;
    }
  }
  const header =
    f.family === 4
      ? ipv4.encode({ dscp: 0, ecn: 0, totalLength: f.length, id: (f.seq * 7919 + f.srcPort) & 0xffff, df: true, mf: false, fragmentOffset: 0, ttl: 64, protocol, src: f.src, dst: f.dst, options: Buffer.alloc(0) })
      : ipv6.encode({ trafficClass: 0, flowLabel: 0, payloadLength: inner, hopLimit: 64, src: f.src, dst: f.dst, extensions: [], protocol });
  return Buffer.concat([header, l4]);
}

/** What goes into the ICMP error: the start of the original packet. */
export function quoteOf(original: Buffer, family: Family): Buffer {
  return original.subarray(0, Math.min(original.length, QUOTE_LIMIT[family]));
}
