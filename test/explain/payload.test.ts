// Payload arithmetic: what fits in one packet of the path MTU, for each family.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { explain, payloadSizes } from '../../src/explain/index.js';
import { UsageError } from '../../src/errors.js';

test('Ethernet 1500: IPv4 ping -s 1472, MSS 1460; IPv6 ping -s 1452, MSS 1440', () => {
  assert.deepEqual(payloadSizes(1500, 4), { udp: 1472, icmp: 1472, tcpMss: 1460 });
  assert.deepEqual(payloadSizes(1500, 6), { udp: 1452, icmp: 1452, tcpMss: 1440 });
});

test('VXLAN 1450 and the IPv6 minimum 1280', () => {
  assert.deepEqual(payloadSizes(1450, 4), { udp: 1422, icmp: 1422, tcpMss: 1410 });
  assert.deepEqual(payloadSizes(1280, 6), { udp: 1232, icmp: 1232, tcpMss: 1220 });
});

test('IPv4 floor 68 leaves 40 bytes of UDP and 28 of TCP', () => {
  assert.deepEqual(payloadSizes(68, 4), { udp: 40, icmp: 40, tcpMss: 28 });
});

test('headers are IPv4 20 / IPv6 40, UDP and ICMP echo 8, TCP 20, for every MTU', () => {
  fc.assert(
    fc.property(fc.integer({ min: 68, max: 65535 }), fc.constantFrom(4 as const, 6 as const), (mtu, family) => {
      const p = payloadSizes(mtu, family);
      const ip = family === 4 ? 20 : 40;
      assert.equal(p.udp + ip + 8, mtu);
      assert.equal(p.icmp + ip + 8, mtu);
      assert.equal(p.tcpMss + ip + 20, mtu);
    }),
    { numRuns: 200 },
  );
});

test('explain() carries the payload of its family; family defaults to 4', () => {
  assert.deepEqual(explain({ mtu: 1420, family: 6 }).payload, { udp: 1372, icmp: 1372, tcpMss: 1360 });
  const e = explain({ mtu: 1420 });
  assert.equal(e.family, 4);
  assert.equal(e.payload.tcpMss, 1380);
  assert.match(e.summary, /IPv4 assumed/);
});

test('explain() sets direction from the method and keeps localMtu', () => {
  assert.equal(explain({ mtu: 1450, method: 'udp' }).direction, 'forward');
  assert.equal(explain({ mtu: 1450, method: 'icmp' }).direction, 'round-trip');
  assert.equal(explain({ mtu: 1450, method: 'icmp', direction: 'forward' }).direction, 'forward');
  assert.equal(explain({ mtu: 1450 }).direction, undefined);
  const e = explain({ mtu: 1450, localMtu: 1500, method: 'icmp' });
  assert.equal(e.localMtu, 1500);
  assert.match(e.summary, /allows 1500, so 50 bytes are lost beyond it/);
  assert.match(e.summary, /both ways/);
  assert.match(explain({ mtu: 1450, localMtu: 1450 }).summary, /equals this host's interface MTU/);
});

test('explain() rejects MTUs outside 68..65535 and non-integers with a UsageError', () => {
  for (const mtu of [67, 65536, 1450.5, Number.NaN, -1]) {
    assert.throws(() => explain({ mtu }), { code: 'ERR_USAGE' }, String(mtu));
  }
  assert.throws(() => explain({ mtu: 1450, localMtu: 70000 }), { code: 'ERR_USAGE' });
  assert.throws(() => explain({ mtu: 1450, family: 5 as 4 }), { code: 'ERR_USAGE' });
});

test('explain() without an input object, or with a bad iface, is a UsageError (never a TypeError)', () => {
  for (const input of [undefined, null, 1400, 'x']) {
    assert.throws(() => explain(input as never), (e: Error) => e instanceof UsageError && /explain\(\) takes an object such as \{ mtu: 1400 \}/.test(e.message), String(input));
  }
  assert.throws(() => explain({ mtu: '1400' as never }), (e: Error) => e instanceof UsageError && /^mtu must be a whole number/.test(e.message));
  for (const iface of ['eth 0', 'a/b', 'eth0:1', '', 'x'.repeat(16), 7 as never]) {
    assert.throws(() => explain({ mtu: 1400, iface }), (e: Error) => e instanceof UsageError && /^iface must be a Linux interface name/.test(e.message), String(iface));
  }
  assert.equal(explain({ mtu: 1400, iface: 'wg0' }).mtu, 1400);
});

test('an IPv6 answer below 1280 is called out as non-compliant', () => {
  const e = explain({ mtu: 1200, family: 6 });
  assert.match(e.summary, /below the IPv6 minimum of 1280/);
});
