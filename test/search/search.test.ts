// PathMtuSearch driven by hand: the rules about evidence, one outcome at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PathMtuSearch } from '../../src/search/search.js';
import { firstRound, split } from '../../src/search/planner.js';
import { RttEstimator } from '../../src/search/rtt.js';
import { plateauBelow } from '../../src/search/plateaus.js';
import { UsageError } from '../../src/errors.js';
import type { Outcome } from '../../src/probe/outcome.js';
import type { ProbeOrder } from '../../src/search/types.js';

const delivered = (size: number, rttMs = 10): Outcome => ({ kind: 'delivered', size, from: 't', rttMs });
const tooBig = (size: number, nextHopMtu: number, from = 'r1'): Outcome => ({
  kind: 'tooBig', size, from, rttMs: 5, nextHopMtu, plausible: nextHopMtu >= 68 && nextHopMtu < size,
});

test('RttEstimator: 1 s before any sample, 2*SRTT + 4*RTTVAR after, floor and ceiling', () => {
  const r = new RttEstimator(50, 3000);
  assert.equal(r.timeout(), 1000);
  r.sample(100);
  assert.equal(r.timeout(), 2 * 100 + 4 * 50);
  for (let i = 0; i < 40; i++) r.sample(100);
  assert.ok(r.timeout() >= 200 && r.timeout() < 210);
  const fast = new RttEstimator(50, 3000);
  fast.sample(0.2);
  assert.equal(fast.timeout(), 50);
  const slow = new RttEstimator(50, 3000);
  slow.sample(5000);
  assert.equal(slow.timeout(), 3000);
  assert.equal(new RttEstimator(50, 3000, 40).timeout(), 2 * 40 + 4 * 20);
});

test('first round: max, common plateaus below it, a binary split; split() covers an interval evenly', () => {
  assert.deepEqual(firstRound(68, 1500, 10), [1500, 1492, 1480, 1450, 1420, 1400, 1280, 674]);
  const v6 = firstRound(1280, 1500, 10);
  assert.equal(v6[0], 1500);
  assert.ok(v6.every((s) => s >= 1280 && s <= 1500) && new Set(v6).size === v6.length);
  assert.deepEqual(firstRound(68, 9000, 10).slice(0, 3), [9000, 8192, 4470]);
  assert.deepEqual(firstRound(68, 1500, 3), [1500, 1492, 780]);
  assert.deepEqual(split(1401, 1419, 4), [1404, 1408, 1412, 1416]);
  assert.deepEqual(split(10, 12, 5), [10, 11, 12]);
  assert.equal(plateauBelow(1500), 1492);
  assert.equal(plateauBelow(1492), 1006);
});

test('bad options are usage errors', () => {
  assert.throws(() => new PathMtuSearch({ family: 4, max: 60 }, 0), UsageError);
  assert.throws(() => new PathMtuSearch({ family: 6, max: 1500, floor: 1000 }, 0), UsageError);
  assert.throws(() => new PathMtuSearch({ family: 4, max: 1500, parallel: 0 }, 0), UsageError);
});

test('its errors name its own options (max, floor), truthfully, never a CLI flag', () => {
  const cases: Array<[ConstructorParameters<typeof PathMtuSearch>[0], RegExp]> = [
    [{ family: 4, floor: 1500, max: 1400 }, /^max 1400 is below floor 1500/],
    [{ family: 4, max: 60 }, /^max 60 is below the IPv4 minimum of 68 bytes/],
    [{ family: 6, max: 1500, floor: 1000 }, /^floor 1000 is not a whole number of bytes from the IPv6 minimum, 1280/],
    [{ family: 4, max: 1400.5 }, /^max 1400\.5 is not a whole number of bytes/],
    [{ family: 4, max: 1500, parallel: 0 }, /^parallel must be a positive number/],
  ];
  for (const [opts, re] of cases) {
    assert.throws(() => new PathMtuSearch(opts, 0), (e: Error) => e instanceof UsageError && re.test(e.message) && !e.message.includes('--'), JSON.stringify(opts));
  }
});

/** Helper: the first round, answered by `answer` (undefined = silence). */
function round(s: PathMtuSearch, now: number, answer: (o: ProbeOrder) => Outcome | undefined, at = now + 10): ProbeOrder[] {
  const { send } = s.poll(now);
  for (const o of send) {
    const out = answer(o);
    if (out) s.record(o.token, out, at);
  }
  return send;
}

test('poll is idempotent at one instant: a second poll sends nothing new', () => {
  const s = new PathMtuSearch({ family: 4, max: 1500 }, 0);
  assert.equal(s.poll(0).send.length, 8);
  assert.equal(s.poll(0).send.length, 0);
  assert.equal(s.poll(5).send.length, 0);
});

test('a single loss just above the largest delivery is not a size limit', () => {
  const s = new PathMtuSearch({ family: 4, max: 1500 }, 0);
  // path carries 1450; the 1450 probe alone is lost at random, larger ones get PTBs
  round(s, 0, (o) => (o.size === 1450 ? undefined : o.size > 1450 ? tooBig(o.size, 1450) : delivered(o.size)));
  let now = 10;
  const sent: number[] = [];
  for (let i = 0; i < 50 && !s.finished; i++) {
    const { send, wakeAt } = s.poll(now);
    for (const o of send) {
      sent.push(o.size);
      s.record(o.token, o.size <= 1450 ? delivered(o.size) : tooBig(o.size, 1450), now + 10);
    }
    now = Math.max(now + 10, wakeAt ?? now + 10);
  }
  assert.ok(sent.includes(1450), 'the lost size is probed again');
  assert.equal(s.result().pmtu, 1450);
  assert.equal(s.result().exact, true);
});

