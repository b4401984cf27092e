// The kernel-backed random numbers behind echo ids, sequence starts, nonce salts and source ports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomInt, randomUint32 } from '../../src/probe/random.js';

test('randomInt stays in [min, max) and reaches both ends; a range of one is that value', () => {
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const v = randomInt(32768, 32778);
    assert.ok(Number.isInteger(v) && v >= 32768 && v < 32778, String(v));
    seen.add(v);
  }
  assert.equal(seen.size, 10);
  assert.equal(randomInt(5, 6), 5);
  const wide = randomInt(0, 2 ** 32);
  assert.ok(wide >= 0 && wide < 2 ** 32);
});

test('randomInt is uniform: 60,000 draws of 0..5 land within 5% of 10,000 each (about 5 sigma)', () => {
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < 60_000; i++) counts[randomInt(0, 6)]!++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, counts.join(' '));
});

test('randomUint32 covers 32 bits and does not repeat itself', () => {
  const values = Array.from({ length: 200 }, () => randomUint32());
  assert.ok(values.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32));
  assert.equal(new Set(values).size, 200, 'a repeat among 200 draws of 2^32 is a 1-in-200,000 event');
  let or = 0;
  for (const v of values) or = (or | v) >>> 0;
  assert.equal(or, 0xffffffff, 'every bit is set somewhere');
});

test('randomInt refuses ranges it cannot draw from', () => {
  for (const [min, max] of [[5, 5], [6, 5], [0, 2 ** 32 + 1], [0.5, 2], [0, Infinity]] as const) {
    assert.throws(() => randomInt(min, max), RangeError, `${min}, ${max}`);
  }
});
