// The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones' complement sum of the
// data taken as big-endian 16-bit words, an odd last byte padded with a zero low byte.
//
// Seed 003's readers hit three bugs, each pinned in test/wire/checksum.test.ts:
//   signed result  — `~sum` in JS/Python is negative; we mask to 16 bits;
//   odd byte       — the last byte is the HIGH half of a word (b << 8), not the low half;
//   fold           — carries must be folded back until none is left (one fold is not enough).
//
// Speed: the body is summed 32 bits at a time through a Uint32Array view, little-endian words,
// carries deferred in a float64 accumulator. Ones' complement addition is byte-order independent
// (RFC 1071 §2(B)), so the little-endian sum is byte-swapped once at the end. A 32-bit word
// w = hi*2^16 + lo is congruent to hi + lo modulo 0xffff, so folding is just `mod 0xffff`.
//
// Partial sums: sum() returns a folded 16-bit partial sum that can be passed on as `initial` to sum
// more ranges (a pseudo-header, then the segment) without copying. Every range except the last must
// have an even length, as the ranges are summed as if each started on a 16-bit word boundary.

import { UsageError } from '../errors.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Below this many bytes the plain byte loop beats setting up a typed-array view. */
const SMALL = 96;
/** 2^20 words of < 2^32 each keep the float64 accumulator exact (< 2^53). */
const CHUNK_WORDS = 1 << 20;

/** Fold a non-negative integer sum (< 2^53) to 16 bits with end-around carry. */
export function fold(s: number): number {
  if (s <= 0xffff) return s;
  const r = s % 0xffff;
  return r === 0 ? 0xffff : r;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

/**
 * Big-endian word sum of buf[start, end) with plain byte reads: high (even) and low (odd) bytes
 * summed apart, 8 at a time, and combined once — faster than building words for short buffers.
 */
function sumBytes(buf: Uint8Array, start: number, end: number): number {
  let hi = 0;
  let lo = 0;
  let i = start;
  const end8 = end - ((end - start) & 7);
  for (; i < end8; i += 8) {
    hi += buf[i] + buf[i + 2] + buf[i + 4] + buf[i + 6];
    lo += buf[i + 1] + buf[i + 3] + buf[i + 5] + buf[i + 7];
  }
  for (; i + 1 < end; i += 2) {
    hi += buf[i];
    lo += buf[i + 1];
  }
  if (i < end) hi += buf[i]; // odd length: the last byte is the high half of a zero-padded word
  return hi * 256 + lo;
}

/**
 * Ones' complement partial sum of buf[start, end) added to `initial`, folded to 16 bits.
 * Feed it back as `initial` to continue; finish() it to get the checksum field.
 */
export function sum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  if (start < 0 || end > buf.length || start > end) {
    throw new UsageError(`checksum range [${start}, ${end}) outside a buffer of ${buf.length} bytes`);
  }
  if (end - start < SMALL || !LITTLE_ENDIAN) return fold(fold(initial) + sumBytes(buf, start, end));

  // Byte-sum up to a 4-byte aligned address, then whole words, then the tail.
  const base = buf.byteOffset;
  let i = start;
  let be = 0; // big-endian-ordered sum of bytes handled one at a time
  while ((base + i) & 3) {
    be += (i - start) & 1 ? buf[i] : buf[i] << 8;
    i++;
  }
  const words = (end - i) >>> 2;
  const view = new Uint32Array(buf.buffer, base + i, words);
  let le = 0; // sum of the words as little-endian, folded per chunk
  for (let w = 0; w < words; ) {
    const stop = Math.min(words, w + CHUNK_WORDS);
    let acc = 0;
    for (; w < stop; w++) acc += view[w];
    le = fold(le + fold(acc));
  }
  i += words * 4;
  for (; i < end; i++) be += (i - start) & 1 ? buf[i] : buf[i] << 8;
  // In the word body, bytes at even memory addresses landed in the low half. They are the high
  // half of their big-endian word when the range starts at an even address: swap in that case.
  const body = (base + start) & 1 ? le : swap16(fold(le));
  return fold(fold(initial) + fold(be) + body);
}

/** The checksum field value for a (folded or not) sum: its ones' complement, 0..0xffff. */
export function finish(s: number): number {
  return ~fold(s) & 0xffff;
}

/** Internet checksum of buf[start, end) (with optional partial sum of other ranges). */
export function checksum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  return finish(sum(buf, start, end, initial));
}

/** True when buf[start, end), which contains its checksum field, sums to 0xffff (all ones). */
export function verify(buf: Uint8Array, start = 0, end = buf.length, initial = 0): boolean {
  return sum(buf, start, end, initial) === 0xffff;
}

/**
 * Partial sum of the TCP/UDP/ICMPv6 pseudo-header: source and destination address bytes (4 or 16
 * each), the upper-layer length and the protocol / next header (RFC 768, RFC 793, RFC 8200 §8.1).
 * The IPv4 and IPv6 layouts sum to the same value, the IPv6 length being 32 bits wide.
 */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  const s = sumBytes(src, 0, src.length) + sumBytes(dst, 0, dst.length);
  return fold(s + protocol + (length >>> 16) + (length & 0xffff));
}
