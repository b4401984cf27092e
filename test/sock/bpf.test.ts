// The classic BPF programs of src/sock/bpf.ts, run over real packets built with the wire encoders
// in a TypeScript interpreter of the machine (bpf-vm.ts), and loaded into a real socket so the
// kernel's own checker judges every one of them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SystemCallError, UsageError } from '../../src/errors.js';
import { c, native } from '../../src/sock/binding.js';
import { ACCEPT, Assembler, attachFilter, detachFilter, encodeProgram, formatProgram, icmpv4Program, icmpv6Program, ranges, tcpFlowProgram, type Insn } from '../../src/sock/bpf.js';
import { ProbeSocket } from '../../src/sock/socket.js';
import * as ethernet from '../../src/wire/ethernet.js';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as icmpv6 from '../../src/wire/icmpv6.js';
import * as ipv4 from '../../src/wire/ipv4.js';
import * as ipv6 from '../../src/wire/ipv6.js';
import * as tcp from '../../src/wire/tcp.js';
import * as udp from '../../src/wire/udp.js';
import { runBpf } from './bpf-vm.js';

const ME4 = '198.18.0.1';
const HOP4 = '198.18.1.1';
const DST4 = '198.18.3.2';
const ME6 = '2001:db8::1';
const HOP6 = '2001:db8:1::1';
const DST6 = '2001:db8:3::2';

function ip4(protocol: number, src: string, dst: string, payload: Buffer, opts: { options?: Buffer; fragmentOffset?: number } = {}): Buffer {
  const options = opts.options ?? Buffer.alloc(0);
  const h = { dscp: 0, ecn: 0, totalLength: 20 + options.length + payload.length, id: 1, df: true, mf: false, fragmentOffset: opts.fragmentOffset ?? 0, ttl: 64, protocol, src, dst, options };
  return Buffer.concat([ipv4.encode(h), payload]);
}

function ip6(protocol: number, src: string, dst: string, payload: Buffer, extensions: ipv6.Ipv6Extension[] = []): Buffer {
  const h = { trafficClass: 0, flowLabel: 0, payloadLength: ipv6.encodingLength({ extensions }) - 40 + payload.length, hopLimit: 64, src, dst, extensions, protocol };
  return Buffer.concat([ipv6.encode(h), payload]);
}

const echo4 = (kind: 'echoRequest' | 'echoReply', id: number): Buffer => icmpv4.encode({ kind, code: 0, id, seq: 7, payload: Buffer.alloc(16, 0xab) });
const echo6 = (kind: 'echoRequest' | 'echoReply', id: number): Buffer => icmpv6.encode({ kind, code: 0, id, seq: 7, payload: Buffer.alloc(16, 0xab) });
const udpOf = (srcPort: number): Buffer => udp.encode({ srcPort, dstPort: 33434, payload: Buffer.alloc(12) });
const tcpOf = (srcPort: number, dstPort = 443): Buffer => tcp.encode({ srcPort, dstPort, seq: 1, ackNumber: 0, flags: { syn: true }, window: 1024, urgentPointer: 0, options: [], payload: Buffer.alloc(0) });

// What a raw IPv4 socket sees: the whole IP packet. An error quotes our datagram (IP header + more).
const v4 = (icmp: Buffer, opts: { options?: Buffer } = {}): Buffer => ip4(1, HOP4, ME4, icmp, opts);
const v4Error = (kind: 'destUnreachable' | 'timeExceeded' | 'parameterProblem', quoted: Buffer): Buffer => {
  if (kind === 'destUnreachable') return v4(icmpv4.encode({ kind, code: 4, nextHopMtu: 1400, quoted }));
  if (kind === 'timeExceeded') return v4(icmpv4.encode({ kind, code: 0, quoted }));
  return v4(icmpv4.encode({ kind, code: 0, pointer: 0, quoted }));
};
const quote4 = (protocol: number, transport: Buffer, options?: Buffer): Buffer => ip4(protocol, ME4, DST4, transport, { options });
// What a raw IPv6 socket sees: from the ICMPv6 header on. An error quotes the IPv6 header and more.
const quote6 = (protocol: number, transport: Buffer, extensions: ipv6.Ipv6Extension[] = []): Buffer => ip6(protocol, ME6, DST6, transport, extensions);

const run = (prog: Insn[], data: Buffer): number => runBpf(prog, { data });

