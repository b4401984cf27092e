import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SocketAddress } from 'node:net';
import fc from 'fast-check';
import { DecodeError } from '../../src/errors.js';
import { bytesToIp, bytesToMac, canonicalIp, ipFamily, ipToBytes, macToBytes, zoneOf } from '../../src/wire/addr.js';

test('IPv4 text <-> bytes, leading zeros and out-of-range parts refused', () => {
  assert.deepEqual(ipToBytes('198.18.0.1'), Buffer.from([198, 18, 0, 1]));
  assert.equal(bytesToIp(Buffer.from([0, 198, 18, 255, 7]), 1, 4), '198.18.255.7');
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', '', 'a.b.c.d', '1..2.3']) {
    assert.throws(() => ipToBytes(bad), DecodeError, bad);
  }
  assert.throws(() => ipToBytes('198.18.0.1', 6), DecodeError);
});

test('IPv6 text follows RFC 5952 and node: longest zero run, first on a tie, mapped IPv4', () => {
  const cases: Array<[string, string]> = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['::ffff:198.18.0.1', '::ffff:198.18.0.1'],
    ['0:0:0:0:0:ffff:c612:1', '::ffff:198.18.0.1'],
    ['fe80::1%eth0', 'fe80::1'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalIp(input), want, input);
  assert.equal(zoneOf('fe80::1%eth0'), 'eth0');
  for (const bad of ['1:2:3:4:5:6:7', '1::2::3', ':::', '12345::', '1:2:3:4:5:6:7:8:9', 'g::1', '::1%', '1.2.3.4::']) {
    assert.throws(() => ipToBytes(bad), DecodeError, bad);
  }
  assert.equal(ipFamily('::1'), 6);
  assert.equal(ipFamily('198.18.0.1'), 4);
  assert.equal(ipFamily('example.com'), 0);
});

test('property: bytes -> text -> bytes is the identity, and the text is what node prints', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }), (w) => {
      const b = Buffer.alloc(16);
      w.forEach((x, i) => b.writeUInt16BE(x, 2 * i));
      const s = bytesToIp(b, 0, 6);
      assert.deepEqual(ipToBytes(s), b);
      assert.equal(new SocketAddress({ address: s, family: 'ipv6' }).address, s);
    }),
    { numRuns: 500 },
  );
});

test('bytesToIp out of bounds is a DecodeError', () => {
  assert.throws(() => bytesToIp(Buffer.alloc(15), 0, 6), DecodeError);
  assert.throws(() => bytesToIp(Buffer.alloc(4), 1, 4), DecodeError);
});

test('MAC addresses', () => {
  assert.equal(bytesToMac(macToBytes('02-00-5E-10-00-01')), '02:00:5e:10:00:01');
  assert.throws(() => macToBytes('02:00:5e:10:00'), DecodeError);
});
