// The datagram quoted inside an ICMP or ICMPv6 error: what the probe layer matches against the
// probe it sent (RFC 8899 §4.6.1, RFC 5927). A router quotes the IP header plus at least 8 bytes
// (RFC 792), usually more (RFC 1812 §4.3.2.3: as much as fits in 576; RFC 4443: as much as fits in
// 1280); RFC 4884 may pad the quote with zeros, which totalLength lets us cut off.
// The quoted header is the packet as it reached the reporting router, so TTL, checksum and (behind
// a NAT) addresses may differ from what was sent: they are reported, never used to reject.
import { DecodeError } from '../errors.js';
import { bytesToIp } from './addr.js';
import { need } from './bounds.js';
import { verify } from './checksum.js';
import { ICMP6_ECHO_REPLY, ICMP6_ECHO_REQUEST, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST } from './icmp-types.js';
import { walkExtensions, type FragmentExtension } from './ipv6.js';
import { IPPROTO_FRAGMENT, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from './protocols.js';

export interface QuotedUdp {
  kind: 'udp';
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
  /** The UDP payload bytes that were quoted (where a per-probe nonce can be checked). */
  payload: Buffer;
}

export interface QuotedIcmpEcho {
  kind: 'icmpEcho';
  /** 8/0 for ICMPv4, 128/129 for ICMPv6. */
  type: number;
  code: number;
  id: number;
  seq: number;
  payload: Buffer;
}

export interface QuotedIcmp {
  kind: 'icmp';
  type: number;
  code: number;
}

export interface QuotedTcp {
  kind: 'tcp';
  srcPort: number;
  dstPort: number;
  seq: number;
}

export type QuotedTransport = QuotedUdp | QuotedIcmpEcho | QuotedIcmp | QuotedTcp;

export interface QuotedDatagram {
  family: 4 | 6;
  src: string;
  dst: string;
  /** Upper-layer protocol (for IPv6, after the extension headers that were quoted). */
  protocol: number;
  /** TTL (IPv4) or hop limit (IPv6) as the packet reached the reporter. */
  ttl: number;
  /** Whole packet size as originally sent (IPv6: 40 + payload length); null for an IPv6 jumbogram. */
  totalLength: number | null;
  /** IPv4 identification, or the IPv6 fragment header's id; null for unfragmented IPv6. */
  id: number | null;
  /** IPv4 DF bit; always true for IPv6, where routers never fragment. */
  df: boolean;
  /** IPv4 header checksum as quoted is intact; null for IPv6 (which has none). */
  headerChecksumValid: boolean | null;
  /** IP header + extension headers present in the quote. */
  headerLength: number;
  /** Bytes of the original packet quoted (RFC 4884 padding excluded). */
  quotedLength: number;
  /** Bytes of the upper-layer payload quoted, after the 8-byte UDP/ICMP header (TCP: after 8). */
  payloadQuoted: number;
  /** Whether the whole original packet is in the quote. */
  complete: boolean;
  /** Null when the quote ends before 8 bytes of the upper layer or the IPv6 header chain. */
  transport: QuotedTransport | null;
}

/** Decodes a quoted datagram; family from the version nibble unless given. */
export function decodeQuote(quoted: Buffer, family?: 4 | 6): QuotedDatagram {
  need(quoted, 0, 1, 'quoted datagram');
  const version = quoted[0] >>> 4;
  if (family !== undefined && version !== family) {
    throw new DecodeError('quoted datagram', `expected IPv${family}, version nibble is ${version}`);
  }
  if (version === 4) return quoteV4(quoted);
  if (version === 6) return quoteV6(quoted);
  throw new DecodeError('quoted datagram', `version nibble ${version} is neither 4 nor 6`);
}

function quoteV4(q: Buffer): QuotedDatagram {
  need(q, 0, 20, 'quoted IPv4 header');
  const hl = (q[0] & 0x0f) * 4;
  if (hl < 20) throw new DecodeError('quoted IPv4 header', `IHL ${hl / 4} is below 5`);
  need(q, 0, hl, 'quoted IPv4 header');
  const totalLength = q.readUInt16BE(2);
  const flags = q.readUInt16BE(6);
  const protocol = q[9];
  // Only the first fragment carries the transport header.
  const firstFragment = (flags & 0x1fff) === 0;
  return finish(q, {
    family: 4,
    src: bytesToIp(q, 12, 4),
    dst: bytesToIp(q, 16, 4),
    protocol,
    ttl: q[8],
    totalLength,
    id: q.readUInt16BE(4),
    df: (flags & 0x4000) !== 0,
    headerChecksumValid: verify(q, 0, hl),
    headerLength: hl,
  }, firstFragment);
}

function quoteV6(q: Buffer): QuotedDatagram {
  need(q, 0, 40, 'quoted IPv6 header');
  const walk = walkExtensions(q, 40, q[6], true);
  const frag = walk.extensions.find((e): e is FragmentExtension => e.type === IPPROTO_FRAGMENT);
  const payloadLength = q.readUInt16BE(4);
  return finish(q, {
    family: 6,
    src: bytesToIp(q, 8, 6),
    dst: bytesToIp(q, 24, 6),
    protocol: walk.protocol,
    ttl: q[7],
    totalLength: payloadLength === 0 ? null : 40 + payloadLength,
    id: frag ? frag.id : null,
    df: true,
    headerChecksumValid: null,
    headerLength: walk.end,
  }, walk.complete && (!frag || frag.fragmentOffset === 0));
}

type Head = Omit<QuotedDatagram, 'quotedLength' | 'payloadQuoted' | 'complete' | 'transport'>;

function finish(q: Buffer, head: Head, transportHere: boolean): QuotedDatagram {
  // Cut RFC 4884 zero padding (and nonsense lengths) using the original length.
  const { totalLength, headerLength } = head;
  const end = totalLength !== null && totalLength >= headerLength ? Math.min(q.length, totalLength) : q.length;
  const quotedLength = Math.max(end, headerLength);
  const t = q.subarray(headerLength, quotedLength);
  const out = head as QuotedDatagram; // completed in place: one object per quote
  out.quotedLength = quotedLength;
  out.payloadQuoted = Math.max(0, t.length - 8);
  out.complete = totalLength !== null && q.length >= totalLength;
  out.transport = transportHere ? decodeTransport(t, head.family, head.protocol) : null;
  return out;
}

function decodeTransport(t: Buffer, family: 4 | 6, protocol: number): QuotedTransport | null {
  if (t.length < 8) return null;
  if (protocol === IPPROTO_UDP) {
    return {
      kind: 'udp',
      srcPort: t.readUInt16BE(0),
      dstPort: t.readUInt16BE(2),
      length: t.readUInt16BE(4),
      checksum: t.readUInt16BE(6),
      payload: Buffer.from(t.subarray(8)),
    };
  }
  if (protocol === IPPROTO_TCP) {
    return { kind: 'tcp', srcPort: t.readUInt16BE(0), dstPort: t.readUInt16BE(2), seq: t.readUInt32BE(4) };
  }
  if ((family === 4 && protocol === IPPROTO_ICMP) || (family === 6 && protocol === IPPROTO_ICMPV6)) {
    const type = t[0];
    const echo = family === 4 ? type === ICMP_ECHO_REQUEST || type === ICMP_ECHO_REPLY : type === ICMP6_ECHO_REQUEST || type === ICMP6_ECHO_REPLY;
    if (!echo) return { kind: 'icmp', type, code: t[1] };
    return { kind: 'icmpEcho', type, code: t[1], id: t.readUInt16BE(4), seq: t.readUInt16BE(6), payload: Buffer.from(t.subarray(8)) };
  }
  return null;
}
