// A flood of forged PTBs during a run must not change the answer (RFC 5927, RFC 8899 §4.6.1). The
// forger sits in r1's namespace, spoofs the bottleneck router's address, and quotes what it can
// guess of our probes: the right addresses and UDP port range, random source ports and echo ids.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { labTest } from '../../src/lab/testing.js';
import { discover } from '../../src/discover/index.js';
import { buildPtb } from '../../src/inject/index.js';
import { c, native } from '../../src/sock/binding.js';
import { ProbeSocket } from '../../src/sock/socket.js';
import { encodeInet } from '../../src/sock/sockaddr.js';
import type { MethodName } from '../../src/probe/outcome.js';
import type { Family } from '../../src/wire/facts.js';

/** A forged PTB as a raw socket reads it (IPv4 from the IP header, IPv6 from ICMPv6): the forged MTU, not the path's 1400. */
function isForgery(data: Buffer, family: Family): boolean {
  if (family === 6) return data.length >= 8 && data[0] === 2 && data.readUInt32BE(4) === 1280;
  const icmp = (data[0]! & 0x0f) * 4;
  return data.length >= icmp + 8 && data[icmp] === 3 && data[icmp + 1] === 4 && data.readUInt16BE(icmp + 6) === 576;
}

const spec = { routers: [{}, {}, {}], links: [{}, {}, { mtu: 1400 }, {}] };

labTest('forged-PTB flood from another namespace: the answer stays exact', spec, async (lab) => {
  for (const family of [4, 6] as Family[]) {
    // Open the forger's raw socket inside r1, then go back to the client: the socket stays in r1.
    lab.enter('r1');
    const fd = native().socket(c(family === 4 ? 'AF_INET' : 'AF_INET6'), c('SOCK_RAW'), c('IPPROTO_RAW'));
    lab.leave();
    assert.ok(fd >= 0, `raw socket: ${fd}`);
    const client = family === 4 ? lab.client.v4 : lab.client.v6;
    const server = family === 4 ? lab.server.v4 : lab.server.v6;
    const spoofed = lab.bottleneckRouter(family)!;
    let forged = 0;
    const forge = (): void => {
      for (let i = 0; i < 10; i++) {
        const proto = i % 2 ? 'udp' : 'icmp';
        const { packet } = buildPtb({
          family,
          from: spoofed,
          target: client,
          about: server,
          proto,
          mtu: family === 4 ? 576 : 1280,
          port: proto === 'udp' ? 33434 + randomInt(1024) : 0,
          srcPort: randomInt(1024, 65535),
          seq: randomInt(65535),
        });
        if (native().sendmsg(fd, packet, encodeInet({ family, address: client, port: 0 }), null, 0) > 0) forged++;
      }
    };
    // Ten forgeries go out with every probe (and more on a timer), so the flood is there however
    // quickly the run ends.
    const flood = setInterval(forge, 1);
    try {
      for (const method of ['udp', 'icmp'] as MethodName[]) {
        lab.enter('client');
        // A witness: a raw ICMP socket without a filter, read after the run, sees the forgeries arrive.
        const witness = ProbeSocket.open('icmp-raw', family);
        let witnessed = 0;
        let r;
        try {
          r = await discover(server, { method, onEvent: (e) => e.type === 'probe' && forge() });
        } finally {
          lab.leave();
          witness.on('message', (m) => (witnessed += isForgery(m.data, family) ? 1 : 0));
          while (witness.drain() > 0);
          witness.close();
        }
        const label = `IPv${family} ${method}: ${JSON.stringify({ pmtu: r.pmtu, exact: r.exact, ptbs: r.ptbs })}`;
        assert.equal(r.pmtu, 1400, label);
        assert.equal(r.exact, true, label);
        for (const p of r.ptbs.filter((x) => x.accepted)) assert.equal(p.nextHopMtu, 1400, label);
        assert.ok(witnessed > 0, `${label}: forged PTBs reached the client`);
        if (method === 'icmp') {
          // The prober's raw socket has a BPF program on its echo id: forgeries quoting random ids
          // are dropped in the kernel, never read (one in 65,536 would pass, to be ignored there).
          const ignored = Object.values(r.ignored).reduce((a, b) => a + b, 0);
          assert.ok(ignored < witnessed, `${label}: ${witnessed} forgeries arrived, the prober read ${ignored} (${JSON.stringify(r.ignored)})`);
        }
      }
    } finally {
      clearInterval(flood);
      native().close(fd);
    }
    assert.ok(forged > 20, `the forger sent ${forged} PTBs during the runs`);
  }
});

labTest('garbage ICMP from another namespace (random types, truncated and malformed quotes): no crash, same answer', spec, async (lab) => {
  for (const family of [4, 6] as Family[]) {
    lab.enter('r1');
    const fd = native().socket(c(family === 4 ? 'AF_INET' : 'AF_INET6'), c('SOCK_RAW'), c(family === 4 ? 'IPPROTO_ICMP' : 'IPPROTO_ICMPV6'));
    lab.leave();
    assert.ok(fd >= 0, `raw socket: ${fd}`);
    const client = family === 4 ? lab.client.v4 : lab.client.v6;
    const server = family === 4 ? lab.server.v4 : lab.server.v6;
    const types = family === 4 ? [0, 3, 11, 12, 5, 8] : [1, 2, 3, 4, 129, 128];
    let sent = 0;
    const burst = (): void => {
      for (let i = 0; i < 10; i++) {
        const b = randomBytes(randomInt(4, 700));
        b[0] = types[randomInt(types.length)]!;
        if (randomInt(2) === 0 && b.length > 28) b[8] = family === 4 ? 0x45 : 0x60; // looks like a quoted IP header
        if (native().sendmsg(fd, b, encodeInet({ family, address: client, port: 0 }), null, 0) > 0) sent++;
      }
    };
    const spray = setInterval(burst, 1);
    try {
      for (const method of ['icmp', 'udp'] as MethodName[]) {
        lab.enter('client');
        let r;
        try {
          r = await discover(server, { method, onEvent: (e) => e.type === 'probe' && burst() });
        } finally {
          lab.leave();
        }
        assert.equal(r.pmtu, 1400, `IPv${family} ${method}`);
        assert.equal(r.exact, true);
      }
    } finally {
      clearInterval(spray);
      native().close(fd);
    }
    assert.ok(sent > 20, `sprayed ${sent} packets`);
  }
});