test('IPv4: echo replies pass only with one of our ids, also behind IP options', () => {
  const prog = icmpv4Program({ echoIds: [4660, 4661, 9] });
  for (const id of [4660, 4661, 9]) assert.equal(run(prog, v4(echo4('echoReply', id))), ACCEPT, `id ${id}`);
  for (const id of [4662, 4659, 8, 10, 0, 65535]) assert.equal(run(prog, v4(echo4('echoReply', id))), 0, `id ${id}`);
  // IHL 6: the ICMP header moves 4 bytes on, and the program follows it.
  const withOptions = v4(echo4('echoReply', 9), { options: Buffer.from([1, 1, 1, 0]) });
  assert.equal(withOptions[0]! & 0x0f, 6);
  assert.equal(run(prog, withOptions), ACCEPT);
  assert.equal(run(prog, v4(echo4('echoReply', 4662), { options: Buffer.from([1, 1, 1, 0]) })), 0);
  // Our own echo requests (looped back) and other types are not answers.
  assert.equal(run(prog, v4(echo4('echoRequest', 9))), 0);
  assert.equal(run(prog, v4(icmpv4.encode({ kind: 'other', type: 13, code: 0, rest: Buffer.alloc(4), payload: Buffer.alloc(12) }))), 0);
});

test('IPv4: errors pass when they quote our echo request, or UDP/TCP from our ports when asked', () => {
  const prog = icmpv4Program({ echoIds: { from: 100, to: 199 }, udpPorts: [40000], tcpPorts: [50000, 50001] });
  for (const kind of ['destUnreachable', 'timeExceeded', 'parameterProblem'] as const) {
    assert.equal(run(prog, v4Error(kind, quote4(1, echo4('echoRequest', 150)))), ACCEPT, `${kind} quoting our echo`);
    assert.equal(run(prog, v4Error(kind, quote4(1, echo4('echoRequest', 200)))), 0, `${kind} quoting another id`);
    assert.equal(run(prog, v4Error(kind, quote4(1, echo4('echoReply', 150)))), 0, `${kind} quoting an echo reply`);
    assert.equal(run(prog, v4Error(kind, quote4(17, udpOf(40000)))), ACCEPT, `${kind} quoting our UDP`);
    assert.equal(run(prog, v4Error(kind, quote4(17, udpOf(40001)))), 0, `${kind} quoting other UDP`);
    assert.equal(run(prog, v4Error(kind, quote4(6, tcpOf(50001)))), ACCEPT, `${kind} quoting our TCP`);
    assert.equal(run(prog, v4Error(kind, quote4(6, tcpOf(443, 50001)))), 0, `${kind} quoting TCP to our port, not from it`);
    assert.equal(run(prog, v4Error(kind, quote4(47, Buffer.alloc(8)))), 0, `${kind} quoting GRE`);
  }
  // The quoted header's own options move the quoted transport header.
  assert.equal(run(prog, v4Error('destUnreachable', quote4(1, echo4('echoRequest', 150), Buffer.from([1, 1, 1, 0, 1, 1, 1, 0])))), ACCEPT);
  assert.equal(run(prog, v4Error('destUnreachable', quote4(17, udpOf(40000), Buffer.from([1, 1, 1, 0])))), ACCEPT);
  // A quote cut short before the echo id: the load fails and the packet is dropped.
  assert.equal(run(prog, v4Error('timeExceeded', quote4(1, echo4('echoRequest', 150)).subarray(0, 24))), 0);
  // Without ports, errors about UDP and TCP are not ours.
  const echoOnly = icmpv4Program({ echoIds: [150] });
  assert.equal(run(echoOnly, v4Error('destUnreachable', quote4(17, udpOf(40000)))), 0);
  assert.equal(run(echoOnly, v4Error('destUnreachable', quote4(6, tcpOf(50000)))), 0);
});

