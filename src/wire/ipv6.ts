// IPv6 fixed header (RFC 8200 §3) and the extension header chain up to the upper-layer protocol
// (§4): hop-by-hop, routing, fragment, destination options and AH (RFC 4302, whose length counts
// 4-byte units). The walk stops at No Next Header (59), at ESP (50, opaque) or at any other number,
// which is taken as the upper-layer protocol. Every step consumes at least 8 bytes and the chain
// is capped, so hostile input cannot loop.
import { DecodeError, UsageError } from '../errors.js';
import { bytesToIp, writeIp } from './addr.js';
import { checkInt, checkOffset, need, target } from './bounds.js';
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_MH,
  IPPROTO_ROUTING,
} from './protocols.js';

export const HEADER_LENGTH = 40;
/** More extension headers than this is treated as hostile (real stacks stop far earlier). */
export const MAX_EXTENSIONS = 32;

/** Hop-by-hop, routing, destination options, mobility, AH: next header + length + `data`. */
export interface GenericExtension {
  type: 0 | 43 | 51 | 60 | 135;
  /** Bytes after the 2-byte next-header/length prefix (so 2 + data.length is the header size). */
  data: Buffer;
}

/** Fragment header (RFC 8200 §4.5). */
export interface FragmentExtension {
  type: 44;
  /** Offset in 8-byte units. */
  fragmentOffset: number;
  /** More fragments. */
  mf: boolean;
  id: number;
}

export type Ipv6Extension = GenericExtension | FragmentExtension;

export interface Ipv6Header {
  trafficClass: number;
  flowLabel: number;
  /** Bytes after the fixed 40-byte header (extension headers included). */
  payloadLength: number;
  hopLimit: number;
  src: string;
  dst: string;
  /** Extension headers in order. */
  extensions: Ipv6Extension[];
  /** The upper-layer protocol: the Next Header value after the last extension header. */
  protocol: number;
}

export interface DecodedIpv6Header extends Ipv6Header {
  /** 40 + all extension headers: where the upper-layer data starts. */
  headerLength: number;
}

const EXTENSION_TYPES: ReadonlySet<number> = new Set([
  IPPROTO_HOPOPTS,
  IPPROTO_ROUTING,
  IPPROTO_FRAGMENT,
  IPPROTO_DSTOPTS,
  IPPROTO_AH,
  IPPROTO_MH,
]);

export const isExtensionHeader = (nextHeader: number): boolean => EXTENSION_TYPES.has(nextHeader);

function extensionLength(e: Ipv6Extension): number {
  if (e.type === IPPROTO_FRAGMENT) return 8;
  const n = 2 + e.data.length;
  if (n % 8 !== 0) throw new UsageError(`IPv6 extension header ${e.type} is ${n} bytes, not a multiple of 8`);
  if ((e.type === IPPROTO_AH ? n / 4 - 2 : n / 8 - 1) > 255) throw new UsageError(`IPv6 extension header ${e.type} is too long`);
  return n;
}

export function encodingLength(h: Pick<Ipv6Header, 'extensions'>): number {
  let n = HEADER_LENGTH;
  for (const e of h.extensions ?? []) n += extensionLength(e);
  return n;
}

export function encode(h: Ipv6Header, buf?: Buffer, offset = 0): Buffer {
  const exts = h.extensions ?? [];
  if (exts.length > MAX_EXTENSIONS) throw new UsageError(`more than ${MAX_EXTENSIONS} IPv6 extension headers`);
  const n = encodingLength(h);
  const b = target(buf, offset, n, 'IPv6 header');
  let o = offset;
  const tc = checkInt(h.trafficClass, 8, 'trafficClass');
  b.writeUInt32BE(((6 << 28) | (tc << 20) | checkInt(h.flowLabel, 20, 'flowLabel')) >>> 0, o);
  b.writeUInt16BE(checkInt(h.payloadLength, 16, 'payloadLength'), o + 4);
  b[o + 6] = exts.length > 0 ? exts[0].type : checkInt(h.protocol, 8, 'protocol');
  b[o + 7] = checkInt(h.hopLimit, 8, 'hopLimit');
  writeIp(h.src, 6, b, o + 8);
  writeIp(h.dst, 6, b, o + 24);
  o += HEADER_LENGTH;
  exts.forEach((e, i) => {
    if (!isExtensionHeader(e.type)) throw new UsageError(`${e.type} is not an IPv6 extension header`);
    b[o] = i + 1 < exts.length ? exts[i + 1].type : checkInt(h.protocol, 8, 'protocol');
    const len = extensionLength(e);
    if (e.type === IPPROTO_FRAGMENT) {
      b[o + 1] = 0;
      b.writeUInt16BE((checkInt(e.fragmentOffset, 13, 'fragmentOffset') << 3) | (e.mf ? 1 : 0), o + 2);
      b.writeUInt32BE(checkInt(e.id, 32, 'fragment id'), o + 4);
    } else {
      b[o + 1] = e.type === IPPROTO_AH ? len / 4 - 2 : len / 8 - 1;
      e.data.copy(b, o + 2);
    }
    o += len;
  });
  encode.bytes = n;
  return b;
}
encode.bytes = 0;

