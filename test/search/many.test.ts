// Many targets behind shared routers (src/search/simulate-many.ts) and the pure pacer
// (src/search/pacing.ts): Linux's ICMP error limits as the kernel applies them, and every search
// exact when the routers' budget for us is long spent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pacer, TokenBucket } from '../../src/engine/pacing.js';
import { PathMtuSearch } from '../../src/search/search.js';
import { SimNetwork, hubTopology, simulateMany, type SimTopology } from '../../src/search/simulate-many.js';
import { simulate } from '../../src/search/simulate.js';

const oneRouter = (targets: number, limitsPtb: boolean, extra: Partial<SimTopology> = {}): SimTopology => ({
  localMtu: 1500,
  routers: { r: { address: '198.18.0.1', sendsPtb: true, limitsPtb } },
  targets: Array.from({ length: targets }, (_, i) => ({ address: `198.18.2.${i + 1}`, path: [{ router: 'r', mtu: 1400 }], rttMs: 1 })),
  ...extra,
});

test('token bucket: a burst of 6, then one per second; the clock is the caller\'s', () => {
  const b = new TokenBucket({ burst: 6, perSec: 1 }, 0);
  let got = 0;
  for (let i = 0; i < 20; i++) if (b.take(0)) got++;
  assert.equal(got, 6);
  assert.equal(b.take(999), false);
  assert.equal(b.take(1000), true);
  assert.equal(b.readyAt(1000), 2000);
  assert.throws(() => new TokenBucket({ burst: 0, perSec: 1 }, 0), RangeError);
});

test('router limits as Linux applies them: frag-needed exempt; when limited, one budget for every target behind it', () => {
  // Linux (icmpv4_mask_allow: "Don't limit PMTU discovery"): 20 oversized probes, 20 PTBs.
  const linux = new SimNetwork(oneRouter(20, false), 1);
  const linuxPtbs = linux.topo.targets.flatMap((t) => linux.send(t, 1500, 0)).filter((e) => e.outcome.kind === 'tooBig');
  assert.equal(linuxPtbs.length, 20);
  // A router that limits PTBs too: 20 targets, one bucket keyed by us: 6 PTBs, then 1 per second.
  const strict = new SimNetwork(oneRouter(20, true), 1);
  const first = strict.topo.targets.flatMap((t) => strict.send(t, 1500, 0));
  assert.equal(first.length, 6);
  assert.equal(strict.errorsDropped, 14);
  const later = strict.topo.targets.flatMap((t) => strict.send(t, 1500, 1000));
  assert.equal(later.length, 1);
  // Deliveries (echo replies) are never limited.
  assert.equal(strict.topo.targets.flatMap((t) => strict.send(t, 1400, 1000)).filter((e) => e.outcome.kind === 'delivered').length, 20);
});

test('global limit (icmp_msgs_per_sec / icmp_msgs_burst) caps errors over all destinations of a router', () => {
  const topo = oneRouter(100, true);
  topo.routers.r.peerLimit = null;
  const net = new SimNetwork(topo, 1);
  assert.equal(topo.targets.flatMap((t) => net.send(t, 1500, 0)).length, 50);
  // 20 ms later the global credit holds 20 more (1000/s).
  assert.equal(topo.targets.flatMap((t) => net.send(t, 1500, 20)).length, 20);
});

test('port unreachables are limited per target, by the target', () => {
  const topo = oneRouter(2, false);
  for (const t of topo.targets) t.answers = 'port-unreachable';
  const net = new SimNetwork(topo, 1);
  const answered = (t: (typeof topo.targets)[number]): number => Array.from({ length: 10 }, () => net.send(t, 1000, 0)).flat().length;
  assert.equal(answered(topo.targets[0]), 6);
  assert.equal(answered(topo.targets[1]), 6);
});

test('pacer: the global cap holds over every second, and a router counts as exhausted after its burst', () => {
  const pacer = new Pacer({ ratePps: 100, burst: 10 }, 0);
  const sends: number[] = [];
  for (let now = 0; now < 5000; now += 1) {
    while (pacer.mayPoll(now)) {
      const batch = 3;
      for (let i = 0; i < batch; i++) sends.push(now);
      pacer.sent(batch, now);
    }
  }
  for (let i = 0, j = 0; i < sends.length; i++) {
    while (sends[i] - sends[j] >= 1000) j++;
    assert.ok(i - j + 1 <= 100 + 10 + 3, `${i - j + 1} probes in one second`);
  }
  assert.ok(sends.length >= 450, `${sends.length} probes in 5 s at 100/s`);
  assert.throws(() => new Pacer({ ratePps: 0 }, 0), RangeError);

  assert.equal(pacer.routerExhausted('198.18.0.1', 0), false);
  for (let i = 0; i < 5; i++) pacer.icmpError('198.18.0.1', 0);
  assert.equal(pacer.routerExhausted('198.18.0.1', 0), false);
  pacer.icmpError('198.18.0.1', 0);
  assert.equal(pacer.routerExhausted('198.18.0.1', 10), true);
  assert.equal(pacer.routerExhausted('198.18.0.2', 10), false, 'another router has its own budget');
  assert.equal(pacer.routerExhausted('198.18.0.1', 1000), false, 'refilled after icmp_ratelimit');
});

