// What a Linux target honours, in the lab (injected from the client into the server, about the
// client): a frag-needed / PTB quoting UDP only while a socket matches the quoted ports; quoting
// TCP with no connection, never; a spoofed router source arrives as such and is believed. Plus the
// binary's exit codes and JSON. IPv4 and IPv6.
import assert from 'node:assert/strict';
import { flushCache, readCache } from '../../src/cache/index.js';
import { inject } from '../../src/inject/index.js';
import { labTest } from '../../src/lab/testing.js';
import { ProbeSocket, type Message } from '../../src/sock/socket.js';
import * as icmpv4 from '../../src/wire/icmpv4.js';
import * as ipv4 from '../../src/wire/ipv4.js';
import { cli, ensureBuilt, inNode, ipRouteGet, waitFor } from '../cache/helpers.js';

const SPEC = { routers: [{}, {}] };

for (const family of [4, 6] as const) {
  const low = family === 4 ? 1300 : 1280;
  labTest(`IPv${family}: a UDP quote is honoured only while the target has a matching socket (TCP: only for a connection)`, SPEC, async (lab) => {
    const client = family === 4 ? lab.client.v4 : lab.client.v6;
    const server = family === 4 ? lab.server.v4 : lab.server.v6;
    const flow = { target: server, about: client, port: 5000, srcPort: 4000 };

    // 1. No socket on server:4000: the UDP quote (and a TCP one) must be dropped. Then a control PTB
    //    quoting an echo reply with a larger MTU: once it is cached, the earlier ones have been
    //    processed too (same path, in order) — and had one been believed, its lower MTU would stand.
    await inNode(lab, 'client', async () => {
      await inject({ ...flow, mtu: low, proto: 'udp' });
      await inject({ ...flow, mtu: low, proto: 'tcp', seq: 1 });
      await inject({ target: server, about: client, mtu: 1400, proto: 'icmp' });
    });
    const control = await waitFor(() => ipRouteGet(lab, 'server', client), (r) => r.mtu !== null);
    assert.equal(control.mtu, 1400, `without a socket the UDP/TCP quotes were ignored: ${control.text}`);
    await inNode(lab, 'server', () => flushCache(client));
    assert.equal((await ipRouteGet(lab, 'server', client)).mtu, null);

    // 2. A UDP socket on server:4000 connected to client:5000: the same quote is believed.
    const sock = await inNode(lab, 'server', () => ProbeSocket.open('udp', family).bind(server, 4000).connect(client, 5000));
    try {
      assert.equal(sock.pathMtu(), 1500);
      await inNode(lab, 'client', () => inject({ ...flow, mtu: low, proto: 'udp' }));
      const seen = await waitFor(() => ipRouteGet(lab, 'server', client), (r) => r.mtu !== null);
      assert.equal(seen.mtu, low, seen.text);
      assert.equal(sock.pathMtu(), low, 'the socket itself sees the new PMTU');
      assert.equal((await inNode(lab, 'server', () => readCache(client))).mtu, low);
    } finally {
      sock.close();
    }
  });

  labTest(`IPv${family}: --from puts a router's address on the PTB, and the target believes it`, SPEC, async (lab) => {
    const client = family === 4 ? lab.client.v4 : lab.client.v6;
    const server = family === 4 ? lab.server.v4 : lab.server.v6;
    // An address inside the lab range that no node owns (a router's own address would be dropped
    // as a martian by that router when the forged packet passes through it).
    const router = family === 4 ? '198.18.200.1' : '2001:db8:c8::1';
    const seen: Message[] = [];
    const raw = await inNode(lab, 'server', () => ProbeSocket.open('icmp-raw', family).start());
    raw.on('message', (m) => seen.push(m));
    try {
      const r = await inNode(lab, 'client', () => inject({ target: server, about: client, mtu: low, from: router }));
      assert.equal(r.from, router);
      const got = await waitFor(() => ipRouteGet(lab, 'server', client), (x) => x.mtu !== null);
      assert.equal(got.mtu, low, got.text);
      await waitFor(async () => seen.length, (n) => n > 0, 1000);
      const ptb = seen.find((m) => m.from === router);
      assert.ok(ptb, `the target received it from ${router} (got: ${seen.map((m) => m.from).join(', ')})`);
      if (family === 4) {
        const ip = ipv4.decode(ptb.data);
        const icmp = icmpv4.decode(ptb.data.subarray(ip.headerLength));
        assert.ok(icmp.kind === 'destUnreachable' && icmp.code === 4 && icmp.nextHopMtu === low && icmp.checksumValid);
      } else {
        assert.equal(ptb.data[0], 2, 'ICMPv6 type 2, packet too big');
        assert.equal(ptb.data.readUInt32BE(4), low);
      }
    } finally {
      raw.close();
    }
  });
}

