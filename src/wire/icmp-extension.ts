// RFC 4884 multi-part ICMP messages: after the quoted "original datagram" an error may carry an
// extension structure — a 4-byte header (version 2, checksum) and objects (length, class-num,
// c-type, payload), e.g. MPLS label stacks (RFC 4950) or interface information (RFC 5837).
// The error's length attribute (ICMPv4: 32-bit words in byte 5; ICMPv6: 64-bit words in byte 4)
// says where the original datagram ends; it is zero-padded to at least 128 bytes.
// Objects are kept as class/ctype/bytes; interpreting them is left to the caller.
import { UsageError } from '../errors.js';
import { checksum, verify } from './checksum.js';

export const EXTENSION_VERSION = 2;
/** The original datagram field is padded to at least this many bytes when extensions follow. */
export const MIN_ORIGINAL_DATAGRAM = 128;

export const CLASS_MPLS_LABEL_STACK = 1;
export const CLASS_INTERFACE_INFORMATION = 2;
export const CLASS_INTERFACE_IDENTIFICATION = 3;

export interface IcmpExtensionObject {
  classNum: number;
  cType: number;
  payload: Buffer;
}

export interface IcmpExtension {
  version: number;
  /** 0 means the sender did not compute one (RFC 4884 §7). */
  checksum: number;
  checksumValid: boolean;
  objects: IcmpExtensionObject[];
  /** An object ran past the end or had a length below 4: objects holds those before it. */
  malformed: boolean;
}

/** What to encode: just the objects (version 2 and the checksum are filled in). */
export interface IcmpExtensionInput {
  objects: IcmpExtensionObject[];
}

function parseExtension(b: Buffer): IcmpExtension | null {
  if (b.length < 4 || b[0] >>> 4 !== EXTENSION_VERSION) return null;
  const sum = b.readUInt16BE(2);
  const objects: IcmpExtensionObject[] = [];
  let malformed = false;
  for (let o = 4; o < b.length; ) {
    if (o + 4 > b.length) { malformed = true; break; }
    const len = b.readUInt16BE(o);
    if (len < 4 || o + len > b.length) { malformed = true; break; }
    objects.push({ classNum: b[o + 2], cType: b[o + 3], payload: Buffer.from(b.subarray(o + 4, o + len)) });
    o += len;
  }
  return { version: b[0] >>> 4, checksum: sum, checksumValid: sum === 0 || verify(b), objects, malformed };
}

export interface SplitBody {
  quoted: Buffer;
  extension: IcmpExtension | null;
}

/**
 * Split an error message's body (after the 8-byte ICMP header) into the quoted datagram and the
 * extension structure. `lengthField` is the RFC 4884 length attribute, `unit` 4 (ICMPv4) or 8
 * (ICMPv6). With a zero length attribute, a structure at byte 128 is accepted only if it carries
 * a valid non-zero checksum (the RFC 4884 §5 compatibility rule for pre-4884 senders).
 */
export function splitBody(body: Buffer, lengthField: number, unit: 4 | 8): SplitBody {
  const len = lengthField * unit;
  if (len > 0 && len <= body.length) {
    const rest = body.subarray(len);
    return { quoted: body.subarray(0, len), extension: rest.length >= 4 ? parseExtension(rest) : null };
  }
  if (len === 0 && body.length >= MIN_ORIGINAL_DATAGRAM + 4) {
    const rest = body.subarray(MIN_ORIGINAL_DATAGRAM);
    const ext = parseExtension(rest);
    if (ext && ext.checksum !== 0 && ext.checksumValid && !ext.malformed) {
      return { quoted: body.subarray(0, MIN_ORIGINAL_DATAGRAM), extension: ext };
    }
  }
  return { quoted: body, extension: null };
}

/** Bytes of the body (padded quote + extension) and the length attribute to put in the header. */
export function bodyLength(quoted: Buffer, ext: IcmpExtensionInput | null | undefined, unit: 4 | 8): number {
  if (!ext) return quoted.length;
  return paddedLength(quoted.length, unit) + extensionLength(ext);
}

function paddedLength(n: number, unit: number): number {
  return Math.ceil(Math.max(n, MIN_ORIGINAL_DATAGRAM) / unit) * unit;
}

function extensionLength(ext: IcmpExtensionInput): number {
  let n = 4;
  for (const obj of ext.objects) n += 4 + obj.payload.length;
  return n;
}

/** Writes the body at b[o]; returns the length attribute (0 without an extension). */
export function writeBody(b: Buffer, o: number, quoted: Buffer, ext: IcmpExtensionInput | null | undefined, unit: 4 | 8): number {
  if (!ext) {
    quoted.copy(b, o);
    return 0;
  }
  const padded = paddedLength(quoted.length, unit);
  if (padded / unit > 255) throw new UsageError(`a quote of ${quoted.length} bytes is too long for the RFC 4884 length attribute`);
  quoted.copy(b, o);
  b.fill(0, o + quoted.length, o + padded);
  const start = o + padded;
  b[start] = EXTENSION_VERSION << 4;
  b[start + 1] = 0;
  b.writeUInt16BE(0, start + 2);
  let p = start + 4;
  for (const obj of ext.objects) {
    const len = 4 + obj.payload.length;
    if (len > 0xffff) throw new UsageError('ICMP extension object longer than 65535 bytes');
    b.writeUInt16BE(len, p);
    b[p + 2] = obj.classNum & 0xff;
    b[p + 3] = obj.cType & 0xff;
    obj.payload.copy(b, p + 4);
    p += len;
  }
  b.writeUInt16BE(checksum(b, start, p), start + 2);
  return padded / unit;
}
