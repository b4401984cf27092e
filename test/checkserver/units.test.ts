// check-server's pure parts: frames -> wire segments (GSO split by gso_size), the PTB we build
// (read back with the wire decoders), the verdict table, <host>:<port> parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { buildPtb, judge, parseFrame, parseHostPort, wireSegments, type CapturedPacket, type WireSegment } from '../../src/checkserver/index.js';
import * as ethernet from '../../src/wire/ethernet.js';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as icmpv6 from '../../src/wire/icmpv6.js';
import * as ipv4 from '../../src/wire/ipv4.js';
import * as ipv6 from '../../src/wire/ipv6.js';
import { decodeQuote } from '../../src/wire/quote.js';
import * as tcp from '../../src/wire/tcp.js';
import { c } from '../../src/sock/binding.js';

const S4 = '198.18.1.2';
const C4 = '198.18.0.1';
const S6 = '2001:db8:1::2';
const C6 = '2001:db8::1';

/** A frame as AF_PACKET SOCK_RAW with PACKET_VNET_HDR gives it: vnet header, Ethernet, IP, TCP. */
function frame(family: 4 | 6, payload: number, opts: { gsoSize?: number; df?: boolean; seq?: number; fragment?: boolean } = {}): Buffer {
  const seg = tcp.encode({
    srcPort: 8000,
    dstPort: 40000,
    seq: opts.seq ?? 1000,
    ackNumber: 77,
    flags: { ack: true, psh: true },
    window: 500,
    urgentPointer: 0,
    options: [{ type: 'nop' }, { type: 'nop' }, { type: 'timestamps', value: 1, echo: 2 }],
    payload: Buffer.alloc(payload, 0xab),
  });
  const ip = family === 4
    ? ipv4.encode({ dscp: 0, ecn: 0, totalLength: 20 + seg.length, id: 1, df: opts.df ?? true, mf: false, fragmentOffset: 0, ttl: 63, protocol: 6, src: S4, dst: C4, options: Buffer.alloc(0) })
    : ipv6.encode({
        trafficClass: 0,
        flowLabel: 0,
        payloadLength: seg.length + (opts.fragment ? 8 : 0),
        hopLimit: 63,
        src: S6,
        dst: C6,
        extensions: opts.fragment ? [{ type: 44, fragmentOffset: 0, mf: true, id: 9 }] : [],
        protocol: 6,
      });
  const eth = ethernet.encode({ dst: '02:00:00:00:00:01', src: '02:00:00:00:00:02', tags: [], ethertype: family === 4 ? 0x0800 : 0x86dd });
  const vnet = Buffer.alloc(10);
  if (opts.gsoSize) {
    vnet[1] = family === 4 ? 1 : 4; // VIRTIO_NET_HDR_GSO_TCPV4 / TCPV6
    vnet.writeUInt16LE(opts.gsoSize, 4);
  }
  return Buffer.concat([vnet, eth, ip, seg]);
}

const info = (family: 4 | 6, data: Buffer) => ({ protocol: family === 4 ? c('ETH_P_IP') : c('ETH_P_IPV6'), hatype: c('ARPHRD_ETHER'), vnetHdr: true, length: data.length });

test('a GSO super-packet is split into the wire segments its gso_size says (1652 bytes -> 1500 + 204)', () => {
  const f = frame(4, 1600, { gsoSize: 1448, seq: 0xfffffc00 });
  const p = parseFrame(f, info(4, f))!;
  assert.equal(p.payloadLength, 1600);
  assert.equal(p.ipHeaderLength + p.tcpHeaderLength + p.payloadLength, 1652, 'what a raw socket would call one segment');
  const segs = wireSegments(p);
  assert.deepEqual(segs.map((s) => s.size), [1500, 204]);
  assert.deepEqual(segs.map((s) => s.payload), [1448, 152]);
  assert.equal(segs[1].seq, (0xfffffc00 + 1448) >>> 0, 'sequence numbers wrap modulo 2^32');
  // Without GSO the packet is one segment.
  const g = frame(4, 1448);
  assert.deepEqual(wireSegments(parseFrame(g, info(4, g))!).map((s) => s.size), [1500]);
});

test('frames are read through the link header and even when truncated to the headers', () => {
  const f = frame(6, 1428, { gsoSize: 1428 });
  const p = parseFrame(f.subarray(0, 200), { ...info(6, f), length: f.length })!;
  assert.equal(p.family, 6);
  assert.equal(p.src, S6);
  assert.equal(p.dst, C6);
  assert.equal(p.srcPort, 8000);
  assert.equal(p.payloadLength, 1428);
  assert.equal(p.df, true);
  assert.deepEqual(wireSegments(p).map((s) => s.size), [1500]);
  // An IPv6 fragment header means the sender fragmented: no "DF".
  const fr = frame(6, 100, { fragment: true });
  const q = parseFrame(fr, info(6, fr))!;
  assert.equal(q.fragment, true);
  assert.equal(q.df, false);
  // IPv4 DF is read from the header.
  const nodf = frame(4, 100, { df: false });
  assert.equal(parseFrame(nodf, info(4, nodf))!.df, false);
  // Not TCP, or garbage: null, never a throw.
  assert.equal(parseFrame(Buffer.alloc(30), info(4, Buffer.alloc(30))), null);
  const arp = frame(4, 10);
  assert.equal(parseFrame(arp, { ...info(4, arp), protocol: 0x0806 }), null);
});

