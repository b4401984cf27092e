// The crafted PTB as bytes, read back with the wire decoders: right type/code/MTU, valid checksums
// (IPv6: against the spoofed source), a quote of a too-big packet target -> about with the flow's
// ports, 576 / 1280 size limits. And the argument checks that refuse before any socket is opened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { buildPtb, inject } from '../../src/inject/index.js';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as icmpv6 from '../../src/wire/icmpv6.js';
import * as ipv4 from '../../src/wire/ipv4.js';
import * as ipv6 from '../../src/wire/ipv6.js';
import { decodeQuote } from '../../src/wire/quote.js';
import * as tcp from '../../src/wire/tcp.js';
import * as udp from '../../src/wire/udp.js';

const v4 = { family: 4 as const, from: '198.18.200.1', target: '198.18.2.2', about: '198.18.0.1' };
const v6 = { family: 6 as const, from: '2001:db8:c8::1', target: '2001:db8:2::2', about: '2001:db8::1' };

test('IPv4 frag-needed quoting an echo reply: type 3 code 4, next-hop MTU, 576 bytes, valid checksums', () => {
  const { packet, originalLength, quotedLength } = buildPtb({ ...v4, proto: 'icmp', mtu: 1300, port: 0, srcPort: 4242, seq: 7 });
  assert.equal(packet.length, 576, 'RFC 1812: an ICMP error fits in 576 bytes');
  const ip = ipv4.decode(packet);
  assert.equal(ip.checksumValid, true);
  assert.equal(ip.src, v4.from);
  assert.equal(ip.dst, v4.target);
  assert.equal(ip.protocol, 1);
  assert.equal(ip.totalLength, packet.length);
  const icmp = icmpv4.decode(packet.subarray(ip.headerLength));
  assert.equal(icmp.checksumValid, true);
  assert.equal(icmp.kind, 'destUnreachable');
  assert.equal(icmp.code, 4);
  assert.ok(icmp.kind === 'destUnreachable' && icmp.nextHopMtu === 1300);
  const q = decodeQuote(icmp.kind === 'destUnreachable' ? icmp.quoted : Buffer.alloc(0), 4);
  assert.equal(q.src, v4.target, 'the quote is a packet the target sent');
  assert.equal(q.dst, v4.about);
  assert.equal(q.df, true);
  assert.equal(q.headerChecksumValid, true);
  assert.ok(q.totalLength! > 1300, 'the quoted packet was too big for the claimed MTU');
  assert.equal(q.totalLength, originalLength);
  assert.equal(q.quotedLength, quotedLength);
  assert.ok(q.transport?.kind === 'icmpEcho' && q.transport.type === 0 && q.transport.id === 4242 && q.transport.seq === 7);
});

test('IPv4 UDP and TCP quotes carry the flow: ports, TCP seq; the full original checksums verify', () => {
  const u = buildPtb({ ...v4, proto: 'udp', mtu: 1400, port: 53, srcPort: 40000, seq: 0 });
  const uq = decodeQuote(icmpv4.decode(u.packet.subarray(20)).kind === 'destUnreachable' ? (icmpv4.decode(u.packet.subarray(20)) as icmpv4.DestUnreachable).quoted : Buffer.alloc(0));
  assert.ok(uq.transport?.kind === 'udp' && uq.transport.srcPort === 40000 && uq.transport.dstPort === 53);
  assert.equal(uq.transport.length, 1500 - 20, 'the UDP length is the whole original datagram');
  const t = buildPtb({ ...v4, proto: 'tcp', mtu: 1400, port: 51000, srcPort: 80, seq: 0xdeadbeef });
  const tq = decodeQuote((icmpv4.decode(t.packet.subarray(20)) as icmpv4.DestUnreachable).quoted);
  assert.ok(tq.transport?.kind === 'tcp' && tq.transport.srcPort === 80 && tq.transport.dstPort === 51000 && tq.transport.seq === 0xdeadbeef);
  // For MTUs from 1500 up, the original is one byte larger than the MTU.
  const big = buildPtb({ ...v4, proto: 'udp', mtu: 8000, port: 1, srcPort: 2, seq: 0 });
  assert.equal(big.originalLength, 8001);
});

