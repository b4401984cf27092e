// Issue 9, trace items 4–8, against real routers in the lab, IPv4 and IPv6, each on paths built for
// it (hop counts, where the drops sit and which router is silent vary): what a hop's MTU means, a
// PTB followed by a black hole, a router whose PTBs say MTU 0, a bottleneck whose ICMP budget is
// spent, and a udp trace to a target that rate-limits its port-unreachables (Linux's default).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';
import { planLab, type PathSpec } from '../../src/lab/spec.js';
import { truth } from './truth.js';
import { createProber } from '../../src/probe/index.js';
import type { ProbeOutcome } from '../../src/probe/prober.js';
import type { Family } from '../../src/wire/facts.js';
import { renderTrace, trace } from '../../src/trace/index.js';
import type { TraceOptions, TraceResult } from '../../src/trace/types.js';

const families: Family[] = [4, 6];
const serverOf = (lab: Lab, f: Family): string => (f === 4 ? lab.server.v4 : lab.server.v6);
const routerIn = (lab: Lab, i: number, f: Family): string => lab.routerAddress(i, f, 'in');
const path = (links: PathSpec['links'], routers: PathSpec['routers']): PathSpec => ({ routers, links });

async function traced(lab: Lab, f: Family, opts: TraceOptions = {}): Promise<TraceResult> {
  lab.enter('client');
  try {
    return await trace(serverOf(lab, f), { family: f, ...opts });
  } finally {
    lab.leave();
  }
}

function label(r: TraceResult): string {
  return JSON.stringify({ pmtu: r.pmtu, exact: r.exact, hops: r.hops.map((h) => [h.ttl, h.address, h.mtu, h.ptb?.nextHopMtu]), drops: r.drops, blackHole: r.blackHole, reason: r.reason, ms: r.elapsedMs });
}

/** Send probes from the client and collect what comes back (each probe's outcomes). */
async function probe(lab: Lab, f: Family, sends: Array<{ size: number; ttl: number }>, waitMs = 300): Promise<ProbeOutcome[][]> {
  lab.enter('client');
  const p = createProber('icmp', f);
  lab.leave();
  const got = new Map<number, ProbeOutcome[]>();
  p.on('outcome', (token, o) => got.get(token)?.push(o));
  try {
    const tokens = sends.map((s) => {
      const t = p.send(serverOf(lab, f), s.size, { ttl: s.ttl });
      got.set(t, []);
      return t;
    });
    await new Promise((r) => setTimeout(r, waitMs));
    return tokens.map((t) => got.get(t)!);
  } finally {
    p.close();
  }
}

function checkHops(lab: Lab, f: Family, r: TraceResult, l: string): void {
  const n = lab.spec.routers.length;
  assert.equal(r.reached, true, l);
  assert.deepEqual(r.hops.map((h) => h.address), [...Array.from({ length: n }, (_, i) => routerIn(lab, i + 1, f)), serverOf(lab, f)], l);
  assert.deepEqual(r.hops.map((h) => h.mtu), truth(lab, f), l);
}

// Item 4 -----------------------------------------------------------------------------------------

for (const [name, spec, sender] of [
  ['1500 | 1400 | 1500', path([{}, { mtu: 1400 }, {}], [{}, {}]), 1],
  ['1500 | 1500 | 1500 | 1420 | 1500', path([{}, {}, {}, { mtu: 1420 }, {}], [{}, {}, {}, {}]), 3],
] as const) {
  labTest(`item 4, links ${name}: a hop's MTU is the largest packet that reaches it; the PTB sender shows the size it still gets`, spec, async (lab) => {
    for (const f of families) {
      const r = await traced(lab, f);
      const l = `IPv${f} ${label(r)}`;
      checkHops(lab, f, r, l);
      const limit = lab.expectedPmtu(f);
      // The sender still gets (and answers) full-size packets: its MTU is the one before the drop.
      assert.equal(r.hops[sender - 1]!.mtu, 1500, l);
      assert.deepEqual({ ...r.hops[sender - 1]!.ptb, reason: undefined }, { from: routerIn(lab, sender, f), nextHopMtu: limit, accepted: true, reason: undefined }, l);
      assert.equal(r.hops[sender]!.mtu, limit, l);
      assert.deepEqual(r.drops, [{ afterTtl: sender, from: 1500, to: limit, evidence: 'ptb', by: routerIn(lab, sender, f) }], l);
      // What the number means, measured directly: a full-size probe with TTL = the sender's hop is
      // answered by the sender (time-exceeded); one more hop and the sender refuses it (PTB).
      const [at, past] = await probe(lab, f, [
        { size: 1500, ttl: sender },
        { size: 1500, ttl: sender + 1 },
      ]);
      assert.ok(at!.some((o) => o.kind === 'timeExceeded' && o.from === routerIn(lab, sender, f)), JSON.stringify(at));
      assert.ok(past!.some((o) => o.kind === 'tooBig' && o.from === routerIn(lab, sender, f)), JSON.stringify(past));
      // The picture: the sender's line shows 1500 and its PTB; the ▼ sits between its line and the next.
      const rows = renderTrace(r, { color: false, width: 120, explain: false }).split('\n');
      const i = rows.findIndex((x) => new RegExp(`^\\s+${sender}\\s+${routerIn(lab, sender, f).replace(/\./g, '\\.')}\\s`).test(x));
      assert.match(rows[i]!, new RegExp(`\\s1500 █+\\s+PTB ${limit}$`), rows.join('\n'));
      assert.match(rows[i + 1]!, new RegExp(`^\\s+▼ 1500→${limit} \\(−${1500 - limit}\\) PTB from `), rows.join('\n'));
      assert.match(rows[i + 2]!, new RegExp(`^\\s+${sender + 1}\\s.*\\s${limit} █+`), rows.join('\n'));
    }
  });
}

