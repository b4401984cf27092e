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

test('a worker thread terminated with sockets open does not crash the process (10 workers, each in a fresh process)', async () => {
  // The worker opens and polls sockets, then is terminated while they are open: the binding must
  // close its poll handles before Node unloads it from the worker (a segfault in uv__finish_close
  // otherwise, about 1 run in 10). Each round is a child process, so a crash is a failed round.
  const socketJs = new URL('../../dist/sock/socket.js', import.meta.url).href;
  const parent = `
    const { Worker } = require('node:worker_threads');
    const src = ${JSON.stringify(`
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(socketJs)}).then(({ ProbeSocket }) => {
        const open = [];
        for (let i = 0; i < 8; i++) {
          const s = ProbeSocket.open('udp', i % 2 ? 6 : 4).bind(i % 2 ? '::1' : '127.0.0.1', 0);
          s.receiveErrors();
          s.start();
          open.push(s);
        }
        // traffic in flight while the worker dies
        for (const s of open) s.send(Buffer.alloc(64), { address: s.family === 4 ? '127.0.0.1' : '::1', port: open[s.family === 4 ? 0 : 1].localAddress().port });
        parentPort.postMessage('open');
      });`)};
    (async () => {
      for (let i = 0; i < 5; i++) {
        const w = new Worker(src, { eval: true });
        await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
        await w.terminate();
      }
      process.stdout.write('survived\\n');
    })().catch((e) => { console.error(e); process.exit(3); });`;
  const { spawn } = await import('node:child_process');
  const results: string[] = [];
  for (let round = 0; round < 10; round++) {
    const child = spawn(process.execPath, ['-e', parent], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    if (code !== 0 || !out.includes('survived')) results.push(`round ${round}: exit ${code} signal ${signal} ${err.trim().split('\n').slice(0, 3).join(' | ')}`);
  }
  assert.deepEqual(results, [], 'every round survived its terminated workers');
});

test('datagrams are read while the error queue never empties (each error read provokes the next)', async () => {
  // A poller that drains only the error queue while an error is pending starves the data queue
  // whenever errors keep coming (a flood of ICMP errors on a raw socket). Here every error-queue
  // entry read sends one more datagram to a closed port, whose port-unreachable lands on the queue
  // at once (loopback answers synchronously): the error queue is never empty when polled.
  for (const [family, lo] of [[4, '127.0.0.1'], [6, '::1']] as const) {
    const closed = ProbeSocket.open('udp', family).bind(lo, 0);
    const closedPort = closed.localAddress().port;
    closed.close(); // nothing listens there now: sends to it bounce as port unreachable
    const rx = ProbeSocket.open('udp', family).bind(lo, 0);
    rx.receiveErrors();
    let errors = 0;
    let messages = 0;
    let provoking = true;
    rx.on('errqueue', () => {
      errors++;
      if (provoking) rx.trySend(Buffer.alloc(8), { address: lo, port: closedPort });
    });
    rx.on('message', () => messages++);
    rx.start();
    rx.trySend(Buffer.alloc(8), { address: lo, port: closedPort });
    const tx = ProbeSocket.open('udp', family);
    const port = rx.localAddress().port;
    await new Promise((r) => setTimeout(r, 20)); // the errors are under way
    for (let i = 0; i < 50; i++) tx.send(Buffer.from('data'), { address: lo, port });
    const until = Date.now() + 3000;
    while (messages < 50 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    provoking = false;
    rx.close();
    tx.close();
    assert.ok(errors > 100, `IPv${family}: the error queue kept filling (${errors} entries read)`);
    assert.equal(messages, 50, `IPv${family}: every datagram was read although errors never stopped (${errors} errors)`);
  }
});