test('IPv6: echo replies and errors (packet too big among them) pass only when ours', () => {
  const prog = icmpv6Program({ echoIds: [7, 8, 9, 1000], udpPorts: { from: 33000, to: 33100 } });
  assert.equal(run(prog, echo6('echoReply', 1000)), ACCEPT);
  assert.equal(run(prog, echo6('echoReply', 10)), 0);
  assert.equal(run(prog, echo6('echoRequest', 7)), 0);
  const errors = (quoted: Buffer): Buffer[] => [
    icmpv6.encode({ kind: 'packetTooBig', code: 0, mtu: 1280, quoted }),
    icmpv6.encode({ kind: 'destUnreachable', code: 4, quoted }),
    icmpv6.encode({ kind: 'timeExceeded', code: 0, quoted }),
    icmpv6.encode({ kind: 'parameterProblem', code: 0, pointer: 6, quoted }),
  ];
  for (const e of errors(quote6(58, echo6('echoRequest', 8)))) assert.equal(run(prog, e), ACCEPT);
  for (const e of errors(quote6(58, echo6('echoRequest', 11)))) assert.equal(run(prog, e), 0);
  for (const e of errors(quote6(17, udpOf(33050)))) assert.equal(run(prog, e), ACCEPT);
  for (const e of errors(quote6(17, udpOf(33101)))) assert.equal(run(prog, e), 0);
  for (const e of errors(quote6(6, tcpOf(33050)))) assert.equal(run(prog, e), 0, 'no TCP ports asked for');
  // Our probes carry no extension headers: a quote with one is not ours.
  const fragged = quote6(58, echo6('echoRequest', 8), [{ type: 44, fragmentOffset: 0, mf: true, id: 1 }]);
  for (const e of errors(fragged)) assert.equal(run(prog, e), 0);
  // Neighbour discovery never passes.
  assert.equal(run(prog, icmpv6.encode({ kind: 'other', type: 135, code: 0, rest: Buffer.alloc(4), payload: Buffer.alloc(16) })), 0);
});

test('any set of ids: a reply passes exactly when its id is in the set (v4 and v6)', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 0, max: 0xffff }), (ids, probe) => {
      const candidates = [probe, ids[0]!, (ids[0]! + 1) & 0xffff, (ids[ids.length - 1]! - 1) & 0xffff];
      const p4 = icmpv4Program({ echoIds: ids });
      const p6 = icmpv6Program({ echoIds: ids });
      for (const id of candidates) {
        const want = ids.includes(id) ? ACCEPT : 0;
        assert.equal(run(p4, v4(echo4('echoReply', id))), want);
        assert.equal(run(p6, echo6('echoReply', id)), want);
        assert.equal(run(p4, v4Error('timeExceeded', quote4(1, echo4('echoRequest', id)))), want);
        assert.equal(run(p6, icmpv6.encode({ kind: 'packetTooBig', code: 0, mtu: 1280, quoted: quote6(58, echo6('echoRequest', id)) })), want);
      }
    }),
    { numRuns: 200 },
  );
});

test('ranges: sorted, merged, checked', () => {
  assert.deepEqual(ranges([5, 3, 4, 10, 9, 3, 0]), [[0, 0], [3, 5], [9, 10]]);
  assert.deepEqual(ranges({ from: 10, to: 20 }), [[10, 20]]);
  assert.throws(() => ranges([70000]), UsageError);
  assert.throws(() => ranges([1.5]), UsageError);
  assert.throws(() => ranges({ from: 5, to: 4 }), UsageError);
  // 2,000 consecutive ids are one range test: the program stays small.
  const ids = Array.from({ length: 2000 }, (_, i) => 20000 + i);
  assert.ok(icmpv4Program({ echoIds: ids }).length < 40);
  // Scattered ids cost 2 instructions each: past the kernel's limit the builder says so.
  assert.throws(() => icmpv4Program({ echoIds: Array.from({ length: 3000 }, (_, i) => i * 2) }), /1 to 4096 instructions/);
});

// A frame as an AF_PACKET SOCK_RAW socket sees it on Ethernet: link header, then IP.
const frame = (ethertype: number, packet: Buffer): { data: Buffer; network: number; protocol: number } => ({
  data: Buffer.concat([ethernet.encode({ dst: '02:00:00:00:00:01', src: '02:00:00:00:00:02', tags: [], ethertype }), packet]),
  network: 14,
  protocol: ethertype,
});