export interface ExtensionWalk {
  extensions: Ipv6Extension[];
  /** Upper-layer protocol, or the last next-header value read when the chain was cut short. */
  protocol: number;
  /** Offset of the upper-layer data (or of the header that did not fit). */
  end: number;
  /** False when the buffer ended inside the chain (only with `partial`). */
  complete: boolean;
}

/**
 * Walk the extension headers starting at `offset` whose type is `nextHeader`. With `partial`, a
 * chain cut short by the end of the buffer (a quote inside an ICMPv6 error) returns what was read
 * with complete = false instead of throwing.
 */
export function walkExtensions(buf: Buffer, offset: number, nextHeader: number, partial = false): ExtensionWalk {
  checkOffset(buf, offset, 'IPv6 extension headers');
  const extensions: Ipv6Extension[] = [];
  let o = offset;
  let nh = nextHeader;
  while (isExtensionHeader(nh)) {
    if (extensions.length >= MAX_EXTENSIONS) {
      throw new DecodeError('IPv6 extension headers', `more than ${MAX_EXTENSIONS} in one chain`, o);
    }
    if (nh === IPPROTO_HOPOPTS && extensions.length > 0) {
      // RFC 8200 §4.1: hop-by-hop options only immediately after the fixed header.
      throw new DecodeError('IPv6 extension headers', 'hop-by-hop options header not first', o);
    }
    if (o + 8 > buf.length) {
      if (partial) return { extensions, protocol: nh, end: o, complete: false };
      need(buf, o, 8, 'IPv6 extension header');
    }
    const next = buf[o];
    let len: number;
    if (nh === IPPROTO_FRAGMENT) {
      len = 8;
      const w = buf.readUInt16BE(o + 2);
      extensions.push({ type: IPPROTO_FRAGMENT, fragmentOffset: w >>> 3, mf: (w & 1) === 1, id: buf.readUInt32BE(o + 4) });
    } else {
      len = nh === IPPROTO_AH ? (buf[o + 1] + 2) * 4 : (buf[o + 1] + 1) * 8;
      if (nh === IPPROTO_AH && len % 8 !== 0) throw new DecodeError('IPv6 AH header', `length ${len} is not a multiple of 8`, o);
      if (o + len > buf.length) {
        if (partial) return { extensions, protocol: nh, end: o, complete: false };
        need(buf, o, len, 'IPv6 extension header');
      }
      extensions.push({ type: nh as GenericExtension['type'], data: Buffer.from(buf.subarray(o + 2, o + len)) });
    }
    o += len;
    nh = next;
  }
  return { extensions, protocol: nh, end: o, complete: true };
}

export function decode(buf: Buffer, offset = 0): DecodedIpv6Header {
  need(buf, offset, HEADER_LENGTH, 'IPv6 header');
  const o = offset;
  const w = buf.readUInt32BE(o);
  if (w >>> 28 !== 6) throw new DecodeError('IPv6 header', `version is ${w >>> 28}, not 6`, o);
  const walk = walkExtensions(buf, o + HEADER_LENGTH, buf[o + 6]);
  decode.bytes = walk.end - o;
  return {
    trafficClass: (w >>> 20) & 0xff,
    flowLabel: w & 0xfffff,
    payloadLength: buf.readUInt16BE(o + 4),
    hopLimit: buf[o + 7],
    src: bytesToIp(buf, o + 8, 6),
    dst: bytesToIp(buf, o + 24, 6),
    extensions: walk.extensions,
    protocol: walk.protocol,
    headerLength: walk.end - o,
  };
}
decode.bytes = 0;
