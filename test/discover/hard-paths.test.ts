// discover() on the harder paths of issue 9 (items 1-3), against real routers in the lab, v4 and v6.
// Each test builds its own paths: hop counts, where the drops sit and who is silent vary.
import assert from 'node:assert/strict';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';
import type { PathSpec } from '../../src/lab/spec.js';
import { discover, type DiscoverEvent, type DiscoverOptions, type DiscoverResult } from '../../src/discover/index.js';
import type { MethodName } from '../../src/probe/outcome.js';
import type { Family } from '../../src/wire/facts.js';

const families: Family[] = [4, 6];
const serverOf = (lab: Lab, f: Family): string => (f === 4 ? lab.server.v4 : lab.server.v6);

async function run(lab: Lab, f: Family, opts: DiscoverOptions): Promise<DiscoverResult> {
  lab.enter('client');
  try {
    return await discover(serverOf(lab, f), { family: f, ...opts });
  } finally {
    lab.leave();
  }
}

const show = (r: DiscoverResult): string =>
  JSON.stringify({ method: r.method, pmtu: r.pmtu, exact: r.exact, lo: r.lowerBound, hi: r.upperBound, probes: r.probes, reason: r.reason, tried: r.methodsTried });

// ---- item 1: a PTB, then a silent drop further along ------------------------------------------

/**
 * The PTB router (`ptbRouter`, 1-based) must be named with its value, accepted; the answer is the
 * lab's truth, exact, and a black hole (the drop below the PTB's value is silent).
 */
async function ptbThenHole(lab: Lab, f: Family, method: MethodName, ptbRouter: number, ptbMtu: number): Promise<void> {
  const r = await run(lab, f, { method });
  const label = `IPv${f} ${method}: ${show(r)}`;
  assert.equal(r.pmtu, lab.expectedPmtu(f), label);
  assert.ok(r.pmtu! < ptbMtu, 'the path is narrower than the PTB said');
  assert.equal(r.exact, true, label);
  assert.equal(r.blackHole, true, `${label}: the limit below the PTB's value is silent`);
  assert.equal(r.blackHoleAbove, r.pmtu);
  const from = lab.routerAddress(ptbRouter, f, 'in');
  assert.ok(
    r.ptbs.some((p) => p.from === from && p.nextHopMtu === ptbMtu && p.accepted),
    `${label}: the PTB of ${ptbMtu} from ${from} is kept, as a ceiling further along: ${JSON.stringify(r.ptbs)}`,
  );
  assert.ok(r.probes <= 60, label);
}

labTest(
  'PTB 1480, then a router that drops its PTBs at a 1400 link (6 hops): exact, a black hole',
  // r2 forwards onto 1480 and says so; r3 forwards onto 1400 and says nothing.
  { routers: [{}, {}, { dropPtb: true }, {}, {}], links: [{}, {}, { mtu: 1480 }, { mtu: 1400 }, {}, {}] },
  async (lab) => {
    for (const f of families) for (const method of ['icmp', 'udp'] as const) await ptbThenHole(lab, f, method, 2, 1480);
  },
);

labTest(
  'PTB then a silent router with only 3 hops, the PTB from the first router',
  { routers: [{}, { dropPtb: true }], links: [{}, { mtu: 1480 }, { mtu: 1400 }] },
  async (lab) => {
    for (const f of families) for (const method of ['icmp', 'udp'] as const) await ptbThenHole(lab, f, method, 1, 1480);
  },
);

labTest(
  'PTB 1492, then an L2 MTU mismatch two routers on (1492 -> 1420: truth 1424, no plateau)',
  { routers: [{}, {}, {}, {}], links: [{}, { mtu: 1492 }, {}, { leftMtu: 1492, rightMtu: 1420 }, {}] },
  async (lab) => {
    for (const f of families) {
      assert.equal(lab.expectedPmtu(f), 1424);
      await ptbThenHole(lab, f, 'icmp', 1, 1492);
    }
  },
);

labTest(
  'a firewall that drops only ICMPv6 PTBs behind a 1480 PTB: v6 a black hole at 1420, v4 two PTBs',
  { routers: [{}, { dropPtb: 6 }, {}], links: [{}, { mtu: 1480 }, { mtu: 1420 }, {}] },
  async (lab) => {
    await ptbThenHole(lab, 6, 'udp', 1, 1480);
    const v4 = await run(lab, 4, { method: 'udp' });
    assert.equal(v4.pmtu, 1420, show(v4));
    assert.equal(v4.exact, true);
    assert.equal(v4.blackHole, false, 'over IPv4 the 1420 router says so');
  },
);

// ---- item 2: a method the target never answers -------------------------------------------------

/** No answer, said early (not a budget of probes), naming what the target drops and what to try. */
function assertSilent(r: DiscoverResult, method: MethodName, dropped: RegExp, tryInstead: RegExp): void {
  const label = show(r);
  assert.equal(r.method, method, label);
  assert.equal(r.pmtu, null, label);
  assert.equal(r.exact, false);
  assert.equal(r.lowerBound, 0);
  assert.equal(r.aborted, false);
  // A budget of 60 probes at the 1 s initial timeout is what took 52 s; a handful of rounds is enough.
  assert.ok(r.probes <= 25, `${label}: gave up after ${r.probes} probes, not early`);
  assert.match(r.reason ?? '', dropped, label);
  assert.match(r.reason ?? '', tryInstead, label);
  assert.deepEqual(r.methodsTried, [{ method, outcome: 'no answer' }]);
}

