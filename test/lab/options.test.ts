// Router and server options, sysctls, and running code inside a node (exec as another user,
// enter/leave for sockets opened by this very process).
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readlinkSync } from 'node:fs';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';
import type { Family } from '../../src/wire/facts.js';
import { ping } from './ping.js';

/**
 * Send one UDP datagram from the client and report whether a port-unreachable came back
 * (ECONNREFUSED on the connected socket) within `ms`. The socket is opened through enter():
 * Node's dgram creates its fd only at bind (after an async lookup), so we stay entered until
 * the socket is bound and connected, and check its local address before anything is sent.
 */
async function udpRefused(lab: Lab, family: Family, to: string, ms = 400): Promise<boolean> {
  const sock = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
  lab.enter('client');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, () => sock.connect(33434, to, () => resolve()));
    });
  } finally {
    lab.leave();
  }
  try {
    assert.equal(sock.address().address, family === 4 ? lab.client.v4 : lab.client.v6, 'socket not in the client namespace');
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(e.code === 'ECONNREFUSED');
      });
      sock.send(Buffer.from('pathmtu lab'));
    });
  } finally {
    sock.close();
  }
}

const sysctl = async (lab: Lab, node: string, key: string) =>
  (await lab.exec(node, ['cat', `/proc/sys/${key.replaceAll('.', '/')}`])).stdout.trim().replace(/\s+/g, ' ');

labTest('noTimeExceeded: r2 forwards but never says time exceeded; r1 still does', { routers: [{}, { noTimeExceeded: true }, {}] }, async (lab) => {
  for (const family of [4, 6] as const) {
    const to = family === 4 ? lab.server.v4 : lab.server.v6;
    const r1 = await ping(lab, 'client', family, to, 100, { ttl: 1 });
    assert.match(r1.output, new RegExp(`From ${lab.routerAddress(1, family, 'in')} .*(Time to live exceeded|Time exceeded)`), r1.output);
    const r2 = await ping(lab, 'client', family, to, 100, { ttl: 2 });
    assert.equal(r2.received, 0);
    assert.doesNotMatch(r2.output, /From /, r2.output);
    assert.equal((await ping(lab, 'client', family, to, 1500, { ttl: 4 })).received, 1);
  }
});

labTest('a plain server answers echo and UDP with port-unreachable (the baseline)', { routers: [{}] }, async (lab) => {
  const home = readlinkSync('/proc/thread-self/ns/net');
  assert.equal(await udpRefused(lab, 4, lab.server.v4), true);
  assert.equal(await udpRefused(lab, 6, lab.server.v6), true);
  // enter/leave brought this thread back where it was.
  assert.equal(readlinkSync('/proc/thread-self/ns/net'), home);
  lab.enter('server');
  assert.notEqual(readlinkSync('/proc/thread-self/ns/net'), home);
  await lab.destroy(); // destroy leaves a namespace of its own that we are still in
  assert.equal(readlinkSync('/proc/thread-self/ns/net'), home);
});

labTest('server dropUdp: no port-unreachable; echo still answered', { routers: [{}], server: { dropUdp: true } }, async (lab) => {
  assert.equal(await udpRefused(lab, 4, lab.server.v4), false);
  assert.equal(await udpRefused(lab, 6, lab.server.v6), false);
  assert.equal((await ping(lab, 'client', 4, lab.server.v4, 100)).received, 1);
});

labTest('server dropEcho: no echo reply; UDP still refused', { routers: [{}], server: { dropEcho: true } }, async (lab) => {
  for (const family of [4, 6] as const) {
    assert.equal((await ping(lab, 'client', family, family === 4 ? lab.server.v4 : lab.server.v6, 100)).received, 0);
  }
  assert.equal(await udpRefused(lab, 6, lab.server.v6), true);
});

