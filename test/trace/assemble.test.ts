// The per-hop picture from observations (pure rules of src/trace/assemble.ts), without a lab.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, judgePtb, type AssembleInput } from '../../src/trace/assemble.js';
import type { HopObservation } from '../../src/trace/hops.js';
import type { PtbSeen } from '../../src/trace/drops.js';

const T = '192.0.2.9';
const hop = (ttl: number, address: string | null, kind: HopObservation['kind'] = 'timeExceeded'): HopObservation => ({
  ttl,
  address,
  rttMs: address === null ? null : ttl * 1.5,
  kind: address === null ? 'silent' : kind,
});
const path4 = [hop(1, '192.0.2.1'), hop(2, '192.0.2.2'), hop(3, '192.0.2.3'), hop(4, T, 'delivered')];
const ptb = (from: string, nextHopMtu: number, sizes: number[], plausible = true): PtbSeen => ({ from, nextHopMtu, sizes, plausible });

function input(over: Partial<AssembleInput>): AssembleInput {
  return {
    target: T,
    hops: path4,
    destinationTtl: 4,
    localMtu: 1500,
    pmtu: 1500,
    delivered: 1500,
    ptbs: [],
    placed: new Map(),
    blackHole: null,
    ...over,
  };
}

test('clean path: every hop carries the interface MTU, no drops', () => {
  const a = assemble(input({}));
  assert.deepEqual(a.hops.map((h) => h.mtu), [1500, 1500, 1500, 1500]);
  assert.deepEqual(a.drops, []);
  assert.equal(a.firstHop, null);
  assert.equal(a.hops[3]!.destination, true);
  assert.equal(a.hops[0]!.destination, undefined);
});

test('several reductions: each on the link after its sender, shown from the next hop on, in path order', () => {
  const a = assemble(
    input({
      pmtu: 1450,
      delivered: 1450,
      ptbs: [ptb('192.0.2.3', 1450, [1480]), ptb('192.0.2.1', 1492, [1500]), ptb('192.0.2.2', 1480, [1492])],
    }),
  );
  // A hop's MTU is what reaches it: hop 1 still gets 1500-byte packets (and answers them).
  assert.deepEqual(a.hops.map((h) => h.mtu), [1500, 1492, 1480, 1450]);
  assert.deepEqual(
    a.drops.map((d) => [d.afterTtl, d.from, d.to, d.by]),
    [
      [1, 1500, 1492, '192.0.2.1'],
      [2, 1492, 1480, '192.0.2.2'],
      [3, 1480, 1450, '192.0.2.3'],
    ],
  );
  assert.deepEqual(a.hops[2]!.ptb, { from: '192.0.2.3', nextHopMtu: 1450, accepted: true, reason: 'confirmed: 1450 bytes delivered' });
});

test('a PTB contradicted by a larger delivery is bogus and does not lower the picture', () => {
  const a = assemble(input({ pmtu: 1450, delivered: 1450, ptbs: [ptb('192.0.2.1', 1300, [1500, 1450]), ptb('192.0.2.3', 1450, [1500])] }));
  assert.deepEqual(a.bogusPtbs, [{ from: '192.0.2.1', ttl: 1, nextHopMtu: 1300, contradictedBy: 1450 }]);
  assert.deepEqual(a.hops.map((h) => h.mtu), [1500, 1500, 1500, 1450]);
  assert.equal(a.hops[0]!.ptb?.accepted, false);
  assert.match(a.hops[0]!.ptb!.reason, /contradicted/);
});

test('an implausible PTB is marked but is not called bogus (nothing contradicted it)', () => {
  const a = assemble(input({ ptbs: [ptb('192.0.2.2', 1600, [1500], false)] }));
  assert.deepEqual(a.bogusPtbs, []);
  assert.equal(a.hops[1]!.ptb?.accepted, false);
  assert.deepEqual(a.drops, []);
});

test('judgePtb: believed, confirmed, contradicted, implausible', () => {
  assert.equal(judgePtb(ptb('a', 1400, [1500]), 0).accepted, true);
  assert.match(judgePtb(ptb('a', 1400, [1500]), 1400).reason, /confirmed/);
  assert.equal(judgePtb(ptb('a', 1400, [1500]), 1450).accepted, false);
  assert.equal(judgePtb(ptb('a', 1400, [1500], false), 0).accepted, false);
});

test('black hole after hop 2: the drop sits on that link, hops beyond it carry the path MTU', () => {
  const a = assemble(
    input({
      pmtu: 1400,
      delivered: 1400,
      blackHole: { afterTtl: 2, lastAnswering: '192.0.2.2', firstSilent: '192.0.2.3', firstSilentTtl: 3, size: 1401, afterTtlMax: 2, uncertain: false, beyond: 'answers' },
    }),
  );
  assert.deepEqual(a.hops.map((h) => h.mtu), [1500, 1500, 1400, 1400]);
  assert.deepEqual(a.drops, [{ afterTtl: 2, from: 1500, to: 1400, evidence: 'black-hole', by: null }]);
  assert.equal(a.firstHop, null);
});

test('first-hop case: a black hole before hop 1 names the interface MTU and what the link carries', () => {
  const a = assemble(
    input({
      pmtu: 1304,
      delivered: 1304,
      blackHole: { afterTtl: 0, lastAnswering: null, firstSilent: '192.0.2.1', firstSilentTtl: 1, size: 1305, afterTtlMax: 0, uncertain: false, beyond: 'answers' },
    }),
  );
  assert.deepEqual(a.firstHop, { interfaceMtu: 1500, carries: 1304, evidence: 'black-hole' });
  assert.deepEqual(a.hops.map((h) => h.mtu), [1304, 1304, 1304, 1304]);
});

