// Property: decode(encode(x)) gives back x, for every codec. Decoders add derived fields
// (headerLength, checksum, ...); the comparison is over the fields x has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as ethernet from '../../src/wire/ethernet.js';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as icmpv6 from '../../src/wire/icmpv6.js';
import * as ipv4 from '../../src/wire/ipv4.js';
import * as ipv6 from '../../src/wire/ipv6.js';
import * as tcp from '../../src/wire/tcp.js';
import * as udp from '../../src/wire/udp.js';
import * as A from './arbitraries.js';

const RUNS = { numRuns: 300 };

/** fast-check builds records without a prototype; strict deepEqual compares prototypes. */
function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v) || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(plain);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

/** The decoded value restricted to the keys of the original (extension: only its objects). */
function sameFields(decoded: object, original: object): void {
  const d = decoded as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const k of Object.keys(original)) {
    const v = d[k];
    picked[k] = k === 'extension' && v ? { objects: (v as { objects: unknown }).objects } : v;
  }
  assert.deepEqual(plain(picked), plain(original));
}

function roundTrip<T extends object>(
  arb: fc.Arbitrary<T>,
  enc: { (x: T, b?: Buffer, o?: number): Buffer; bytes: number },
  dec: (b: Buffer, o?: number) => object,
  len: (x: T) => number,
): void {
  fc.assert(
    fc.property(arb, fc.nat(5), (x, pad) => {
      const alone = enc(x);
      assert.equal(alone.length, len(x));
      assert.equal(enc.bytes, len(x));
      sameFields(dec(alone), x);
      // Into a caller's buffer at an offset: the same bytes, nothing written outside.
      const into = Buffer.alloc(pad + len(x) + 3, 0xee);
      enc(x, into, pad);
      assert.deepEqual(into.subarray(pad, pad + len(x)), alone);
      assert.ok(into.subarray(0, pad).every((b) => b === 0xee) && into.subarray(pad + len(x)).every((b) => b === 0xee));
      sameFields(dec(into.subarray(0, pad + len(x)), pad), x);
    }),
    RUNS,
  );
}

test('ipv4 header round-trips, with a valid checksum', () => {
  roundTrip(A.ipv4Header, ipv4.encode, (b, o) => {
    const h = ipv4.decode(b, o);
    assert.equal(h.checksumValid, true);
    assert.equal(h.headerLength, 20 + h.options.length);
    return h;
  }, ipv4.encodingLength);
});

test('ipv6 header and extension chain round-trip', () => {
  roundTrip(A.ipv6Header, ipv6.encode, ipv6.decode, ipv6.encodingLength);
});

test('icmpv4 messages round-trip, with a valid checksum', () => {
  roundTrip(A.icmpv4Message, icmpv4.encode, (b, o) => {
    const m = icmpv4.decode(b, o);
    assert.equal(m.checksumValid, true);
    return m;
  }, icmpv4.encodingLength);
});

test('icmpv6 messages round-trip; the pseudo-header checksum verifies only with the right addresses', () => {
  const pseudo = { src: '2001:db8::1', dst: '2001:db8:1::2' };
  fc.assert(
    fc.property(A.icmpv6Message, (m) => {
      const b = icmpv6.encode(m, undefined, 0, pseudo);
      const d = icmpv6.decode(b, 0, pseudo);
      assert.equal(d.checksumValid, true);
      sameFields(d, m);
      assert.equal(icmpv6.decode(b, 0, { src: '2001:db8::1', dst: '2001:db8:1::3' }).checksumValid, false);
      assert.equal(icmpv6.decode(b).checksumValid, undefined);
    }),
    RUNS,
  );
  roundTrip(A.icmpv6Message, icmpv6.encode, icmpv6.decode, icmpv6.encodingLength);
});

test('udp round-trips over IPv4 and IPv6 with a verified checksum (never 0 on the wire)', () => {
  roundTrip(A.udpDatagram, udp.encode, udp.decode, udp.encodingLength);
  fc.assert(
    fc.property(A.udpDatagram, fc.boolean(), A.ipv4Addr, A.ipv4Addr, A.ipv6Addr, A.ipv6Addr, (d, v6, s4, d4, s6, d6) => {
      const pseudo = v6 ? { src: s6, dst: d6 } : { src: s4, dst: d4 };
      const b = udp.encode(d, undefined, 0, pseudo);
      assert.notEqual(b.readUInt16BE(6), 0);
      const got = udp.decode(b, 0, pseudo);
      assert.equal(got.checksumValid, true);
      sameFields(got, d);
    }),
    RUNS,
  );
});

test('tcp segments with options round-trip with a verified checksum', () => {
  roundTrip(A.tcpSegment, tcp.encode, tcp.decode, tcp.encodingLength);
  const pseudo = { src: '198.18.0.1', dst: '198.18.2.2' };
  fc.assert(
    fc.property(A.tcpSegment, (s) => {
      const b = tcp.encode(s, undefined, 0, pseudo);
      assert.equal(tcp.decode(b, 0, pseudo).checksumValid, true);
      b[4] ^= 0x5a; // the sequence number
      assert.equal(tcp.decode(b, 0, pseudo).checksumValid, false);
    }),
    RUNS,
  );
});

test('ethernet header with VLAN tags round-trips', () => {
  roundTrip(A.ethernetHeader, ethernet.encode, ethernet.decode, ethernet.encodingLength);
});

test('a corrupted byte makes every checksum verification fail', () => {
  fc.assert(
    fc.property(A.ipv4Header, fc.nat(), fc.integer({ min: 1, max: 255 }), (h, at, x) => {
      const b = ipv4.encode(h);
      b[at % b.length] ^= x;
      // Flipping the version nibble makes it undecodable; everything else must fail the checksum.
      let valid: boolean;
      try {
        valid = ipv4.decode(b).checksumValid;
      } catch {
        return;
      }
      assert.equal(valid, false);
    }),
    RUNS,
  );
  fc.assert(
    fc.property(A.icmpv4Message, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, x) => {
      const b = icmpv4.encode(m);
      b[at % b.length] ^= x;
      assert.equal(icmpv4.decode(b).checksumValid, false);
    }),
    RUNS,
  );
  const pseudo = { src: '198.18.0.1', dst: '198.18.1.1' };
  fc.assert(
    fc.property(A.udpDatagram, fc.nat(), fc.integer({ min: 1, max: 255 }), (d, at, x) => {
      const b = udp.encode(d, undefined, 0, pseudo);
      const i = at % b.length;
      if (i === 4 || i === 5) return; // the length field: covered by decode's own bounds checks
      b[i] ^= x;
      // A checksum corrupted into 0 means "none" over IPv4: legitimately accepted.
      if (b.readUInt16BE(6) === 0) return;
      assert.equal(udp.decode(b, 0, pseudo).checksumValid, false);
    }),
    RUNS,
  );
});
