import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checksum, finish, fold, pseudoHeaderSum, sum, verify } from '../../src/wire/checksum.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Straight from RFC 1071 §4.1, word by word, as the independent reference. */
function reference(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (i + 1 < b.length ? b[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

test('RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2', () => {
  const b = hex('0001f203f4f5f6f7');
  assert.equal(sum(b), 0xddf2);
  assert.equal(checksum(b), 0x220d);
});

test('a real IPv4 header checksums to the value it carries (0xb861)', () => {
  const h = hex('450000730000400040110000c0a80001c0a800c7');
  assert.equal(checksum(h), 0xb861);
  h.writeUInt16BE(0xb861, 10);
  assert.ok(verify(h));
});

test('seed 003 bug 1, signed result: the checksum is an unsigned 16-bit value', () => {
  // ~0x0001 is -2 in JS and Python; the field must be 0xfffe.
  assert.equal(checksum(hex('0001')), 0xfffe);
  assert.equal(finish(0x0001), 0xfffe);
});

test('seed 003 bug 2, odd byte: the last byte is the high half of a padded word', () => {
  assert.equal(checksum(hex('01')), 0xfeff); // not 0xfffe
  assert.equal(checksum(hex('0001f203f4f5f6f7ab')), reference(hex('0001f203f4f5f6f7ab')));
  assert.equal(sum(hex('0001f2')), 0xf201);
});

test('seed 003 bug 3, fold: carries are folded until none remains', () => {
  // ffff + ffff + 0001 = 0x1ffff; one fold gives 0x10000, a second gives 0x0001.
  assert.equal(checksum(hex('ffffffff0001')), 0xfffe);
  assert.equal(fold(0x1ffff), 0x0001);
  assert.equal(fold(0x2fffd), 0xffff);
});

test('the 0xffff / 0 case: all-ones sum gives checksum 0, all-zero data gives 0xffff', () => {
  assert.equal(checksum(hex('ff00 00ff')), 0);
  assert.equal(checksum(hex('fffe 0001')), 0);
  assert.equal(checksum(Buffer.alloc(64)), 0xffff);
  assert.equal(checksum(Buffer.alloc(0)), 0xffff);
  assert.equal(fold(0), 0);
  assert.equal(fold(0xffff * 7), 0xffff); // never collapses a non-zero sum to 0
});

test('partial sums over ranges equal the sum of the whole (pseudo-header without copying)', () => {
  const a = hex('c0a80001c0a800c7');
  const b = hex('0011001c12345678abcdef');
  const whole = Buffer.concat([a, b]);
  assert.equal(checksum(b, 0, b.length, sum(a)), checksum(whole));
  assert.equal(pseudoHeaderSum(hex('c0a80001'), hex('c0a800c7'), 17, 28), sum(hex('c0a80001c0a800c70011001c')));
});

test('property: equals the RFC 1071 reference for any bytes, lengths, offsets and alignments', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(7), (data, shift) => {
      // Place the data at every alignment inside a larger ArrayBuffer to exercise the word path.
      const backing = new Uint8Array(data.length + 8);
      backing.set(data, shift);
      const view = Buffer.from(backing.buffer, shift, data.length);
      assert.equal(checksum(view), reference(data));
      for (const start of [0, 1, 2, 3]) {
        if (start <= data.length) assert.equal(checksum(view, start), reference(data.subarray(start)));
      }
    }),
    { numRuns: 400 },
  );
});

test('property: long runs of 0xff words (maximal carries) match the reference', () => {
  for (const n of [127, 128, 129, 1500, 65535, 65536]) {
    const b = Buffer.alloc(n, 0xff);
    assert.equal(checksum(b), reference(b), `length ${n}`);
    assert.equal(checksum(b.subarray(1)), reference(b.subarray(1)), `length ${n - 1} at odd offset`);
  }
});

test('property: writing the checksum in makes verify() true; flipping any byte makes it false', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 2, maxLength: 300 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (d, at, x) => {
      const b = Buffer.from(d);
      b.writeUInt16BE(0, 0);
      b.writeUInt16BE(checksum(b), 0);
      assert.ok(verify(b));
      const i = at % b.length;
      b[i] ^= x;
      // One changed byte moves the sum by d or 256*d with 0 < |d| < 256: never a multiple of 0xffff.
      assert.equal(verify(b), false);
    }),
    { numRuns: 500 },
  );
});
