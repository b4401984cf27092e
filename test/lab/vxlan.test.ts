// The VXLAN overlay against the kernel: a 1500 vxlan over a 1500 underlay. What Linux really does
// (observed, and modelled by overlayLimits): the driver lowers the inner route's PMTU to underlay
// minus 50 (v4) / 70 (v6) and refuses bigger packets locally — unless the limit is somewhere it
// cannot learn about (L2 mismatch, a PTB-dropping router with DF on the outer), where they vanish.
import assert from 'node:assert/strict';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';
import type { PathSpec } from '../../src/lab/spec.js';
import type { Family } from '../../src/wire/facts.js';
import { ping } from './ping.js';

async function checkOverlay(lab: Lab, family: Family, want: { pmtu: number; kernel: number }): Promise<void> {
  const o = lab.overlay!;
  const to = family === 4 ? o.server.v4 : o.server.v6;
  assert.equal(lab.overlayPmtu(), want.pmtu);
  assert.equal(lab.overlayKernelPmtu(), want.kernel);
  const fits = await ping(lab, 'client', family, to, want.pmtu, { count: 3 });
  assert.ok(fits.received >= 1, fits.output);
  if (want.kernel > want.pmtu) {
    // Black hole: bigger packets leave the client without complaint and never arrive.
    const lost = await ping(lab, 'client', family, to, want.pmtu + 1, { count: 2 });
    assert.equal(lost.received, 0, lost.output);
    assert.equal(lost.localMtu, undefined, lost.output);
    assert.equal(lost.tooBig, undefined, lost.output);
  }
  // One size above what the kernel believes: refused locally with that MTU. Learning costs up to
  // two packets: the first outer packet draws the underlay PTB, the second meets the driver's
  // check (which lowers the inner PMTU but cannot refuse that packet any more).
  await ping(lab, 'client', family, to, want.kernel + 1, { count: 2 });
  const refused = await ping(lab, 'client', family, to, want.kernel + 1);
  assert.equal(refused.received, 0, refused.output);
  assert.equal(refused.localMtu, want.kernel, refused.output);
}

const mid1400 = { routers: [{}, {}], links: [{}, { mtu: 1400 }, {}] };
const cases: Array<[string, PathSpec, { pmtu: number; kernel: number }]> = [
  ['direct v4 underlay: 1450, learned', { routers: [], vxlan: {} }, { pmtu: 1450, kernel: 1450 }],
  ['direct v6 underlay: 1430, learned', { routers: [], vxlan: { underlay: 6 } }, { pmtu: 1430, kernel: 1430 }],
  ['1400 underlay router, outer DF unset: routers fragment, still 1450', { ...mid1400, vxlan: {} }, { pmtu: 1450, kernel: 1450 }],
  ['1400 underlay router, df set: the PTB teaches 1350', { ...mid1400, vxlan: { df: 'set' } }, { pmtu: 1350, kernel: 1350 }],
  ['1400 underlay router dropping PTBs, df set: a black hole above 1350', { ...mid1400, routers: [{ dropPtb: true }, {}], vxlan: { df: 'set' } }, { pmtu: 1350, kernel: 1450 }],
  ['L2 mismatch in the underlay: a black hole above 1354', { routers: [{}, {}], links: [{}, { leftMtu: 1500, rightMtu: 1400 }, {}], vxlan: {} }, { pmtu: 1354, kernel: 1450 }],
  ['v6 underlay over a 1400 router: 1330', { ...mid1400, vxlan: { underlay: 6 } }, { pmtu: 1330, kernel: 1330 }],
];

for (const [name, spec, want] of cases) {
  labTest(`vxlan, ${name}`, spec, (lab) => checkOverlay(lab, 4, want));
}

labTest('vxlan carries IPv6 inside too, same limit', { routers: [{}], vxlan: { vni: 4242 } }, async (lab) => {
  assert.equal(lab.overlay?.vni, 4242);
  const d = await lab.exec('client', ['ip', '-d', 'link', 'show', 'vx0']);
  assert.match(d.stdout, /vxlan id 4242 remote 198\.18\.1\.2 local 198\.18\.0\.1 .*dstport 4789/);
  await checkOverlay(lab, 6, { pmtu: 1450, kernel: 1450 });
});
