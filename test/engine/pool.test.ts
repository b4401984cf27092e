// The engine's prober pool: one shared prober per (netns, family, method, port), leased and
// refcounted, closed with its last lease (or after the idle grace, or when keepAlive ends); answers
// routed to the lease that sent the probe; a socket opened in one namespace never used from another.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ProberPool, currentNetns } from '../../src/engine/pool.js';
import { labTest } from '../../src/lab/testing.js';
import type { ProbeOutcome } from '../../src/probe/prober.js';
import { socketCount } from '../fds.js';


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('refcount: leases share one prober (one socket); it closes with the last release, not before', () => {
  const pool = new ProberPool();
  const before = socketCount();
  const a = pool.acquire({ method: 'udp', family: 4 });
  const b = pool.acquire({ method: 'udp', family: 4 });
  assert.equal(a.prober, b.prober, 'one prober for both');
  assert.equal(socketCount() - before, 1, 'one socket');
  assert.equal(pool.leases({ method: 'udp', family: 4 }), 2);
  // Another port or family is another prober.
  const c = pool.acquire({ method: 'udp', family: 4, port: 40000 });
  const d = pool.acquire({ method: 'udp', family: 6 });
  assert.notEqual(c.prober, a.prober);
  assert.notEqual(d.prober, a.prober);
  assert.equal(pool.size, 3);
  a.release();
  a.release(); // idempotent: does not take b's reference
  assert.equal(pool.leases({ method: 'udp', family: 4 }), 1);
  assert.equal(socketCount() - before, 3, 'still open while b holds it');
  b.release();
  c.release();
  d.release();
  assert.equal(pool.size, 0);
  assert.equal(socketCount(), before, 'closed with the last lease');
  assert.throws(() => b.send('127.0.0.1', 100, {}, () => {}), /released/);
});

test('idle grace and keepAlive: back-to-back runs reuse the socket; it closes once nobody holds it', async () => {
  const before = socketCount();
  const pool = new ProberPool({ idleMs: 30 });
  const a = pool.acquire({ method: 'udp', family: 4 });
  const first = a.prober;
  a.release();
  assert.equal(pool.size, 1, 'kept for the grace');
  const b = pool.acquire({ method: 'udp', family: 4 });
  assert.equal(b.prober, first, 'reused within the grace');
  b.release();
  await sleep(60);
  assert.equal(pool.size, 0);
  assert.equal(socketCount(), before);

  const pool2 = new ProberPool();
  const done = pool2.keepAlive();
  const x = pool2.acquire({ method: 'udp', family: 4 });
  const held = x.prober;
  x.release();
  const y = pool2.acquire({ method: 'udp', family: 4 });
  assert.equal(y.prober, held, 'kept open while keepAlive holds the pool');
  y.release();
  assert.equal(socketCount() - before, 1);
  done();
  assert.equal(socketCount(), before, 'closed when keepAlive ends');
});

test('exclusive leases get a prober of their own, closed with the lease', () => {
  const before = socketCount();
  const pool = new ProberPool();
  const shared = pool.acquire({ method: 'udp', family: 4 });
  const own = pool.acquire({ method: 'udp', family: 4 }, { exclusive: true });
  assert.notEqual(own.prober, shared.prober);
  assert.equal(socketCount() - before, 2);
  own.release();
  shared.release();
  assert.equal(socketCount(), before);
});

test('answers go to the lease that sent the probe, by token; forgotten tokens go nowhere', async () => {
  const pool = new ProberPool();
  const a = pool.acquire({ method: 'udp', family: 4 });
  const b = pool.acquire({ method: 'udp', family: 4 });
  const got: Array<[string, number, ProbeOutcome['kind']]> = [];
  try {
    // Loopback: the closed port answers with a port unreachable, which proves delivery.
    const ta = a.send('127.0.0.1', 100, {}, (t, o) => got.push(['a', t, o.kind]));
    const tb = b.send('127.0.0.1', 120, {}, (t, o) => got.push(['b', t, o.kind]));
    const tf = b.send('127.0.0.1', 140, {}, (t, o) => got.push(['forgotten', t, o.kind]));
    b.forget([tf]);
    const until = Date.now() + 2000;
    while (got.length < 2 && Date.now() < until) await sleep(5);
    await sleep(20);
    assert.deepEqual(got.sort(), [['a', ta, 'delivered'], ['b', tb, 'delivered']]);
  } finally {
    a.release();
    b.release();
  }
});

test('the netns key is the inode of /proc/thread-self/ns/net', async () => {
  const { statSync } = await import('node:fs');
  assert.equal(currentNetns(), String(statSync('/proc/thread-self/ns/net').ino));
  // A pool keyed on a namespace name that changes opens a prober per namespace.
  let ns = 'one';
  const pool = new ProberPool({ netns: () => ns });
  const a = pool.acquire({ method: 'udp', family: 4 });
  ns = 'two';
  const b = pool.acquire({ method: 'udp', family: 4 });
  assert.notEqual(a.prober, b.prober);
  a.release();
  b.release();
});

labTest('a socket opened in a lab namespace is never used from another one', { links: [{}, {}], routers: [{}] }, async (lab) => {
  const pool = new ProberPool();
  const root = pool.acquire({ method: 'icmp', family: 4 });
  lab.enter('client');
  let inLab;
  try {
    inLab = pool.acquire({ method: 'icmp', family: 4 });
  } finally {
    lab.leave();
  }
  try {
    assert.notEqual(inLab.prober, root.prober, 'two namespaces, two sockets');
    // The lab's server is reachable only from inside the lab: the lab's socket gets the reply.
    const kinds: string[] = [];
    inLab.send(lab.server.v4, 100, {}, (_t, o) => kinds.push(o.kind));
    const until = Date.now() + 2000;
    while (kinds.length === 0 && Date.now() < until) await sleep(5);
    assert.deepEqual(kinds, ['delivered']);
    const again = pool.acquire({ method: 'icmp', family: 4 });
    assert.equal(again.prober, root.prober, 'back in the root namespace: its own socket');
    again.release();
  } finally {
    root.release();
    inLab.release();
  }
});

test('1,500 concurrent discover() calls on loopback: every one answers, sharing the same few sockets (no EMFILE)', async () => {
  const { discover } = await import('../../src/discover/index.js');
  const before = socketCount();
  let peak = 0;
  const watch = setInterval(() => (peak = Math.max(peak, socketCount() - before)), 5);
  try {
    const rs = await Promise.all(Array.from({ length: 1500 }, (_, i) => discover(i % 2 ? '127.0.0.1' : '::1', { method: 'udp' })));
    assert.ok(rs.every((r) => r.exact && r.pmtu === r.localMtu));
  } finally {
    clearInterval(watch);
  }
  assert.ok(peak <= 8, `${peak} sockets held at once`);
  assert.equal(socketCount(), before);
});