// Item 5 -----------------------------------------------------------------------------------------

for (const [name, spec, ptbAfter, holeAfter] of [
  ['1480 by PTB after hop 1, 1400 silent after hop 3 (5 hops)', path([{}, { mtu: 1480 }, {}, { mtu: 1400 }, {}], [{}, {}, { dropPtb: true }, {}]), 1, 3],
  ['1480 by PTB after hop 1, 1400 silent after hop 2 (3 hops)', path([{}, { mtu: 1480 }, { mtu: 1400 }], [{}, { dropPtb: true }]), 1, 2],
  ['1492 by PTB after hop 2, 1450 silent after hop 4 (6 hops)', path([{}, {}, { mtu: 1492 }, {}, { mtu: 1450 }, {}], [{}, {}, {}, { dropPtb: true }, {}]), 2, 4],
] as const) {
  labTest(`item 5, PTB then black hole: ${name}`, spec, async (lab) => {
    for (const f of families) {
      const r = await traced(lab, f);
      const l = `IPv${f} ${label(r)}`;
      const plan = planLab(lab.spec);
      const ceiling = plan.links[ptbAfter]!.leftMtu;
      const pmtu = lab.expectedPmtu(f);
      assert.equal(r.pmtu, pmtu, l);
      assert.equal(r.exact, true, l);
      checkHops(lab, f, r, l);
      assert.deepEqual(
        r.drops,
        [
          { afterTtl: ptbAfter, from: 1500, to: ceiling, evidence: 'ptb', by: routerIn(lab, ptbAfter, f) },
          { afterTtl: holeAfter, from: ceiling, to: pmtu, evidence: 'black-hole', by: null },
        ],
        l,
      );
      assert.deepEqual(
        r.blackHole,
        { afterTtl: holeAfter, lastAnswering: routerIn(lab, holeAfter, f), firstSilent: r.hops[holeAfter]!.address, firstSilentTtl: holeAfter + 1, size: pmtu + 1, afterTtlMax: holeAfter, uncertain: false, beyond: 'answers' },
        l,
      );
      const text = renderTrace(r, { color: false, width: 120, explain: false });
      assert.match(text, new RegExp(`Black hole on the link after hop ${holeAfter} `), text);
      assert.doesNotMatch(text, /unexplained/, text);
    }
  });
}

// Item 6 -----------------------------------------------------------------------------------------

for (const [name, spec, at] of [
  ['router 2 of 3, 1400 behind it', path([{}, {}, { mtu: 1400 }, {}], [{}, { ptbMtuZero: true }, {}]), 2],
  ['router 1 of 1, 1300 behind it', path([{}, { mtu: 1300 }], [{ ptbMtuZero: true }]), 1],
  ['router 4 of 5, 1450 behind it, silent router 2', path([{}, {}, {}, {}, { mtu: 1450 }, {}], [{}, { noTimeExceeded: true }, {}, { ptbMtuZero: true }, {}]), 4],
] as const) {
  labTest(`item 6, a PTB with next-hop MTU 0 (an RFC 792 router): ${name}`, spec, async (lab) => {
    for (const f of families) {
      const r = await traced(lab, f);
      const l = `IPv${f} ${label(r)}`;
      const pmtu = lab.expectedPmtu(f);
      assert.ok(lab.lies(at).some((x) => x.family === f && x.mtu === 0), `router ${at} sent IPv${f} PTBs with MTU 0`);
      assert.equal(r.pmtu, pmtu, l);
      assert.equal(r.reached, true, l);
      assert.deepEqual(r.hops.map((h) => h.mtu), truth(lab, f), l);
      // The router that said "too big" without a number is the place; the value comes from probing.
      assert.deepEqual(r.drops, [{ afterTtl: at, from: 1500, to: pmtu, evidence: 'ptb', by: routerIn(lab, at, f), zeroMtu: true }], l);
      assert.equal(r.hops[at - 1]!.ptb?.nextHopMtu, 0, l);
      assert.equal(r.hops[at - 1]!.ptb?.accepted, true, l);
      assert.equal(r.blackHole, null, l);
      assert.deepEqual(r.bogusPtbs, [], l);
      const text = renderTrace(r, { color: false, width: 120, explain: false });
      assert.match(text, new RegExp(`MTU drops after hop ${at}: 1500 → ${pmtu}`), text);
      assert.doesNotMatch(text, /ignored PTB|no router said why/, text);
    }
  });
}

