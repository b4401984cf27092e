// What the wire fuzzer feeds and to whom: every decoder in src/wire (with the offset, and for
// decodeAttrs the end, it is given), valid encodings of each kind to damage, and the damage itself
// (bytes flipped, length fields made huge or zero, truncation, offsets that are no offset at all:
// -1, 1.5, NaN, past the end). Shared by test/wire/fuzz.test.ts (a fixed time budget in npm test)
// and bench/fuzz.ts (a longer run that reports executions per second and what it found).
import fc from 'fast-check';
import { DecodeError } from '../../src/errors.js';
import { decodeExtendedError } from '../../src/sock/errqueue.js';
import * as ethernet from '../../src/wire/ethernet.js';
import { splitBody } from '../../src/wire/icmp-extension.js';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as icmpv6 from '../../src/wire/icmpv6.js';
import * as ipv4 from '../../src/wire/ipv4.js';
import * as ipv6 from '../../src/wire/ipv6.js';
import * as nl from '../../src/wire/netlink.js';
import { addressFamilies } from '../../src/sock/sockaddr.js';
import { decodeQuote } from '../../src/wire/quote.js';
import { decodeInet, decodePacket, encodeInet } from '../../src/sock/sockaddr.js';
import * as tcp from '../../src/wire/tcp.js';
import * as udp from '../../src/wire/udp.js';
import * as A from './arbitraries.js';

/** rtm_family numbers: the binding's AF_INET / AF_INET6. */
const AF = addressFamilies();

const pseudo6 = { src: '2001:db8::1', dst: '2001:db8::2' };
const pseudo4 = { src: '198.18.0.1', dst: '198.18.0.2' };

/** A decoder under fuzz: bytes, an offset (ignored by those that take none), an end (decodeAttrs). */
export type Target = (b: Buffer, offset: number, end: number) => unknown;

export const targets: Record<string, Target> = {
  'ipv4.decode': (b, o) => ipv4.decode(b, o),
  'ipv4.payload': (b, o) => ipv4.payload(b, o),
  'ipv6.decode': (b, o) => ipv6.decode(b, o),
  'ipv6.walkExtensions': (b, o) => ipv6.walkExtensions(b, o, b[0] ?? 0, true),
  'ipv6.walkExtensions(strict)': (b, o) => ipv6.walkExtensions(b, o, 60),
  'icmpv4.decode': (b, o) => icmpv4.decode(b, o),
  'icmpv6.decode': (b, o) => icmpv6.decode(b, o, pseudo6),
  'udp.decodeHeader': (b, o) => udp.decodeHeader(b, o),
  'udp.decode': (b, o) => udp.decode(b, o, pseudo4),
  'tcp.decode': (b, o) => tcp.decode(b, o, pseudo4),
  'ethernet.decode': (b, o) => ethernet.decode(b, o),
  'quote.decodeQuote': (b) => decodeQuote(b),
  'quote.decodeQuote(4)': (b) => decodeQuote(b, 4),
  'quote.decodeQuote(6)': (b) => decodeQuote(b, 6),
  'icmp-extension.splitBody(4)': (b, o) => splitBody(b, o, 4),
  'icmp-extension.splitBody(8)': (b, o) => splitBody(b, o, 8),
  'errqueue.decodeExtendedError': (b) => decodeExtendedError(b),
  'sockaddr.decodeInet': (b, o) => decodeInet(b, o),
  'sockaddr.decodePacket': (b) => decodePacket(b),
  'netlink.decode': (b, o) => nl.decode(b, o),
  'netlink.decodeError': (b) => nl.decodeError(b),
  'netlink.decodeAttrs': (b, o, e) => nl.decodeAttrs(b, o, e),
  'netlink.decodeCacheInfo': (b) => nl.decodeCacheInfo(b),
  'netlink.decodeMetrics': (b) => nl.decodeMetrics(b),
  'netlink.decodeRoute': (b) => nl.decodeRoute(AF, b),
  'netlink.decodeLink': (b) => nl.decodeLink(b),
};

/** Offsets (and ends) a caller could pass by mistake or malice, and ordinary ones. */
export const HOSTILE_OFFSETS = [-1, -0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER + 2];
export const offset = fc.oneof({ weight: 3, arbitrary: fc.nat(64) }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_OFFSETS) });
/** Mostly 0 (where the encodings start), sometimes anywhere, sometimes hostile. */
const startOffset = fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: offset });

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const route = fc.record({
  family: fc.constantFrom(4 as const, 6 as const),
  dstLen: fc.integer({ min: 0, max: 32 }),
  srcLen: fc.constant(0),
  tos: A.u8,
  table: fc.oneof(fc.constant(254), u32),
  protocol: A.u8,
  scope: A.u8,
  type: A.u8,
  flags: u32,
  oif: u32,
  metrics: fc.dictionary(fc.integer({ min: 1, max: 16 }).map(String), u32, { maxKeys: 4 }).map((m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [Number(k), v])) as nl.Metrics),
  cacheInfo: fc.record({ clntref: u32, lastuse: u32, expires: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), error: fc.integer({ min: -4095, max: 0 }), used: fc.integer({ min: 0, max: 2 ** 31 - 1 }), id: u32, ts: u32, tsage: u32 }),
}).map((r) => ({ ...r, ...(r.family === 4 ? { dst: '198.18.1.2' } : { dst: '2001:db8::2' }) }));

