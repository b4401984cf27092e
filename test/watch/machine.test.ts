// The watch state machine (src/watch/machine.ts) against simulated paths whose MTU, PTB policy or
// reachability change mid-run (src/watch/simulate.ts, virtual clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SimHop, SimPathModel } from '../../src/search/simulate.js';
import { SimPath } from '../../src/search/simulate.js';
import { simulateWatch } from '../../src/watch/simulate.js';
import { WatchMachine, MAX_PROBES } from '../../src/watch/machine.js';
import type { Family } from '../../src/wire/facts.js';

const hop = (mtu: number, sendsPtb = true): SimHop => ({ mtu, sendsPtb });
const path = (family: Family, hops: SimHop[], extra: Partial<SimPathModel> = {}): SimPathModel => ({ family, localMtu: 1500, hops, rttMs: 20, jitterMs: 2, icmpRateLimit: null, ...extra });
const S = 1000;
const show = (x: unknown): string => JSON.stringify(x);

for (const family of [4, 6] as Family[]) {
  test(`IPv${family}: a link MTU lowered mid-run is a 'ptb' change within 2 intervals, exact, naming the router`, () => {
    const model = path(family, [hop(1500), hop(1500), hop(1500)]);
    const r = simulateWatch(model, { intervalMs: 10 * S, raiseMs: 600 * S }, 120 * S, [{ atMs: 35 * S, apply: (m) => (m.hops[1].mtu = 1400) }]);
    assert.equal(r.changes.length, 2, show(r.changes));
    const [first, down] = r.changes;
    assert.deepEqual([first.reason, first.pmtu, first.previous], ['initial', 1500, null]);
    assert.deepEqual([down.reason, down.pmtu, down.previous, down.blackHole], ['ptb', 1400, 1500, false]);
    assert.equal(down.ptbFrom, new SimPath(model, 1).hopAddress(1));
    assert.match(down.detail, /^PTB 1400 from /);
    assert.ok(down.atMs > 35 * S && down.atMs <= 55 * S, `seen at ${down.atMs} ms`);
    assert.equal(r.machine.phase, 'confirming');
  });

  test(`IPv${family}: a router that starts dropping its PTBs as its link narrows is a 'black-hole' change with the exact PMTU`, () => {
    const model = path(family, [hop(1500), hop(1500), hop(1500)]);
    const r = simulateWatch(model, { intervalMs: 10 * S, raiseMs: 600 * S }, 120 * S, [
      { atMs: 35 * S, apply: (m) => (m.hops[2] = hop(1420, false)) },
    ]);
    assert.equal(r.changes.length, 2, show(r.changes));
    const down = r.changes[1];
    assert.deepEqual([down.reason, down.pmtu, down.previous, down.blackHole], ['black-hole', 1420, 1500, true]);
    assert.equal(down.ptbFrom, undefined);
    assert.equal(down.detail, 'black hole above 1420');
    assert.ok(down.atMs <= 55 * S, `seen at ${down.atMs} ms`);
    // Found by a search, bounded by the old PMTU: not guessed from the confirmation's loss.
    const s = r.searches.find((x) => x.request.purpose === 'down')!;
    assert.equal(s.request.max, 1500);
    assert.deepEqual(s.request.trigger, { kind: 'loss' });
    assert.equal(s.result.exact, true);
  });

  test(`IPv${family}: this host's interface MTU lowered is a 'local-mtu' change at the next round; raised again, the raise timer finds it`, () => {
    const model = path(family, [hop(1500), hop(1500), hop(1500)]);
    const raiseMs = 120 * S;
    const r = simulateWatch(model, { intervalMs: 10 * S, raiseMs }, 300 * S, [
      { atMs: 35 * S, apply: (m) => (m.localMtu = 1400) },
      { atMs: 60 * S, apply: (m) => (m.localMtu = 1500) },
    ]);
    assert.equal(r.changes.length, 3, show(r.changes));
    const [, down, up] = r.changes;
    assert.deepEqual([down.reason, down.pmtu, down.previous, down.blackHole, down.detail], ['local-mtu', 1400, 1500, false, 'local interface MTU 1400']);
    assert.equal(down.ptbFrom, undefined);
    assert.ok(down.atMs > 35 * S && down.atMs <= 45 * S + 1000, `seen at ${down.atMs} ms`);
    // The local stack refused the PMTU-sized probe: one round, no waiting for MAX_PROBES losses.
    const s = r.searches.find((x) => x.request.purpose === 'down')!;
    assert.deepEqual(s.request.trigger, { kind: 'local', mtu: 1400 });
    // The machine learnt 1400 as the interface MTU; the raise timer reads it again and goes up.
    assert.deepEqual([up.reason, up.pmtu, up.previous], ['raise', 1500, 1400]);
    assert.ok(up.atMs >= down.atMs + raiseMs && up.atMs <= down.atMs + raiseMs + 10 * S, `raised at ${up.atMs} ms`);
  });

  test(`IPv${family}: raised again, the raise timer's search finds it ('raise'), not before the timer`, () => {
    const model = path(family, [hop(1500), hop(1400), hop(1500)]);
    const raiseMs = 120 * S;
    const r = simulateWatch(model, { intervalMs: 10 * S, raiseMs }, 400 * S, [{ atMs: 30 * S, apply: (m) => (m.hops[1].mtu = 1500) }]);
    assert.equal(r.changes.length, 2, show(r.changes));
    const [first, up] = r.changes;
    assert.deepEqual([first.reason, first.pmtu], ['initial', 1400]);
    assert.match(first.detail, /PTB 1400 from/);
    assert.deepEqual([up.reason, up.pmtu, up.previous], ['raise', 1500, 1400]);
    assert.equal(up.detail, 'raise to 1500 succeeded');
    const initialEnd = r.searches[0].endMs;
    assert.ok(up.atMs >= initialEnd + raiseMs && up.atMs <= initialEnd + raiseMs + 10 * S, `raised at ${up.atMs} ms`);
    const ups = r.searches.filter((s) => s.request.purpose === 'up');
    assert.equal(ups[0].request.min, 1400, 'the search up starts from the current PMTU');
  });
}

