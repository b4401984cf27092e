// Issue 2 acceptance for the socket layer, against real routers in the lab (IPv4 and IPv6 alike).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readdirSync } from 'node:fs';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';
import { ProbeSocket, type ErrQueueEntry, type Message } from '../../src/sock/socket.js';
import { SystemCallError, UsageError } from '../../src/errors.js';
import { c } from '../../src/sock/binding.js';
import type { Family } from '../../src/wire/facts.js';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as icmpv6 from '../../src/wire/icmpv6.js';
import { NOBODY, scriptAsUser } from '../unprivileged.js';

const bottleneck = { routers: [{}, {}, {}], links: [{}, {}, { mtu: 1400 }, {}] };
const families: Family[] = [4, 6];
const serverOf = (lab: Lab, f: Family): string => (f === 4 ? lab.server.v4 : lab.server.v6);
const IP = { 4: 20, 6: 40 } as const;

function nextError(sock: ProbeSocket, ms = 2000): Promise<ErrQueueEntry> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no error-queue entry in time')), ms);
    sock.once('errqueue', (e) => {
      clearTimeout(t);
      resolve(e);
    });
  });
}

function udpProbeSocket(f: Family): ProbeSocket {
  const s = ProbeSocket.open('udp', f);
  s.setPmtuMode('probe');
  s.receiveErrors();
  return s.start();
}

labTest('1: a 1500-byte UDP probe through a 1400 link: EMSGSIZE from the router, info 1400', bottleneck, async (lab) => {
  lab.enter('client');
  try {
    for (const f of families) {
      const s = udpProbeSocket(f);
      try {
        const got = nextError(s);
        assert.ok(s.sendProbe(Buffer.alloc(1500 - IP[f] - 8), { address: serverOf(lab, f), port: 33434 }).ok);
        const e = await got;
        assert.equal(e.errno, 90, 'EMSGSIZE');
        assert.equal(e.origin, f === 4 ? 'icmp' : 'icmp6');
        assert.equal(e.type, f === 4 ? 3 : 2);
        assert.equal(e.info, 1400);
        assert.equal(e.offender, lab.bottleneckRouter(f));
        assert.equal(e.destination, serverOf(lab, f));
        assert.equal(e.destinationPort, 33434);
      } finally {
        s.close();
      }
    }
  } finally {
    lab.leave();
  }
});

labTest('2: a probe larger than the interface MTU is refused locally with that MTU', { routers: [{}], links: [{ mtu: 1300 }, {}] }, async (lab) => {
  lab.enter('client');
  try {
    for (const f of families) {
      const s = udpProbeSocket(f);
      try {
        const r = s.sendProbe(Buffer.alloc(1400), { address: serverOf(lab, f), port: 33434 });
        assert.equal(r.ok, false);
        assert.equal(r.ok === false && r.errno, 90);
        assert.equal(r.ok === false && r.localMtu, 1300);
      } finally {
        s.close();
      }
    }
  } finally {
    lab.leave();
  }
});

function echoRequest(f: Family, id: number, seq: number, payload: Buffer): Buffer {
  const echo = { kind: 'echoRequest' as const, code: 0, id, seq, payload };
  // ICMPv6 without a pseudo-header: the kernel fills the checksum on raw ICMPv6 sockets.
  return f === 4 ? icmpv4.encode(echo) : icmpv6.encode(echo);
}

labTest('3: raw ICMP echo with DF set: the reply matches by id and sequence, RTT measured', bottleneck, async (lab) => {
  lab.enter('client');
  try {
    for (const f of families) {
      const s = ProbeSocket.open('icmp-raw', f);
      try {
        s.setPmtuMode('probe');
        s.start();
        const id = 0x4242;
        const seq = 7;
        const sentAt = process.hrtime.bigint();
        const reply = new Promise<Message>((resolve) => {
          s.on('message', (m) => {
            const icmp = f === 4 ? m.data.subarray((m.data[0] & 0x0f) * 4) : m.data;
            if (icmp[0] === (f === 4 ? 0 : 129) && icmp.readUInt16BE(4) === id && icmp.readUInt16BE(6) === seq) resolve(m);
          });
        });
        s.send(echoRequest(f, id, seq, Buffer.alloc(1400 - IP[f] - 8, 0x61)), { address: serverOf(lab, f) });
        const m = await reply;
        const rttMs = Number(m.receivedAt - sentAt) / 1e6;
        assert.equal(m.from, serverOf(lab, f));
        assert.ok(rttMs > 0 && rttMs < 1000, `rtt ${rttMs}`);
        if (f === 4) {
          assert.equal(m.data.readUInt16BE(2), 1400, 'the reply is as large as the request');
        } else {
          assert.equal(m.data.length, 1400 - 40);
        }
        // With DF, a 1401-byte request cannot pass the 1400 link: a frag-needed / PTB comes back instead.
        const tooBig = new Promise<Message>((resolve) => {
          s.on('message', (msg) => {
            const icmp = f === 4 ? msg.data.subarray((msg.data[0] & 0x0f) * 4) : msg.data;
            if ((f === 4 && icmp[0] === 3 && icmp[1] === 4) || (f === 6 && icmp[0] === 2)) resolve(msg);
          });
        });
        s.send(echoRequest(f, id, seq + 1, Buffer.alloc(1401 - IP[f] - 8, 0x61)), { address: serverOf(lab, f) });
        const ptb = await tooBig;
        assert.equal(ptb.from, lab.bottleneckRouter(f));
      } finally {
        s.close();
      }
    }
  } finally {
    lab.leave();
  }
});

