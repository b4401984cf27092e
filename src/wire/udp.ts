// UDP (RFC 768). The checksum covers the IPv4 or IPv6 pseudo-header; pass the addresses as
// `pseudo` to compute it. A computed 0 is sent as 0xffff, since 0 on the wire means "no checksum"
// (allowed over IPv4 only; RFC 8200 §8.1 requires it over IPv6).
import { DecodeError } from '../errors.js';
import { checkInt, need, target } from './bounds.js';
import { checksum, sum } from './checksum.js';
import { IPPROTO_UDP } from './protocols.js';
import { pseudoSum, type PseudoHeader } from './pseudo.js';

export type { PseudoHeader } from './pseudo.js';

export const HEADER_LENGTH = 8;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export interface DecodedUdp extends UdpDatagram {
  /** Header + payload, from the length field. */
  length: number;
  /** 0 when the sender did not compute one. */
  checksum: number;
  /** Checked when decode() got the pseudo-header; true for checksum 0; undefined otherwise. */
  checksumValid: boolean | undefined;
}

/** Just the 8-byte header, for quotes that carry nothing more (quote.ts). */
export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
}

export function encodingLength(d: UdpDatagram): number {
  return HEADER_LENGTH + d.payload.length;
}

export function computeChecksum(buf: Buffer, pseudo: PseudoHeader, start = 0, end = buf.length): number {
  const c = checksum(buf, start, end, pseudoSum(pseudo, IPPROTO_UDP, end - start));
  return c === 0 ? 0xffff : c;
}

export function verifyChecksum(buf: Buffer, pseudo: PseudoHeader, start = 0, end = buf.length): boolean {
  if (buf.readUInt16BE(start + 6) === 0) return true;
  return sum(buf, start, end, pseudoSum(pseudo, IPPROTO_UDP, end - start)) === 0xffff;
}

export function encode(d: UdpDatagram, buf?: Buffer, offset = 0, pseudo?: PseudoHeader): Buffer {
  const n = encodingLength(d);
  const b = target(buf, offset, n, 'UDP datagram');
  b.writeUInt16BE(checkInt(d.srcPort, 16, 'srcPort'), offset);
  b.writeUInt16BE(checkInt(d.dstPort, 16, 'dstPort'), offset + 2);
  b.writeUInt16BE(checkInt(n, 16, 'UDP length'), offset + 4);
  b.writeUInt16BE(0, offset + 6);
  d.payload.copy(b, offset + 8);
  if (pseudo) b.writeUInt16BE(computeChecksum(b, pseudo, offset, offset + n), offset + 6);
  encode.bytes = n;
  return b;
}
encode.bytes = 0;

export function decodeHeader(buf: Buffer, offset = 0): UdpHeader {
  need(buf, offset, HEADER_LENGTH, 'UDP header');
  return {
    srcPort: buf.readUInt16BE(offset),
    dstPort: buf.readUInt16BE(offset + 2),
    length: buf.readUInt16BE(offset + 4),
    checksum: buf.readUInt16BE(offset + 6),
  };
}

/** Decodes a whole datagram; bytes past `length` (link padding) are ignored. */
export function decode(buf: Buffer, offset = 0, pseudo?: PseudoHeader): DecodedUdp {
  const h = decodeHeader(buf, offset);
  if (h.length < HEADER_LENGTH) throw new DecodeError('UDP datagram', `length ${h.length} is below 8`, offset);
  need(buf, offset, h.length, 'UDP datagram');
  decode.bytes = h.length;
  return {
    srcPort: h.srcPort,
    dstPort: h.dstPort,
    payload: Buffer.from(buf.subarray(offset + 8, offset + h.length)),
    length: h.length,
    checksum: h.checksum,
    checksumValid: pseudo ? verifyChecksum(buf, pseudo, offset, offset + h.length) : undefined,
  };
}
decode.bytes = 0;