test('losses with no delivery around them (path down for a moment) do not confirm a limit', () => {
  const s = new PathMtuSearch({ family: 4, max: 1500, rttHintMs: 10 }, 0);
  // first round: only small sizes answered, then the path goes dark completely
  round(s, 0, (o) => (o.size <= 1280 ? delivered(o.size) : undefined));
  let now = 10;
  for (let i = 0; i < 200 && !s.finished && now < 20_000; i++) {
    const { wakeAt } = s.poll(now); // nothing answers any more
    now = wakeAt ?? now + 1000;
  }
  const r = s.result();
  assert.equal(r.exact, false, JSON.stringify(r));
  assert.equal(r.pmtu, 1280);
  assert.ok(r.upperBound >= 1281);
});

test('a late delivery after a declared loss still counts', () => {
  const s = new PathMtuSearch({ family: 4, max: 1500 }, 0);
  const first = round(s, 0, (o) => (o.size <= 1280 ? delivered(o.size) : undefined));
  // after the 1 s... then the timeout (about 2*10+4*5 = 60 ms), 1400 is declared lost
  s.poll(200);
  const t1400 = first.find((o) => o.size === 1400)!;
  s.record(t1400.token, delivered(1400, 210), 210);
  assert.ok(s.result().lowerBound >= 1400);
});

test('a PTB contradicted by a delivery of its own size is marked not accepted, and unknown tokens too', () => {
  const s = new PathMtuSearch({ family: 4, max: 1500 }, 0);
  const { send } = s.poll(0);
  const t1400 = send.find((o) => o.size === 1400)!;
  s.record(t1400.token, tooBig(1400, 1300, 'forger'), 2); // forged, races the real answer
  s.record(t1400.token, delivered(1400), 10);
  s.record(9999, tooBig(1400, 576, 'nobody'), 11);
  const ptbs = s.result().ptbs;
  const forged = ptbs.find((p) => p.from === 'forger')!;
  assert.equal(forged.accepted, false);
  assert.match(forged.reason, /contradicted/);
  const stray = ptbs.find((p) => p.from === 'nobody')!;
  assert.equal(stray.accepted, false);
  assert.match(stray.reason, /does not match/);
  assert.equal(s.result().lowerBound, 1400);
});

test('a PTB for lo+1 ends the search only after its settle time (a forged one cannot race a delivery)', () => {
  const s = new PathMtuSearch({ family: 4, max: 1500 }, 0);
  round(s, 0, (o) => (o.size <= 1400 ? delivered(o.size, 10) : tooBig(o.size, 1400)), 10);
  const { send } = s.poll(10);
  const t1401 = send.find((o) => o.size === 1401);
  assert.ok(t1401, 'probes the boundary the PTB pointed at');
  s.record(t1401.token, tooBig(1401, 1400), 12);
  assert.equal(s.finished, false);
  let now = 12;
  for (;;) {
    const { send, wakeAt } = s.poll(now);
    assert.equal(send.length, 0);
    if (s.finished) break;
    assert.ok(wakeAt !== null && wakeAt > now);
    now = wakeAt;
  }
  // settled at 10 + 1.25 * RTT + 1 = 23.5, well before the 1401 probe's loss timeout (10 + 50)
  assert.ok(now >= 23.5 && now < 60, `finished at ${now}`);
  assert.deepEqual([s.result().pmtu, s.result().exact, s.result().blackHole], [1400, true, false]);
});

test('local EMSGSIZE: the interface MTU is a hard bound, probed and exact without waiting', () => {
  const s = new PathMtuSearch({ family: 4, max: 1500 }, 0);
  round(s, 0, (o) => (o.size > 1420 ? { kind: 'localTooBig', size: o.size, mtu: 1420 } : delivered(o.size)), 0);
  assert.equal(s.result().upperBound, 1420);
  assert.equal(s.finished, true); // 1420 was in the first round and delivered
  assert.equal(s.result().pmtu, 1420);
  assert.equal(s.result().localMtu, 1420);
});

test('unreachable ends the search; later answers are ignored', () => {
  const s = new PathMtuSearch({ family: 6, max: 1500 }, 0);
  const { send } = s.poll(0);
  s.record(send[0].token, { kind: 'unreachable', size: send[0].size, from: 'gw', rttMs: 3, icmpType: 1, code: 1, reason: 'admin prohibited' }, 3);
  assert.equal(s.finished, true);
  s.record(send[1].token, delivered(send[1].size), 4);
  const r = s.result();
  assert.equal(r.pmtu, null);
  assert.match(r.reason ?? '', /admin prohibited from gw/);
  assert.deepEqual(s.poll(5), { send: [], wakeAt: null });
});

test('time exceeded is not evidence about size; repeated with nothing delivered, the search gives up', () => {
  const s = new PathMtuSearch({ family: 4, max: 1500 }, 0);
  round(s, 0, (o) => ({ kind: 'timeExceeded', size: o.size, from: 'r3', rttMs: 4 }), 4);
  assert.equal(s.finished, true);
  assert.equal(s.result().pmtu, null);
  assert.match(s.result().reason ?? '', /time exceeded/);
});

test('the probe budget caps what is sent', () => {
  const s = new PathMtuSearch({ family: 4, max: 1500, maxProbes: 5 }, 0);
  assert.equal(s.poll(0).send.length, 5);
  let now = 0;
  for (let i = 0; i < 20 && !s.finished; i++) {
    const { send, wakeAt } = s.poll(now);
    assert.equal(send.length, 0);
    now = wakeAt ?? now + 1000;
  }
  assert.equal(s.finished, true);
  assert.equal(s.result().probes, 5);
  assert.match(s.result().reason ?? '', /budget|no answer/);
});
