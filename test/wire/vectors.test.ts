// Known packets, built and checksummed independently (Python struct + the RFC 1071 loop), decoded
// here field by field: what the probe layer relies on to match an error to its probe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as icmpv6 from '../../src/wire/icmpv6.js';
import * as ipv4 from '../../src/wire/ipv4.js';
import * as ipv6 from '../../src/wire/ipv6.js';
import * as tcp from '../../src/wire/tcp.js';
import * as udp from '../../src/wire/udp.js';
import * as ethernet from '../../src/wire/ethernet.js';
import { decodeQuote } from '../../src/wire/quote.js';
import { checksum } from '../../src/wire/checksum.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Router 198.18.1.1 tells 198.18.0.2 its 1500-byte UDP probe (DF, id 0xbeef, 40000 -> 33434) to
// 198.18.2.2 needs fragmenting at 1400; the quote is the RFC 792 minimum: IP header + 8 bytes.
const FRAG_NEEDED =
  '45000038123400004001db69c6120101c6120002' + // outer IPv4, ICMP, checksum 0xdb69
  '0304789600000578' + //                           type 3 code 4, checksum 0x7896, next-hop MTU 1400
  '450005dcbeef40003f11e8f8c6120002c6120202' + //   quoted IPv4: 1500 bytes, DF, TTL 63
  '9c40829a05c85a4a'; //                             quoted UDP: 40000 -> 33434, length 1480

test('ICMPv4 fragmentation needed: outer header, next-hop MTU and the 8-byte quote', () => {
  const pkt = hex(FRAG_NEEDED);
  const ip = ipv4.decode(pkt);
  assert.equal(ip.checksumValid, true);
  assert.equal(ip.checksum, 0xdb69);
  assert.deepEqual([ip.src, ip.dst, ip.protocol, ip.ttl, ip.totalLength, ip.headerLength], ['198.18.1.1', '198.18.0.2', 1, 64, 56, 20]);
  const m = icmpv4.decode(ipv4.payload(pkt));
  assert.equal(m.kind, 'destUnreachable');
  assert.equal(m.checksumValid, true);
  if (m.kind !== 'destUnreachable') return;
  assert.equal(m.code, 4);
  assert.equal(m.nextHopMtu, 1400);
  assert.equal(m.extension, null);
  const q = decodeQuote(m.quoted);
  assert.deepEqual(
    { ...q, transport: undefined },
    {
      family: 4, src: '198.18.0.2', dst: '198.18.2.2', protocol: 17, ttl: 63, totalLength: 1500, id: 0xbeef, df: true,
      headerChecksumValid: true, headerLength: 20, quotedLength: 28, payloadQuoted: 0, complete: false, transport: undefined,
    },
  );
  assert.deepEqual(q.transport, { kind: 'udp', srcPort: 40000, dstPort: 33434, length: 1480, checksum: 0x5a4a, payload: Buffer.alloc(0) });
});

// Router 2001:db8:1::1 tells 2001:db8::2 that its 1512-byte UDP probe (40001 -> 33435) to
// 2001:db8:2::2 is too big for 1400; it quotes as much as fits in 1280 bytes. The payload bytes
// are (i * 5 + 1) & 0xff. ICMPv6 checksum 0xc40c, quoted UDP checksum 0xf77d (computed in Python).
const PTB_HEAD =
  '0200c40c00000578' + //                                              type 2, checksum, MTU 1400
  '6000000005b4113f20010db800000000000000000000000220010db8000200000000000000000002' + // IPv6
  '9c41829b05b4f77d'; //                                               UDP 40001 -> 33435, length 1460
function ptb(): Buffer {
  const pl = Buffer.alloc(1240 - 56);
  for (let i = 0; i < pl.length; i++) pl[i] = (i * 5 + 1) & 0xff;
  return Buffer.concat([hex(PTB_HEAD), pl]);
}

