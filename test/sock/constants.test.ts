// Kernel numbers come from the binding only (native/binding.cc reads them from the system headers):
// the sock layer's sockaddr and error-queue codecs use them, the pure wire codecs take them as
// parameters (rtm_family), and no TypeScript file defines one by number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { c } from '../../src/sock/binding.js';
import { addressFamilies, decodeInet, decodePacket, encodeInet, encodeNetlink, encodePacket } from '../../src/sock/sockaddr.js';
import { ProbeSocket, type ErrQueueEntry } from '../../src/sock/socket.js';
import * as nl from '../../src/wire/netlink.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../../src/wire/protocols.js';

test("the binding's numbers are Linux's (the facts DESIGN.md names)", () => {
  const facts: Record<string, number> = {
    IP_MTU_DISCOVER: 10, IP_RECVERR: 11, IP_RECVTTL: 12, IP_MTU: 14,
    IPV6_MTU_DISCOVER: 23, IPV6_MTU: 24, IPV6_RECVERR: 25, IPV6_DONTFRAG: 62,
    IP_PMTUDISC_DONT: 0, IP_PMTUDISC_WANT: 1, IP_PMTUDISC_DO: 2, IP_PMTUDISC_PROBE: 3, IP_PMTUDISC_INTERFACE: 4, IP_PMTUDISC_OMIT: 5,
    SO_EE_ORIGIN_LOCAL: 1, SO_EE_ORIGIN_ICMP: 2, SO_EE_ORIGIN_ICMP6: 3, SIZEOF_SOCK_EXTENDED_ERR: 16,
  };
  for (const [name, value] of Object.entries(facts)) assert.equal(c(name), value, name);
  assert.throws(() => c('AF_NO_SUCH_THING'), /unknown native constant/);
});

test("sockaddrs carry the binding's address families, and read back what the kernel writes", () => {
  const host16 = (b: Buffer): number => (endianness() === 'LE' ? b.readUInt16LE(0) : b.readUInt16BE(0)); // sa_family
  assert.equal(host16(encodeInet({ family: 4, address: '127.0.0.1', port: 1 })), c('AF_INET'));
  assert.equal(host16(encodeInet({ family: 6, address: '::1', port: 1 })), c('AF_INET6'));
  assert.equal(host16(encodeNetlink()), c('AF_NETLINK'));
  assert.equal(host16(encodePacket(1, c('ETH_P_ALL'))), c('AF_PACKET'));
  assert.equal(decodePacket(encodePacket(1, c('ETH_P_ALL'))).protocol, c('ETH_P_ALL'));
  assert.deepEqual(addressFamilies(), { 4: c('AF_INET'), 6: c('AF_INET6') });
  // What the kernel itself fills in (getsockname) decodes to the address we bound.
  for (const [family, lo] of [[4, '127.0.0.1'], [6, '::1']] as const) {
    const s = ProbeSocket.open('udp', family).bind(lo, 0);
    try {
      const { address, port } = s.localAddress();
      assert.equal(address, lo);
      assert.ok(port > 0);
      assert.deepEqual(decodeInet(encodeInet({ family, address, port }))?.port, port);
    } finally {
      s.close();
    }
  }
});

test("rtm_family is the binding's AF_INET / AF_INET6, passed to the netlink codec", () => {
  const af = addressFamilies();
  for (const family of [4, 6] as const) {
    const payload = nl.encodeRouteQuery(af, family, 0, family === 4 ? '198.18.0.1' : '2001:db8::1');
    assert.equal(payload[0], af[family]);
    assert.equal(nl.decodeRoute(af, payload).family, family);
  }
});

test("error-queue entries from the kernel decode with the binding's origins (icmp, icmp6)", async () => {
  for (const [family, lo, origin, type] of [[4, '127.0.0.1', 'icmp', 3], [6, '::1', 'icmp6', 1]] as const) {
    const closed = ProbeSocket.open('udp', family).bind(lo, 0);
    const port = closed.localAddress().port;
    closed.close(); // nothing listens there: a datagram to it comes back as port unreachable
    const s = ProbeSocket.open('udp', family).bind(lo, 0);
    try {
      s.receiveErrors();
      const got = new Promise<ErrQueueEntry>((resolve) => s.once('errqueue', resolve));
      s.start();
      s.trySend(Buffer.from('anyone?'), { address: lo, port });
      const e = await got;
      assert.equal(e.origin, origin);
      assert.equal(e.type, type, 'destination unreachable');
      assert.equal(e.offender, lo);
      assert.equal(e.destination, lo);
      assert.equal(e.destinationPort, port);
    } finally {
      s.close();
    }
  }
});

test("wire's ethertypes (IEEE numbers it parses frames with) are the binding's ETH_P_IP / ETH_P_IPV6", () => {
  assert.equal(ETHERTYPE_IPV4, c('ETH_P_IP'));
  assert.equal(ETHERTYPE_IPV6, c('ETH_P_IPV6'));
});

test('no TypeScript file under src/ defines a kernel socket-API constant by number', () => {
  // Address families, sockopt levels and names, error origins, packet and link types, clone flags:
  // these are read from the binding (c('NAME')). Protocol numbers carried inside packets (IPPROTO_*,
  // ethertypes, ICMP types, netlink message types) are wire facts and live in src/wire's tables.
  const src = fileURLToPath(new URL('../../src', import.meta.url));
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts')) files.push(p);
    }
  };
  walk(src);
  const defined = /\b(?:const|let|var)\s+((?:AF|PF|SOL|SO|SO_EE_ORIGIN|SOCK|IP|IPV6|MSG|ETH_P|CLONE|ARPHRD|PACKET|SIOC)_[A-Z0-9_]+)\s*=\s*(?:0x[0-9a-fA-F]+|\d+)\b/g;
  const found: string[] = [];
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(defined)) found.push(`${f.slice(src.length + 1)}: ${m[1]}`);
  }
  assert.ok(files.length > 50, `walked src/ (${files.length} files)`);
  assert.deepEqual(found, []);
});
