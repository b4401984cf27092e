// The Watcher on loopback (no lab needed: every 127/8 address is this host): many targets through
// one shared prober and the engine's one timer, ratePps holding all their rounds and searches
// together under a cap, one engine shared with a discover() beside it (sockets leased up front,
// onSocketsOpen, the cap over both), setTargets adding and removing targets while it runs, and bad
// options refused up front.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { discover } from '../../src/discover/discover.js';
import { Engine } from '../../src/engine/engine.js';
import { Watcher } from '../../src/watch/watcher.js';
import type { WatchEvent } from '../../src/watch/types.js';

const targets = Array.from({ length: 20 }, (_, i) => `127.0.0.${i + 1}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function firstKnown(w: Watcher, n: number, events: WatchEvent[]): Promise<void> {
  const until = Date.now() + 15_000;
  while (events.filter((e) => e.reason === 'initial').length < n) {
    if (Date.now() > until) throw new Error(`only ${events.length} events: ${JSON.stringify(w.states())}`);
    await sleep(20);
  }
}

test('20 loopback targets: every one first known, then held under ratePps all together', async () => {
  const rate = 20;
  const events: WatchEvent[] = [];
  // Uncapped, these rounds would be 20 targets x 2 probes every 0.1 s: 400 probes/s.
  const w = new Watcher(targets, { intervalS: 0.1, raiseS: 3600, ratePps: rate });
  w.on('change', (e) => events.push(e));
  try {
    await w.start();
    await firstKnown(w, targets.length, events);
    assert.deepEqual(new Set(events.map((e) => e.pmtu)), new Set([65535]));
    const p0 = w.probesSent;
    const t0 = performance.now();
    await sleep(2000);
    const sent = w.probesSent - p0;
    const s = (performance.now() - t0) / 1000;
    // The bucket's burst (one second's worth) plus its rate over the window; a round is 2 probes.
    assert.ok(sent <= rate * s + rate + 2, `${sent} probes in ${s.toFixed(2)} s at a cap of ${rate}/s`);
    assert.ok(sent >= rate / 2, `rounds still go out under the cap: ${sent}`);
    assert.equal(events.length, targets.length, 'no change while nothing changed');
    for (const st of w.states()) assert.equal(st.phase, 'confirming', JSON.stringify(st));
  } finally {
    await w.stop();
  }
});

test('setTargets adds and removes targets while running; stop leaves nothing behind', async () => {
  const events: WatchEvent[] = [];
  const w = new Watcher(['127.0.0.1', '127.0.0.2'], { intervalS: 0.2, raiseS: 3600 });
  w.on('change', (e) => events.push(e));
  await w.start();
  await firstKnown(w, 2, events);
  w.setTargets(['127.0.0.2', '127.0.0.3', ' ', '127.0.0.3']);
  await firstKnown(w, 3, events);
  assert.deepEqual(w.states().map((s) => s.target), ['127.0.0.2', '127.0.0.3']);
  await w.stop();
  const n = w.probesSent;
  await sleep(500);
  assert.equal(w.probesSent, n, 'nothing is sent after stop()');
});

test('bad options are usage errors before anything is sent', () => {
  assert.throws(() => new Watcher(['127.0.0.1'], { intervalS: 0 }), { code: 'ERR_USAGE', message: /intervalS must be from 0.01/ });
  assert.throws(() => new Watcher(['127.0.0.1'], { raiseS: Number.NaN }), { code: 'ERR_USAGE', message: /raiseS/ });
  assert.throws(() => new Watcher(['127.0.0.1'], { method: 'smoke' as never }), { code: 'ERR_USAGE', message: /unknown method 'smoke'/ });
  assert.throws(() => new Watcher(['127.0.0.1'], { ratePps: 0 }), { code: 'ERR_USAGE', message: /ratePps/ });
  assert.throws(() => new Watcher(['127.0.0.1'], { ratePps: 10, engine: new Engine({ poolOptions: {} }) }), { code: 'ERR_USAGE', message: /ratePps is the engine's/ });
});

test('one engine: the rounds and searches of the Watcher and a discover() beside it share its sockets and its rate cap', async () => {
  const rate = 40;
  // An engine with a pool of its own, so the sockets counted are only this test's.
  const engine = new Engine({ ratePps: rate, poolOptions: {} });
  const events: WatchEvent[] = [];
  const w = new Watcher(targets, { engine, method: 'icmp', intervalS: 0.1, raiseS: 3600 });
  w.on('change', (e) => events.push(e));
  let opened = -1;
  const onOpen = new Watcher(['127.0.0.1'], { engine, method: 'icmp', onSocketsOpen: () => (opened = engine.pool.size) });
  try {
    await w.start();
    // Leased up front, before the first probe: the one socket these targets need (icmp, IPv4).
    assert.equal(engine.pool.size, 1);
    assert.equal(engine.pool.leases({ method: 'icmp', family: 4 }), 1);
    await onOpen.start();
    assert.equal(opened, 1, 'onSocketsOpen is called with the sockets open, and none opened twice');
    await onOpen.stop();
    await firstKnown(w, targets.length, events);
    const p0 = w.probesSent;
    const t0 = performance.now();
    const d = await discover('127.0.0.2', { engine, method: 'icmp' });
    assert.equal(d.pmtu, 65535);
    assert.equal(engine.pool.size, 1, 'discover() leased the socket the Watcher holds');
    await sleep(Math.max(0, 2000 - (performance.now() - t0)));
    const s = (performance.now() - t0) / 1000;
    const sent = w.probesSent - p0 + d.probes;
    // Uncapped, the rounds alone would be 20 targets x 2 probes every 0.1 s: 400 probes/s.
    // The bucket's burst (max(10, 1% of the rate)), and one step's probes of debt.
    assert.ok(sent <= rate * s + 10 + 8, `${sent} probes in ${s.toFixed(2)} s at a cap of ${rate}/s`);
    assert.ok(w.probesSent - p0 >= rate / 2, `rounds still go out beside the search: ${w.probesSent - p0}`);
  } finally {
    await w.stop();
  }
  assert.equal(engine.pool.size, 0, 'stop() released the leases: the socket is closed');
});
