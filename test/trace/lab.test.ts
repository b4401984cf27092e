// trace() against real routers in the lab, IPv4 and IPv6: every hop's MTU checked against the
// spec's truth (the veth rule included), PTB senders, black-hole links, silent hops, a lying
// router, and a real VXLAN overlay.
import assert from 'node:assert/strict';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';
import type { Lie } from '../../src/lab/liar.js';
import { createProber } from '../../src/probe/index.js';
import type { PathSpec } from '../../src/lab/spec.js';
import { truth } from './truth.js';
import type { Family } from '../../src/wire/facts.js';
import { trace } from '../../src/trace/index.js';
import type { TraceOptions, TraceResult } from '../../src/trace/types.js';

const families: Family[] = [4, 6];
const serverOf = (lab: Lab, f: Family): string => (f === 4 ? lab.server.v4 : lab.server.v6);
const routerIn = (lab: Lab, i: number, f: Family): string => lab.routerAddress(i, f, 'in');

async function traced(lab: Lab, f: Family, opts: TraceOptions = {}, to = serverOf(lab, f)): Promise<TraceResult & { wallMs: number }> {
  lab.enter('client');
  const t0 = performance.now();
  try {
    const r = await trace(to, { family: f, ...opts });
    return { ...r, wallMs: performance.now() - t0 };
  } finally {
    lab.leave();
  }
}

function label(r: TraceResult): string {
  return JSON.stringify({ pmtu: r.pmtu, hops: r.hops.map((h) => [h.ttl, h.address, h.mtu, h.ptb?.nextHopMtu]), drops: r.drops, blackHole: r.blackHole, bogus: r.bogusPtbs, reason: r.reason });
}

/**
 * The common checks: reached, hop addresses (silent ones null), every hop's MTU, the path MTU.
 * `unknown`: hops inside a black hole's bracket, whose MTU cannot be known (null).
 */
function checkPath(lab: Lab, f: Family, r: TraceResult, silent: number[] = [], unknown: number[] = []): void {
  const l = `IPv${f} ${label(r)}`;
  const n = lab.spec.routers.length;
  assert.equal(r.reached, true, l);
  assert.equal(r.pmtu, lab.expectedPmtu(f), l);
  assert.equal(r.exact, true, l);
  assert.equal(r.family, f);
  assert.equal(r.hops.length, n + 1, l);
  r.hops.forEach((h, i) => {
    assert.equal(h.ttl, i + 1, l);
    const want = i < n ? (silent.includes(i + 1) ? null : routerIn(lab, i + 1, f)) : serverOf(lab, f);
    assert.equal(h.address, want, `hop ${i + 1}: ${l}`);
    if (h.address !== null) assert.ok(typeof h.rttMs === 'number' && h.rttMs >= 0, l);
  });
  assert.deepEqual(r.hops.map((h) => h.mtu), truth(lab, f).map((m, i) => (unknown.includes(i + 1) ? null : m)), l);
  assert.equal(r.hops.at(-1)!.destination, true, l);
}

const path = (links: PathSpec['links'], routers: PathSpec['routers'] = [{}, {}, {}], extra: Partial<PathSpec> = {}): PathSpec => ({ routers, links, ...extra });

labTest('clean 3-hop path, 1400 bottleneck after hop 2: the drop and its PTB sender', path([{}, {}, { mtu: 1400 }, {}]), async (lab) => {
  for (const f of families) {
    const r = await traced(lab, f);
    checkPath(lab, f, r);
    const l = label(r);
    assert.deepEqual(r.drops, [{ afterTtl: 2, from: 1500, to: 1400, evidence: 'ptb', by: lab.bottleneckRouter(f)! }], l);
    assert.equal(r.hops[1]!.address, lab.bottleneckRouter(f));
    assert.deepEqual({ ...r.hops[1]!.ptb, reason: undefined }, { from: lab.bottleneckRouter(f), nextHopMtu: 1400, accepted: true, reason: undefined }, l);
    assert.equal(r.hops.filter((h) => h.ptb).length, 1, l);
    assert.equal(r.blackHole, null);
    assert.equal(r.firstHop, null);
    assert.deepEqual(r.bogusPtbs, []);
    assert.ok(r.explanation.length > 0 && r.fixes.length > 0);
  }
});