test('ICMPv6 packet too big quoting UDP: pseudo-header checksum, 32-bit MTU, the quote', () => {
  const b = ptb();
  const pseudo = { src: '2001:db8:1::1', dst: '2001:db8::2' };
  assert.equal(icmpv6.computeChecksum(Buffer.concat([b.subarray(0, 2), Buffer.alloc(2), b.subarray(4)]), pseudo), 0xc40c);
  const m = icmpv6.decode(b, 0, pseudo);
  assert.equal(m.checksumValid, true);
  assert.equal(icmpv6.decode(b, 0, { src: '2001:db8:1::1', dst: '2001:db8::3' }).checksumValid, false);
  assert.equal(m.kind, 'packetTooBig');
  if (m.kind !== 'packetTooBig') return;
  assert.equal(m.mtu, 1400);
  const q = decodeQuote(m.quoted, 6);
  assert.equal(q.family, 6);
  assert.equal(q.src, '2001:db8::2');
  assert.equal(q.dst, '2001:db8:2::2');
  assert.equal(q.protocol, 17);
  assert.equal(q.ttl, 63);
  assert.equal(q.totalLength, 1500);
  assert.equal(q.id, null);
  assert.equal(q.quotedLength, 1232);
  assert.equal(q.payloadQuoted, 1232 - 48);
  assert.equal(q.complete, false);
  assert.equal(q.transport?.kind, 'udp');
  if (q.transport?.kind !== 'udp') return;
  assert.deepEqual([q.transport.srcPort, q.transport.dstPort, q.transport.length, q.transport.checksum], [40001, 33435, 1460, 0xf77d]);
  assert.equal(q.transport.payload[10], (10 * 5 + 1) & 0xff);
});

test('quote of an ICMP echo request keeps id, seq and the payload bytes present', () => {
  const echo = icmpv4.encode({ kind: 'echoRequest', code: 0, id: 0x1234, seq: 7, payload: Buffer.from('pathmtu-nonce-42') });
  const hdr = ipv4.encode({ dscp: 0, ecn: 0, totalLength: 20 + echo.length, id: 9, df: true, mf: false, fragmentOffset: 0, ttl: 1, protocol: 1, src: '198.18.0.2', dst: '198.18.3.3', options: Buffer.alloc(0) });
  // RFC 1812 routers quote more than 8 bytes; RFC 4884 pads with zeros, cut by totalLength.
  const quoted = Buffer.concat([hdr, echo, Buffer.alloc(64)]);
  const q = decodeQuote(quoted);
  assert.equal(q.complete, true);
  assert.equal(q.quotedLength, 20 + echo.length);
  assert.deepEqual(q.transport, { kind: 'icmpEcho', type: 8, code: 0, id: 0x1234, seq: 7, payload: Buffer.from('pathmtu-nonce-42') });
  assert.equal(q.payloadQuoted, 16);
});

test('quote of a TCP SYN and of a non-first fragment', () => {
  const syn = tcp.encode({ srcPort: 50000, dstPort: 443, seq: 0xdeadbeef, ackNumber: 0, flags: { syn: true }, window: 64240, urgentPointer: 0, options: [{ type: 'mss', value: 1460 }], payload: Buffer.alloc(0) });
  const base = { dscp: 0, ecn: 0, totalLength: 20 + syn.length, id: 1, df: true, mf: false, fragmentOffset: 0, ttl: 1, protocol: 6, src: '198.18.0.2', dst: '198.18.3.3', options: Buffer.alloc(0) };
  const q = decodeQuote(Buffer.concat([ipv4.encode(base), syn.subarray(0, 8)]));
  assert.deepEqual(q.transport, { kind: 'tcp', srcPort: 50000, dstPort: 443, seq: 0xdeadbeef });
  const frag = decodeQuote(Buffer.concat([ipv4.encode({ ...base, fragmentOffset: 185 }), syn.subarray(0, 8)]));
  assert.equal(frag.transport, null); // bytes from the middle of a datagram are not a header
});

test('IPv6 quote through hop-by-hop and fragment headers; a chain cut short is reported, not thrown', () => {
  const u = udp.encode({ srcPort: 1, dstPort: 2, payload: Buffer.from('abcdefgh') });
  const h = ipv6.encode({
    trafficClass: 0, flowLabel: 0, payloadLength: 8 + 8 + u.length, hopLimit: 1, src: '2001:db8::2', dst: '2001:db8:9::9', protocol: 17,
    extensions: [{ type: 0, data: Buffer.from([1, 4, 0, 0, 0, 0]) }, { type: 44, fragmentOffset: 0, mf: true, id: 0xcafe0001 }],
  });
  const q = decodeQuote(Buffer.concat([h, u]));
  assert.equal(q.protocol, 17);
  assert.equal(q.id, 0xcafe0001);
  assert.equal(q.headerLength, 56);
  assert.equal(q.transport?.kind, 'udp');
  const cut = decodeQuote(Buffer.concat([h, u]).subarray(0, 50));
  assert.equal(cut.protocol, 44); // stopped at the fragment header it could not read
  assert.equal(cut.transport, null);
});

