// One captured frame -> the TCP segments it stands for, as they crossed the wire. No I/O (the binding
// only gives the link-type numbers).
//
// Why the virtio_net_hdr matters: on veth (and with GRO or TSO anywhere), the stack hands an
// AF_PACKET socket -- or a raw IPPROTO_TCP socket -- one "super-packet" for several wire segments:
// measured in our lab, a server's 1600-byte send() arrives as one 1652-byte IPv4 packet on a
// 1500-MTU path. With PACKET_VNET_HDR the kernel prefixes each frame with a virtio_net_hdr whose
// gso_size is the real segment payload size (the sender's MSS), so we can split the super-packet
// back into the 1500 + 204 byte segments that the MTU actually limits.
import { DecodeError } from '../errors.js';
import { c } from '../sock/binding.js';
import * as ethernet from '../wire/ethernet.js';
import * as ipv4 from '../wire/ipv4.js';
import * as ipv6 from '../wire/ipv6.js';
import * as tcp from '../wire/tcp.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, IPPROTO_FRAGMENT, IPPROTO_TCP } from '../wire/protocols.js';

/** struct virtio_net_hdr (include/uapi/linux/virtio_net.h), as PACKET_VNET_HDR prepends it. */
export const VNET_HDR_LENGTH = 10;
export const VIRTIO_NET_HDR_GSO_NONE = 0;


export interface FrameInfo {
  /** sockaddr_ll.sll_protocol: the ethertype (network byte order value). */
  protocol: number;
  /** sockaddr_ll.sll_hatype. */
  hatype: number;
  /** Whether a virtio_net_hdr precedes the link header. */
  vnetHdr: boolean;
  /** Real frame length (recvmsg may have truncated `data` to the headers). */
  length: number;
}

/** The addressing and headers of one captured TCP packet (before splitting GSO). */
export interface CapturedPacket {
  family: 4 | 6;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ackNumber: number;
  flags: tcp.TcpFlags;
  /** DF (IPv4); for IPv6 true unless the packet carries a fragment header. */
  df: boolean;
  /** IPv4 MF/offset or an IPv6 fragment header: the sender (or a router) fragmented it. */
  fragment: boolean;
  /** IP header (+ IPv6 extension headers) length. */
  ipHeaderLength: number;
  tcpHeaderLength: number;
  /** TCP payload bytes of the whole (possibly GSO) packet. */
  payloadLength: number;
  /** Segment payload size the kernel reported (gso_size); 0 when the packet is one wire segment. */
  gsoSize: number;
  /** IP header + TCP header bytes as captured, for quoting in a PTB. */
  headers: Buffer;
}

/** One segment as it crossed the wire: whole IP packet size, DF, sequence range. */
export interface WireSegment {
  size: number;
  payload: number;
  seq: number;
  df: boolean;
}

/** Link types (ARPHRD_*, the binding's) whose AF_PACKET SOCK_RAW frames start with an Ethernet header. */
const startsWithEthernet = (hatype: number): boolean => hatype === c('ARPHRD_ETHER') || hatype === c('ARPHRD_LOOPBACK');

/** Parse one frame read from an AF_PACKET SOCK_RAW socket; null for anything but IPv4/IPv6 TCP. */
export function parseFrame(data: Buffer, info: FrameInfo): CapturedPacket | null {
  let o = 0;
  let gsoType = VIRTIO_NET_HDR_GSO_NONE;
  let gsoSize = 0;
  if (info.vnetHdr) {
    if (data.length < VNET_HDR_LENGTH) return null;
    // virtio_net_hdr fields are in host byte order for packet sockets (legacy virtio): little
    // endian on every platform Node runs Linux on that we support.
    gsoType = data[1] & 0x7f;
    gsoSize = data.readUInt16LE(4);
    o = VNET_HDR_LENGTH;
  }
  if (info.protocol !== ETHERTYPE_IPV4 && info.protocol !== ETHERTYPE_IPV6) return null;
  try {
    if (startsWithEthernet(info.hatype)) o += ethernet.decode(data, o).headerLength;
    // Other link types (tun, wireguard, ppp, ip tunnels) have no header_ops: the frame starts at IP.
    const version = data[o] >>> 4;
    if (version === 4 && info.protocol === ETHERTYPE_IPV4) return v4(data, o, gsoType ? gsoSize : 0);
    if (version === 6 && info.protocol === ETHERTYPE_IPV6) return v6(data, o, gsoType ? gsoSize : 0);
    return null;
  } catch (err) {
    if (err instanceof DecodeError) return null; // a frame we cannot read is not ours to judge
    throw err;
  }
}