labTest(
  '--method icmp at a host that drops echo, routers on the way sending PTBs: gives up early, says why',
  { routers: [{}, {}, {}], links: [{}, {}, { mtu: 1400 }, {}], server: { dropEcho: true } },
  async (lab) => {
    for (const f of families) {
      const r = await run(lab, f, { method: 'icmp' });
      assertSilent(r, 'icmp', /drops ICMP echo requests/, /--method udp/);
      assert.ok(r.ptbs.length > 0 && /routers on the way did answer/.test(r.reason!), 'the routers answered, the host did not');
    }
  },
);

labTest(
  '--method udp at a host that drops UDP behind a black hole (1 router): gives up early, says why',
  { routers: [{ dropPtb: true }], links: [{}, { mtu: 1420 }], server: { dropUdp: true } },
  async (lab) => {
    for (const f of families) {
      const r = await run(lab, f, { method: 'udp' });
      assertSilent(r, 'udp', /drops UDP probes/, /--method icmp/);
      assert.equal(r.ptbs.length, 0);
    }
  },
);

// ---- item 3: auto when the first method is filtered ---------------------------------------------

/**
 * auto, first method filtered: the answer comes from `expected`, exact; the filtered method was left
 * within its first round — no probe of it after the winner's search began, and none of the floor-size
 * "is anything there" probes a search sends only once a loss timeout has passed.
 */
async function autoFallsBack(lab: Lab, f: Family, expected: MethodName): Promise<DiscoverResult> {
  const events: DiscoverEvent[] = [];
  const r = await run(lab, f, { method: 'auto', onEvent: (e) => events.push(e) });
  const label = `IPv${f}: ${show(r)}`;
  assert.equal(r.method, expected, label);
  assert.equal(r.pmtu, lab.expectedPmtu(f), label);
  assert.equal(r.exact, true, label);
  assert.equal(r.methodsTried[0].method, 'icmp', label);
  assert.match(r.methodsTried[0].outcome, new RegExp(`no answer: ${expected} answered instead`), label);
  assert.deepEqual(r.methodsTried.at(-1), { method: expected, outcome: 'answered' }, label);
  const started = events.findIndex((e) => e.type === 'method' && e.method === expected);
  assert.ok(started > 0, 'the search switched to the method that answered');
  const icmpProbes = events.filter((e) => e.type === 'probe' && e.method === 'icmp');
  assert.ok(events.slice(started).every((e) => !(e.type === 'probe' && e.method === 'icmp')), 'icmp was left for good');
  // The floor-size probes come after a loss timeout (v6's first round holds one: 1280 is the floor).
  const floor = f === 4 ? 68 : 1280;
  const atFloor = icmpProbes.filter((e) => e.type === 'probe' && e.size === floor).length;
  assert.ok(atFloor <= (f === 4 ? 0 : 1), `${label}: icmp never reached a loss timeout (${icmpProbes.map((e) => (e.type === 'probe' ? e.size : 0)).join(' ')})`);
  // The first round (8 sizes) and the sizes its PTBs pointed at, sent as they arrived: one round's worth.
  assert.ok(icmpProbes.length <= 14, `${label}: ${icmpProbes.length} icmp probes`);
  return r;
}

labTest(
  'auto at a host that drops echo (4 hops, a 1400 PTB): udp, learned in the first round',
  { routers: [{}, {}, {}], links: [{}, { mtu: 1400 }, {}, {}], server: { dropEcho: true } },
  async (lab) => {
    for (const f of families) {
      const r = await autoFallsBack(lab, f, 'udp');
      assert.equal(r.blackHole, false);
    }
  },
);

labTest(
  'auto at a host that drops echo and UDP behind a silent L2 mismatch (2 hops): tcp, learned in the first round',
  { routers: [{}], links: [{ leftMtu: 1500, rightMtu: 1500 }, { leftMtu: 1500, rightMtu: 1440 }], server: { dropEcho: true, dropUdp: true } },
  async (lab) => {
    for (const f of families) {
      const r = await autoFallsBack(lab, f, 'tcp');
      assert.equal(r.blackHole, true);
      assert.deepEqual(r.methodsTried.map((m) => m.method), ['icmp', 'udp', 'tcp']);
      assert.match(r.methodsTried[1].outcome, /no answer/);
    }
  },
);

labTest(
  'auto where echo is answered: icmp, the scout probes of the other methods change nothing',
  { routers: [{}, { dropPtb: true }], links: [{}, {}, { mtu: 1300 }] },
  async (lab) => {
    for (const f of families) {
      const r = await run(lab, f, { method: 'auto' });
      assert.equal(r.method, 'icmp', show(r));
      assert.equal(r.pmtu, lab.expectedPmtu(f));
      assert.equal(r.exact, true);
      assert.equal(r.blackHole, true);
      assert.deepEqual(r.methodsTried, [{ method: 'icmp', outcome: 'answered' }]);
    }
  },
);

labTest(
  'auto at a host that rejects echo (admin-prohibited, 2 hops): an unreachable for one method is a fallback, not the end',
  { routers: [{}], links: [{}, { mtu: 1400 }], server: { rejectEcho: true } },
  async (lab) => {
    for (const f of families) {
      const r = await run(lab, f, { method: 'auto' });
      const label = show(r);
      assert.equal(r.method, 'udp', label);
      assert.equal(r.pmtu, 1400, label);
      assert.equal(r.exact, true, label);
      assert.equal(r.unreachable, false, label);
      assert.match(r.methodsTried[0].outcome, /administratively prohibited.*udp answered instead/, label);
    }
  },
);
