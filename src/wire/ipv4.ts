// IPv4 header (RFC 791). Encodes and decodes the header only; the payload follows at
// `headerLength`. The header checksum is computed on encode and, on decode, verified and reported
// in `checksumValid` instead of thrown: headers quoted inside ICMP errors are legitimately altered
// on the way (TTL decremented, NAT rewrites) and must still be readable.
import { DecodeError, UsageError } from '../errors.js';
import { bytesToIp, writeIp } from './addr.js';
import { checkInt, need, target } from './bounds.js';
import { checksum, verify } from './checksum.js';

export const MIN_HEADER_LENGTH = 20;
export const MAX_HEADER_LENGTH = 60;

export interface Ipv4Header {
  /** Differentiated services code point (upper 6 bits of the old TOS byte, RFC 2474). */
  dscp: number;
  /** Explicit congestion notification (lower 2 bits, RFC 3168). */
  ecn: number;
  /** Whole datagram length in bytes, header included. */
  totalLength: number;
  id: number;
  /** Don't Fragment. */
  df: boolean;
  /** More Fragments. */
  mf: boolean;
  /** Fragment offset in 8-byte units, as on the wire. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  src: string;
  dst: string;
  /** Raw option bytes; encode pads them with zeros (End of Option List) to a multiple of 4. */
  options: Buffer;
}

export interface DecodedIpv4Header extends Ipv4Header {
  /** IHL * 4: where the payload starts. */
  headerLength: number;
  checksum: number;
  checksumValid: boolean;
}

export function encodingLength(h: Pick<Ipv4Header, 'options'>): number {
  const n = MIN_HEADER_LENGTH + (((h.options?.length ?? 0) + 3) & ~3);
  if (n > MAX_HEADER_LENGTH) throw new UsageError(`IPv4 options of ${h.options.length} bytes exceed the 40 allowed`);
  return n;
}

/** Writes the header (with a fresh checksum) into buf at offset, or into a new Buffer. */
export function encode(h: Ipv4Header, buf?: Buffer, offset = 0): Buffer {
  const n = encodingLength(h);
  const b = target(buf, offset, n, 'IPv4 header');
  const o = offset;
  b[o] = 0x40 | (n >>> 2);
  b[o + 1] = (checkInt(h.dscp, 6, 'dscp') << 2) | checkInt(h.ecn, 2, 'ecn');
  b.writeUInt16BE(checkInt(h.totalLength, 16, 'totalLength'), o + 2);
  b.writeUInt16BE(checkInt(h.id, 16, 'id'), o + 4);
  const frag = checkInt(h.fragmentOffset, 13, 'fragmentOffset');
  b.writeUInt16BE((h.df ? 0x4000 : 0) | (h.mf ? 0x2000 : 0) | frag, o + 6);
  b[o + 8] = checkInt(h.ttl, 8, 'ttl');
  b[o + 9] = checkInt(h.protocol, 8, 'protocol');
  b.writeUInt16BE(0, o + 10);
  writeIp(h.src, 4, b, o + 12);
  writeIp(h.dst, 4, b, o + 16);
  const opts = h.options ?? Buffer.alloc(0);
  opts.copy(b, o + 20);
  b.fill(0, o + 20 + opts.length, o + n);
  b.writeUInt16BE(checksum(b, o, o + n), o + 10);
  encode.bytes = n;
  return b;
}
encode.bytes = 0;

export function decode(buf: Buffer, offset = 0): DecodedIpv4Header {
  need(buf, offset, MIN_HEADER_LENGTH, 'IPv4 header');
  const o = offset;
  const version = buf[o] >>> 4;
  if (version !== 4) throw new DecodeError('IPv4 header', `version is ${version}, not 4`, o);
  const headerLength = (buf[o] & 0x0f) * 4;
  if (headerLength < MIN_HEADER_LENGTH) throw new DecodeError('IPv4 header', `IHL ${headerLength / 4} is below 5`, o);
  need(buf, o, headerLength, 'IPv4 header options');
  const flags = buf.readUInt16BE(o + 6);
  decode.bytes = headerLength;
  return {
    dscp: buf[o + 1] >>> 2,
    ecn: buf[o + 1] & 3,
    totalLength: buf.readUInt16BE(o + 2),
    id: buf.readUInt16BE(o + 4),
    df: (flags & 0x4000) !== 0,
    mf: (flags & 0x2000) !== 0,
    fragmentOffset: flags & 0x1fff,
    ttl: buf[o + 8],
    protocol: buf[o + 9],
    src: bytesToIp(buf, o + 12, 4),
    dst: bytesToIp(buf, o + 16, 4),
    options: Buffer.from(buf.subarray(o + 20, o + headerLength)),
    headerLength,
    checksum: buf.readUInt16BE(o + 10),
    checksumValid: verify(buf, o, o + headerLength),
  };
}
decode.bytes = 0;

/** The payload of a whole datagram: from the header's end to totalLength (or the buffer's end). */
export function payload(buf: Buffer, offset = 0): Buffer {
  const h = decode(buf, offset);
  const end = Math.min(buf.length, offset + Math.max(h.totalLength, h.headerLength));
  return buf.subarray(offset + h.headerLength, end);
}
