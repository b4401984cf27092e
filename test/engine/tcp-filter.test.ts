// The shared raw TCP socket's kernel filter (sock/bpf.ts tcpProbeProgram): of every TCP segment
// the host receives, only answers from the probed port to the prober's source ports pass. Run on
// the BPF interpreter over real encoded segments, IPv4 (from the IP header) and IPv6 (from TCP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACCEPT, tcpProbeProgram } from '../../src/sock/bpf.js';
import * as ipv4 from '../../src/wire/ipv4.js';
import * as tcp from '../../src/wire/tcp.js';
import { runBpf } from '../sock/bpf-vm.js';

const segment = (srcPort: number, dstPort: number): Buffer =>
  tcp.encode(
    { srcPort, dstPort, seq: 1, ackNumber: 2, flags: { syn: true, ack: true }, window: 1024, urgentPointer: 0, options: [], payload: Buffer.alloc(0) },
    undefined,
    0,
    { src: '198.18.1.2', dst: '198.18.0.1' },
  );

const v4 = (seg: Buffer, fragOffset = 0, options = Buffer.alloc(0)): Buffer =>
  Buffer.concat([
    ipv4.encode({ dscp: 0, ecn: 0, totalLength: 20 + options.length + seg.length, id: 1, df: false, mf: false, fragmentOffset: fragOffset, ttl: 60, protocol: 6, src: '198.18.1.2', dst: '198.18.0.1', options }),
    seg,
  ]);

test('tcpProbeProgram: answers from the probed port to our source ports pass; everything else is dropped', () => {
  const spec = { remotePort: 443, localPorts: { from: 40000, to: 44095 } };
  const p4 = tcpProbeProgram(4, spec);
  const p6 = tcpProbeProgram(6, spec);
  const cases: Array<[number, number, boolean, string]> = [
    [443, 40000, true, 'first port of the span'],
    [443, 44095, true, 'last port of the span'],
    [443, 42000, true, 'inside'],
    [443, 39999, false, 'below the span'],
    [443, 44096, false, 'above the span'],
    [80, 42000, false, 'another remote port'],
    [42000, 443, false, 'reversed (our own SYN looped back)'],
  ];
  for (const [src, dst, pass, why] of cases) {
    const seg = segment(src, dst);
    assert.equal(runBpf(p4, { data: v4(seg) }) === ACCEPT, pass, `IPv4 ${why}`);
    assert.equal(runBpf(p6, { data: seg }) === ACCEPT, pass, `IPv6 ${why}`);
  }
  // IPv4 options move the TCP header: the program reads the header length.
  assert.equal(runBpf(p4, { data: v4(segment(443, 42000), 0, Buffer.from([1, 1, 1, 0])) }), ACCEPT, 'IPv4 with options');
  // A later fragment has no ports: dropped.
  assert.equal(runBpf(p4, { data: v4(segment(443, 42000), 100) }), 0, 'a later fragment');
  // Truncated: a load past the end drops.
  assert.equal(runBpf(p6, { data: Buffer.from([1, 187]) }), 0, 'truncated');
});