labTest('several reductions: 1492, 1480, 1450 at hops 1, 2, 3', path([{}, { mtu: 1492 }, { mtu: 1480 }, { mtu: 1450 }]), async (lab) => {
  for (const f of families) {
    const r = await traced(lab, f);
    checkPath(lab, f, r);
    assert.deepEqual(
      r.drops.map((d) => [d.afterTtl, d.from, d.to, d.evidence, d.by]),
      [
        [1, 1500, 1492, 'ptb', routerIn(lab, 1, f)],
        [2, 1492, 1480, 'ptb', routerIn(lab, 2, f)],
        [3, 1480, 1450, 'ptb', routerIn(lab, 3, f)],
      ],
      label(r),
    );
  }
});

labTest('black hole: router 2 drops its PTBs for a 1400 link, located after hop 2', path([{}, {}, { mtu: 1400 }, {}], [{}, { dropPtb: true }, {}]), async (lab) => {
  for (const f of families) {
    const r = await traced(lab, f);
    checkPath(lab, f, r);
    const l = label(r);
    assert.deepEqual(r.blackHole, { afterTtl: 2, lastAnswering: routerIn(lab, 2, f), firstSilent: routerIn(lab, 3, f), firstSilentTtl: 3, size: 1401, afterTtlMax: 2, uncertain: false, beyond: 'answers' }, l);
    assert.deepEqual(r.drops, [{ afterTtl: 2, from: 1500, to: 1400, evidence: 'black-hole', by: null }], l);
    assert.ok(r.hops.every((h) => h.ptb === undefined), l);
  }
});

labTest('black hole with a silent router right after the link: bracketed between hop 2 and hop 4, and said so', path([{}, {}, { mtu: 1400 }, {}], [{}, { dropPtb: true }, { noTimeExceeded: true }]), async (lab) => {
  for (const f of families) {
    const r = await traced(lab, f);
    checkPath(lab, f, r, [3], [3]);
    const l = label(r);
    assert.deepEqual(
      r.blackHole,
      { afterTtl: 2, lastAnswering: routerIn(lab, 2, f), firstSilent: serverOf(lab, f), firstSilentTtl: 4, size: 1401, afterTtlMax: 3, uncertain: true, beyond: 'answers' },
      l,
    );
    // The JSON never names one hop the evidence cannot: the drop carries the bracket too.
    assert.deepEqual(r.drops, [{ afterTtl: 2, from: 1500, to: 1400, evidence: 'black-hole', by: null, uncertain: true, afterTtlMax: 3 }], l);
  }
});

labTest('black hole, udp method (forward path, no privilege needed)', path([{}, {}, { mtu: 1400 }, {}], [{}, { dropPtb: true }, {}]), async (lab) => {
  for (const f of families) {
    const r = await traced(lab, f, { method: 'udp' });
    checkPath(lab, f, r);
    assert.equal(r.method, 'udp');
    assert.equal(r.direction, 'forward');
    assert.equal(r.blackHole?.afterTtl, 2, label(r));
  }
});

labTest('L2 mismatch after hop 1 (1500 sent into a 1400 receiver): located, path MTU 1404', path([{}, { leftMtu: 1500, rightMtu: 1400 }, {}], [{}, {}]), async (lab) => {
  for (const f of families) {
    const r = await traced(lab, f);
    checkPath(lab, f, r);
    assert.equal(r.pmtu, 1404);
    assert.deepEqual(r.blackHole, { afterTtl: 1, lastAnswering: routerIn(lab, 1, f), firstSilent: routerIn(lab, 2, f), firstSilentTtl: 2, size: 1405, afterTtlMax: 1, uncertain: false, beyond: 'answers' }, label(r));
    assert.equal(r.firstHop, null);
  }
});

labTest('L2 mismatch on the first link: the first-hop case is named', path([{ leftMtu: 1500, rightMtu: 1300 }, {}], [{}]), async (lab) => {
  for (const f of families) {
    const r = await traced(lab, f);
    checkPath(lab, f, r);
    assert.deepEqual(r.firstHop, { interfaceMtu: 1500, carries: 1304, evidence: 'black-hole' }, label(r));
    assert.equal(r.blackHole?.afterTtl, 0);
    assert.equal(r.blackHole?.lastAnswering, null);
    assert.equal(r.blackHole?.firstSilent, routerIn(lab, 1, f));
  }
});

