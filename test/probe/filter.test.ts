// The raw icmp method's socket sees only the ICMP types a probe can meet (ICMP_FILTER /
// ICMP6_FILTER): other traffic to the host never reaches JavaScript.
import assert from 'node:assert/strict';
import { labTest } from '../../src/lab/testing.js';
import { createProber, type IcmpProber } from '../../src/probe/index.js';
import type { Family } from '../../src/wire/facts.js';
import { ProbeSocket } from '../../src/sock/socket.js';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as icmpv6 from '../../src/wire/icmpv6.js';

labTest('unwanted ICMP types are filtered in the kernel, echo replies still arrive', { routers: [{}], links: [{}, {}] }, async (lab) => {
  for (const family of [4, 6] as Family[]) {
    lab.enter('r1');
    const sender = ProbeSocket.open('icmp-raw', family);
    lab.leave();
    lab.enter('client');
    const prober = createProber('icmp', family) as IcmpProber;
    lab.leave();
    const seen: number[] = [];
    prober.socket.on('message', (m) => seen.push(family === 4 ? m.data[(m.data[0]! & 0x0f) * 4]! : m.data[0]!));
    try {
      const client = family === 4 ? lab.client.v4 : lab.client.v6;
      // Unwanted: ICMP timestamp (13) / an unassigned ICMPv6 informational type (200), and echo requests.
      const unwanted = family === 4 ? [13, 8] : [200, 128];
      for (const type of unwanted) {
        for (let i = 0; i < 5; i++) {
          const msg = { kind: 'other' as const, type, code: 0, rest: Buffer.alloc(4), payload: Buffer.alloc(16) };
          sender.send(family === 4 ? icmpv4.encode(msg) : icmpv6.encode(msg), { address: client });
        }
      }
      // Wanted type with our echo id but no probe in flight: reaches the prober and is ignored there.
      // (Another echo id is dropped by the socket's BPF program: test/sock/bpf-lab.test.ts.)
      const reply = { kind: 'echoReply' as const, code: 0, id: prober.echoId, seq: 1, payload: Buffer.alloc(16) };
      sender.send(family === 4 ? icmpv4.encode(reply) : icmpv6.encode(reply), { address: client });
      const want = family === 4 ? 0 : 129;
      for (let i = 0; i < 50 && !seen.includes(want); i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(seen, [want], `IPv${family}: only the echo reply got through, saw ${JSON.stringify(seen)}`);
      assert.equal(prober.ignoredCounts.size, 1);
    } finally {
      prober.close();
      sender.close();
    }
  }
});