test('a search told its router is exhausted sends the boundary\'s loss confirmations at once', () => {
  const run = (exhausted: boolean): number[] => {
    const s = new PathMtuSearch({ family: 4, max: 1500, rttHintMs: 1 }, 0);
    const first = s.poll(0).send;
    // A 1480 bottleneck: the router says so for 1500 and 1492 (2 errors, well within its own
    // burst as far as this search can see), and the rest is delivered.
    for (const o of first) {
      if (o.size > 1480) s.record(o.token, { kind: 'tooBig', size: o.size, from: '198.18.0.1', rttMs: 0.5, nextHopMtu: 1480, plausible: true }, 0.5);
      else s.record(o.token, { kind: 'delivered', size: o.size, from: '198.18.2.1', rttMs: 1 }, 1);
    }
    s.setIcmpExhausted(exhausted);
    return s.poll(5).send.map((o) => o.size).filter((size) => size === 1481);
  };
  assert.equal(run(false).length, 1, 'expects a PTB for 1401: one probe');
  assert.equal(run(true).length, 3, 'expects silence for 1401: three copies for the confirmation');
});

test('1,000 targets behind one router that rate-limits its PTBs (10% behind a silent router): every search exact', () => {
  for (const family of [4, 6] as const) {
    const topo = hubTopology({ targets: 1000, family }, 7);
    const r = simulateMany(topo, { ratePps: 10_000 }, 7);
    assert.equal(r.targets.length, 1000);
    // The premise holds: nearly every PTB the searches drew was rate-limited away.
    assert.ok(r.errorsDropped > 20 * r.errorsSent, `${r.errorsDropped} dropped, ${r.errorsSent} sent`);
    const distinct = new Set(r.targets.map((t) => t.truePmtu));
    assert.ok(distinct.size > 100, `${distinct.size} different path MTUs`);
    for (const t of r.targets) {
      assert.ok((t.pmtu ?? 0) <= t.truePmtu, `${t.address}: ${t.pmtu} above the truth ${t.truePmtu}`);
      assert.equal(t.pmtu, t.truePmtu, `${t.address}: ${t.reason}`);
      assert.equal(t.exact, true, `${t.address}: ${t.reason}`);
      assert.ok(t.probes < 60, `${t.address}: ${t.probes} probes (the budget is 60)`);
    }
    // The global cap held: no second with more than the rate plus one burst and one batch.
    assert.ok(r.peakPps <= 10_000 + 100 + 10, `peak ${r.peakPps} pps`);
  }
});

test('many targets with random loss and jitter: never above the truth, nearly all exact', () => {
  const r = simulateMany(hubTopology({ targets: 400, lossRate: 0.01, jitterMs: 2 }, 3), { ratePps: 5000 }, 3);
  const exact = r.targets.filter((t) => t.exact && t.pmtu === t.truePmtu).length;
  for (const t of r.targets) assert.ok((t.pmtu ?? 0) <= t.truePmtu, `${t.address}: ${t.pmtu} > ${t.truePmtu}`);
  assert.ok(exact >= 396, `${exact}/400 exact`);
});

test('the scamper-like plateau guesser on the same hub is often wrong where the search is exact', () => {
  const topo = hubTopology({ targets: 200 }, 5);
  const guess = simulateMany(topo, { ratePps: 1000, strategy: 'plateau-guess' }, 5);
  const search = simulateMany(topo, { ratePps: 1000 }, 5);
  const right = (r: typeof guess): number => r.targets.filter((t) => t.exact && t.pmtu === t.truePmtu).length;
  assert.equal(right(search), 200);
  assert.ok(right(guess) < 180, `the guesser got ${right(guess)}/200`);
});

test('udp method: targets limit their port unreachables too; told so, every search stays exact', () => {
  const r = simulateMany(hubTopology({ targets: 1000, answers: 'port-unreachable' }, 11), { ratePps: 10_000 }, 11);
  for (const t of r.targets) {
    assert.equal(t.pmtu, t.truePmtu, `${t.address}: ${t.reason}`);
    assert.equal(t.exact, true, `${t.address}: ${t.reason}`);
    assert.ok(t.probes < 60, `${t.address}: ${t.probes} probes`);
  }
});

test('answersRateLimited on one path: exact where detecting the bucket ran out of budget', () => {
  // Black hole at 1006, target answers 6 then 1/s: found by starved answers alone, the budget runs out.
  const path = { hops: [{ mtu: 1006, sendsPtb: false }], rttMs: 1, destRateLimit: { burst: 6, perSec: 1 } };
  const told = simulate(path, { max: 1500, answersRateLimited: true }, 1);
  assert.equal(told.result.pmtu, 1006);
  assert.equal(told.result.exact, true, told.result.reason);
  const untold = simulate(path, { max: 1500 }, 1);
  assert.ok(!untold.result.exact || untold.probes > told.probes, `untold: ${untold.probes} probes, told: ${told.probes}`);
});