labTest(
  'silent routers (no time-exceeded, still forwarding) are *, the trace goes on, a silent PTB sender is placed by TTL',
  path([{}, {}, { mtu: 1400 }, {}, {}], [{ noTimeExceeded: true }, { noTimeExceeded: true }, {}, {}]),
  async (lab) => {
    for (const f of families) {
      const r = await traced(lab, f);
      checkPath(lab, f, r, [1, 2]);
      const l = label(r);
      assert.equal(r.hops[0]!.rttMs, null);
      // Router 2 never says time-exceeded but does send the PTB: placed at hop 2 by TTL.
      assert.equal(r.hops[1]!.ptb?.from, routerIn(lab, 2, f), l);
      assert.deepEqual(r.drops, [{ afterTtl: 2, from: 1500, to: 1400, evidence: 'ptb', by: routerIn(lab, 2, f) }], l);
    }
  },
);

/** Wait until the liar process has lied once for this family (it is a fresh process: cold, maybe not scheduled yet). */
async function liarListening(lab: Lab, f: Family, lies: readonly Lie[]): Promise<void> {
  lab.enter('client');
  const prober = createProber('icmp', f);
  lab.leave();
  try {
    const until = Date.now() + 5000;
    while (!lies.some((x) => x.family === f) && Date.now() < until) {
      prober.send(serverOf(lab, f), 1400);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(lies.some((x) => x.family === f), `the liar answered an IPv${f} probe`);
  } finally {
    prober.close();
  }
}

labTest(
  'a router that lies (PTB 1300 while forwarding) is flagged as bogus; the real 1450 drop stands',
  path([{}, {}, {}, { mtu: 1450 }], [{ liePtb: { mtu: 1300 } }, {}, {}]),
  async (lab) => {
    for (const f of families) {
      await liarListening(lab, f, lab.lies(1));
      const r = await traced(lab, f);
      checkPath(lab, f, r);
      const l = label(r);
      assert.deepEqual(r.bogusPtbs, [{ from: routerIn(lab, 1, f), ttl: 1, nextHopMtu: 1300, contradictedBy: 1450 }], l);
      assert.equal(r.hops[0]!.ptb?.accepted, false, l);
      assert.deepEqual(r.drops, [{ afterTtl: 3, from: 1500, to: 1450, evidence: 'ptb', by: routerIn(lab, 3, f) }], l);
      assert.ok(lab.lies(1).some((x) => x.family === f && x.to === lab.address('client', f) && x.dst === serverOf(lab, f)), 'the liar lied to us');
    }
  },
);

labTest('VXLAN overlay at 1500 over a 1500 underlay (VTEP does not fragment): 1450, the 50 bytes named', path(undefined, [{}], { vxlan: { df: 'set' } }), async (lab) => {
  const o = lab.overlay!;
  for (const inner of families) {
    const to = inner === 4 ? o.server.v4 : o.server.v6;
    const r = await traced(lab, inner, {}, to);
    const l = label(r);
    assert.equal(r.pmtu, lab.overlayPmtu(), l);
    assert.equal(r.pmtu, 1450);
    assert.equal(r.reached, true);
    assert.deepEqual(r.hops.map((h) => [h.address, h.mtu]), [[to, 1450]], l);
    assert.deepEqual(r.firstHop, { interfaceMtu: 1500, carries: 1450, evidence: 'black-hole' }, l);
    assert.equal(r.explanation[0]?.cause, 'VXLAN over IPv4', l);
    assert.equal(r.explanation[0]?.overhead, 50);
    assert.match(r.summary ?? '', /VXLAN/);
    assert.ok(r.fixes.some((x) => /mtu 1450/.test(x.command)), JSON.stringify(r.fixes));
  }
});

const long = 20;
labTest(
  `a ${long}-router path: hops are mapped 16 TTLs at a time, the drop at hop 12 found`,
  { routers: Array.from({ length: long }, () => ({ icmpRateLimitMs: 0 })), links: Array.from({ length: long + 1 }, (_, i) => (i === 12 ? { mtu: 1300 } : {})) },
  async (lab) => {
    for (const f of families) {
      const r = await traced(lab, f);
      assert.equal(r.reached, true);
      assert.equal(r.hops.length, long + 1);
      assert.deepEqual(r.hops.map((h) => h.mtu), truth(lab, f));
      // Hop 12 still gets 1500-byte packets; hop 13, behind the 1300 link, is the first that does not.
      assert.equal(r.hops.findIndex((h) => h.mtu === 1300) + 1, 13);
      assert.equal(r.drops[0]?.afterTtl, 12, 'the MTU drops after hop 12');
    }
  },
);