function captured(family: 4 | 6): CapturedPacket {
  const f = frame(family, 1600, { gsoSize: family === 4 ? 1448 : 1428, seq: 5000 });
  return parseFrame(f, info(family, f))!;
}

test('the IPv4 PTB: frag-needed with the MTU, quoting the segment with its wire size and our seq', () => {
  const template = captured(4);
  const msg = buildPtb({ template, size: 1500, seq: 0x80000001, mtu: 1280 });
  const icmp = icmpv4.decode(msg);
  assert.equal(icmp.checksumValid, true);
  assert.ok(icmp.kind === 'destUnreachable');
  assert.equal(icmp.code, 4);
  assert.equal(icmp.nextHopMtu, 1280);
  const q = decodeQuote(icmp.quoted, 4);
  assert.equal(q.src, S4, 'the quote is a packet the server sent');
  assert.equal(q.dst, C4);
  assert.equal(q.totalLength, 1500, 'the wire size, not the 1652-byte super-packet');
  assert.equal(q.headerChecksumValid, true);
  assert.equal(q.df, true);
  assert.ok(q.transport?.kind === 'tcp');
  assert.equal(q.transport.srcPort, 8000);
  assert.equal(q.transport.dstPort, 40000);
  assert.equal(q.transport.seq, 0x80000001);
  assert.ok(icmp.quoted.length >= 28, 'RFC 1122: IP header + at least 8 bytes');
  assert.equal(template.headers.readUInt32BE(template.ipHeaderLength + 4), 5000, 'the captured template is not modified');
});

test('the IPv6 PTB: packet too big with the MTU (checksum left to the kernel), quote with the wire size', () => {
  const msg = buildPtb({ template: captured(6), size: 1500, seq: 42, mtu: 1400 });
  const icmp = icmpv6.decode(msg);
  assert.ok(icmp.kind === 'packetTooBig');
  assert.equal(icmp.mtu, 1400);
  const q = decodeQuote(icmp.quoted, 6);
  assert.equal(q.totalLength, 1500);
  assert.equal(q.src, S6);
  assert.ok(q.transport?.kind === 'tcp' && q.transport.seq === 42 && q.transport.srcPort === 8000);
});

test('the PTB refuses MTUs a kernel ignores: below 68 (IPv4) or 1280 (IPv6)', () => {
  assert.throws(() => buildPtb({ template: captured(4), size: 1500, seq: 1, mtu: 67 }), UsageError);
  assert.throws(() => buildPtb({ template: captured(6), size: 1500, seq: 1, mtu: 1279 }), UsageError);
  assert.doesNotThrow(() => buildPtb({ template: captured(4), size: 1500, seq: 1, mtu: 68 }));
});

const segs = (sizes: number[], df = true): WireSegment[] => sizes.map((size, i) => ({ size, payload: size - 52, seq: i * 2000, df }));

test('verdicts from the segments before and after the PTB', () => {
  const base = { family: 4 as const, mtu: 1280, ptbSent: true };
  const big = segs([1500, 1500, 204]);
  assert.equal(judge({ ...base, before: big, after: segs([1280, 1280, 500]) }).verdict, 'success');
  assert.equal(judge({ ...base, before: big, after: segs([1500, 1500]) }).verdict, 'ignored');
  assert.equal(judge({ ...base, before: big, after: segs([1280, 1500]) }).verdict, 'ignored', 'one big DF segment after the PTB is enough');
  assert.equal(judge({ ...base, before: big, after: segs([1500, 1500], false) }).verdict, 'cleared-df');
  assert.equal(judge({ ...base, before: segs([1500], false), after: [] }).verdict, 'no-df');
  assert.equal(judge({ ...base, family: 6, before: segs([1500], false), after: segs([1280, 1280]) }).verdict, 'success', 'no DF bit in IPv6');
  assert.equal(judge({ ...base, before: segs([1280, 600]), after: [] }).verdict, 'no-data');
  assert.equal(judge({ ...base, before: [], after: [] }).verdict, 'no-data');
  assert.equal(judge({ ...base, before: big, after: [] }).verdict, 'error');
  assert.equal(judge({ ...base, before: big, after: segs([100]) }).verdict, 'error', 'one small segment proves nothing');
  assert.equal(judge({ ...base, before: big, after: segs([600, 600]) }).verdict, 'error', 'less than an MTU of data proves nothing');
  assert.equal(judge({ ...base, ptbSent: false, before: big, after: [] }).verdict, 'error');
  for (const v of [judge({ ...base, before: big, after: segs([1500]) })]) assert.match(v.reason, /black hole/);
});

test('<host>:<port> parsing: names, IPv4, bracketed IPv6; missing or bad ports are usage errors', () => {
  assert.deepEqual(parseHostPort('example.net:443'), { host: 'example.net', port: 443 });
  assert.deepEqual(parseHostPort('198.18.1.2:8000'), { host: '198.18.1.2', port: 8000 });
  assert.deepEqual(parseHostPort('[2001:db8::2]:80'), { host: '2001:db8::2', port: 80 });
  for (const bad of ['example.net', '198.18.1.2:', ':80', 'h:0', 'h:65536', 'h:8x', '2001:db8::2', '2001:db8::2:80', '[example.net]:80', '[2001:db8::2]']) {
    assert.throws(() => parseHostPort(bad), UsageError, bad);
  }
});
