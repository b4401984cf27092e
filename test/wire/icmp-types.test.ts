import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/wire/icmp-types.js';

test('ICMPv4 names per RFC 792/1191/1812, including what seed 003 got wrong', () => {
  assert.equal(T.icmpv4CodeName(3, 4), 'fragmentation needed and DF set');
  assert.equal(T.icmpv4CodeName(3, 13), 'communication administratively prohibited');
  assert.equal(T.icmpv4CodeName(12, 2), 'bad length'); // seed 003 allowed codes 0-1 only
  assert.equal(T.icmpv4CodeName(9, 16), 'does not route common traffic'); // seed 003 allowed code 0 only
  assert.equal(T.icmpv4CodeName(11, 0), 'time to live exceeded in transit');
  assert.equal(T.icmpv4TypeName(99), 'unknown ICMP type 99');
  assert.equal(T.icmpv4CodeName(3, 99), 'destination unreachable, code 99');
  assert.ok(T.isIcmpv4Error(3) && T.isIcmpv4Error(11) && !T.isIcmpv4Error(8));
});

test('ICMPv6 names per RFC 4443 and successors, errors are types below 128', () => {
  assert.equal(T.icmpv6TypeName(2), 'packet too big');
  assert.equal(T.icmpv6CodeName(1, 4), 'port unreachable');
  assert.equal(T.icmpv6CodeName(1, 6), 'reject route to destination'); // seed 003 stopped at code 4
  assert.equal(T.icmpv6CodeName(4, 3), 'IPv6 first fragment has incomplete IPv6 header chain'); // seed: max 2
  assert.equal(T.icmpv6CodeName(3, 0), 'hop limit exceeded in transit');
  assert.equal(T.icmpv6TypeName(128), 'echo request');
  assert.ok(T.isIcmpv6Error(2) && !T.isIcmpv6Error(128));
  assert.ok(T.ICMPV6_EXTENSIBLE.has(1) && !T.ICMPV6_EXTENSIBLE.has(2));
});
