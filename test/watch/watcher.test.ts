// The Watcher on loopback (no lab needed: every 127/8 address is this host): many targets through
// one shared prober and one timer, ratePps holding all their confirmation rounds together under a
// cap, setTargets adding and removing targets while it runs, and bad options refused up front.
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
});
