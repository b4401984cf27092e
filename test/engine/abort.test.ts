// One abort semantic for every job on the engine (src/engine/index.ts), and no listener left on the
// caller's signal on any way out: done, aborted before the first probe (AbortError), aborted
// after it (a partial result), or failed mid-run (the error). Loopback only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { discover } from '../../src/discover/index.js';
import { Engine } from '../../src/engine/engine.js';
import { createProber } from '../../src/probe/index.js';
import { AbortError, SystemCallError } from '../../src/errors.js';

const listeners = (s: AbortSignal): number => getEventListeners(s, 'abort').length;

test('a finished run leaves no listener on the signal and no socket in its pool', async () => {
  const engine = new Engine({ poolOptions: {} });
  const ac = new AbortController();
  const r = await discover('127.0.0.1', { method: 'udp', signal: ac.signal, engine });
  assert.equal(r.exact, true);
  assert.equal(r.aborted, false);
  assert.equal(listeners(ac.signal), 0);
  assert.equal(engine.pool.size, 0);
  assert.equal(engine.scheduler.jobs, 0);
});

test('aborted before the first probe (while the name resolves): rejects with AbortError, nothing left behind', async () => {
  const engine = new Engine({ poolOptions: {} });
  const ac = new AbortController();
  const run = discover('127.0.0.1', { method: 'udp', signal: ac.signal, engine });
  ac.abort();
  await assert.rejects(run, AbortError);
  assert.equal(listeners(ac.signal), 0);
  assert.equal(engine.pool.size, 0);
  await assert.rejects(discover('127.0.0.1', { signal: AbortSignal.abort(), engine }), AbortError);
});

test('a socket failure in a step rejects with that error and removes every listener; the pool lets go', async () => {
  let sends = 0;
  const engine = new Engine({
    poolOptions: {
      open: (spec) => {
        const p = createProber(spec.method, spec.family);
        // Every send fails as a dead socket's would (inside the job's step, on the scheduler).
        p.send = () => {
          sends++;
          throw new SystemCallError('sendmsg', 105, 'no buffer space');
        };
        return p;
      },
    },
  });
  const ac = new AbortController();
  await assert.rejects(discover('127.0.0.1', { method: 'udp', signal: ac.signal, engine }), SystemCallError);
  assert.equal(sends, 1);
  assert.equal(listeners(ac.signal), 0, 'no abort listener left');
  assert.equal(engine.pool.size, 0, 'the prober was released');
  assert.equal(engine.scheduler.jobs, 0, 'the job left the scheduler');
});

test('aborted from onEvent as a probe is announced: that probe never leaves: aborted before the first probe, AbortError', async () => {
  let sends = 0;
  const engine = new Engine({
    poolOptions: {
      open: (spec) => {
        const p = createProber(spec.method, spec.family);
        const send = p.send.bind(p);
        p.send = (...args: Parameters<typeof p.send>) => {
          sends++;
          return send(...args);
        };
        return p;
      },
    },
  });
  // The first probe announced (loopback: the one local probe): nothing went out, nothing was learned.
  const first = new AbortController();
  await assert.rejects(
    discover('127.0.0.1', { method: 'udp', max: 1500, signal: first.signal, engine, onEvent: (e) => e.type === 'probe' && first.abort() }),
    AbortError,
  );
  assert.equal(sends, 0, 'the announced probe was not sent');
  assert.equal(listeners(first.signal), 0);
  assert.equal(engine.scheduler.jobs, 0);
});
