// ping() on the engine, on loopback: the one abort semantic (aborted before the first request
// rejects with AbortError; after it, the result so far with aborted: true), no listener left on the
// signal, and the prober leased from the engine's pool: shared by concurrent pings with DF, one of
// its own without DF, released when the run ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';

import { ping } from '../../src/ping/index.js';
import { Engine } from '../../src/engine/engine.js';
import { AbortError, PermissionError } from '../../src/errors.js';
import { ProberPool } from '../../src/engine/pool.js';
import { leasePingProber } from '../../src/ping/socket.js';
import { socketCount } from '../fds.js';

/** An echo socket this process may open (root: raw; else a ping socket): why not, when it may not. */
function noEchoSocket(): string | undefined {
  try {
    leasePingProber(new ProberPool(), 4, 'auto', true).lease.release();
    return undefined;
  } catch (err) {
    if (!(err instanceof PermissionError) || process.env.CI === 'true') throw err;
    return `no echo socket for this user (${err.message})`;
  }
}
const skip = noEchoSocket();
if (skip !== undefined) console.log(`# skipping ping loopback tests: ${skip}`);

const listeners = (s: AbortSignal): number => getEventListeners(s, 'abort').length;


function leftBehind(engine: Engine, signal: AbortSignal): void {
  assert.equal(listeners(signal), 0, 'no abort listener left on the signal');
  assert.equal(engine.pool.size, 0, 'the prober was released');
  assert.equal(engine.scheduler.jobs, 0, 'no job left on the scheduler');
}

test('aborted before the first request (before the call, or once the socket is open): AbortError, nothing left', { skip }, async () => {
  const engine = new Engine({ poolOptions: {} });
  await assert.rejects(ping('127.0.0.1', { count: 3, signal: AbortSignal.abort(), engine }), AbortError);
  const ac = new AbortController();
  let opened = false;
  await assert.rejects(
    ping('127.0.0.1', {
      count: 3,
      signal: ac.signal,
      engine,
      onStart: () => {
        opened = engine.pool.size === 1;
        ac.abort();
      },
    }),
    AbortError,
  );
  assert.ok(opened, 'the socket was open when the abort came');
  leftBehind(engine, ac.signal);
});

test('aborted mid-run: the requests so far, aborted: true; nothing sent after the abort', { skip }, async () => {
  const engine = new Engine({ poolOptions: {} });
  const ac = new AbortController();
  const r = await ping('127.0.0.1', { intervalMs: 200, signal: ac.signal, engine, onReply: (p) => p.seq === 2 && ac.abort() });
  assert.equal(r.aborted, true);
  assert.equal(r.count, null);
  assert.deepEqual([r.summary.sent, r.summary.received], [2, 2]);
  assert.ok(r.summary.elapsedMs >= 200, 'the second request waited for its interval');
  leftBehind(engine, ac.signal);
});

test('a finished run: -c requests on the interval schedule, every answer matched; nothing left', { skip }, async () => {
  const engine = new Engine({ poolOptions: {} });
  const ac = new AbortController();
  const r = await ping('127.0.0.1', { count: 3, intervalMs: 200, signal: ac.signal, engine });
  assert.equal(r.aborted, false);
  assert.deepEqual(r.probes.map((p) => [p.seq, p.outcome]), [[1, 'reply'], [2, 'reply'], [3, 'reply']]);
  // The third request leaves 400 ms after the first (absolute schedule), then its reply comes at once.
  assert.ok(r.summary.elapsedMs >= 400, `elapsed ${r.summary.elapsedMs}`);
  leftBehind(engine, ac.signal);
});

test('concurrent pings share one socket and each gets its own answers; without DF a socket of its own', { skip }, async () => {
  const engine = new Engine({ poolOptions: {} });
  const before = socketCount();
  let peak = 0;
  const watch = (): void => {
    peak = Math.max(peak, socketCount() - before);
  };
  const runs = await Promise.all(
    [84, 200, 1000].map((size) => ping('127.0.0.1', { count: 4, size, intervalMs: 200, engine, onReply: watch })),
  );
  assert.equal(peak, 1, 'one socket for the three runs');
  for (const [i, size] of [84, 200, 1000].entries()) {
    const r = runs[i]!;
    assert.deepEqual([r.summary.sent, r.summary.received, r.summary.duplicates, r.summary.late], [4, 4, 0, 0]);
    assert.ok(r.probes.every((p) => p.size === size && p.outcome === 'reply' && p.from === '127.0.0.1'), JSON.stringify(r.probes));
  }
  peak = 0;
  const [withDf, noDf] = await Promise.all([
    ping('127.0.0.1', { count: 2, intervalMs: 200, engine, onReply: watch }),
    // Clearing DF changes the socket: this run must not do that to a socket others send on.
    ping('127.0.0.1', { count: 2, intervalMs: 200, df: false, engine, onReply: watch }),
  ]);
  assert.equal(peak, 2, 'the shared socket and the no-DF run\'s own');
  assert.equal(withDf.summary.received, 2);
  assert.equal(noDf.summary.received, 2);
  assert.equal(noDf.df, false);
  assert.equal(engine.pool.size, 0);
  assert.equal(socketCount(), before, 'both closed with their last lease');
});