/** Valid encodings of every kind the decoders read. */
export const valid: fc.Arbitrary<Buffer> = fc.oneof(
  A.ipv4Header.map((h) => ipv4.encode(h)),
  A.ipv6Header.map((h) => ipv6.encode(h)),
  A.icmpv4Message.map((m) => icmpv4.encode(m)),
  A.icmpv6Message.map((m) => icmpv6.encode(m)),
  A.udpDatagram.map((d) => udp.encode(d)),
  A.tcpSegment.map((s) => tcp.encode(s)),
  A.ethernetHeader.map((h) => ethernet.encode(h)),
  // Quote-shaped: an IP header, then what an ICMP error quotes.
  fc.tuple(A.ipv4Header, A.icmpv4Message).map(([h, m]) => Buffer.concat([ipv4.encode({ ...h, protocol: 1 }), icmpv4.encode(m)])),
  fc.tuple(A.ipv6Header, A.udpDatagram).map(([h, d]) => Buffer.concat([ipv6.encode({ ...h, protocol: 17 }), udp.encode(d)])),
  fc.tuple(A.ipv4Header, A.tcpSegment).map(([h, s]) => Buffer.concat([ipv4.encode({ ...h, protocol: 6 }), tcp.encode(s)])),
  route.map((r) => nl.encode({ type: nl.RTM_NEWROUTE, flags: 0, seq: 1, pid: 0, payload: nl.encodeRoute(AF, r as nl.RouteMessage) })),
  route.map((r) => nl.encodeRoute(AF, r as nl.RouteMessage)),
  fc.record({ mtu: u32, name: fc.string({ maxLength: 15 }) }).map((l) => nl.encodeLink({ family: 0, deviceType: 1, index: 2, flags: 0, change: 0, mtu: l.mtu, name: l.name })),
  fc.tuple(A.u16, A.ipv4Addr).map(([port, address]) => encodeInet({ family: 4, address, port })),
  fc.tuple(A.u16, A.ipv6Addr).map(([port, address]) => encodeInet({ family: 6, address, port })),
);

/** One piece of damage to a buffer. */
type Edit = { kind: 'byte'; at: number; value: number } | { kind: 'huge'; at: number; width: 2 | 4 } | { kind: 'zero'; at: number; width: 2 | 4 } | { kind: 'flip'; at: number; bit: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: A.u8 }),
  fc.record({ kind: fc.constant('huge' as const), at: fc.nat(), width: fc.constantFrom(2 as const, 4 as const) }),
  fc.record({ kind: fc.constant('zero' as const), at: fc.nat(), width: fc.constantFrom(2 as const, 4 as const) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
);

function damage(pkt: Buffer, edits: Edit[], cut: number | null): Buffer {
  const b = Buffer.from(pkt);
  if (b.length > 0) {
    for (const e of edits) {
      const at = e.at % b.length;
      if (e.kind === 'byte') b[at] = e.value;
      else if (e.kind === 'flip') b[at] ^= 1 << e.bit;
      else for (let i = 0; i < e.width && at + i < b.length; i++) b[at + i] = e.kind === 'huge' ? 0xff : 0;
    }
  }
  return cut === null ? b : b.subarray(0, cut % (b.length + 1));
}

/** A fuzz input: random bytes, or a valid encoding damaged; then an offset and an end. */
const damaged = fc.tuple(valid, fc.array(edit, { maxLength: 4 }), fc.option(fc.nat(), { nil: null })).map(([p, e, c]) => damage(p, e, c));
const end = fc.oneof({ weight: 3, arbitrary: fc.constant(-2) /* = the buffer's length */ }, { weight: 1, arbitrary: offset });

export const input: fc.Arbitrary<Input> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ bytes: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), offset: startOffset, end }) },
  { weight: 3, arbitrary: fc.record({ bytes: damaged, offset: startOffset, end }) },
  // An encoding that starts further in, behind bytes of something else: the offset finds it.
  {
    weight: 1,
    arbitrary: fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 24 }), damaged, end).map(([pre, b, e]) => ({ bytes: Buffer.concat([pre, b]), offset: pre.length, end: e })),
  },
);
export type Input = { bytes: Buffer; offset: number; end: number };

/** What a decoder did with an input that broke the rule: anything but a decode or a DecodeError. */
export function misbehaviour(name: string, x: Input): string | null {
  const end = x.end === -2 ? x.bytes.length : x.end;
  try {
    targets[name]!(x.bytes, x.offset, end);
    return null;
  } catch (e) {
    if (e instanceof DecodeError) return null;
    return `${name}(${x.bytes.toString('hex') || '<empty>'}, offset ${x.offset}, end ${end}) threw ${(e as Error)?.name}: ${(e as Error)?.message}`;
  }
}
