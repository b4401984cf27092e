// Linux socket address structures as raw bytes, so the native binding stays protocol-free.
// Layouts (include/uapi/linux/in.h, in6.h, netlink.h, if_packet.h); sa_family and scope/ifindex are
// host byte order, ports and addresses network order. The address family numbers are the
// binding's (the system headers'), so this file lives beside it rather than in the pure wire layer.
import { endianness } from 'node:os';
import { DecodeError } from '../errors.js';
import { bytesToIp, ipToBytes } from '../wire/addr.js';
import { checkOffset } from '../wire/bounds.js';
import { c } from './binding.js';

interface Families {
  unspec: number;
  inet: number;
  inet6: number;
  netlink: number;
  packet: number;
}
let families: Families | undefined;
/** AF_* from the binding, read once (decodeInet runs for every datagram). */
function af(): Families {
  families ??= { unspec: c('AF_UNSPEC'), inet: c('AF_INET'), inet6: c('AF_INET6'), netlink: c('AF_NETLINK'), packet: c('AF_PACKET') };
  return families;
}

/** AF_INET and AF_INET6 by IP version, for codecs that take them (rtm_family in wire/netlink.ts). */
export function addressFamilies(): { 4: number; 6: number } {
  const { inet, inet6 } = af();
  return { 4: inet, 6: inet6 };
}

const LE = endianness() === 'LE';
const u16h = (b: Buffer, o: number): number => (LE ? b.readUInt16LE(o) : b.readUInt16BE(o));
const u32h = (b: Buffer, o: number): number => (LE ? b.readUInt32LE(o) : b.readUInt32BE(o));
const w16h = (b: Buffer, v: number, o: number): number => (LE ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
const w32h = (b: Buffer, v: number, o: number): number => (LE ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));

export interface InetSockaddr {
  family: 4 | 6;
  address: string;
  port: number;
  /** IPv6 scope id (interface index) for link-local addresses. */
  scopeId?: number;
  flowInfo?: number;
}

/** struct sockaddr_in (16 bytes) or struct sockaddr_in6 (28 bytes). */
export function encodeInet(sa: InetSockaddr): Buffer {
  const port = sa.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port out of range: ${port}`);
  if (sa.family === 4) {
    const b = Buffer.alloc(16);
    w16h(b, af().inet, 0);
    b.writeUInt16BE(port, 2);
    ipToBytes(sa.address, 4).copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(28);
  w16h(b, af().inet6, 0);
  b.writeUInt16BE(port, 2);
  b.writeUInt32BE(sa.flowInfo ?? 0, 4);
  ipToBytes(sa.address, 6).copy(b, 8);
  w32h(b, sa.scopeId ?? 0, 24);
  return b;
}

/** Decode sockaddr_in / sockaddr_in6; null for an empty or AF_UNSPEC address. */
export function decodeInet(b: Buffer, offset = 0): InetSockaddr | null {
  checkOffset(b, offset, 'sockaddr');
  if (b.length - offset < 2) return null;
  const family = u16h(b, offset);
  const { unspec, inet, inet6 } = af();
  if (family === unspec) return null;
  if (family === inet) {
    if (b.length - offset < 8) throw new DecodeError('sockaddr_in', 'truncated', offset);
    return { family: 4, port: b.readUInt16BE(offset + 2), address: bytesToIp(b, offset + 4, 4) };
  }
  if (family === inet6) {
    if (b.length - offset < 24) throw new DecodeError('sockaddr_in6', 'truncated', offset);
    const scopeId = b.length - offset >= 28 ? u32h(b, offset + 24) : 0;
    return {
      family: 6,
      port: b.readUInt16BE(offset + 2),
      flowInfo: b.readUInt32BE(offset + 4),
      address: bytesToIp(b, offset + 8, 6),
      scopeId,
    };
  }
  throw new DecodeError('sockaddr', `unexpected address family ${family}`, offset);
}

/** struct sockaddr_nl: pid 0 = the kernel; groups = multicast subscriptions. */
export function encodeNetlink(pid = 0, groups = 0): Buffer {
  const b = Buffer.alloc(12);
  w16h(b, af().netlink, 0);
  w32h(b, pid, 4);
  w32h(b, groups, 8);
  return b;
}

/** struct sockaddr_ll for binding an AF_PACKET socket to one interface and ethertype. */
export function encodePacket(ifindex: number, protocol: number): Buffer {
  const b = Buffer.alloc(20);
  w16h(b, af().packet, 0);
  b.writeUInt16BE(protocol, 2);
  LE ? b.writeInt32LE(ifindex, 4) : b.writeInt32BE(ifindex, 4);
  return b;
}

export interface PacketSockaddr {
  protocol: number;
  ifindex: number;
  hatype: number;
  /** PACKET_HOST, PACKET_OUTGOING, ... (the binding's constants). */
  pktType: number;
  address: Buffer;
}

export function decodePacket(b: Buffer): PacketSockaddr {
  if (b.length < 12 || u16h(b, 0) !== af().packet) throw new DecodeError('sockaddr_ll', 'not an AF_PACKET address');
  const halen = Math.min(b[11], 8, Math.max(0, b.length - 12));
  return {
    protocol: b.readUInt16BE(2),
    ifindex: LE ? b.readInt32LE(4) : b.readInt32BE(4),
    hatype: u16h(b, 8),
    pktType: b[10],
    address: Buffer.from(b.subarray(12, 12 + halen)),
  };
}
