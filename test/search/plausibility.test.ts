// PTB plausibility is decided in one place (wire/facts.ts ptbPlausibility): the probe layer marks
// outcomes with it, the search weighs and records PTBs with it. These cases pin the rule and check
// that both layers give the same verdict and the same reason for the same report.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ptbPlausibility, MIN_MTU, type Family } from '../../src/wire/facts.js';
import { classifyIcmpError } from '../../src/probe/index.js';
import { PathMtuSearch } from '../../src/search/search.js';

test('ptbPlausibility: 0, below the floor, not smaller than the probe are bogus; the rest is plausible', () => {
  const cases: Array<[Family, number, number, number | undefined, boolean, RegExp | null]> = [
    [4, 1500, 1400, undefined, true, null],
    [4, 1500, 68, undefined, true, null],
    [4, 1500, 67, undefined, false, /below the IPv4 minimum 68/],
    [4, 1500, 0, undefined, false, /is 0/],
    [4, 1500, 1500, undefined, false, /not smaller than the 1500-byte probe/],
    [4, 1500, 1600, undefined, false, /not smaller/],
    [6, 1500, 1280, undefined, true, null],
    [6, 1500, 1279, undefined, false, /below the IPv6 minimum 1280/],
    // A search told to start higher raises the floor: a claim below it cannot be the answer.
    [4, 1500, 1000, 1200, false, /below the IPv4 minimum 1200/],
    [4, 1500, 1200, 1200, true, null],
  ];
  for (const [family, size, m, floor, plausible, reason] of cases) {
    const r = ptbPlausibility(family, size, m, floor);
    assert.equal(r.plausible, plausible, `IPv${family} ${size} ${m} floor ${floor}`);
    if (reason === null) assert.equal(r.reason, undefined);
    else assert.match(r.reason ?? '', reason);
  }
  assert.equal(MIN_MTU[4], 68);
});

test('the probe layer and the search judge the same PTB the same way, with the same reason', () => {
  for (const [family, type, m] of [[4, 3, 60], [4, 3, 1500], [6, 2, 1279], [6, 2, 1500]] as const) {
    const size = 1500;
    const o = classifyIcmpError({ family, type, code: family === 4 ? 4 : 0, mtu: m, from: 'r1' }, { size, ttl: undefined }, 1);
    assert.ok(o?.kind === 'tooBig');
    const expected = ptbPlausibility(family, size, m);
    assert.equal(o.plausible, expected.plausible);
    assert.equal(o.reason, expected.reason);

    const search = new PathMtuSearch({ family, max: 1500 }, 0);
    const probe = search.poll(0).send.find((p) => p.size === size);
    assert.ok(probe, `the first round sends ${size}`);
    search.record(probe.token, o, 1);
    const rec = search.result().ptbs.find((p) => p.nextHopMtu === m);
    assert.ok(rec && !rec.accepted, JSON.stringify(rec));
    assert.equal(rec.reason, expected.reason);
  }
});
