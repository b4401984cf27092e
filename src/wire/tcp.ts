// TCP segment (RFC 9293 §3.1) with the options a SYN probe and a capture reader meet: MSS (RFC
// 9293), window scale and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018), NOP; others
// are kept as kind + bytes. End of Option List ends the list and is not returned; encode pads the
// options with zeros (EOL) to a multiple of 4. The checksum covers the pseudo-header: pass the
// addresses as `pseudo`.
import { DecodeError, UsageError } from '../errors.js';
import { checkInt, need, target } from './bounds.js';
import { checksum, sum } from './checksum.js';
import { IPPROTO_TCP } from './protocols.js';
import { pseudoSum, type PseudoHeader } from './pseudo.js';

export type { PseudoHeader } from './pseudo.js';

export const MIN_HEADER_LENGTH = 20;
export const MAX_HEADER_LENGTH = 60;

export const OPT_EOL = 0;
export const OPT_NOP = 1;
export const OPT_MSS = 2;
export const OPT_WINDOW_SCALE = 3;
export const OPT_SACK_PERMITTED = 4;
export const OPT_SACK = 5;
export const OPT_TIMESTAMPS = 8;

export type TcpOption =
  | { type: 'nop' }
  | { type: 'mss'; value: number }
  | { type: 'windowScale'; shift: number }
  | { type: 'sackPermitted' }
  | { type: 'sack'; blocks: Array<{ left: number; right: number }> }
  | { type: 'timestamps'; value: number; echo: number }
  | { type: 'unknown'; kind: number; data: Buffer };

export interface TcpFlags {
  fin: boolean;
  syn: boolean;
  rst: boolean;
  psh: boolean;
  ack: boolean;
  urg: boolean;
  ece: boolean;
  cwr: boolean;
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ackNumber: number;
  /** Unset flags may be left out when encoding. */
  flags: Partial<TcpFlags>;
  window: number;
  urgentPointer: number;
  options: TcpOption[];
  payload: Buffer;
}

export interface DecodedTcp extends TcpSegment {
  flags: TcpFlags;
  /** Data offset * 4. */
  headerLength: number;
  checksum: number;
  checksumValid: boolean | undefined;
}

const FLAG_BITS: Array<[keyof TcpFlags, number]> = [
  ['fin', 0x01], ['syn', 0x02], ['rst', 0x04], ['psh', 0x08],
  ['ack', 0x10], ['urg', 0x20], ['ece', 0x40], ['cwr', 0x80],
];

function optionLength(opt: TcpOption): number {
  switch (opt.type) {
    case 'nop': return 1;
    case 'mss': return 4;
    case 'windowScale': return 3;
    case 'sackPermitted': return 2;
    case 'sack': return 2 + 8 * opt.blocks.length;
    case 'timestamps': return 10;
    case 'unknown': return 2 + opt.data.length;
  }
}

function optionsLength(opts: TcpOption[]): number {
  let n = 0;
  for (const o of opts) n += optionLength(o);
  return (n + 3) & ~3;
}

export function encodingLength(s: TcpSegment): number {
  return headerLength(s) + s.payload.length;
}

function headerLength(s: Pick<TcpSegment, 'options'>): number {
  const n = MIN_HEADER_LENGTH + optionsLength(s.options ?? []);
  if (n > MAX_HEADER_LENGTH) throw new UsageError(`TCP options of ${n - MIN_HEADER_LENGTH} bytes exceed the 40 allowed`);
  return n;
}

function writeOption(b: Buffer, p: number, opt: TcpOption): number {
  const len = optionLength(opt);
  if (opt.type === 'nop') {
    b[p] = OPT_NOP;
    return 1;
  }
  b[p + 1] = len;
  switch (opt.type) {
    case 'mss':
      b[p] = OPT_MSS;
      b.writeUInt16BE(checkInt(opt.value, 16, 'MSS'), p + 2);
      break;
    case 'windowScale':
      b[p] = OPT_WINDOW_SCALE;
      b[p + 2] = checkInt(opt.shift, 8, 'window scale');
      break;
    case 'sackPermitted':
      b[p] = OPT_SACK_PERMITTED;
      break;
    case 'sack':
      b[p] = OPT_SACK;
      opt.blocks.forEach((blk, i) => {
        b.writeUInt32BE(checkInt(blk.left, 32, 'SACK left edge'), p + 2 + 8 * i);
        b.writeUInt32BE(checkInt(blk.right, 32, 'SACK right edge'), p + 6 + 8 * i);
      });
      break;
    case 'timestamps':
      b[p] = OPT_TIMESTAMPS;
      b.writeUInt32BE(checkInt(opt.value, 32, 'TSval'), p + 2);
      b.writeUInt32BE(checkInt(opt.echo, 32, 'TSecr'), p + 6);
      break;
    case 'unknown':
      if (opt.kind <= OPT_NOP) throw new UsageError(`TCP option kind ${opt.kind} has no length byte`);
      b[p] = checkInt(opt.kind, 8, 'option kind');
      opt.data.copy(b, p + 2);
      break;
  }
  return len;
}

export function computeChecksum(buf: Buffer, pseudo: PseudoHeader, start = 0, end = buf.length): number {
  return checksum(buf, start, end, pseudoSum(pseudo, IPPROTO_TCP, end - start));
}

