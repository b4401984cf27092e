// The lab's truth model without a kernel: addressing, limits per link, where the PTB comes from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bottleneckLink, linkAddress, linkLimit, pathMtu, planLab } from '../../src/lab/spec.js';
import { nodeBatch, rootBatch, routerRules, serverRules } from '../../src/lab/config.js';
import { LabError } from '../../src/errors.js';
import { ownerPid, netnsName } from '../../src/lab/netns.js';

test('plan names nodes and lays links client to server', () => {
  const p = planLab({ routers: [{}, {}] });
  assert.deepEqual(p.nodes, ['client', 'r1', 'r2', 'server']);
  assert.equal(p.links.length, 3);
  assert.deepEqual([p.links[1].leftNode, p.links[1].rightNode], ['r1', 'r2']);
  assert.equal(linkAddress(2, 4, 'right'), '198.18.2.2');
  assert.equal(linkAddress(10, 6, 'left'), '2001:db8:a::1');
});

test('plan rejects a wrong number of links and absurd MTUs', () => {
  assert.throws(() => planLab({ routers: [{}], links: [{}] }), LabError);
  assert.throws(() => planLab({ routers: [], links: [{ mtu: 67 }] }), LabError);
  assert.throws(() => planLab({ routers: [], links: [{ rightMtu: 70000 }] }), LabError);
});

test('a receiving veth takes 4 bytes over its MTU: mismatch limit is rightMtu + 4, silent', () => {
  const p = planLab({ routers: [{}], links: [{}, { leftMtu: 1500, rightMtu: 1400 }] });
  assert.deepEqual(linkLimit(p.links[1], 'forward'), { limit: 1404, silent: true });
  assert.deepEqual(linkLimit(p.links[1], 'reverse'), { limit: 1400, silent: false });
  assert.equal(pathMtu(p, 4), 1404);
  assert.equal(pathMtu(p, 4, 'reverse'), 1400);
  assert.deepEqual(bottleneckLink(p, 4), { link: 1, silent: true });
  // A sender MTU just 4 over the receiver's still fits: the sender's own MTU limits, with a PTB.
  const q = planLab({ routers: [{}], links: [{}, { leftMtu: 1404, rightMtu: 1400 }] });
  assert.deepEqual(linkLimit(q.links[1], 'forward'), { limit: 1404, silent: false });
});

test('the first link holding the minimum is the bottleneck', () => {
  const p = planLab({ routers: [{}, {}, {}], links: [{}, { mtu: 1400 }, { mtu: 1400 }, {}] });
  assert.deepEqual(bottleneckLink(p, 6), { link: 1, silent: false });
});

test('IPv6 below 1280 is refused, not guessed', () => {
  const p = planLab({ routers: [{}], links: [{}, { mtu: 1200 }] });
  assert.equal(pathMtu(p, 4), 1200);
  assert.throws(() => pathMtu(p, 6), LabError);
});

test('veth pairs are created with a target namespace on both ends, never in the root one', () => {
  const p = planLab({ routers: [{}] });
  const lines = rootBatch(p, (n) => `ns-${n}`);
  const links = lines.filter((l) => l.startsWith('link add'));
  assert.equal(links.length, 2);
  for (const l of links) assert.match(l, /^link add \S+ netns ns-\S+ .* peer name \S+ netns ns-\S+ /);
  // Every router gets routes to the links it is not on, and no default route.
  const r = nodeBatch(planLab({ routers: [{}, {}, {}] }), 2, { routers: [{}, {}, {}] });
  assert.ok(r.includes('route add 198.18.0.0/24 via 198.18.1.1'));
  assert.ok(r.includes('route add 2001:db8:3::/64 via 2001:db8:2::2'));
  assert.ok(!r.some((l) => /default|0\.0\.0\.0\/0|::\/0/.test(l)));
});

test('nft rules appear only for the options asked for', () => {
  assert.equal(routerRules({}), undefined);
  assert.equal(serverRules({}), undefined);
  assert.match(routerRules({ dropPtb: true })!, /hook output[\s\S]*code 4 drop[\s\S]*packet-too-big drop/);
  assert.doesNotMatch(routerRules({ dropPtb: true })!, /time-exceeded/);
  // An RFC 792 router: the kernel's own PTBs (a real MTU) go, the liar's MTU-0 ones pass.
  assert.match(routerRules({ ptbMtuZero: true })!, /code 4 icmp mtu != 0 drop[\s\S]*packet-too-big icmpv6 mtu != 0 drop/);
  assert.match(serverRules({ dropIcmpIn: true })!, /hook input[\s\S]*nd-neighbor-solicit/);
});

test('namespace names carry the owner pid', () => {
  const n = netnsName(4242, '3', 'server');
  assert.equal(n, 'pmtu-4242-3-server');
  assert.equal(ownerPid(n), 4242);
  assert.equal(ownerPid('pmtu-manual-x'), undefined);
  assert.equal(ownerPid('other-1-x'), undefined);
});

test('overlay limits: what passes whole vs what the kernel will believe', async () => {
  const { overlayLimits } = await import('../../src/lab/spec.js');
  const mid = { routers: [{}, {}], links: [{}, { mtu: 1400 }, {}] };
  assert.deepEqual(overlayLimits(planLab({ routers: [] }), {}), { pmtu: 1450, kernel: 1450 });
  assert.deepEqual(overlayLimits(planLab({ routers: [] }), { underlay: 6 }), { pmtu: 1430, kernel: 1430 });
  assert.deepEqual(overlayLimits(planLab(mid), {}), { pmtu: 1450, kernel: 1450 });
  assert.deepEqual(overlayLimits(planLab(mid), { df: 'set' }), { pmtu: 1350, kernel: 1350 });
  assert.deepEqual(overlayLimits(planLab({ ...mid, routers: [{ dropPtb: true }, {}] }), { df: 'set' }), { pmtu: 1350, kernel: 1450 });
  assert.deepEqual(overlayLimits(planLab(mid), { mtu: 1300 }), { pmtu: 1300, kernel: 1300 });
});