test('first-hop case: a PTB from a one-hop destination (a tunnel endpoint) speaks for the first link', () => {
  const a = assemble(input({ hops: [hop(1, T, 'delivered')], destinationTtl: 1, pmtu: 1450, delivered: 1450, ptbs: [ptb(T, 1450, [1500])] }));
  assert.deepEqual(a.firstHop, { interfaceMtu: 1500, carries: 1450, evidence: 'ptb' });
  assert.equal(a.hops[0]!.ptb?.nextHopMtu, 1450);
});

test('a local refusal below the interface MTU is a first-hop drop from this host\'s stack', () => {
  const a = assemble(input({ pmtu: 1400, delivered: 1400, localRefusal: 1400 }));
  assert.deepEqual(a.firstHop, { interfaceMtu: 1500, carries: 1400, evidence: 'local' });
});

test('silent hop: carried over, and a PTB sender placed there by TTL marks it', () => {
  const hops = [hop(1, '192.0.2.1'), hop(2, null), hop(3, '192.0.2.3'), hop(4, T, 'delivered')];
  const a = assemble(input({ hops, pmtu: 1400, delivered: 1400, ptbs: [ptb('198.51.100.7', 1400, [1500])], placed: new Map([['198.51.100.7', 2]]) }));
  assert.equal(a.hops[1]!.address, null);
  assert.equal(a.hops[1]!.rttMs, null);
  assert.deepEqual(a.hops.map((h) => h.mtu), [1500, 1500, 1400, 1400]);
  assert.equal(a.hops[1]!.ptb?.from, '198.51.100.7');
  assert.deepEqual(a.unplaced, []);
});

test('an unplaced believed PTB and an unexplained drop are still shown before the destination', () => {
  const a = assemble(input({ pmtu: 1380, delivered: 1380, ptbs: [ptb('198.51.100.7', 1400, [1500])] }));
  assert.equal(a.unplaced.length, 1);
  assert.deepEqual(
    a.drops.map((d) => [d.evidence, d.from, d.to]),
    [
      ['ptb', 1500, 1400],
      ['unexplained', 1400, 1380],
    ],
  );
  assert.equal(a.hops[3]!.mtu, 1380);
});

test('names are attached to the hops that have one', () => {
  const a = assemble(input({ names: new Map([['192.0.2.2', 'core.example']]) }));
  assert.equal(a.hops[1]!.name, 'core.example');
  assert.equal(a.hops[0]!.name, undefined);
});

test('a black hole only bracketed (silent hops next to it): the drop says so, hops inside have no MTU', () => {
  const hops = [hop(1, '192.0.2.1'), hop(2, null), hop(3, '192.0.2.3'), hop(4, T, 'delivered')];
  const a = assemble(
    input({
      hops,
      pmtu: 1400,
      delivered: 1400,
      blackHole: { afterTtl: 1, lastAnswering: '192.0.2.1', firstSilent: '192.0.2.3', firstSilentTtl: 3, size: 1401, afterTtlMax: 2, uncertain: true, beyond: 'answers' },
    }),
  );
  assert.deepEqual(a.drops, [{ afterTtl: 1, from: 1500, to: 1400, evidence: 'black-hole', by: null, uncertain: true, afterTtlMax: 2 }]);
  assert.deepEqual(a.hops.map((h) => h.mtu), [1500, null, 1400, 1400]);
});

test('a PTB with next-hop MTU 0 places the drop after its sender, valued from probing (the path MTU)', () => {
  const a = assemble(input({ pmtu: 1400, delivered: 1400, ptbs: [ptb('192.0.2.2', 0, [1500, 1450], false)] }));
  assert.deepEqual(a.drops, [{ afterTtl: 2, from: 1500, to: 1400, evidence: 'ptb', by: '192.0.2.2', zeroMtu: true }]);
  assert.deepEqual(a.hops.map((h) => h.mtu), [1500, 1500, 1400, 1400]);
  assert.equal(a.hops[1]!.ptb?.accepted, true);
  assert.match(a.hops[1]!.ptb!.reason, /MTU 0/);
  assert.deepEqual(a.bogusPtbs, []);
});

test('an MTU-0 PTB sender followed by a smaller PTB: its value is at least what got past it', () => {
  const a = assemble(input({ pmtu: 1300, delivered: 1300, ptbs: [ptb('192.0.2.1', 0, [1500]), ptb('192.0.2.3', 1300, [1420])] }));
  assert.deepEqual(
    a.drops.map((d) => [d.afterTtl, d.from, d.to, d.by, d.zeroMtu]),
    [
      [1, 1500, 1420, '192.0.2.1', true],
      [3, 1420, 1300, '192.0.2.3', undefined],
    ],
  );
});

test('an MTU-0 PTB for a size that was delivered anyway is bogus', () => {
  const a = assemble(input({ pmtu: 1500, delivered: 1500, ptbs: [ptb('192.0.2.2', 0, [1500], false)] }));
  assert.deepEqual(a.drops, []);
  assert.deepEqual(a.bogusPtbs, [{ from: '192.0.2.2', ttl: 2, nextHopMtu: 0, contradictedBy: 1500 }]);
});