test('RFC 4884: a time exceeded with an RFC 5837 interface object keeps quote and extension apart', () => {
  const quoted = Buffer.concat([hex(FRAG_NEEDED).subarray(28), Buffer.alloc(100)]); // a 128-byte original datagram
  const ifInfo = { classNum: 2, cType: 0b00001100, payload: hex('00000003') }; // ifIndex 3, role incoming
  const b = icmpv4.encode({ kind: 'timeExceeded', code: 0, quoted, extension: { objects: [ifInfo] } });
  assert.equal(b[5], 128 / 4, 'length attribute in 32-bit words');
  const m = icmpv4.decode(b);
  assert.equal(m.kind, 'timeExceeded');
  if (m.kind !== 'timeExceeded') return;
  assert.equal(m.quoted.length, 128);
  assert.equal(m.extension?.version, 2);
  assert.equal(m.extension?.checksumValid, true);
  assert.deepEqual(m.extension?.objects, [ifInfo]);
  assert.equal(decodeQuote(m.quoted).quotedLength, 128); // the original was 1500 bytes: all 128 are its own
  // A pre-RFC 4884 sender (length attribute 0, e.g. RFC 4950 MPLS) is still understood.
  const legacy = Buffer.from(b);
  legacy[5] = 0;
  legacy.writeUInt16BE(0, 2);
  legacy.writeUInt16BE(checksum(legacy), 2);
  const l = icmpv4.decode(legacy);
  assert.ok(l.kind === 'timeExceeded' && l.extension?.objects.length === 1);
  // ICMPv6 counts the length attribute in 64-bit words.
  const v6 = icmpv6.encode({ kind: 'destUnreachable', code: 4, quoted: Buffer.alloc(130, 0x60), extension: { objects: [ifInfo] } });
  assert.equal(v6[4], 136 / 8);
  const d6 = icmpv6.decode(v6);
  assert.ok(d6.kind === 'destUnreachable' && d6.quoted.length === 136 && d6.extension?.objects[0].classNum === 2);
});

test('ICMP extension objects that overrun are flagged malformed; the quote stays usable', () => {
  const b = icmpv4.encode({ kind: 'destUnreachable', code: 4, nextHopMtu: 1400, quoted: Buffer.alloc(128), extension: { objects: [{ classNum: 1, cType: 1, payload: hex('00064101') }] } });
  b.writeUInt16BE(200, 8 + 128 + 4); // object length beyond the message
  const m = icmpv4.decode(b);
  assert.ok(m.kind === 'destUnreachable' && m.extension?.malformed === true && m.extension.objects.length === 0);
  assert.equal(m.kind === 'destUnreachable' && m.nextHopMtu, 1400);
});

test('Ethernet frame with 802.1ad + 802.1Q tags (QinQ) carrying IPv4', () => {
  const f = hex('ffffffffffff 020000000001 88a8 2064 8100 a0c8 0800 4500');
  const e = ethernet.decode(f);
  assert.equal(e.dst, 'ff:ff:ff:ff:ff:ff');
  assert.equal(e.src, '02:00:00:00:00:01');
  assert.deepEqual(e.tags, [
    { tpid: 0x88a8, pcp: 1, dei: false, vid: 100 },
    { tpid: 0x8100, pcp: 5, dei: false, vid: 200 },
  ]);
  assert.equal(e.ethertype, 0x0800);
  assert.equal(e.headerLength, 22);
});

test('TCP SYN options as Linux sends them (MSS, SACK-permitted, timestamps, NOP, window scale)', () => {
  const opts = hex('020405b4 0402 080a 0001e240 00000000 01 030307');
  const seg = Buffer.concat([hex('c35001bb 00000001 00000000 a002faf0 0000 0000'), opts]);
  const t = tcp.decode(seg);
  assert.equal(t.headerLength, 40);
  assert.equal(t.flags.syn, true);
  assert.equal(t.flags.ack, false);
  assert.deepEqual(t.options, [
    { type: 'mss', value: 1460 },
    { type: 'sackPermitted' },
    { type: 'timestamps', value: 123456, echo: 0 },
    { type: 'nop' },
    { type: 'windowScale', shift: 7 },
  ]);
});

test('UDP: a datagram with checksum 0 over IPv4 is valid (none sent); link padding is ignored', () => {
  const d = hex('9c40829a000c0000 61626364 000000'); // 3 padding bytes after the 12-byte datagram
  const u = udp.decode(d, 0, { src: '198.18.0.1', dst: '198.18.0.2' });
  assert.equal(u.checksumValid, true);
  assert.deepEqual(u.payload, Buffer.from('abcd'));
});
