// trace() on the engine's one abort semantic (src/engine/index.ts), on loopback: aborted before the
// first probe it rejects with AbortError; aborted after, it resolves with what it knows and
// `aborted: true`. On every way out no listener is left on the caller's signal, the lease discover
// handed over is released (the pool is empty) and no job is left on the scheduler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { trace } from '../../src/trace/index.js';
import { Engine } from '../../src/engine/engine.js';
import { AbortError } from '../../src/errors.js';

const listeners = (s: AbortSignal): number => getEventListeners(s, 'abort').length;

function leftBehind(engine: Engine, signal: AbortSignal): void {
  assert.equal(listeners(signal), 0, 'no abort listener left on the signal');
  assert.equal(engine.pool.size, 0, 'every prober released');
  assert.equal(engine.scheduler.jobs, 0, 'no job left on the scheduler');
}

test('a finished trace leaves nothing behind; its rounds ran on the given engine', async () => {
  const engine = new Engine({ poolOptions: {} });
  const ac = new AbortController();
  const phases: string[] = [];
  const r = await trace('127.0.0.1', { method: 'udp', signal: ac.signal, engine, onEvent: (e) => e.type === 'phase' && phases.push(e.phase) });
  assert.equal(r.aborted, false);
  assert.equal(r.reached, true);
  assert.equal(r.pmtu, 65535);
  assert.deepEqual(phases.slice(0, 3), ['discover', 'hops', 'drops']);
  assert.ok(r.probes > 2, `probes ${r.probes}`);
  leftBehind(engine, ac.signal);
});

test('aborted before the first probe (already, or while the name resolves): AbortError', async () => {
  const engine = new Engine({ poolOptions: {} });
  await assert.rejects(trace('127.0.0.1', { method: 'udp', signal: AbortSignal.abort(), engine }), AbortError);
  const ac = new AbortController();
  const run = trace('127.0.0.1', { method: 'udp', signal: ac.signal, engine });
  ac.abort();
  await assert.rejects(run, AbortError);
  leftBehind(engine, ac.signal);
});

test('aborted after discover, while a round waits for its answers: resolves with what it knows, aborted: true', async () => {
  const engine = new Engine({ poolOptions: {} });
  const ac = new AbortController();
  let waiting = 0;
  let discoverSent = 0;
  let roundsSent = 0;
  const r = await trace('127.0.0.1', {
    method: 'udp',
    signal: ac.signal,
    engine,
    onEvent: (e) => {
      // On loopback the hop round is over as it goes out (TTL 1 is the target); the drops round
      // then waits for its probe's answer (or its loss timeout): abort there.
      if (e.type === 'probes' && e.phase === 'discover') discoverSent = e.sent;
      if (e.type === 'probes' && e.phase === 'drops' && e.outstanding > 0 && waiting === 0) {
        waiting = e.outstanding;
        roundsSent = e.sent;
        ac.abort();
      }
    },
  });
  assert.ok(waiting > 0, 'the abort came while a round was waiting');
  assert.equal(r.aborted, true);
  assert.equal(r.pmtu, 65535, 'what discover learned is kept');
  assert.equal(r.reached, true, 'and what the hop round learned');
  assert.equal(r.probes, discoverSent + roundsSent, 'nothing was sent after the abort');
  leftBehind(engine, ac.signal);
});

test('aborted while discover probes: a partial result, not a rejection', async () => {
  const engine = new Engine({ poolOptions: {} });
  const ac = new AbortController();
  const r = await trace('127.0.0.1', {
    method: 'udp',
    signal: ac.signal,
    engine,
    // Reported as discover's first probe leaves: aborted once it is out (the step that sends it
    // runs to its end first), so something was sent and the run may not reject.
    onEvent: (e) => e.type === 'probes' && e.phase === 'discover' && queueMicrotask(() => ac.abort()),
  });
  assert.equal(r.aborted, true);
  assert.ok(r.probes >= 1);
  leftBehind(engine, ac.signal);
});