labTest('4: IP_MTU / IPV6_MTU on a connected socket reads the PMTU the kernel cached after a PTB', bottleneck, async (lab) => {
  lab.enter('client');
  try {
    for (const f of families) {
      const before = ProbeSocket.open('udp', f);
      const s = udpProbeSocket(f);
      // connect() looks the route up once; a socket connected after the PTB sees the cached exception.
      const after = ProbeSocket.open('udp', f);
      try {
        before.connect(serverOf(lab, f), 9);
        assert.equal(before.pathMtu(), 1500, 'before any PTB: the route MTU');
        const got = nextError(s);
        s.sendProbe(Buffer.alloc(1500 - IP[f] - 8), { address: serverOf(lab, f), port: 33434 });
        await got;
        after.connect(serverOf(lab, f), 9);
        assert.equal(after.pathMtu(), 1400, 'after the PTB: the cached PMTU');
      } finally {
        s.close();
        before.close();
        after.close();
      }
    }
  } finally {
    lab.leave();
  }
});

labTest('5: the UDP error-queue method works as an unprivileged user (nobody)', bottleneck, async (lab) => {
  const script = new URL('./unprivileged-probe.ts', import.meta.url);
  for (const f of families) {
    const { code, stdout, stderr } = await scriptAsUser(lab, 'client', script, [String(f), serverOf(lab, f)]);
    assert.equal(code, 0, stderr);
    const r = JSON.parse(stdout) as { uid: number; gid: number; groups: number[]; errno: number; info: number; offender: string };
    assert.deepEqual([r.uid, r.gid, r.groups], [NOBODY, NOBODY, [NOBODY]]);
    assert.equal(r.errno, 90);
    assert.equal(r.info, 1400);
    assert.equal(r.offender, lab.bottleneckRouter(f));
  }
});


test('6: bad input gives typed errors', () => {
  assert.throws(() => ProbeSocket.open('udp', 5 as Family), UsageError);
  assert.throws(() => ProbeSocket.open('nope' as 'udp', 4), UsageError);
  const s = ProbeSocket.open('udp', 4);
  try {
    assert.throws(() => s.bind('not-an-address'), /address|IPv4/i);
    assert.throws(() => s.send(Buffer.alloc(1), { address: '127.0.0.1', port: 70000 }), RangeError);
    assert.throws(() => s.send(Buffer.alloc(1), { address: '127.0.0.1', port: 9 }, { ttl: 0 }), UsageError);
    const e = (() => {
      try {
        s.setOption(c('IPPROTO_IP'), 9999, 1);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    assert.ok(e instanceof SystemCallError);
    assert.equal(e.code, 'ENOPROTOOPT');
    assert.equal(e.syscall, 'setsockopt');
    assert.equal(e.errno, -92);
  } finally {
    s.close();
  }
  assert.throws(() => s.send(Buffer.alloc(1), { address: '127.0.0.1', port: 9 }), (err: SystemCallError) => err.code === 'EBADF');
  s.close(); // twice is fine
});

test('6: 10,000 open/poll/close cycles leak no file descriptor', () => {
  const fds = (): number => readdirSync('/proc/self/fd').length;
  const before = fds();
  for (let i = 0; i < 10_000; i++) {
    const s = ProbeSocket.open('udp', i % 2 ? 4 : 6);
    if (i % 3 === 0) s.start();
    s.close();
  }
  assert.ok(fds() - before <= 2, `fds grew from ${before} to ${fds()}`);
});
