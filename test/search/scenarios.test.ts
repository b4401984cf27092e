// Exact answers on simulated paths (src/search/simulate.ts): every evidence kind the search uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate, type SimHop, type SimPathModel } from '../../src/search/simulate.js';
import type { SearchOptions } from '../../src/search/types.js';

const hop = (mtu: number, sendsPtb = true, extra: Partial<SimHop> = {}): SimHop => ({ mtu, sendsPtb, ...extra });

function exact(path: SimPathModel, opts: Partial<SearchOptions> = {}, seeds = [1, 2, 3]) {
  const runs = seeds.map((seed) => simulate(path, { max: path.localMtu ?? 1500, ...opts }, seed));
  for (const r of runs) {
    assert.equal(r.result.pmtu, r.truePmtu, `seed run: ${JSON.stringify({ ...r.result, ptbs: r.result.ptbs.length })}`);
    assert.equal(r.result.exact, true, r.result.reason);
    assert.equal(r.result.lowerBound, r.truePmtu);
    assert.equal(r.result.upperBound, r.truePmtu);
    assert.ok(r.probes <= 60, `${r.probes} probes`);
  }
  return runs[0];
}

test('clean 3-hop 1400 bottleneck: exact in two round trips, PTB confirmed by delivery', () => {
  const r = exact({ hops: [hop(1500), hop(1400), hop(1500)], rttMs: 100 });
  assert.equal(r.result.blackHole, false);
  assert.ok(r.virtualMs < 300, `${r.virtualMs} ms`);
  assert.ok(r.result.ptbs.length > 0 && r.result.ptbs.every((p) => p.accepted && p.nextHopMtu === 1400));
  assert.match(r.result.ptbs[0].reason, /confirmed/);
});

test('clean path, IPv6 (floor 1280) and the bottleneck at the floor', () => {
  exact({ family: 6, hops: [hop(1500), hop(1400), hop(1500)], rttMs: 10 });
  exact({ family: 6, hops: [hop(1500), hop(1280), hop(1500)], rttMs: 10 });
});

test('black hole (router filters its PTBs): exact, reported as a black hole, within one loss timeout', () => {
  const r = exact({ hops: [hop(1500), hop(1400, false), hop(1500)], rttMs: 100 });
  assert.equal(r.result.blackHole, true);
  assert.equal(r.result.blackHoleAbove, 1400);
  assert.equal(r.result.ptbs.length, 0);
  assert.ok(r.virtualMs <= 1500, `${r.virtualMs} ms`);
  // a limit between plateaus, and one far below the first round's sizes
  exact({ hops: [hop(1500), hop(1437, false), hop(1500)], rttMs: 30 });
  exact({ hops: [hop(1500), hop(300, false), hop(1500)], rttMs: 30 });
});

test('L2 MTU mismatch: frames above 1496 vanish silently on a 1500 link', () => {
  const r = exact({ hops: [hop(1500), hop(1500, true, { l2Mtu: 1496 }), hop(1500)], rttMs: 20 });
  assert.equal(r.result.blackHole, true);
});

test('several successive reductions 1500, 1492, 1480, 1450: each PTB kept as plausible', () => {
  const r = exact({ hops: [hop(1500), hop(1492), hop(1480), hop(1450), hop(1500)], rttMs: 20 });
  const accepted = r.result.ptbs.filter((p) => p.accepted).map((p) => p.nextHopMtu);
  assert.ok(accepted.includes(1492) && accepted.includes(1450), JSON.stringify(r.result.ptbs));
  assert.ok(r.result.ptbs.every((p) => p.accepted));
});

test('9000 path with an 8000 bottleneck', () => {
  const r = exact({ localMtu: 9000, hops: [hop(9000), hop(8000), hop(9000)], rttMs: 20 });
  assert.ok(r.probes <= 15, `${r.probes} probes`);
});

test('local interface smaller than the path: EMSGSIZE is a hard, immediate upper bound', () => {
  const r = exact({ localMtu: 1400, hops: [hop(1500), hop(1500)], rttMs: 20 }, { max: 1500 });
  assert.equal(r.result.localMtu, 1400);
  assert.equal(r.result.blackHole, false);
  assert.ok(r.virtualMs <= 25, `${r.virtualMs} ms`); // one round trip: nothing waits for a timeout
});

test('max is the interface MTU and the whole path carries it: exact at max (also loopback 65535)', () => {
  exact({ hops: [hop(1500), hop(1500)], rttMs: 1 });
  const lo = exact({ hops: [hop(65536)], rttMs: 0.05 }, { max: 65536 });
  assert.equal(lo.result.pmtu, 65535); // IPv4 total length is 16 bits
});