labTest('bin/pathmtu.js inject and cache: exit 2 on bad numbers, 1 on unknown hosts and without privilege, JSON shapes', SPEC, async (lab) => {
  ensureBuilt();
  const base = ['inject', lab.server.v4, '--about', lab.client.v4];
  for (const bad of [['--mtu', 'abc'], ['--mtu', '-5'], ['--mtu', '70000'], ['--mtu', '60'], ['--mtu', '1300', '--proto', 'sctp'], ['--mtu', '1300', '--proto', 'udp']]) {
    const r = await cli(lab, 'client', [...base, ...bad]);
    assert.equal(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^pathmtu inject: [\s\S]+\nRun 'pathmtu inject --help'/);
  }
  const v6low = await cli(lab, 'client', ['inject', lab.server.v6, '--about', lab.client.v6, '--mtu', '1000']);
  assert.equal(v6low.code, 2);
  assert.match(v6low.stderr, /below the IPv6 minimum of 1280.*--force/);
  assert.equal((await cli(lab, 'client', ['inject', lab.server.v4, '--mtu', '1300'])).code, 2, '--about is required');
  assert.equal((await cli(lab, 'client', ['cache', '-4', '-6'])).code, 2);

  const unknown = await cli(lab, 'client', ['inject', 'no-such-host.invalid', '--mtu', '1300', '--about', lab.client.v4]);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /unknown host 'no-such-host\.invalid'/);
  const unknownCache = await cli(lab, 'server', ['cache', 'no-such-host.invalid']);
  assert.equal(unknownCache.code, 1);
  assert.match(unknownCache.stderr, /unknown host/);

  const nobody = await cli(lab, 'client', [...base, '--mtu', '1300'], { uid: 65534, gid: 65534 });
  assert.equal(nobody.code, 1, nobody.stderr);
  assert.match(nobody.stderr, /CAP_NET_RAW/);

  const sent = await cli(lab, 'client', [...base, '--mtu', '1300', '--json']);
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(sent.stderr, /warning: .*for about 10 minutes/);
  const j = JSON.parse(sent.stdout) as Record<string, unknown>;
  for (const k of ['family', 'target', 'from', 'about', 'proto', 'mtu', 'length', 'originalLength', 'quotedLength', 'summary', 'warnings', 'bytes']) assert.ok(k in j, `JSON has ${k}`);
  assert.equal(j.mtu, 1300);
  assert.equal(j.length, 576);
  assert.equal(j.from, lab.client.v4);
  assert.equal((j.bytes as string).length, 576 * 2);
  const v6 = await cli(lab, 'client', ['inject', lab.server.v6, '--about', `[${lab.client.v6}]:5000`, '--proto', 'udp', '--src-port', '4000', '--mtu', '1280', '--json']);
  assert.equal(v6.code, 0, v6.stderr);
  const j6 = JSON.parse(v6.stdout) as Record<string, unknown>;
  assert.equal(j6.port, 5000);
  assert.equal(j6.srcPort, 4000);
  assert.equal(j6.length, 1280);
  // The ICMP-quoting one was believed: the server shows it through the CLI.
  const seen = await waitFor(() => cli(lab, 'server', ['cache', lab.client.v4, '--json']), (r) => r.code === 0 && /"cached": true/.test(r.stdout));
  assert.equal((JSON.parse(seen.stdout) as Array<{ mtu: number }>)[0]!.mtu, 1300);
});