test('IPv6 packet too big: 1280 bytes, checksum valid for the spoofed source, quote as large as fits', () => {
  for (const proto of ['icmp', 'udp', 'tcp'] as const) {
    const { packet, quotedLength } = buildPtb({ ...v6, proto, mtu: 1280, port: 443, srcPort: 5555, seq: 123 });
    assert.equal(packet.length, 1280, 'RFC 4443: as much as fits in the minimum MTU');
    const ip = ipv6.decode(packet);
    assert.equal(ip.src, v6.from);
    assert.equal(ip.dst, v6.target);
    assert.equal(ip.payloadLength, packet.length - 40);
    const icmp = icmpv6.decode(packet.subarray(40), 0, { src: v6.from, dst: v6.target });
    assert.equal(icmp.checksumValid, true);
    assert.equal(icmpv6.decode(packet.subarray(40), 0, { src: v6.target, dst: v6.target }).checksumValid, false, 'the checksum depends on the source');
    assert.ok(icmp.kind === 'packetTooBig' && icmp.mtu === 1280);
    const q = decodeQuote((icmp as icmpv6.PacketTooBig).quoted, 6);
    assert.equal(q.src, v6.target);
    assert.equal(q.dst, v6.about);
    assert.equal(q.quotedLength, quotedLength);
    assert.equal(quotedLength, 1232);
    assert.ok(q.totalLength! > 1280);
    if (proto === 'udp') assert.ok(q.transport?.kind === 'udp' && q.transport.srcPort === 5555 && q.transport.dstPort === 443);
    if (proto === 'tcp') assert.ok(q.transport?.kind === 'tcp' && q.transport.seq === 123);
    if (proto === 'icmp') assert.ok(q.transport?.kind === 'icmpEcho' && q.transport.type === 129);
  }
});

test('the quoted original is a well-formed packet: UDP and TCP checksums over the whole original verify', async () => {
  const { buildOriginal } = await import('../../src/inject/original.js');
  const o4 = buildOriginal({ family: 4, src: v4.target, dst: v4.about, proto: 'udp', srcPort: 1, dstPort: 2, seq: 0, length: 1500 });
  assert.equal(udp.decode(o4, 20, { src: v4.target, dst: v4.about }).checksumValid, true);
  const o6 = buildOriginal({ family: 6, src: v6.target, dst: v6.about, proto: 'tcp', srcPort: 1, dstPort: 2, seq: 9, length: 1500 });
  assert.equal(tcp.decode(o6.subarray(40), 0, { src: v6.target, dst: v6.about }).checksumValid, true);
  assert.equal(o6.length, 1500);
});

test('inject refuses below the floor without --force, udp/tcp without ports, bad values — before any socket', async () => {
  // In the library's terms (its options force, srcPort); the CLI says --force, --src-port (test/inject/lab.test.ts).
  await assert.rejects(inject({ target: v4.target, mtu: 60, about: v4.about }), (e: unknown) => e instanceof UsageError && /^mtu 60 is below the IPv4 minimum of 68.*\(force sends it anyway\)$/.test((e as Error).message));
  await assert.rejects(inject({ target: v6.target, mtu: 1279, about: v6.about }), (e: unknown) => e instanceof UsageError && /1280/.test((e as Error).message));
  await assert.rejects(inject({ target: v4.target, mtu: 1300, about: v4.about, proto: 'udp' }), (e: unknown) => e instanceof UsageError && /the target's \(srcPort\) and the peer's \(port\)/.test((e as Error).message));
  await assert.rejects(inject({ target: v4.target, mtu: 70000, about: v4.about }), UsageError);
  await assert.rejects(inject({ target: v4.target, mtu: 1300, about: v6.about }), UsageError, 'about must be of the target family');
  await assert.rejects(inject({ target: v4.target, mtu: 1300, about: v4.about, srcPort: 70000 }), UsageError);
});