test('a --max below the interface MTU that is delivered is a lower bound, not exact', () => {
  const r = simulate({ hops: [hop(1500), hop(1500)], rttMs: 1 }, { max: 1400, maxIsLocal: false }, 1);
  assert.equal(r.result.pmtu, 1400);
  assert.equal(r.result.exact, false);
  assert.match(r.result.reason ?? '', /may carry more/);
});

test('PTB with next-hop MTU 0: RFC 1191 plateau fallback, not trusted, answer exact', () => {
  const r = exact({ hops: [hop(1500), hop(1400, true, { ptbLie: 0 }), hop(1500)], rttMs: 20 });
  assert.ok(r.result.ptbs.length > 0);
  for (const p of r.result.ptbs) {
    assert.equal(p.accepted, false);
    assert.match(p.reason, /RFC 1191 plateau/);
  }
  assert.equal(r.result.blackHole, false); // something did say "too big"
});

test('bogus next-hop MTUs (not smaller than the probe, below the floor) are recorded, never trusted', () => {
  for (const lie of [1600, 40]) {
    const r = exact({ hops: [hop(1500), hop(1400, true, { ptbLie: lie }), hop(1500)], rttMs: 20 });
    assert.ok(r.result.ptbs.length > 0);
    assert.ok(r.result.ptbs.every((p) => !p.accepted && /not smaller|below/.test(p.reason)), JSON.stringify(r.result.ptbs));
  }
});

test('a lying router (says 1300, forwards 1400) is contradicted by the delivery of 1400', () => {
  const r = exact({ hops: [hop(1500), hop(1400, true, { ptbLie: 1300 }), hop(1500)], rttMs: 20 });
  assert.ok(r.result.ptbs.length > 0);
  assert.ok(r.result.ptbs.every((p) => !p.accepted && /contradicted/.test(p.reason)), JSON.stringify(r.result.ptbs));
});

test('a flood of forged PTBs (valid quotes, random next-hop MTUs) does not change the answer', () => {
  const clean = { hops: [hop(1500), hop(1400), hop(1500)], rttMs: 20, jitterMs: 2 };
  const hole = { hops: [hop(1500), hop(1400, false), hop(1500)], rttMs: 20, jitterMs: 2 };
  for (const base of [clean, hole]) {
    for (const nextHopMtu of [undefined, [0, 68, 576, 1280, 1399, 1401, 9000]]) {
      const path: SimPathModel = { ...base, forgedPtb: { probability: 1, ...(nextHopMtu ? { nextHopMtu } : {}) } };
      const r = exact(path, {}, [1, 2, 3, 4, 5]);
      assert.ok(r.result.ptbs.some((p) => p.from === '198.18.66.6'));
      assert.ok(
        r.result.ptbs.filter((p) => p.from === '198.18.66.6').every((p) => !p.accepted || p.nextHopMtu >= 1400),
        JSON.stringify(r.result.ptbs.filter((p) => p.accepted)),
      );
    }
  }
});

test('ICMP rate limits: a router out of its burst and a destination limiting port unreachable', () => {
  const r = exact({ hops: [hop(1500), hop(1280), hop(1500)], rttMs: 20, destRateLimit: { burst: 6, perSec: 1 } });
  // PTBs for 1500..1400 used the router's burst; 1281 then met silence: not a black hole.
  assert.equal(r.result.blackHole, false);
  exact({ hops: [hop(1500), hop(1400), hop(1500)], rttMs: 20, icmpRateLimit: { burst: 2, perSec: 1 } });
});

test('a target whose answer bucket starts empty (a run right after another): paced, still exact', () => {
  for (const hops of [[hop(1500), hop(1400, false), hop(1500)], [hop(1500), hop(1400), hop(1500)]]) {
    for (const seed of [1, 2, 3]) {
      const r = simulate({ hops, rttMs: 0.3, destRateLimit: { burst: 6, perSec: 1, initial: 0 } }, { max: 1500 }, seed);
      assert.equal(r.result.pmtu, 1400, JSON.stringify(r.result));
      assert.equal(r.result.exact, true, JSON.stringify(r.result));
      assert.ok(r.probes <= 60, `${r.probes} probes`);
      assert.ok(r.virtualMs <= 10_000, `${r.virtualMs} ms`);
    }
  }
});