labTest('server dropIcmpIn: no ICMP gets in, but IPv6 neighbour discovery still works', { routers: [{}], server: { dropIcmpIn: true } }, async (lab) => {
  assert.equal((await ping(lab, 'client', 4, lab.server.v4, 100)).received, 0);
  assert.equal((await ping(lab, 'client', 6, lab.server.v6, 100)).received, 0);
  // The server's own port-unreachable goes out, so v6 (which needs ND to reach the router) works.
  assert.equal(await udpRefused(lab, 6, lab.server.v6), true);
});

const towardsClient = (server: object) => ({ routers: [{}, {}], links: [{}, { mtu: 1400 }, {}], server });

labTest('server blockPtbIn: the server never hears the router\'s PTB (baseline first)', towardsClient({}), async (lab) => {
  const heard = await ping(lab, 'server', 4, lab.client.v4, 1401);
  assert.equal(heard.tooBig?.mtu, 1400, heard.output);
});

labTest('server blockPtbIn: ... and with it, silence', towardsClient({ blockPtbIn: true }), async (lab) => {
  for (const family of [4, 6] as const) {
    const r = await ping(lab, 'server', family, family === 4 ? lab.client.v4 : lab.client.v6, 1401);
    assert.equal(r.tooBig, undefined, r.output);
    assert.equal(r.received, 0);
  }
});

labTest('sysctls: ping group open in the client, ICMP rate limits only where asked', { routers: [{ icmpRateLimitMs: 0, icmpRateMask: 0 }, {}] }, async (lab) => {
  assert.equal(await sysctl(lab, 'client', 'net.ipv4.ping_group_range'), '0 2147483647');
  assert.equal(await sysctl(lab, 'r1', 'net.ipv4.icmp_ratelimit'), '0');
  assert.equal(await sysctl(lab, 'r1', 'net.ipv6.icmp.ratelimit'), '0');
  assert.equal(await sysctl(lab, 'r1', 'net.ipv4.icmp_ratemask'), '0');
  // r2 keeps the kernel's defaults (whatever this kernel's are: same as in a fresh namespace).
  for (const key of ['net.ipv4.icmp_ratelimit', 'net.ipv6.icmp.ratelimit', 'net.ipv4.icmp_ratemask']) {
    assert.equal(await sysctl(lab, 'r2', key), await sysctl(lab, 'client', key));
  }
  assert.notEqual(await sysctl(lab, 'r2', 'net.ipv4.icmp_ratelimit'), '0');
  for (const node of lab.nodes) assert.equal(await sysctl(lab, node, 'net.ipv4.conf.all.rp_filter'), '0');
  assert.equal(await sysctl(lab, 'r1', 'net.ipv6.conf.all.forwarding'), '1');
  assert.equal(await sysctl(lab, 'client', 'net.ipv4.ip_forward'), '0');
});

labTest('clientPingGroup false leaves the kernel default (closed)', { routers: [], clientPingGroup: false }, async (lab) => {
  assert.equal(await sysctl(lab, 'client', 'net.ipv4.ping_group_range'), '1 0');
});

labTest('exec runs as another user; spawn children die with the lab', { routers: [{}] }, async (lab) => {
  const r = await lab.exec('client', ['id', '-u'], { uid: 65534, gid: 65534 });
  assert.equal(r.stdout.trim(), '65534');
  const child = lab.spawn('server', ['sleep', '30']);
  const gone = new Promise((resolve) => child.once('exit', resolve));
  await lab.destroy();
  await gone;
});

labTest('router addresses per link, and bad node names are typed errors', { routers: [{}, {}] }, (lab) => {
  assert.equal(lab.address('r2', 4), '198.18.1.2');
  assert.equal(lab.address('r2', 6, 2), '2001:db8:2::1');
  assert.equal(lab.routerAddress(2, 4, 'out'), '198.18.2.1');
  assert.equal(lab.server.v6, '2001:db8:2::2');
  assert.throws(() => lab.address('r2', 4, 0), { code: 'ERR_LAB' });
  assert.throws(() => lab.nsName('r9'), { code: 'ERR_LAB' });
  assert.throws(() => lab.routerAddress(3, 4, 'in'), { code: 'ERR_LAB' });
});
