// The kernel applies our classic BPF programs: in a lab namespace, ICMP aimed at the client from a
// router (echo replies and errors, ours and others') is read by an unfiltered witness socket and by
// a socket carrying icmpProgram(); the filtered one reads exactly ours. And discover with the raw
// icmp method stays exact while another process pings the same target, never reading its replies.
import assert from 'node:assert/strict';
import { discover } from '../../src/discover/index.js';
import type { Lab } from '../../src/lab/lab.js';
import { labTest } from '../../src/lab/testing.js';
import type { Family } from '../../src/wire/facts.js';
import { attachFilter, icmpProgram } from '../../src/sock/bpf.js';
import { ProbeSocket } from '../../src/sock/socket.js';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as icmpv6 from '../../src/wire/icmpv6.js';
import * as ipv4 from '../../src/wire/ipv4.js';
import * as ipv6 from '../../src/wire/ipv6.js';
import * as udp from '../../src/wire/udp.js';

const families: Family[] = [4, 6];
const ID = 0x4242;
const PORT = 41000;

const clientOf = (lab: Lab, f: Family): string => (f === 4 ? lab.client.v4 : lab.client.v6);
const serverOf = (lab: Lab, f: Family): string => (f === 4 ? lab.server.v4 : lab.server.v6);

/** What a router quotes of a datagram the client sent to the server: its IP header and what follows. */
function quote(lab: Lab, f: Family, protocol: number, transport: Buffer): Buffer {
  const src = clientOf(lab, f);
  const dst = serverOf(lab, f);
  const ip =
    f === 4
      ? ipv4.encode({ dscp: 0, ecn: 0, totalLength: 20 + transport.length, id: 0, df: true, mf: false, fragmentOffset: 0, ttl: 1, protocol, src, dst, options: Buffer.alloc(0) })
      : ipv6.encode({ trafficClass: 0, flowLabel: 0, payloadLength: transport.length, hopLimit: 1, src, dst, extensions: [], protocol });
  return Buffer.concat([ip, transport]);
}

interface Shot {
  what: string;
  ours: boolean;
  message: Buffer;
}

function shots(lab: Lab, f: Family): Shot[] {
  const echo = (kind: 'echoRequest' | 'echoReply', id: number): Buffer => {
    const m = { kind, code: 0, id, seq: 1, payload: Buffer.alloc(24, 0x5a) };
    return f === 4 ? icmpv4.encode(m) : icmpv6.encode(m);
  };
  const icmpProto = f === 4 ? 1 : 58;
  const error = (quoted: Buffer): Buffer =>
    f === 4 ? icmpv4.encode({ kind: 'timeExceeded', code: 0, quoted }) : icmpv6.encode({ kind: 'timeExceeded', code: 0, quoted });
  const tooBig = (quoted: Buffer): Buffer =>
    f === 4 ? icmpv4.encode({ kind: 'destUnreachable', code: 4, nextHopMtu: 1300, quoted }) : icmpv6.encode({ kind: 'packetTooBig', code: 0, mtu: 1300, quoted });
  const udpFrom = (port: number): Buffer => udp.encode({ srcPort: port, dstPort: 33434, payload: Buffer.alloc(16) });
  return [
    { what: 'echo reply, our id', ours: true, message: echo('echoReply', ID) },
    { what: 'echo reply, another id', ours: false, message: echo('echoReply', ID + 1) },
    { what: 'time exceeded quoting our echo request', ours: true, message: error(quote(lab, f, icmpProto, echo('echoRequest', ID))) },
    { what: 'time exceeded quoting another echo request', ours: false, message: error(quote(lab, f, icmpProto, echo('echoRequest', ID - 1))) },
    { what: 'too big quoting our echo request', ours: true, message: tooBig(quote(lab, f, icmpProto, echo('echoRequest', ID))) },
    { what: 'too big quoting another echo request', ours: false, message: tooBig(quote(lab, f, icmpProto, echo('echoRequest', 7))) },
    { what: 'too big quoting UDP from our port', ours: true, message: tooBig(quote(lab, f, 17, udpFrom(PORT))) },
    { what: 'too big quoting UDP from another port', ours: false, message: tooBig(quote(lab, f, 17, udpFrom(PORT + 1))) },
  ];
}