labTest('item 6, an MTU-0 router (1420 behind it) before a router with a real PTB (1300): its value found by probing from there', path([{}, { mtu: 1420 }, {}, { mtu: 1300 }, {}], [{ ptbMtuZero: true }, {}, {}, {}]), async (lab) => {
  for (const f of families) {
    const r = await traced(lab, f);
    const l = `IPv${f} ${label(r)}`;
    assert.equal(r.pmtu, 1300, l);
    assert.deepEqual(r.hops.map((h) => h.mtu), truth(lab, f), l);
    assert.deepEqual(
      r.drops,
      [
        { afterTtl: 1, from: 1500, to: 1420, evidence: 'ptb', by: routerIn(lab, 1, f), zeroMtu: true },
        { afterTtl: 3, from: 1420, to: 1300, evidence: 'ptb', by: routerIn(lab, 3, f) },
      ],
      l,
    );
    assert.equal(r.blackHole, null, l);
  }
});

// Item 7 -----------------------------------------------------------------------------------------

/** Spend router `hop`'s ICMP budget towards the client (its per-destination token bucket). */
async function drain(lab: Lab, f: Family, hop: number): Promise<void> {
  const got = await probe(lab, f, Array.from({ length: 12 }, () => ({ size: 100, ttl: hop })), 30);
  // The burst is spent: not every probe was answered.
  assert.ok(got.some((o) => o.length === 0), `router ${hop}'s IPv${f} ICMP budget is spent`);
}

for (const [name, spec, hole] of [
  ['black hole after hop 2 of 3', path([{}, {}, { mtu: 1400 }, {}], [{}, { dropPtb: true }, {}]), 2],
  ['black hole after hop 3 of 5', path([{}, {}, {}, { mtu: 1380 }, {}, {}], [{}, {}, { dropPtb: true }, {}, {}]), 3],
] as const) {
  labTest(`item 7, the bottleneck router's ICMP budget spent: ${name}, pinned after a pause, text and JSON agree`, spec, async (lab) => {
    for (const f of families) {
      await drain(lab, f, hole);
      const r = await traced(lab, f);
      const l = `IPv${f} ${label(r)}`;
      checkHops(lab, f, r, l);
      assert.deepEqual(r.drops, [{ afterTtl: hole, from: 1500, to: lab.expectedPmtu(f), evidence: 'black-hole', by: null }], l);
      assert.equal(r.blackHole?.afterTtl, hole, l);
      assert.equal(r.blackHole?.uncertain, false, l);
      assert.equal(r.blackHole?.firstSilentTtl, hole + 1, l);
      const text = renderTrace(r, { color: false, width: 120, explain: false });
      assert.match(text, new RegExp(`Black hole on the link after hop ${hole} `), text);
      assert.doesNotMatch(text, /somewhere/, text);
    }
  });
}

// Item 8 -----------------------------------------------------------------------------------------

for (const [name, spec] of [
  ['3 routers', path([{}, {}, {}, {}], [{}, {}, {}])],
  ['5 routers, router 5 (the last before the target) silent', path([{}, {}, {}, {}, {}, {}], [{}, {}, {}, {}, { noTimeExceeded: true }])],
] as const) {
  labTest(`item 8, udp trace to a target with Linux's default ICMP rate limit, twice in a row: ${name}`, spec, async (lab) => {
    const n = lab.spec.routers.length;
    for (const f of families) {
      for (const run of [1, 2]) {
        const r = await traced(lab, f, { method: 'udp' });
        const l = `IPv${f} run ${run} ${label(r)}`;
        assert.equal(r.method, 'udp');
        assert.equal(r.reached, true, l);
        assert.equal(r.hops.length, n + 1, l);
        assert.equal(r.hops.at(-1)!.destination, true, l);
        const silent = lab.spec.routers.map((x, i) => (x.noTimeExceeded ? i + 1 : 0));
        assert.deepEqual(r.hops.map((h) => h.address), [...Array.from({ length: n }, (_, i) => (silent.includes(i + 1) ? null : routerIn(lab, i + 1, f))), serverOf(lab, f)], l);
      }
    }
  }, { timeout: 120_000 });
}

// The README's example is what trace prints (round-trip times aside) on the path it shows.
labTest("README: the trace example matches trace's rendering", path([{}, {}, { mtu: 1400 }, {}], [{}, { dropPtb: true }, {}]), async (lab) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = readme.slice(readme.indexOf('$ pathmtu trace -n 198.18.3.2\n'));
  const example = block.split('\n').slice(1, block.split('\n').indexOf('  ...'));
  const r = await traced(lab, 4);
  const printed = renderTrace(r, { color: false, width: 100, explain: false }).split('\n').slice(0, example.length);
  const mask = (l: string): string => l.replace(/\d+\.\d+ ms/g, 'N ms');
  assert.deepEqual(printed.map(mask), example.map(mask));
});
