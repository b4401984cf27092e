// Locating a black hole and the target, against a scripted path whose routers keep Linux's ICMP
// token bucket: a router with no token stays silent. Fast and exact, without a lab (the lab
// versions are in harder.test.ts): the pairs (large, then small), the pause for a refill, the
// bracket when a router never answers, the paced walk to a rate-limited target, and the search
// for the value behind an MTU-0 PTB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prober, type ProbeOutcome, type SendOptions } from '../../src/probe/prober.js';
import type { Outcome } from '../../src/probe/outcome.js';
import { Rounds } from '../../src/trace/rounds.js';
import { ProberPool } from '../../src/engine/pool.js';
import { locateBlackHole } from '../../src/trace/blackhole.js';
import { mapHops } from '../../src/trace/hops.js';
import { searchZeroMtu, type PtbSeen } from '../../src/trace/drops.js';

const TARGET = '192.0.2.99';
const addr = (hop: number): string => (hop === 0 ? '192.0.2.250' : `192.0.2.${hop}`);

/** Linux's per-destination bucket: `tokens` now, one more every `refillMs`, at most 6. */
class Bucket {
  #tokens: number;
  #last = performance.now();
  constructor(tokens: number, private readonly refillMs: number) {
    this.#tokens = tokens;
  }
  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(6, this.#tokens + (now - this.#last) / this.refillMs);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

interface PathModel {
  /** Hops 1..n-1 are routers, hop n the target. */
  n: number;
  /** Largest size that gets past hop k (the link after it); sizes above vanish or draw its PTB. */
  linkAfter: Map<number, { limit: number; ptb?: number }>;
  /** Routers that never answer time-exceeded. */
  silent?: Set<number>;
  /** Routers (or the target, hop n) whose ICMP errors are rate-limited. */
  buckets?: Map<number, Bucket>;
  /** The target's answer is an ICMP error (udp): subject to its bucket. */
  targetLimited?: boolean;
}

class PathProber extends Prober {
  readonly method = 'udp' as const;
  readonly direction = 'forward' as const;
  #token = 0;
  constructor(private readonly m: PathModel) {
    super(4);
  }
  get minSize(): number {
    return 28;
  }
  send(destination: string, size: number, opts: SendOptions = {}): number {
    const token = ++this.#token;
    const ttl = opts.ttl ?? 64;
    const out = this.#walk(size, ttl);
    if (out) setTimeout(() => this.emit('outcome', token, { ...out, destination } as ProbeOutcome), 1);
    return token;
  }
  #walk(size: number, ttl: number): Outcome | null {
    const allowed = (hop: number): boolean => this.m.buckets?.get(hop)?.take() ?? true;
    for (let hop = 1; hop <= this.m.n; hop++) {
      if (hop === this.m.n) return !this.m.targetLimited || allowed(hop) ? { kind: 'delivered', size, from: TARGET, rttMs: 1 } : null;
      if (ttl === hop) return this.m.silent?.has(hop) || !allowed(hop) ? null : { kind: 'timeExceeded', size, ttl, from: addr(hop), rttMs: 1 };
      const link = this.m.linkAfter.get(hop);
      if (link && size > link.limit) {
        return link.ptb === undefined ? null : { kind: 'tooBig', size, from: addr(hop), nextHopMtu: link.ptb, plausible: link.ptb >= 68 && link.ptb < size, rttMs: 1 };
      }
    }
    return null;
  }
  close(): void {}
}

/** Rounds through a lease on the scripted path, as trace holds one on the engine's pool. */
const rounds = (p: Prober): Rounds => new Rounds(new ProberPool({ open: () => p }).acquire({ method: p.method, family: p.family }), TARGET, { minTimeoutMs: 30, maxTimeoutMs: 100 });

test('a bottleneck router out of ICMP tokens is waited for and pinned, not named one hop early', async () => {
  // Black hole after hop 2 of 4; hop 2 has no token at first, then one every 150 ms.
  const m: PathModel = { n: 4, linkAfter: new Map([[2, { limit: 1400 }]]), buckets: new Map([[2, new Bucket(0, 150)]]) };
  const r = rounds(new PathProber(m));
  const map = await mapHops(r, TARGET, 28, 10);
  const silentInMap = map.hops[1]!.address === null; // usually: no token for the hop map
  const got = await locateBlackHole(r, map, 1401, 28, { refillMs: 160 });
  assert.equal(got.blackHole?.afterTtl, 2);
  assert.equal(got.blackHole?.uncertain, false);
  assert.equal(got.blackHole?.firstSilentTtl, 3);
  assert.equal(got.confirmed, true);
  if (silentInMap) assert.deepEqual(got.revealed.map((h) => [h.ttl, h.address]), [[2, addr(2)]], 'hop 2 is named once it answered');
});

test('a router that never answers next to the link leaves a bracket, flagged uncertain', async () => {
  const m: PathModel = { n: 5, linkAfter: new Map([[1, { limit: 1400 }]]), silent: new Set([2, 3]) };
  const r = rounds(new PathProber(m));
  const map = await mapHops(r, TARGET, 28, 10);
  const got = await locateBlackHole(r, map, 1401, 28, { refillMs: 20 });
  assert.deepEqual(
    { ...got.blackHole },
    { afterTtl: 1, lastAnswering: addr(1), firstSilent: addr(4), firstSilentTtl: 4, size: 1401, afterTtlMax: 3, uncertain: true, beyond: 'answers' },
  );
});

test('a PTB at TTL t comes from a router before it: it does not count as the size reaching t', async () => {
  // Hop 2 says "too big" with MTU 0 for sizes above 1400.
  const m: PathModel = { n: 4, linkAfter: new Map([[2, { limit: 1400, ptb: 0 }]]) };
  const r = rounds(new PathProber(m));
  const map = await mapHops(r, TARGET, 28, 10);
  const got = await locateBlackHole(r, map, 1401, 28, { refillMs: 20 });
  assert.equal(got.blackHole?.afterTtl, 2);
  assert.ok(got.ptbs.some((p) => p.from === addr(2) && p.nextHopMtu === 0));
});

test('udp: a target whose port-unreachables are spent is found by a paced walk, never beyond its TTL', async () => {
  // Target at hop 4, no token left at first, one every 100 ms: every TTL >= 4 in the first round
  // stays silent, or a later TTL takes the one token that came back.
  const m: PathModel = { n: 4, linkAfter: new Map(), buckets: new Map([[4, new Bucket(0, 100)]]), targetLimited: true };
  const r = rounds(new PathProber(m));
  const map = await mapHops(r, TARGET, 28, 10, { paced: true, refillMs: 110 });
  assert.equal(map.destinationTtl, 4);
  assert.deepEqual(map.hops.map((h) => h.address), [addr(1), addr(2), addr(3), TARGET]);
  // Unpaced, the same path is not reached (the budget is spent when the TTLs arrive).
  const m2: PathModel = { ...m, buckets: new Map([[4, new Bucket(0, 100_000)]]) };
  const unpaced = await mapHops(rounds(new PathProber(m2)), TARGET, 28, 10);
  assert.equal(unpaced.destinationTtl, null);
});

test('MTU 0: the value behind it is found by probing from there (plateaus, then steps)', async () => {
  // Hop 1 refuses above 1420 with MTU 0; hop 3 says 1300 for what gets past hop 1.
  const m: PathModel = { n: 5, linkAfter: new Map([[1, { limit: 1420, ptb: 0 }], [3, { limit: 1300, ptb: 1300 }]]) };
  const ptbs: PtbSeen[] = [];
  const got = await searchZeroMtu(rounds(new PathProber(m)), addr(1), 1300, 1500, ptbs);
  assert.deepEqual(got, { value: 1420, exact: true });
  assert.ok(ptbs.some((p) => p.from === addr(3) && p.nextHopMtu === 1300));
});