test('TCP flow filter for a packet socket: both directions of one flow, nothing else', () => {
  const SERVER = '198.18.3.2';
  const flow = { remote: SERVER, remotePort: 8080, local: ME4, localPort: 45000 };
  const prog = tcpFlowProgram(flow);
  const seg = (src: string, sp: number, dst: string, dp: number, opts: { options?: Buffer; fragmentOffset?: number } = {}) =>
    frame(0x0800, ip4(6, src, dst, tcpOf(sp, dp), opts));
  assert.equal(runBpf(prog, seg(SERVER, 8080, ME4, 45000)), ACCEPT, 'from the server');
  assert.equal(runBpf(prog, seg(ME4, 45000, SERVER, 8080)), ACCEPT, 'our ACKs');
  assert.equal(runBpf(prog, seg(SERVER, 8080, ME4, 45000, { options: Buffer.from([1, 1, 1, 0]) })), ACCEPT, 'behind IP options');
  assert.equal(runBpf(prog, seg(SERVER, 8080, ME4, 45001)), 0, 'another local port');
  assert.equal(runBpf(prog, seg(SERVER, 8081, ME4, 45000)), 0, 'another server port');
  assert.equal(runBpf(prog, seg('198.18.3.3', 8080, ME4, 45000)), 0, 'another server');
  assert.equal(runBpf(prog, seg(SERVER, 8080, '198.18.0.9', 45000)), 0, 'another local address');
  assert.equal(runBpf(prog, frame(0x0800, ip4(17, SERVER, ME4, udp.encode({ srcPort: 8080, dstPort: 45000, payload: Buffer.alloc(4) })))), 0, 'UDP');
  assert.equal(runBpf(prog, seg(SERVER, 1, ME4, 2, { fragmentOffset: 100 })), ACCEPT, 'a later fragment: the process judges');
  assert.equal(runBpf(prog, { ...frame(0x0806, Buffer.alloc(28)) }), 0, 'ARP');
  // The network header offset comes from the kernel, not from the link type: no link header (tun).
  const bare = ip4(6, SERVER, ME4, tcpOf(8080, 45000));
  assert.equal(runBpf(prog, { data: bare, network: 0, protocol: 0x0800 }), ACCEPT);
  // Before connect() completes only the server's end is known.
  const early = tcpFlowProgram({ remote: SERVER, remotePort: 8080 });
  assert.equal(runBpf(early, seg(SERVER, 8080, ME4, 45001)), ACCEPT);
  assert.equal(runBpf(early, seg(ME4, 45001, SERVER, 8080)), ACCEPT);
  assert.equal(runBpf(early, seg(SERVER, 8081, ME4, 45001)), 0);

  const flow6 = { remote: DST6, remotePort: 443, local: ME6, localPort: 50000 };
  const p6 = tcpFlowProgram(flow6);
  const seg6 = (src: string, sp: number, dst: string, dp: number, ext: ipv6.Ipv6Extension[] = []) => frame(0x86dd, ip6(6, src, dst, tcpOf(sp, dp), ext));
  assert.equal(runBpf(p6, seg6(DST6, 443, ME6, 50000)), ACCEPT);
  assert.equal(runBpf(p6, seg6(ME6, 50000, DST6, 443)), ACCEPT);
  assert.equal(runBpf(p6, seg6(DST6, 443, ME6, 50001)), 0);
  assert.equal(runBpf(p6, seg6('2001:db8:3::3', 443, ME6, 50000)), 0, 'the address differs in its last word only');
  assert.equal(runBpf(p6, seg6('2001:db9:3::2', 443, ME6, 50000)), 0, 'the address differs in its first word only');
  assert.equal(runBpf(p6, seg6(DST6, 443, ME6, 50000, [{ type: 0, data: Buffer.alloc(6) }])), ACCEPT, 'extension headers: the process judges');
  assert.equal(runBpf(p6, seg(SERVER, 8080, ME4, 45000)), 0, 'IPv4 on an IPv6 flow');
  assert.throws(() => tcpFlowProgram({ remote: 'server', remotePort: 1 }), UsageError);
  assert.throws(() => tcpFlowProgram({ remote: DST6, remotePort: 1, local: ME4, localPort: 2 }), UsageError);
  assert.throws(() => tcpFlowProgram({ remote: DST6, remotePort: 70000 }), UsageError);
});

