// The binding on loopback: datagrams with kernel timestamps and TTLs, and loading in a worker thread
// (the binding is context-aware and polls on the worker's own loop).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ProbeSocket, type Message } from '../../src/sock/socket.js';

test('a datagram over loopback arrives with its kernel timestamp and TTL', async () => {
  for (const [family, lo] of [[4, '127.0.0.1'], [6, '::1']] as const) {
    const rx = ProbeSocket.open('udp', family).bind(lo, 0);
    rx.receiveTimestamps();
    rx.receiveTtl();
    const got = new Promise<Message>((resolve) => rx.once('message', resolve));
    rx.start();
    const tx = ProbeSocket.open('udp', family);
    const before = BigInt(Date.now()) * 1_000_000n;
    tx.send(Buffer.from('hello'), { address: lo, port: rx.localAddress().port }, { ttl: 7 });
    const m = await got;
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    assert.equal(m.data.toString(), 'hello');
    assert.equal(m.from, lo);
    assert.equal(m.ttl, 7, 'the per-packet TTL went out and was read back');
    assert.ok(m.kernelTime !== undefined && m.kernelTime >= before - 5_000_000n && m.kernelTime <= after, `kernel time ${m.kernelTime} in [${before}, ${after}]`);
    rx.close();
    tx.close();
  }
});

test('the binding loads and polls in a worker thread', async () => {
  const src = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(new URL('../../dist/sock/socket.js', import.meta.url).href)}).then(({ ProbeSocket }) => {
      const rx = ProbeSocket.open('udp', 4).bind('127.0.0.1', 0);
      rx.once('message', (m) => { parentPort.postMessage(m.data.toString()); rx.close(); tx.close(); });
      rx.start();
      const tx = ProbeSocket.open('udp', 4);
      tx.send(Buffer.from('from the worker'), { address: '127.0.0.1', port: rx.localAddress().port });
    });`;
  // The worker loads the compiled package (npm test builds it first): a worker is plain Node.
  const w = new Worker(src, { eval: true });
  const msg = await new Promise<string>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  assert.equal(msg, 'from the worker');
  await w.terminate();
});
