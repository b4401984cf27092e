// Hostile bytes: every decoder either decodes or throws DecodeError — never a RangeError, a
// TypeError or a hang. Random buffers, plus valid packets with bytes overwritten and truncated
// (which reach much deeper into each decoder than pure noise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../src/errors.js';
import * as ethernet from '../../src/wire/ethernet.js';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as icmpv6 from '../../src/wire/icmpv6.js';
import * as ipv4 from '../../src/wire/ipv4.js';
import * as ipv6 from '../../src/wire/ipv6.js';
import * as tcp from '../../src/wire/tcp.js';
import * as udp from '../../src/wire/udp.js';
import { decodeQuote } from '../../src/wire/quote.js';
import * as A from './arbitraries.js';

const pseudo6 = { src: '2001:db8::1', dst: '2001:db8::2' };
const pseudo4 = { src: '198.18.0.1', dst: '198.18.0.2' };

const decoders: Record<string, (b: Buffer) => unknown> = {
  ipv4: (b) => ipv4.decode(b),
  ipv4Payload: (b) => ipv4.payload(b),
  ipv6: (b) => ipv6.decode(b),
  ipv6Walk: (b) => ipv6.walkExtensions(b, 0, 0, true),
  icmpv4: (b) => icmpv4.decode(b),
  icmpv6: (b) => icmpv6.decode(b, 0, pseudo6),
  udp: (b) => udp.decode(b, 0, pseudo4),
  tcp: (b) => tcp.decode(b, 0, pseudo4),
  ethernet: (b) => ethernet.decode(b),
  quote: (b) => decodeQuote(b),
  quote4: (b) => decodeQuote(b, 4),
};

function decodesOrDecodeError(name: string, b: Buffer): void {
  try {
    decoders[name](b);
  } catch (e) {
    assert.ok(e instanceof DecodeError, `${name} threw ${(e as Error)?.name}: ${(e as Error)?.message} on ${b.toString('hex')}`);
  }
}

test('random bytes: every decoder decodes or throws DecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (a) => {
      const b = Buffer.from(a);
      for (const name of Object.keys(decoders)) decodesOrDecodeError(name, b);
    }),
    { numRuns: 2000 },
  );
});

// Valid packets of each kind, then damaged: a few bytes overwritten, then cut at a random length.
const valid = fc.oneof(
  A.ipv4Header.map((h) => ipv4.encode(h)),
  A.ipv6Header.map((h) => ipv6.encode(h)),
  A.icmpv4Message.map((m) => icmpv4.encode(m)),
  A.icmpv6Message.map((m) => icmpv6.encode(m)),
  A.udpDatagram.map((d) => udp.encode(d)),
  A.tcpSegment.map((s) => tcp.encode(s)),
  A.ethernetHeader.map((h) => ethernet.encode(h)),
  // A quote-shaped buffer: IP header then an ICMP error.
  fc.tuple(A.ipv4Header, A.icmpv4Message).map(([h, m]) => Buffer.concat([ipv4.encode({ ...h, protocol: 1 }), icmpv4.encode(m)])),
  fc.tuple(A.ipv6Header, A.udpDatagram).map(([h, d]) => Buffer.concat([ipv6.encode({ ...h, protocol: 17 }), udp.encode(d)])),
);

test('damaged valid packets: every decoder decodes or throws DecodeError', () => {
  fc.assert(
    fc.property(valid, fc.array(fc.tuple(fc.nat(), A.u8), { maxLength: 4 }), fc.nat(), (pkt, edits, cut) => {
      const b = Buffer.from(pkt);
      for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
      const damaged = b.subarray(0, b.length === 0 ? 0 : cut % (b.length + 1));
      for (const name of Object.keys(decoders)) {
        decodesOrDecodeError(name, b);
        decodesOrDecodeError(name, damaged);
      }
    }),
    { numRuns: 2000 },
  );
});

test('decoding at an offset past the end is a DecodeError too', () => {
  for (const d of [ipv4.decode, ipv6.decode, icmpv4.decode, icmpv6.decode, udp.decode, tcp.decode, ethernet.decode]) {
    assert.throws(() => d(Buffer.alloc(10), 50), DecodeError);
    assert.throws(() => d(Buffer.alloc(10), -1), DecodeError);
  }
});

test('an IPv6 chain of many extension headers stops at the cap instead of running on', () => {
  const ext = Buffer.from([60, 0, 0, 0, 0, 0, 0, 0]); // destination options pointing at another one
  const chain = Buffer.concat(Array.from({ length: 40 }, () => ext));
  assert.throws(() => ipv6.walkExtensions(chain, 0, 60), DecodeError);
});