test('the assembler resolves labels, keeps conditional jumps within 255 and refuses what the kernel would', () => {
  const a = new Assembler();
  a.ld('B', 0).jmp('JEQ', 1, 'yes', 0).ret(0).label('yes').ret(ACCEPT);
  const prog = a.assemble();
  assert.deepEqual(prog.map((i) => [i.jt, i.jf]), [[0, 0], [1, 0], [0, 0], [0, 0]]);
  assert.equal(runBpf(prog, { data: Buffer.from([1]) }), ACCEPT);
  assert.equal(runBpf(prog, { data: Buffer.from([2]) }), 0);
  assert.equal(runBpf(prog, { data: Buffer.alloc(0) }), 0, 'a load past the end drops');
  assert.match(formatProgram(prog), /^\{ 0x30, 0, 0, 0x00000000 \},/);

  const far = new Assembler();
  far.ld('B', 0).jmp('JEQ', 1, 'end', 0);
  for (let i = 0; i < 300; i++) far.ldImm(i);
  far.label('end').ret(0);
  assert.throws(() => far.assemble(), /out of reach/);
  const farOk = new Assembler();
  farOk.ld('B', 0).ifGoto('JEQ', 1, 'end');
  for (let i = 0; i < 300; i++) farOk.ldImm(i);
  farOk.ret(1).label('end').ret(2);
  assert.equal(runBpf(farOk.assemble(), { data: Buffer.from([1]) }), 2);
  assert.equal(runBpf(farOk.assemble(), { data: Buffer.from([0]) }), 1);

  assert.throws(() => new Assembler().ld('B', 0).ja('nowhere').ret(0).assemble(), /not defined/);
  assert.throws(() => new Assembler().ld('B', 0).assemble(), /end with ret/);
  assert.throws(() => new Assembler().assemble(), UsageError);
  assert.throws(() => new Assembler().label('x').label('x'), /twice/);
});

test('the kernel accepts every program (SO_ATTACH_FILTER on a real socket) and refuses a broken one', () => {
  const sock = ProbeSocket.open('udp', 4);
  try {
    const programs = [
      icmpv4Program({ echoIds: [1] }),
      icmpv4Program({ echoIds: Array.from({ length: 1500 }, (_, i) => i * 2), udpPorts: { from: 1, to: 9 }, tcpPorts: [80] }),
      icmpv6Program({ echoIds: { from: 0, to: 65535 }, udpPorts: [1], tcpPorts: [2] }),
      tcpFlowProgram({ remote: DST4, remotePort: 80, local: ME4, localPort: 1234 }),
      tcpFlowProgram({ remote: DST6, remotePort: 80 }),
    ];
    for (const p of programs) attachFilter(sock, p);
    detachFilter(sock);
    assert.throws(() => detachFilter(sock), (e: unknown) => e instanceof SystemCallError && e.code === 'ENOENT');
    // A jump past the end, built by hand: the assembler would refuse it, the kernel does too.
    const broken: Insn[] = [{ code: c('BPF_JMP') | c('BPF_JA'), jt: 0, jf: 0, k: 5 }, { code: c('BPF_RET'), jt: 0, jf: 0, k: 0 }];
    assert.throws(() => attachFilter(sock, broken), (e: unknown) => e instanceof SystemCallError && e.code === 'EINVAL');
    assert.equal(encodeProgram(broken).length, 2 * c('SIZEOF_SOCK_FILTER'));
  } finally {
    sock.close();
  }
  assert.throws(() => attachFilter(sock, icmpv4Program({ echoIds: [1] })), UsageError, 'a closed socket');
});

test('the binding refuses bad filter arguments with a TypeError', () => {
  const b = native() as ReturnType<typeof native> & { attachFilter: (...a: unknown[]) => number; detachFilter: (...a: unknown[]) => number };
  const fd = b.socket(c('AF_INET'), c('SOCK_DGRAM'), c('IPPROTO_UDP'));
  assert.ok(fd >= 0);
  try {
    const ok = encodeProgram([{ code: c('BPF_RET'), jt: 0, jf: 0, k: 0 }]);
    for (const [what, call] of [
      ['no program', () => b.attachFilter(fd)],
      ['a string', () => b.attachFilter(fd, 'ret #0')],
      ['an array', () => b.attachFilter(fd, [6, 0, 0, 0])],
      ['empty', () => b.attachFilter(fd, Buffer.alloc(0))],
      ['not a whole instruction', () => b.attachFilter(fd, Buffer.alloc(12))],
      ['too many instructions', () => b.attachFilter(fd, Buffer.alloc(8 * (c('BPF_MAXINSNS') + 1)))],
      ['a wrapped fd', () => b.attachFilter(fd + 2 ** 32, ok)],
      ['a fractional fd', () => b.detachFilter(fd + 0.5)],
      ['an fd as a string', () => b.detachFilter(String(fd))],
    ] as const) {
      assert.throws(call, TypeError, what);
    }
    assert.equal(b.attachFilter(fd, ok), 0);
    assert.equal(b.detachFilter(fd), 0);
  } finally {
    b.close(fd);
  }
});
