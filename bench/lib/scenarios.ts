// The benchmark's paths, and the truth for each taken from the lab itself (never typed in here):
// the path MTU, the largest packet that reaches each hop, and where a black hole sits.
import type { Lab } from '../../src/lab/index.js';
import { bottleneckLink, linkLimit, planLab, type PathSpec } from '../../src/lab/spec.js';
import type { Family } from '../../src/wire/facts.js';
import { createProber } from '../../src/probe/index.js';
import type { HopReport } from './parse.js';
import type { Role } from './tools.js';

export interface Scenario {
  id: string;
  label: string;
  family: Family;
  spec: PathSpec;
  /** Large packets vanish without a PTB somewhere on this path. */
  blackHole: boolean;
  /** Which tables it is for (default both). */
  roles?: Role[];
  /** Run in the fresh lab right before the tool starts (not timed). */
  prepare?: (lab: Lab, family: Family) => Promise<void>;
}

// 3 routers, the 1400 bottleneck on link 2 (between r2 and r3), as in DESIGN.md's anchors.
const clean: PathSpec = { routers: [{}, {}, {}], links: [{}, {}, { mtu: 1400 }, {}] };
const ptbDropped: PathSpec = { routers: [{}, { dropPtb: true }, {}], links: [{}, {}, { mtu: 1400 }, {}] };
// r2 sends 1500, r3 receives at most 1400 + the veth's slack: a silent drop, truth 1404.
const l2Mismatch: PathSpec = { routers: [{}, {}, {}], links: [{}, {}, { leftMtu: 1500, rightMtu: 1400 }, {}] };

// Issue 9: a PTB (1480 after hop 1, PPPoE-like), then a 1400 link behind a router that drops its
// PTB (after hop 3): the PTB's value is only a ceiling, the black hole is after hop 3.
const ptbThenHole: PathSpec = { routers: [{}, {}, { dropPtb: true }, {}], links: [{}, { mtu: 1480 }, {}, { mtu: 1400 }, {}] };

/**
 * Spend the black-hole router's ICMP budget towards the client just before the tool runs (its
 * per-destination bucket: a burst of about 6, then 1 a second), as another tracer, or a busy
 * router, would have: its time-exceededs are rate-limited when the tool asks.
 */
async function spendIcmpBudget(lab: Lab, family: Family, hop: number): Promise<void> {
  lab.enter('client');
  const p = createProber('icmp', family);
  lab.leave();
  try {
    for (let i = 0; i < 12; i++) p.send(family === 4 ? lab.server.v4 : lab.server.v6, 100, { ttl: hop });
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    p.close();
  }
}

export const SCENARIOS: Scenario[] = [
  { id: 'clean-v4', label: 'clean v4', family: 4, spec: clean, blackHole: false },
  { id: 'clean-v6', label: 'clean v6', family: 6, spec: clean, blackHole: false },
  { id: 'ptb-drop-v4', label: 'router drops frag-needed v4', family: 4, spec: ptbDropped, blackHole: true },
  { id: 'ptb-drop-v6', label: 'router drops PTB v6', family: 6, spec: ptbDropped, blackHole: true },
  { id: 'l2-v4', label: 'L2 mismatch v4', family: 4, spec: l2Mismatch, blackHole: true },
  { id: 'l2-v6', label: 'L2 mismatch v6', family: 6, spec: l2Mismatch, blackHole: true },
  // The trace rows only: discover on the PTB-then-black-hole path is in bench/hard.ts, and the spent
  // budget is about locating the link (time-exceededs), not the path MTU.
  { id: 'ptb-then-hole-v4', label: 'PTB 1480, then black hole 1400 v4', family: 4, spec: ptbThenHole, blackHole: true, roles: ['trace'] },
  { id: 'ptb-then-hole-v6', label: 'PTB 1480, then black hole 1400 v6', family: 6, spec: ptbThenHole, blackHole: true, roles: ['trace'] },
  { id: 'ratelimited-v4', label: 'black hole, its router ICMP-rate-limited v4', family: 4, spec: ptbDropped, blackHole: true, roles: ['trace'], prepare: (lab, f) => spendIcmpBudget(lab, f, 2) },
  { id: 'ratelimited-v6', label: 'black hole, its router ICMP-rate-limited v6', family: 6, spec: ptbDropped, blackHole: true, roles: ['trace'], prepare: (lab, f) => spendIcmpBudget(lab, f, 2) },
];

/**
 * What a per-hop MTU means. 'reached': the largest packet that gets to hop k (tracepath, scamper,
 * pathmtu trace). 'after': the largest that leaves hop k towards the target and arrives at the next
 * (what pathmtu trace showed before issue 9); for the destination both are the path MTU.
 */
export type HopSense = 'reached' | 'after';

export interface Truth {
  pmtu: number;
  /** Hop k (TTL k) is node k of the lab: r1..rn, then the server. `mtu` in the 'reached' sense. */
  hops: HopReport[];
  /** The same hops, `mtu` in the 'after' sense. */
  hopsAfter: HopReport[];
  /** null on a clean path. */
  blackHole: { afterTtl: number; lastAnswering: string; firstSilent: string } | null;
}

export function truthOf(lab: Lab, family: Family): Truth {
  const plan = planLab(lab.spec);
  const hops: HopReport[] = [];
  const hopsAfter: HopReport[] = [];
  // Link i leaves node i: a packet reaches node k over links 0..k-1, and leaves it over link k.
  const upTo = (n: number): number => Math.min(...plan.links.slice(0, n).map((l) => linkLimit(l, 'forward').limit));
  for (let k = 1; k < lab.nodes.length; k++) {
    const address = lab.address(lab.nodes[k], family);
    hops.push({ ttl: k, address, mtu: upTo(k) });
    hopsAfter.push({ ttl: k, address, mtu: upTo(k + 1) });
  }
  const { link, silent } = bottleneckLink(plan, family);
  // Link `link` joins node `link` (answers a large probe's TTL expiry) and node link+1 (never sees it).
  const hidden = silent || (link > 0 && plan.routers[link - 1].dropPtb === true);
  const blackHole = hidden
    ? { afterTtl: link, lastAnswering: lab.address(lab.nodes[link], family), firstSilent: lab.address(lab.nodes[link + 1], family) }
    : null;
  return { pmtu: lab.expectedPmtu(family), hops, hopsAfter, blackHole };
}

/** Are the reported per-hop MTUs right? Every hop of the truth must be reported with its MTU. */
export function hopsCorrect(truth: Truth, said: HopReport[], sense: HopSense): boolean {
  return (sense === 'after' ? truth.hopsAfter : truth.hops).every((t) => said.find((h) => h.ttl === t.ttl)?.mtu === t.mtu);
}

/** "1500 1500 1400 1400": the per-hop MTUs a tool gave, '*' for a hop without one. */
export function hopsText(said: HopReport[], count: number): string {
  return Array.from({ length: count }, (_, i) => said.find((h) => h.ttl === i + 1)?.mtu ?? '*').join(' ');
}
