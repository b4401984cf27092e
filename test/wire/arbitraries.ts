// fast-check arbitraries for the wire codecs' values (shared by the round-trip and fuzz tests).
import fc from 'fast-check';
import { bytesToIp } from '../../src/wire/addr.js';

const buf = (min: number, max: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
export const bytes = buf;

export const ipv4Addr = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => bytesToIp(Buffer.from(a), 0, 4));
// Mix random and zero-heavy groups so compression ("::") and mapped forms are exercised.
export const ipv6Addr = fc
  .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((w) => {
    const b = Buffer.alloc(16);
    w.forEach((x, i) => b.writeUInt16BE(x, 2 * i));
    return bytesToIp(b, 0, 6);
  });

export const u8 = fc.integer({ min: 0, max: 255 });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });

export const ipv4Header = fc.record({
  dscp: fc.integer({ min: 0, max: 63 }),
  ecn: fc.integer({ min: 0, max: 3 }),
  totalLength: u16,
  id: u16,
  df: fc.boolean(),
  mf: fc.boolean(),
  fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
  ttl: u8,
  protocol: u8,
  src: ipv4Addr,
  dst: ipv4Addr,
  options: fc.integer({ min: 0, max: 10 }).chain((n) => buf(4 * n, 4 * n)),
});

const genericExt = fc
  .record({ type: fc.constantFrom(0 as const, 43 as const, 60 as const, 51 as const), units: fc.integer({ min: 0, max: 4 }) })
  .chain(({ type, units }) => buf(6 + 8 * units, 6 + 8 * units).map((data) => ({ type, data })));
const fragmentExt = fc.record({ type: fc.constant(44 as const), fragmentOffset: fc.integer({ min: 0, max: 0x1fff }), mf: fc.boolean(), id: u32 });

export const ipv6Header = fc.record({
  trafficClass: u8,
  flowLabel: fc.integer({ min: 0, max: 0xfffff }),
  payloadLength: u16,
  hopLimit: u8,
  src: ipv6Addr,
  dst: ipv6Addr,
  // Hop-by-hop may only come first: drop it elsewhere.
  extensions: fc.array(fc.oneof(genericExt, fragmentExt), { maxLength: 4 }).map((xs) => xs.filter((e, i) => e.type !== 0 || i === 0)),
  protocol: fc.constantFrom(6, 17, 58, 59, 1, 253),
});

export const extension = fc.option(
  fc.record({ objects: fc.array(fc.record({ classNum: u8, cType: u8, payload: buf(0, 20) }), { maxLength: 3 }) }),
  { nil: null },
);

/** A quote the RFC 4884 encoding reproduces exactly: padded to >= 128 and to `unit` if extended. */
type Quote = { quoted: Buffer; extension: { objects: { classNum: number; cType: number; payload: Buffer }[] } | null };
export function quoteFor(unit: 4 | 8): fc.Arbitrary<Quote> {
  return extension.chain((ext): fc.Arbitrary<Quote> =>
    ext ? fc.integer({ min: 128 / unit, max: 40 }).chain((n) => buf(n * unit, n * unit)).map((quoted) => ({ quoted, extension: ext }))
        : buf(0, 200).map((quoted) => ({ quoted, extension: null })),
  );
}

export const icmpv4Message = fc.oneof(
  fc.record({ kind: fc.constantFrom('echoRequest' as const, 'echoReply' as const), code: u8, id: u16, seq: u16, payload: buf(0, 100) }),
  fc.record({ code: u8, nextHopMtu: u16, q: quoteFor(4) }).map(({ code, nextHopMtu, q }) => ({ kind: 'destUnreachable' as const, code, nextHopMtu, ...q })),
  fc.record({ code: u8, q: quoteFor(4) }).map(({ code, q }) => ({ kind: 'timeExceeded' as const, code, ...q })),
  fc.record({ code: u8, pointer: u8, q: quoteFor(4) }).map(({ code, pointer, q }) => ({ kind: 'parameterProblem' as const, code, pointer, ...q })),
  fc.record({ kind: fc.constant('redirect' as const), code: u8, gateway: ipv4Addr, quoted: buf(0, 60) }),
  fc.record({ kind: fc.constant('other' as const), type: fc.constantFrom(4, 9, 10, 13, 14, 42, 200), code: u8, rest: buf(4, 4), payload: buf(0, 40) }),
);

export const icmpv6Message = fc.oneof(
  fc.record({ kind: fc.constantFrom('echoRequest' as const, 'echoReply' as const), code: u8, id: u16, seq: u16, payload: buf(0, 100) }),
  fc.record({ code: u8, q: quoteFor(8) }).map(({ code, q }) => ({ kind: 'destUnreachable' as const, code, ...q })),
  fc.record({ code: u8, q: quoteFor(8) }).map(({ code, q }) => ({ kind: 'timeExceeded' as const, code, ...q })),
  fc.record({ kind: fc.constant('packetTooBig' as const), code: u8, mtu: u32, quoted: buf(0, 200) }),
  fc.record({ kind: fc.constant('parameterProblem' as const), code: u8, pointer: u32, quoted: buf(0, 100) }),
  fc.record({ kind: fc.constant('redirect' as const), code: u8, target: ipv6Addr, destination: ipv6Addr, options: buf(0, 24) }),
  fc.record({ kind: fc.constant('other' as const), type: fc.constantFrom(0, 5, 127, 130, 133, 135, 200), code: u8, rest: buf(4, 4), payload: buf(0, 40) }),
);

export const udpDatagram = fc.record({ srcPort: u16, dstPort: u16, payload: buf(0, 300) });

const tcpOption = fc.oneof(
  fc.constant({ type: 'nop' as const }),
  fc.record({ type: fc.constant('mss' as const), value: u16 }),
  fc.record({ type: fc.constant('windowScale' as const), shift: u8 }),
  fc.constant({ type: 'sackPermitted' as const }),
  fc.record({ type: fc.constant('sack' as const), blocks: fc.array(fc.record({ left: u32, right: u32 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ type: fc.constant('timestamps' as const), value: u32, echo: u32 }),
  fc.record({ type: fc.constant('unknown' as const), kind: fc.constantFrom(6, 7, 9, 28, 30, 34, 254), data: buf(0, 6) }),
);

export const tcpSegment = fc.record({
  srcPort: u16,
  dstPort: u16,
  seq: u32,
  ackNumber: u32,
  flags: fc.record({ fin: fc.boolean(), syn: fc.boolean(), rst: fc.boolean(), psh: fc.boolean(), ack: fc.boolean(), urg: fc.boolean(), ece: fc.boolean(), cwr: fc.boolean() }),
  window: u16,
  urgentPointer: u16,
  // Keep the options within the 40 bytes a header can hold.
  options: fc.array(tcpOption, { maxLength: 4 }).filter((os) => os.reduce((n, o) => n + (o.type === 'nop' ? 1 : o.type === 'sack' ? 2 + 8 * o.blocks.length : o.type === 'unknown' ? 2 + o.data.length : 10), 0) <= 40),
  payload: buf(0, 200),
});

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((a) => [...a].map((x) => x.toString(16).padStart(2, '0')).join(':'));
export const ethernetHeader = fc.record({
  dst: mac,
  src: mac,
  tags: fc.array(fc.record({ tpid: fc.constantFrom(0x8100, 0x88a8, 0x9100), pcp: fc.integer({ min: 0, max: 7 }), dei: fc.boolean(), vid: fc.integer({ min: 0, max: 4095 }) }), { maxLength: 3 }),
  ethertype: fc.constantFrom(0x0800, 0x86dd, 0x0806, 0x88cc, 0x05dc),
});