function v4(b: Buffer, o: number, gsoSize: number): CapturedPacket | null {
  const ip = ipv4.decode(b, o);
  if (ip.protocol !== IPPROTO_TCP || ip.fragmentOffset !== 0) return null; // later fragments: no TCP header
  const t = tcp.decode(b.subarray(0, Math.min(b.length, o + ip.headerLength + tcp.MAX_HEADER_LENGTH)), o + ip.headerLength);
  return {
    family: 4,
    src: ip.src,
    dst: ip.dst,
    srcPort: t.srcPort,
    dstPort: t.dstPort,
    seq: t.seq,
    ackNumber: t.ackNumber,
    flags: t.flags,
    df: ip.df,
    fragment: ip.mf,
    ipHeaderLength: ip.headerLength,
    tcpHeaderLength: t.headerLength,
    payloadLength: Math.max(0, ip.totalLength - ip.headerLength - t.headerLength),
    gsoSize,
    headers: Buffer.from(b.subarray(o, o + ip.headerLength + t.headerLength)),
  };
}

function v6(b: Buffer, o: number, gsoSize: number): CapturedPacket | null {
  const ip = ipv6.decode(b, o);
  if (ip.protocol !== IPPROTO_TCP) return null;
  const frag = ip.extensions.find((e) => e.type === IPPROTO_FRAGMENT);
  if (frag && frag.type === IPPROTO_FRAGMENT && frag.fragmentOffset !== 0) return null;
  const t = tcp.decode(b.subarray(0, Math.min(b.length, o + ip.headerLength + tcp.MAX_HEADER_LENGTH)), o + ip.headerLength);
  return {
    family: 6,
    src: ip.src,
    dst: ip.dst,
    srcPort: t.srcPort,
    dstPort: t.dstPort,
    seq: t.seq,
    ackNumber: t.ackNumber,
    flags: t.flags,
    df: frag === undefined,
    fragment: frag !== undefined,
    ipHeaderLength: ip.headerLength,
    tcpHeaderLength: t.headerLength,
    payloadLength: Math.max(0, ipv6.HEADER_LENGTH + ip.payloadLength - ip.headerLength - t.headerLength),
    gsoSize,
    headers: Buffer.from(b.subarray(o, o + ip.headerLength + t.headerLength)),
  };
}

/**
 * The wire segments a captured packet stands for: one, or for a GSO/GRO super-packet one per
 * gso_size bytes of payload (the last one shorter), each with the same headers.
 */
export function wireSegments(p: CapturedPacket): WireSegment[] {
  const hdr = p.ipHeaderLength + p.tcpHeaderLength;
  if (p.gsoSize <= 0 || p.payloadLength <= p.gsoSize) {
    return [{ size: hdr + p.payloadLength, payload: p.payloadLength, seq: p.seq, df: p.df }];
  }
  const out: WireSegment[] = [];
  for (let off = 0; off < p.payloadLength; off += p.gsoSize) {
    const n = Math.min(p.gsoSize, p.payloadLength - off);
    out.push({ size: hdr + n, payload: n, seq: (p.seq + off) >>> 0, df: p.df });
  }
  return out;
}

/** a - b in sequence space (RFC 9293 §3.4: compare modulo 2^32). */
export function seqDiff(a: number, b: number): number {
  return ((a - b) | 0);
}