/** Drain a socket that is not polled: every datagram queued now. */
function readAll(sock: ProbeSocket): Buffer[] {
  const got: Buffer[] = [];
  const on = (m: { data: Buffer }): void => void got.push(m.data);
  sock.on('message', on);
  while (sock.drain() > 0);
  sock.off('message', on);
  return got;
}

labTest('the kernel runs the ICMP program: replies and errors about other ids and ports never reach the socket', { routers: [{}], links: [{}, {}] }, async (lab) => {
  for (const f of families) {
    lab.enter('r1');
    const sender = ProbeSocket.open('icmp-raw', f);
    lab.enter('client');
    const witness = ProbeSocket.open('icmp-raw', f);
    const filtered = ProbeSocket.open('icmp-raw', f);
    lab.leave();
    try {
      attachFilter(filtered, icmpProgram(f, { echoIds: [ID], udpPorts: [PORT] }));
      const list = shots(lab, f);
      const ROUNDS = 5;
      for (let i = 0; i < ROUNDS; i++) for (const s of list) sender.send(s.message, { address: clientOf(lab, f) });
      // The witness reads everything that arrived (and whatever else the host got: neighbour
      // discovery, ...); wait until all our shots are there.
      const seen: Buffer[] = [];
      const icmpOf = (d: Buffer): Buffer => (f === 4 ? d.subarray((d[0]! & 0x0f) * 4) : d);
      // Type, code and everything after the checksum (the kernel fills an ICMPv6 checksum in).
      const same = (d: Buffer, m: Buffer): boolean => d.subarray(0, 2).equals(m.subarray(0, 2)) && d.subarray(4).equals(m.subarray(4));
      const isShot = (d: Buffer): boolean => list.some((s) => same(icmpOf(d), s.message));
      for (let i = 0; i < 200 && seen.filter(isShot).length < ROUNDS * list.length; i++) {
        seen.push(...readAll(witness));
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(seen.filter(isShot).length, ROUNDS * list.length, `IPv${f}: every shot reached the unfiltered socket`);
      const got = readAll(filtered).map(icmpOf);
      const label = (d: Buffer): string => list.find((s) => same(d, s.message))?.what ?? `unknown type ${d[0]}`;
      const gotNames = got.map(label).sort();
      const want = list.filter((s) => s.ours).flatMap((s) => Array<string>(ROUNDS).fill(s.what)).sort();
      assert.deepEqual(gotNames, want, `IPv${f}: the filtered socket read exactly ours`);
    } finally {
      sender.close();
      witness.close();
      filtered.close();
    }
  }
});

const path = { routers: [{}, {}, {}], links: [{}, {}, { mtu: 1400 }, {}] };

labTest('discover --method icmp stays exact while another process pings the same target, and never reads its replies', path, async (lab, t) => {
  for (const f of families) {
    // iputils ping as root: a raw socket of its own, another echo id, a flood (each echo sent as
    // the last reply comes back, at least 100 a second).
    const pinger = lab.spawn('client', ['ping', `-${f}`, '-n', '-q', '-f', '-s', '1000', '-w', '30', serverOf(lab, f)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    pinger.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => pinger.once('exit', () => resolve()));
    let r: Awaited<ReturnType<typeof discover>>;
    try {
      // Let its replies flow before the search starts, and after it ends.
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(pinger.exitCode, null, `IPv${f}: ping runs: ${out}`);
      lab.enter('client');
      try {
        r = await discover(serverOf(lab, f), { method: 'icmp', family: f, signal: AbortSignal.timeout(15_000) });
      } finally {
        lab.leave();
      }
      await new Promise((res) => setTimeout(res, 100));
    } finally {
      pinger.kill('SIGINT');
      await exited;
    }
    const received = Number(/(\d+) received/.exec(out)?.[1] ?? 0);
    const label = `IPv${f}: ${JSON.stringify({ pmtu: r.pmtu, exact: r.exact, probes: r.probes, ms: r.elapsedMs, ignored: r.ignored, pingReceived: received })}`;
    t.diagnostic(label);
    assert.equal(r.pmtu, 1400, label);
    assert.equal(r.exact, true, label);
    assert.ok(received > 100, `${label}: the other ping got its replies`);
    // Without the kernel's filter every one of ping's replies arriving during the run was read and
    // ignored as 'echo id is not ours (another ping)'; with it none is read.
    assert.equal(Object.keys(r.ignored).filter((k) => k.includes('echo id')).length, 0, label);
  }
}, { timeout: 90_000 });
