// rtnetlink codec: round trips (header, attributes, route, metrics, cacheinfo, error, link), a
// datagram of several messages, and malformed input -> DecodeError only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import fc from 'fast-check';
import { DecodeError } from '../../src/errors.js';
import * as nl from '../../src/wire/netlink.js';
import { addressFamilies } from '../../src/sock/sockaddr.js';
import { ipv4Addr, ipv6Addr, u32 } from './arbitraries.js';

/** rtm_family numbers: the binding's AF_INET / AF_INET6. */
const AF = addressFamilies();

const RUNS = { numRuns: 200 };
const LE = endianness() === 'LE';

const cacheInfo = fc.record({
  clntref: u32,
  lastuse: u32,
  expires: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  error: fc.integer({ min: -4095, max: 0 }),
  used: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  id: u32,
  ts: u32,
  tsage: u32,
});

const metrics = fc.dictionary(fc.integer({ min: 1, max: 17 }).map(String), u32, { maxKeys: 5 }).map((d) =>
  Object.fromEntries(Object.entries(d).map(([k, v]) => [Number(k), v])),
);

const route = fc.oneof(fc.constant(4 as const), fc.constant(6 as const)).chain((family) => {
  const addr = family === 4 ? ipv4Addr : ipv6Addr;
  return fc.record(
    {
      family: fc.constant(family),
      dstLen: fc.integer({ min: 0, max: family === 4 ? 32 : 128 }),
      srcLen: fc.integer({ min: 0, max: 128 }),
      tos: fc.integer({ min: 0, max: 255 }),
      table: fc.oneof(fc.integer({ min: 0, max: 251 }), fc.integer({ min: 253, max: 255 }), fc.integer({ min: 256, max: 2 ** 32 - 1 })),
      protocol: fc.integer({ min: 0, max: 255 }),
      scope: fc.integer({ min: 0, max: 255 }),
      type: fc.integer({ min: 0, max: 255 }),
      flags: u32,
      dst: addr,
      src: addr,
      gateway: addr,
      prefsrc: addr,
      oif: u32,
      iif: u32,
      priority: u32,
      metrics,
      cacheInfo,
    },
    { requiredKeys: ['family', 'dstLen', 'srcLen', 'tos', 'table', 'protocol', 'scope', 'type', 'flags'] },
  );
});

test('netlink message: encode/decode round trip, padded to 4, several per datagram', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ type: fc.integer({ min: 0, max: 0xffff }), flags: fc.integer({ min: 0, max: 0xffff }), seq: u32, pid: u32, payload: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) }), { minLength: 1, maxLength: 5 }),
      (msgs) => {
        const bufs = msgs.map((m) => nl.encode(m));
        bufs.forEach((b, i) => {
          assert.equal(b.length, nl.encodingLength(msgs[i]!));
          assert.equal(b.length % 4, 0);
        });
        const back = nl.decode(Buffer.concat(bufs));
        assert.deepEqual(back, msgs.map((m) => ({ ...m, payload: Buffer.from(m.payload) })));
      },
    ),
    RUNS,
  );
});

test('route message: decodeRoute(encodeRoute(r)) gives r back, v4 and v6', () => {
  fc.assert(
    fc.property(route, (r) => {
      const back = nl.decodeRoute(AF, nl.encodeRoute(AF, r));
      assert.equal(nl.routeLength(r), nl.encodeRoute(AF, r).length);
      assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(r)));
    }),
    RUNS,
  );
});

test('a route get answer as the kernel lays it out: RTA_METRICS/RTAX_MTU and RTA_CACHEINFO expires', () => {
  // Hand-assembled like Linux's rt_fill_info: rtmsg, RTA_TABLE, RTA_DST, RTA_OIF, RTA_GATEWAY,
  // RTA_METRICS { RTAX_MTU 1300 }, RTA_CACHEINFO (expires 59900 ticks = 599 s).
  const w32 = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    LE ? b.writeUInt32LE(v) : b.writeUInt32BE(v);
    return b;
  };
  const ci = Buffer.alloc(32);
  LE ? ci.writeInt32LE(59900, 8) : ci.writeInt32BE(59900, 8);
  const payload = Buffer.concat([
    Buffer.from([AF[4], 32, 0, 0, 254, 0, 0, 1]),
    w32(nl.RTM_F_CLONED),
    nl.encodeAttrs([
      { type: nl.RTA_TABLE, data: w32(254) },
      { type: nl.RTA_DST, data: Buffer.from([198, 18, 0, 1]) },
      { type: nl.RTA_OIF, data: w32(3) },
      { type: nl.RTA_GATEWAY, data: Buffer.from([198, 18, 2, 1]) },
      { type: nl.RTA_METRICS, data: nl.encodeAttrs([{ type: nl.RTAX_MTU, data: w32(1300) }]) },
      { type: nl.RTA_CACHEINFO, data: ci },
    ]),
  ]);
  const [m] = nl.decode(nl.encode({ type: nl.RTM_NEWROUTE, flags: 0, seq: 7, pid: 0, payload }));
  const r = nl.decodeRoute(AF, m!.payload);
  assert.equal(r.family, 4);
  assert.equal(r.dst, '198.18.0.1');
  assert.equal(r.gateway, '198.18.2.1');
  assert.equal(r.oif, 3);
  assert.equal(r.table, 254);
  assert.equal(r.metrics?.[nl.RTAX_MTU], 1300);
  assert.equal(Math.floor(r.cacheInfo!.expires / nl.USER_HZ), 599);
  assert.ok(r.flags & nl.RTM_F_CLONED);
});

