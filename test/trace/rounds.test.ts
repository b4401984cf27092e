// The timing engine of trace against a scripted prober: answers in any order, adaptive loss
// timeouts (never a fixed second), PTBs held until a contradicting delivery could have come.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prober, type ProbeOutcome, type SendOptions } from '../../src/probe/prober.js';
import type { Outcome } from '../../src/probe/outcome.js';
import { Rounds } from '../../src/trace/rounds.js';
import { ProberPool, type Lease } from '../../src/engine/pool.js';

/** A lease on a scripted prober, as trace holds one on the engine's pool. */
const leased = (p: Prober): Lease => new ProberPool({ open: () => p }).acquire({ method: p.method, family: p.family });

type Script = (size: number, ttl: number | undefined) => Array<{ afterMs: number; outcome: Outcome }>;

class ScriptedProber extends Prober {
  readonly method = 'udp' as const;
  readonly direction = 'forward' as const;
  sent: Array<{ size: number; ttl?: number }> = [];
  #token = 0;
  constructor(private readonly script: Script) {
    super(4);
  }
  get minSize(): number {
    return 36;
  }
  send(destination: string, size: number, opts: SendOptions = {}): number {
    const token = ++this.#token;
    this.sent.push({ size, ttl: opts.ttl });
    for (const { afterMs, outcome } of this.script(size, opts.ttl)) {
      setTimeout(() => this.emit('outcome', token, { ...outcome, destination } as ProbeOutcome), afterMs);
    }
    return token;
  }
  close(): void {}
}

const te = (ttl: number, rttMs: number): Outcome => ({ kind: 'timeExceeded', size: 36, ttl, from: `192.0.2.${ttl}`, rttMs });

// Rounds that must not wait for a loss timeout get a long one (2 s floor): finishing well before
// it shows they did not wait, without betting on how fast a loaded machine runs timers.
const LONG = { minTimeoutMs: 2000, maxTimeoutMs: 5000 };

test('a round ends as soon as every probe is answered', async () => {
  const p = new ScriptedProber((_s, ttl) => [{ afterMs: 2, outcome: te(ttl!, 1) }]);
  const r = new Rounds(leased(p), '192.0.2.99', LONG);
  const t0 = performance.now();
  const got = await r.run([1, 2, 3].map((ttl) => ({ size: 36, ttl })));
  assert.ok(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
  assert.deepEqual(got.map((o) => o[0]!.kind), ['timeExceeded', 'timeExceeded', 'timeExceeded']);
  assert.equal(r.sent, 3);
});

test('silence costs the adaptive timeout (floor 50 ms), not a fixed second', async () => {
  const p = new ScriptedProber((_s, ttl) => (ttl === 2 ? [] : [{ afterMs: 1, outcome: te(ttl!, 1) }]));
  const r = new Rounds(leased(p), '192.0.2.99');
  const t0 = performance.now();
  const got = await r.run([1, 2, 3].map((ttl) => ({ size: 36, ttl })));
  const took = performance.now() - t0;
  assert.deepEqual(got[1], []);
  assert.ok(took >= 45 && took < 1500, `took ${took} ms (the 50 ms floor, not a fixed second... plus a loaded machine's slack)`);
  assert.ok(r.timeoutMs() >= 50 && r.timeoutMs() < 100, `timeout ${r.timeoutMs()}`);
});

test('moot probes are not waited for', async () => {
  // TTL 2 is the target; TTL 3 and 4 reach it too but get no answer (a rate-limited target).
  const p = new ScriptedProber((_s, ttl) =>
    ttl === 1 ? [{ afterMs: 1, outcome: te(1, 1) }] : ttl === 2 ? [{ afterMs: 1, outcome: { kind: 'delivered', size: 36, from: '192.0.2.99', rttMs: 1 } }] : [],
  );
  const r = new Rounds(leased(p), '192.0.2.99', LONG);
  const t0 = performance.now();
  await r.run(
    [1, 2, 3, 4].map((ttl) => ({ size: 36, ttl })),
    (i, got) => got.slice(0, i).some((o) => o.some((x) => x.kind === 'delivered')),
  );
  assert.ok(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
});

test('a PTB waits for a delivery of the same probe that contradicts it', async () => {
  const p = new ScriptedProber((size) => [
    { afterMs: 1, outcome: { kind: 'tooBig', size, from: '192.0.2.1', rttMs: 1, nextHopMtu: 1300, plausible: true } },
    { afterMs: 6, outcome: { kind: 'delivered', size, from: '192.0.2.99', rttMs: 6 } },
  ]);
  const r = new Rounds(leased(p), '192.0.2.99');
  const got = await r.run([{ size: 1500 }]);
  assert.deepEqual(got[0]!.map((o) => o.kind), ['tooBig', 'delivered']);
});

test('an aborted signal ends the round with what is known', async () => {
  const ac = new AbortController();
  const p = new ScriptedProber(() => []);
  const r = new Rounds(leased(p), '192.0.2.99', { signal: ac.signal, maxTimeoutMs: 5000 });
  setTimeout(() => ac.abort(), 20);
  const t0 = performance.now();
  const got = await r.run([{ size: 36, ttl: 1 }]);
  assert.ok(performance.now() - t0 < 2500, 'stopped by the abort, long before the 5 s timeout');
  assert.deepEqual(got, [[]]);
  assert.equal(r.aborted, true);
});

test('an unreachable whose quote lacks our nonce is set aside: it neither ends the path nor settles the probe', async () => {
  // A forger "from" the target answers first, quoting too little to prove it saw the probe; the
  // router's time-exceeded follows. Only the proven answer may count.
  const forged: Outcome = { kind: 'unreachable', size: 36, ttl: 2, from: '192.0.2.99', reason: 'port unreachable', rttMs: 1, unproven: 'the quote carries 0 of the probe\'s 8 nonce bytes' } as Outcome;
  const p = new ScriptedProber((_s, ttl) => (ttl === 2 ? [{ afterMs: 1, outcome: forged }, { afterMs: 20, outcome: te(2, 20) }] : [{ afterMs: 1, outcome: te(ttl!, 1) }]));
  const ignored: string[] = [];
  p.on('ignored', (i) => ignored.push(i.reason));
  const r = new Rounds(leased(p), '192.0.2.99', LONG);
  const got = await r.run([1, 2, 3].map((ttl) => ({ size: 36, ttl })));
  assert.deepEqual(got.map((o) => o.map((x) => x.kind)), [['timeExceeded'], ['timeExceeded'], ['timeExceeded']]);
  assert.deepEqual(ignored, ["unproven unreachable: the quote carries 0 of the probe's 8 nonce bytes"]);
});
