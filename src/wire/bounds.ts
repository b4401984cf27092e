// Bounds checks shared by the decoders: every read is preceded by one of these, so a short or
// hostile buffer becomes a DecodeError naming what was being read, never a RangeError. Encoders
// reject bad values and short target buffers with UsageError.
import { DecodeError, UsageError } from '../errors.js';

export function need(buf: Buffer, offset: number, n: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0) throw new DecodeError(what, `bad offset ${offset}`, 0);
  if (offset + n > buf.length) {
    throw new DecodeError(what, `truncated: needs ${n} bytes at offset ${offset}, have ${Math.max(0, buf.length - offset)}`, offset);
  }
}

/** An offset a decoder may start at: an integer from 0 to the buffer's length (empty there). */
export function checkOffset(buf: Buffer, offset: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
    throw new DecodeError(what, `bad offset ${offset} (buffer of ${buf.length} bytes)`, 0);
  }
}

/** The buffer to encode into: the caller's (checked for room) or a new one. */
export function target(buf: Buffer | undefined, offset: number, n: number, what: string): Buffer {
  if (!buf) return Buffer.alloc(offset + n);
  if (!Number.isInteger(offset) || offset < 0 || offset + n > buf.length) {
    throw new UsageError(`${what}: needs ${n} bytes at offset ${offset}, buffer has ${buf.length}`);
  }
  return buf;
}

const MAX = Array.from({ length: 33 }, (_, bits) => 2 ** bits - 1);

export function checkInt(v: number, bits: number, what: string): number {
  if (!(v >= 0 && v <= MAX[bits] && Number.isInteger(v))) throw new UsageError(`${what} must be an integer 0..${MAX[bits]}, got ${v}`);
  return v;
}