test('cacheinfo, metrics, nlmsgerr and ifinfomsg round trip', () => {
  fc.assert(fc.property(cacheInfo, (ci) => assert.deepEqual(nl.decodeCacheInfo(nl.encodeCacheInfo(ci)), { ...ci })), RUNS);
  fc.assert(fc.property(metrics, (m) => assert.deepEqual(nl.decodeMetrics(nl.encodeMetrics(m)), m)), RUNS);
  const e = { error: -1, request: { length: 36, type: nl.RTM_DELROUTE, flags: 5, seq: 99, pid: 0 } };
  assert.deepEqual(nl.decodeError(nl.encodeError(e)), e);
  const ack = { error: 0, request: { ...e.request } };
  assert.deepEqual(nl.decodeError(nl.encodeError(ack)), ack);
  const link = { family: 0, deviceType: 1, index: 4, flags: 0x1043, change: 0, name: 'eth0', mtu: 1500 };
  assert.deepEqual(nl.decodeLink(nl.encodeLink(link)), link);
});

test('attributes: NLA_F_NESTED is a flag, not part of the type; padding is skipped', () => {
  const b = nl.encodeAttrs([{ type: nl.RTA_METRICS, data: Buffer.from([1, 2, 3]), nested: true }, { type: nl.RTA_OIF, data: Buffer.alloc(4) }]);
  assert.equal(b.length, 8 + 8);
  const back = nl.decodeAttrs(b);
  assert.deepEqual(back.map((a) => [a.type, a.data.length, a.nested ?? false]), [[nl.RTA_METRICS, 3, true], [nl.RTA_OIF, 4, false]]);
});

function throwsDecode(fn: () => unknown, what: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof DecodeError && what.test(err.message));
}

test('malformed input: DecodeError naming what was being read', () => {
  const good = nl.encode({ type: nl.RTM_NEWROUTE, flags: 0, seq: 1, pid: 0, payload: nl.encodeRoute(AF, { family: 4, dstLen: 32, srcLen: 0, tos: 0, table: 254, protocol: 0, scope: 0, type: 1, flags: 0, dst: '198.18.0.1' }) });
  throwsDecode(() => nl.decode(good.subarray(0, 10)), /netlink message header/);
  throwsDecode(() => nl.decode(good.subarray(0, good.length - 4)), /netlink message: truncated/);
  const shortLen = Buffer.from(good);
  LE ? shortLen.writeUInt32LE(8, 0) : shortLen.writeUInt32BE(8, 0);
  throwsDecode(() => nl.decode(shortLen), /nlmsg_len 8/);
  throwsDecode(() => nl.decodeRoute(AF, Buffer.alloc(8)), /rtmsg/);
  const badFamily = Buffer.alloc(12);
  badFamily[0] = 7;
  throwsDecode(() => nl.decodeRoute(AF, badFamily), /address family 7/);
  // an RTA_DST of 3 bytes on an IPv4 route
  const p = Buffer.concat([Buffer.from([2, 32, 0, 0, 254, 0, 0, 1, 0, 0, 0, 0]), nl.encodeAttrs([{ type: nl.RTA_DST, data: Buffer.from([1, 2, 3]) }])]);
  throwsDecode(() => nl.decodeRoute(AF, p), /RTA_DST/);
  // an attribute whose length runs past the end, and one below the header size
  const past = nl.encodeAttrs([{ type: nl.RTA_OIF, data: Buffer.alloc(4) }]);
  LE ? past.writeUInt16LE(40, 0) : past.writeUInt16BE(40, 0);
  throwsDecode(() => nl.decodeAttrs(past), /runs past/);
  const tiny = Buffer.from(past);
  LE ? tiny.writeUInt16LE(2, 0) : tiny.writeUInt16BE(2, 0);
  throwsDecode(() => nl.decodeAttrs(tiny), /rta_len 2/);
  throwsDecode(() => nl.decodeCacheInfo(Buffer.alloc(31)), /rta_cacheinfo/);
  throwsDecode(() => nl.decodeMetrics(nl.encodeAttrs([{ type: nl.RTAX_MTU, data: Buffer.alloc(2) }])), /RTA_METRICS/);
  throwsDecode(() => nl.decodeError(Buffer.alloc(10)), /nlmsgerr/);
  const positive = nl.encodeError({ error: 0, request: { length: 16, type: 0, flags: 0, seq: 0, pid: 0 } });
  LE ? positive.writeInt32LE(5, 0) : positive.writeInt32BE(5, 0);
  throwsDecode(() => nl.decodeError(positive), /positive/);
  throwsDecode(() => nl.decodeLink(Buffer.alloc(15)), /ifinfomsg/);
});

test('random bytes: the decoders throw DecodeError or nothing', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 96 }), (a) => {
      const b = Buffer.from(a);
      for (const fn of [() => nl.decode(b), () => nl.decodeRoute(AF, b), () => nl.decodeAttrs(b), () => nl.decodeLink(b), () => nl.decodeError(b)]) {
        try {
          fn();
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
        }
      }
    }),
    { numRuns: 1000 },
  );
});
