// The one frag-needed / packet-too-big builder that inject, checkserver and the lab's liar share:
// its bytes checked against RFC 1191 §4 and RFC 4443 §3.2 field by field, not against itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePtb } from '../../src/wire/ptb.js';
import { verify } from '../../src/wire/checksum.js';
import { verifyChecksum } from '../../src/wire/icmpv6.js';

// A 48-byte quote (IPv6 header and 8 transport bytes in size) (contents do not matter to the builder).
const quoted = Buffer.from(Array.from({ length: 48 }, (_, i) => (i * 37 + 11) & 0xff));

test('IPv4: type 3 code 4, next-hop MTU in bytes 6-7, the quote from byte 8, a valid checksum', () => {
  const m = encodePtb({ family: 4, mtu: 1400, quoted });
  assert.equal(m.length, 8 + quoted.length);
  assert.equal(m[0], 3);
  assert.equal(m[1], 4);
  assert.equal(m.readUInt16BE(4), 0, 'unused field stays zero for a quote without extensions');
  assert.equal(m.readUInt16BE(6), 1400);
  assert.deepEqual(m.subarray(8), quoted);
  assert.notEqual(m.readUInt16BE(2), 0);
  assert.ok(verify(m), 'RFC 1071 checksum over the message');
});

test('IPv6: type 2 code 0, 32-bit MTU, checksum left to the kernel unless addresses are given', () => {
  const bare = encodePtb({ family: 6, mtu: 1280, quoted });
  assert.equal(bare.length, 8 + quoted.length);
  assert.equal(bare[0], 2);
  assert.equal(bare[1], 0);
  assert.equal(bare.readUInt32BE(4), 1280);
  assert.deepEqual(bare.subarray(8), quoted);
  assert.equal(bare.readUInt16BE(2), 0);

  const pseudo = { src: '2001:db8::1', dst: '2001:db8::2' };
  const full = encodePtb({ family: 6, mtu: 1280, quoted, pseudo });
  assert.ok(verifyChecksum(full, pseudo), 'checksum over the pseudo-header and message');
  assert.ok(!verifyChecksum(full, { src: '2001:db8::1', dst: '2001:db8::3' }), 'bound to those addresses');
  assert.deepEqual(full.subarray(4), bare.subarray(4));
});