test('a target that goes silent is unreachable after MAX_PROBES rounds, and reachable again with its PMTU', () => {
  const model = path(4, [hop(1500), hop(1450)]);
  const r = simulateWatch(model, { intervalMs: 5 * S, raiseMs: 600 * S }, 200 * S, [
    { atMs: 20 * S, apply: (m) => (m.silentTarget = true) },
    { atMs: 100 * S, apply: (m) => (m.silentTarget = false) },
  ]);
  assert.deepEqual(r.changes.map((c) => [c.reason, c.pmtu, c.previous]), [['initial', 1450, null], ['unreachable', null, 1450], ['reachable', 1450, null]], show(r.changes));
  const [, down, back] = r.changes;
  assert.ok(down.atMs <= 20 * S + 5 * S + MAX_PROBES * 1000 + 100, `unreachable at ${down.atMs}`);
  assert.match(down.detail, /no answer to 3 rounds/);
  assert.ok(back.atMs > 100 * S && back.atMs <= 106 * S, `back at ${back.atMs}`);
  // Not mistaken for a black hole: every size vanished, the small control too.
  assert.ok(!r.changes.some((c) => c.reason === 'black-hole'));
});

test('forged PTBs that quote the probe start a search, which refutes them: no change', () => {
  const model = path(4, [hop(1500), hop(1500)], { forgedPtb: { probability: 0.3, nextHopMtu: [1280, 1300] } });
  const r = simulateWatch(model, { intervalMs: 10 * S, raiseMs: 600 * S }, 600 * S);
  assert.deepEqual(r.changes.map((c) => [c.reason, c.pmtu]), [['initial', 1500]], show(r.changes));
  assert.ok(r.searches.some((s) => s.request.purpose === 'down' && s.request.trigger?.kind === 'ptb'), 'some forged PTB hit a confirmation');
});

test('steady traffic at the defaults: far below 1 probe/s; 5% loss each way causes no false change', () => {
  const model = path(6, [hop(1500), hop(1480, true), hop(1500)], { lossRate: 0.05, icmpRateLimit: { burst: 6, perSec: 1 } });
  const hours = 3;
  const r = simulateWatch(model, { intervalMs: 60 * S, raiseMs: 600 * S }, hours * 3600 * S, [], 7);
  assert.deepEqual(r.changes.map((c) => [c.reason, c.pmtu]), [['initial', 1480]], show(r.changes));
  const pps = r.probes / (hours * 3600);
  assert.ok(pps < 0.2, `${pps.toFixed(3)} probes/s`);
});

test('a PMTU at the interface MTU is not raised; a lost round is probed again at once', () => {
  const m = new WatchMachine({ intervalMs: 1000, raiseMs: 5000 });
  const first = m.poll(0);
  assert.equal(first.search?.purpose, 'initial');
  m.searchDone({ family: 4, pmtu: 1500, exact: true, blackHole: false, unreachable: false, localMtu: 1500, ptbs: [] }, 10);
  assert.deepEqual(m.poll(10).changes.map((c) => c.reason), ['initial']);
  // Past the raise timer: no search up (nothing above 1500 leaves this host), a confirmation round.
  const round = m.poll(6000);
  assert.equal(round.search, null);
  assert.deepEqual(round.probes.map((p) => [p.role, p.size]), [['confirm', 1500], ['control', 68]]);
  // Both lost: the next round goes out at the timeout, not an interval later.
  const again = m.poll(6000 + m.timeoutMs);
  assert.equal(again.probes.length, 2);
});

test('a PTB that is not proven (its quote lacks the nonce) or implausible is no answer', () => {
  const m = new WatchMachine({ intervalMs: 1000, raiseMs: 600_000 });
  m.poll(0);
  m.searchDone({ family: 4, pmtu: 1500, exact: true, blackHole: false, unreachable: false, localMtu: 1500, ptbs: [] }, 0);
  m.poll(0);
  const { probes } = m.poll(1000);
  const confirm = probes.find((p) => p.role === 'confirm')!;
  const control = probes.find((p) => p.role === 'control')!;
  m.outcome(confirm.token, { kind: 'tooBig', size: 1500, from: '198.18.0.9', rttMs: 1, nextHopMtu: 1400, plausible: true, unproven: 'the quote carries 0 of the probe\'s 8 nonce bytes' }, 1001);
  m.outcome(confirm.token, { kind: 'tooBig', size: 1500, from: '198.18.0.9', rttMs: 1, nextHopMtu: 1600, plausible: false }, 1001);
  m.outcome(control.token, { kind: 'delivered', size: 68, from: '198.18.0.2', rttMs: 1 }, 1001);
  assert.equal(m.poll(1002).search, null, 'no search down on unproven evidence');
  m.outcome(confirm.token, { kind: 'delivered', size: 1500, from: '198.18.0.2', rttMs: 2 }, 1003);
  const p = m.poll(1003);
  assert.equal(p.search, null);
  assert.equal(p.changes.length, 0);
  assert.equal(m.phase, 'confirming');
});
