// The lab against the real kernel: the path MTU it promises (expectedPmtu) is what DF pings find,
// and too-big packets end the way the spec says — a PTB from the right router, or silence.
import assert from 'node:assert/strict';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';
import type { Family } from '../../src/wire/facts.js';
import { ping } from './ping.js';

const three = (bottleneck: object, r2: object = {}) => ({
  routers: [{}, r2, {}],
  links: [{}, {}, bottleneck, {}],
});

async function assertPtbAt(lab: Lab, family: Family, mtu: number): Promise<void> {
  const to = family === 4 ? lab.server.v4 : lab.server.v6;
  assert.equal(lab.expectedPmtu(family), mtu);
  const fits = await ping(lab, 'client', family, to, mtu);
  assert.equal(fits.received, 1, `${mtu} should pass:\n${fits.output}`);
  const over = await ping(lab, 'client', family, to, mtu + 1);
  assert.equal(over.received, 0, over.output);
  assert.deepEqual(over.tooBig, { from: lab.bottleneckRouter(family), mtu }, over.output);
}

labTest('3 routers, 1400 bottleneck: 1400 passes, 1401 draws a PTB from r2 (v4 and v6)', three({ mtu: 1400 }), async (lab) => {
  assert.equal(lab.bottleneckRouter(4), lab.routerAddress(2, 4, 'in'));
  await assertPtbAt(lab, 4, 1400);
  await assertPtbAt(lab, 6, 1400);
});

labTest('ping -M do: the first PTB comes from the router, then the kernel cache answers locally', three({ mtu: 1400 }), async (lab) => {
  for (const family of [4, 6] as const) {
    const to = family === 4 ? lab.server.v4 : lab.server.v6;
    const first = await ping(lab, 'client', family, to, 1401);
    assert.equal(first.tooBig?.from, lab.bottleneckRouter(family), first.output);
    const second = await ping(lab, 'client', family, to, 1401);
    assert.equal(second.localMtu, 1400, second.output);
    assert.equal(second.tooBig, undefined);
  }
});

labTest('a bottleneck on the client link is a local error, no router involved', { routers: [{}], links: [{ mtu: 1300 }, {}] }, async (lab) => {
  assert.equal(lab.bottleneckRouter(4), undefined);
  for (const family of [4, 6] as const) {
    const to = family === 4 ? lab.server.v4 : lab.server.v6;
    assert.equal((await ping(lab, 'client', family, to, 1300)).received, 1);
    const over = await ping(lab, 'client', family, to, 1301);
    assert.equal(over.localMtu, 1300, over.output);
  }
});

labTest('dropPtb on the bottleneck router: 1401 vanishes without a word', three({ mtu: 1400 }, { dropPtb: true }), async (lab) => {
  assert.equal(lab.bottleneckRouter(4), undefined);
  for (const family of [4, 6] as const) {
    const to = family === 4 ? lab.server.v4 : lab.server.v6;
    assert.equal((await ping(lab, 'client', family, to, 1400)).received, 1);
    const over = await ping(lab, 'client', family, to, 1401, { count: 2 });
    assert.equal(over.received, 0, over.output);
    assert.equal(over.tooBig, undefined, over.output);
    assert.equal(over.localMtu, undefined, over.output);
  }
});

// L2 mismatch (seed 002's QinQ story): r2 sends 1500-byte frames to an r3 that takes 1400 + 18.
labTest('L2 mismatch: the truth is receiver MTU + 4, and above it packets vanish silently', three({ leftMtu: 1500, rightMtu: 1400 }), async (lab) => {
  for (const family of [4, 6] as const) {
    const to = family === 4 ? lab.server.v4 : lab.server.v6;
    const truth = lab.expectedPmtu(family);
    assert.equal(truth, 1404);
    assert.equal(lab.bottleneckRouter(family), undefined);
    // The echo reply of the same size meets the small end first on its way back (r3 -> r2 is
    // limited to 1400 by r3's own MTU): IPv4 replies carry no DF and are fragmented, IPv6 replies
    // draw a PTB to the server, which then fragments — so the first v6 reply may be lost.
    const fits = await ping(lab, 'client', family, to, truth, { count: 3 });
    assert.ok(fits.received >= 1, fits.output);
    const over = await ping(lab, 'client', family, to, truth + 1, { count: 2 });
    assert.equal(over.received, 0, over.output);
    assert.equal(over.tooBig, undefined, over.output);
  }
  assert.equal(lab.expectedPmtu(4, 'reverse'), 1400);
});