export function verifyChecksum(buf: Buffer, pseudo: PseudoHeader, start = 0, end = buf.length): boolean {
  return sum(buf, start, end, pseudoSum(pseudo, IPPROTO_TCP, end - start)) === 0xffff;
}

/** Writes header, options and payload; with `pseudo`, the checksum too (else 0). */
export function encode(s: TcpSegment, buf?: Buffer, offset = 0, pseudo?: PseudoHeader): Buffer {
  const hl = headerLength(s);
  const n = hl + s.payload.length;
  const b = target(buf, offset, n, 'TCP segment');
  const o = offset;
  b.writeUInt16BE(checkInt(s.srcPort, 16, 'srcPort'), o);
  b.writeUInt16BE(checkInt(s.dstPort, 16, 'dstPort'), o + 2);
  b.writeUInt32BE(checkInt(s.seq, 32, 'seq'), o + 4);
  b.writeUInt32BE(checkInt(s.ackNumber, 32, 'ackNumber'), o + 8);
  b[o + 12] = (hl / 4) << 4;
  let f = 0;
  for (const [name, bit] of FLAG_BITS) if (s.flags[name]) f |= bit;
  b[o + 13] = f;
  b.writeUInt16BE(checkInt(s.window, 16, 'window'), o + 14);
  b.writeUInt16BE(0, o + 16);
  b.writeUInt16BE(checkInt(s.urgentPointer, 16, 'urgentPointer'), o + 18);
  let p = o + MIN_HEADER_LENGTH;
  for (const opt of s.options ?? []) p += writeOption(b, p, opt);
  b.fill(0, p, o + hl);
  s.payload.copy(b, o + hl);
  if (pseudo) b.writeUInt16BE(computeChecksum(b, pseudo, o, o + n), o + 16);
  encode.bytes = n;
  return b;
}
encode.bytes = 0;

function decodeOptions(buf: Buffer, start: number, end: number): TcpOption[] {
  const out: TcpOption[] = [];
  let p = start;
  while (p < end) {
    const kind = buf[p];
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      out.push({ type: 'nop' });
      p++;
      continue;
    }
    if (p + 2 > end) throw new DecodeError('TCP option', `kind ${kind} has no length byte`, p);
    const len = buf[p + 1];
    if (len < 2 || p + len > end) throw new DecodeError('TCP option', `kind ${kind} has bad length ${len}`, p);
    const fixed = (want: number): void => {
      if (len !== want) throw new DecodeError('TCP option', `kind ${kind} must be ${want} bytes, is ${len}`, p);
    };
    switch (kind) {
      case OPT_MSS:
        fixed(4);
        out.push({ type: 'mss', value: buf.readUInt16BE(p + 2) });
        break;
      case OPT_WINDOW_SCALE:
        fixed(3);
        out.push({ type: 'windowScale', shift: buf[p + 2] });
        break;
      case OPT_SACK_PERMITTED:
        fixed(2);
        out.push({ type: 'sackPermitted' });
        break;
      case OPT_SACK: {
        if ((len - 2) % 8 !== 0) throw new DecodeError('TCP option', `SACK length ${len} is not 2 + 8n`, p);
        const blocks = [];
        for (let q = p + 2; q < p + len; q += 8) blocks.push({ left: buf.readUInt32BE(q), right: buf.readUInt32BE(q + 4) });
        out.push({ type: 'sack', blocks });
        break;
      }
      case OPT_TIMESTAMPS:
        fixed(10);
        out.push({ type: 'timestamps', value: buf.readUInt32BE(p + 2), echo: buf.readUInt32BE(p + 6) });
        break;
      default:
        out.push({ type: 'unknown', kind, data: Buffer.from(buf.subarray(p + 2, p + len)) });
    }
    p += len;
  }
  return out;
}

/** Decodes a segment occupying buf[offset..end] (slice it to the IP payload first). */
export function decode(buf: Buffer, offset = 0, pseudo?: PseudoHeader): DecodedTcp {
  need(buf, offset, MIN_HEADER_LENGTH, 'TCP header');
  const o = offset;
  const hl = (buf[o + 12] >>> 4) * 4;
  if (hl < MIN_HEADER_LENGTH) throw new DecodeError('TCP header', `data offset ${hl / 4} is below 5`, o);
  need(buf, o, hl, 'TCP options');
  const f = buf[o + 13];
  const flags = {} as TcpFlags;
  for (const [name, bit] of FLAG_BITS) flags[name] = (f & bit) !== 0;
  decode.bytes = buf.length - o;
  return {
    srcPort: buf.readUInt16BE(o),
    dstPort: buf.readUInt16BE(o + 2),
    seq: buf.readUInt32BE(o + 4),
    ackNumber: buf.readUInt32BE(o + 8),
    flags,
    window: buf.readUInt16BE(o + 14),
    urgentPointer: buf.readUInt16BE(o + 18),
    options: decodeOptions(buf, o + MIN_HEADER_LENGTH, o + hl),
    payload: Buffer.from(buf.subarray(o + hl)),
    headerLength: hl,
    checksum: buf.readUInt16BE(o + 16),
    checksumValid: pseudo ? verifyChecksum(buf, pseudo, o, buf.length) : undefined,
  };
}
decode.bytes = 0;