test('unreachable target: search ends without a PMTU, with the bounds known so far', () => {
  const r = simulate(
    { hops: [hop(1500), hop(1500)], rttMs: 10, unreachable: { icmpType: 3, code: 1, reason: 'host unreachable' } },
    { max: 1500 },
    1,
  );
  assert.equal(r.result.pmtu, null);
  assert.equal(r.result.exact, false);
  assert.match(r.result.reason ?? '', /unreachable: host unreachable from 198\.18\.200\.2/);
  assert.ok(r.virtualMs <= 10);
});

test('a target that never answers: no PMTU, stops on its own after a few timeouts', () => {
  const r = simulate({ hops: [hop(1500)], rttMs: 10, lossRate: 1 }, { max: 1500 }, 1);
  assert.equal(r.result.pmtu, null);
  assert.equal(r.result.lowerBound, 0);
  assert.match(r.result.reason ?? '', /no answer/);
  assert.ok(r.virtualMs <= 3000, `${r.virtualMs} ms`);
  assert.ok(r.probes <= 60);
});

test('the budget is respected: maxProbes 12 on a black hole ends inexact but honest', () => {
  const r = simulate({ hops: [hop(1500), hop(1437, false), hop(1500)], rttMs: 10 }, { max: 1500, maxProbes: 12 }, 1);
  assert.ok(r.probes <= 12);
  assert.ok(r.result.pmtu === null || r.result.pmtu <= 1437);
  if (!r.result.exact) assert.match(r.result.reason ?? '', /budget/);
  assert.ok(r.result.lowerBound <= 1437 && r.result.upperBound >= 1437);
});

test('a PTB, then a silent drop further along: the PTB value is a ceiling, losses below it find the black hole', () => {
  // Issue 9 item 1: r2 says 1480, r3 drops everything above 1400 without a word. Before, the claimed
  // 1480 was re-probed alone (no control, so its losses never counted) until the budget ran out.
  const paths: SimPathModel[] = [
    { hops: [hop(1500), hop(1480), hop(1400, false), hop(1500)], rttMs: 0.3 },
    { family: 6, hops: [hop(1480), hop(1400, false)], rttMs: 20 },
    { hops: [hop(1492), hop(1437, false)], rttMs: 30 }, // no plateau at the hole
    { hops: [hop(1500), hop(1480), hop(1450), hop(1300, false), hop(1500)], rttMs: 10 }, // two PTBs first
    { hops: [hop(1480), hop(1480, true, { l2Mtu: 1404 })], rttMs: 5 }, // PTB, then an L2 mismatch
    { family: 6, hops: [hop(1500), hop(1480), hop(1479, false)], rttMs: 10 }, // hole one byte below the claim
  ];
  for (const path of paths) {
    const r = exact(path);
    assert.equal(r.result.blackHole, true, JSON.stringify(path.hops));
    assert.ok(r.result.ptbs.some((p) => p.accepted && p.nextHopMtu > r.truePmtu), 'the PTB is kept as a true statement about its link');
    // a few loss timeouts, not a budget's worth of them
    assert.ok(r.virtualMs <= 6 * path.rttMs + 300, `${r.virtualMs} ms`);
  }
});

test('a target that filters the method while routers still send PTBs: gives up after two timeouts, not the budget', () => {
  // Issue 9 item 2: the routers' PTBs kept the search hunting (60 probes, 52 s at a 1 s timeout,
  // since a target that delivers nothing gives no RTT). Now: the floor is asked, and its silence ends it.
  const paths: SimPathModel[] = [
    { hops: [hop(1500), hop(1400), hop(1500)], rttMs: 0.3, silentTarget: true },
    { family: 6, hops: [hop(1480), hop(1420), hop(1500), hop(1500)], rttMs: 30, silentTarget: true },
    { hops: [hop(1480), hop(1400, false)], rttMs: 5, silentTarget: true }, // a PTB and a black hole
  ];
  for (const path of paths) {
    for (const seed of [1, 2, 3]) {
      const r = simulate(path, { max: 1500 }, seed);
      assert.equal(r.result.pmtu, null);
      assert.equal(r.result.exact, false);
      assert.match(r.result.reason ?? '', /no answer from the target/);
      assert.ok(r.result.ptbs.length > 0, 'the routers did answer');
      assert.ok(r.virtualMs <= 2 * 1000 + 10 * path.rttMs, `${r.virtualMs} ms`); // two initial timeouts
      assert.ok(r.probes <= 25, `${r.probes} probes`);
    }
  }
});
