// What an MTU number probably means: one table row per known overhead, plus invariants over all MTUs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { explain, rankCandidates, LAYERS, KNOWN_MTUS } from '../../src/explain/index.js';
import type { Candidate } from '../../src/explain/index.js';
import type { Family } from '../../src/wire/facts.js';

const causes = (list: Candidate[]): string[] => list.map((c) => c.cause);
const top = (mtu: number, family?: Family, localMtu?: number): Candidate =>
  rankCandidates(mtu, { family, localMtu })[0]!;

// [mtu, family, expected first cause (substring), why]
const FIRST: Array<[number, Family | undefined, string, string]> = [
  [1500, 4, 'Ethernet, no encapsulation', 'plain Ethernet'],
  [1492, 4, 'PPPoE', 'PPPoE 8 bytes'],
  [1496, 4, '802.1Q VLAN tag', 'one tag eaten on a 1518-byte L2'],
  [1488, 4, 'PPPoE, plus 802.1Q', 'seed 002: PPPoE behind a tag the switch did not allow for'],
  [1450, undefined, 'VXLAN over IPv4', 'VXLAN 50'],
  [1430, undefined, 'VXLAN over IPv6', 'VXLAN over an IPv6 underlay 70'],
  [1476, 4, 'GRE over IPv4', 'GRE 24'],
  [1472, 4, 'GRE with key', 'GRE 28'],
  [1462, 4, 'GRETAP', 'Ethernet over GRE 38'],
  [1480, 6, '6in4 / SIT', '6in4 20 bytes, IPv6 inner'],
  [1420, undefined, 'WireGuard (IPv6 outer)', 'wg-quick default'],
  [1440, 4, 'WireGuard (IPv4 outer)', 'WireGuard over IPv4 60'],
  [1412, undefined, 'WireGuard (IPv6 outer) over PPPoE', 'two layers: 1500 - 8 - 80'],
  [1442, 4, 'VXLAN over IPv4 over PPPoE', 'VXLAN over a 1492 underlay'],
  [1464, 4, 'GTP-U over IPv4', 'mobile core 36'],
  [1452, 6, 'ip6tnl', 'Linux ip6tnl default with encapsulation limit'],
  [1460, 4, 'GCP VPC', 'cloud default'],
  [1400, 4, 'Azure', 'cloud recommendation'],
  [1280, 6, 'IPv6 minimum', 'RFC 8200 floor'],
  [576, 4, 'IPv4 minimum reassembly', 'RFC 791'],
  [68, 4, 'IPv4 absolute minimum', 'RFC 791'],
  [9000, 4, 'jumbo frames', 'jumbo'],
  [9001, 4, 'AWS jumbo', 'EC2 in a VPC'],
  [9216, 4, 'data-centre switch jumbo', 'switch maximum'],
  [8950, 4, 'VXLAN over IPv4', 'VXLAN over jumbo 9000'],
  [65535, 4, 'loopback', 'largest IP packet'],
  [2044, 4, 'InfiniBand, datagram mode (2K', 'IPoIB 2048 - 4'],
  [4092, 4, 'InfiniBand, datagram mode (4K', 'IPoIB 4096 - 4'],
];

for (const [mtu, family, expected, why] of FIRST) {
  test(`${mtu} (IPv${family ?? '?'}) -> ${expected} first (${why})`, () => {
    const first = top(mtu, family);
    assert.ok(first.cause.includes(expected), `first was '${first.cause}'`);
    assert.equal(first.underlay - first.overhead, mtu);
  });
}

// [mtu, family, cause that must be among the candidates]
const ALSO: Array<[number, Family | undefined, string]> = [
  [1450, undefined, 'GENEVE over IPv4 (no options)'],
  [1492, 4, 'QinQ'],
  [1492, 4, 'MPLS, two labels'],
  [1496, 4, 'MPLS, one label'],
  [1488, 4, 'MPLS, three labels'],
  [1442, 4, 'GENEVE with OVN'],
  [1480, 4, 'IPIP'],
  [1480, 4, 'PPPoE where the stack defaults to 1480'],
  [1460, 6, 'IPv6-in-IPv6'],
  [1460, 4, 'DS-Lite'],
  [1460, 4, 'L2TPv2'],
  [1444, 6, 'GTP-U over IPv6'],
  [1456, 4, 'GRE over IPv6'],
  [1280, 6, 'Tailscale'],
  [1438, 4, 'IPsec ESP tunnel mode over IPv4'],
  [1446, 4, 'IPsec ESP tunnel mode over IPv4'],
  [1400, 4, 'IPsec ESP tunnel mode over IPv4'],
  [1448, 4, 'OpenVPN'],
  [65520, 4, 'connected mode'],
];

for (const [mtu, family, expected] of ALSO) {
  test(`${mtu} (IPv${family ?? '?'}) lists ${expected}`, () => {
    const list = rankCandidates(mtu, { family, limit: 50 });
    assert.ok(
      list.some((c) => c.cause.includes(expected)),
      `not among: ${causes(list).join(' | ')}`,
    );
  });
}

test('every fixed-overhead layer is found over Ethernet for a family it carries', () => {
  for (const layer of LAYERS) {
    if (typeof layer.overhead !== 'number') continue;
    const family = layer.inner?.[0] ?? 4;
    const list = rankCandidates(1500 - layer.overhead, { family, limit: 100 });
    const hit = list.find((c) => c.cause === layer.cause && c.underlay === 1500);
    assert.ok(hit, `${layer.cause} not found for ${1500 - layer.overhead}`);
    assert.equal(hit.overhead, layer.overhead);
  }
});

test('every known MTU is found for its own number', () => {
  for (const k of KNOWN_MTUS) {
    const list = rankCandidates(k.mtu, { family: k.family ?? 4, limit: 100 });
    assert.ok(list.some((c) => c.cause === k.cause && c.overhead === 0), k.cause);
  }
});

test('family filters inner protocols: no 6in4 for IPv4, no IPIP or IPv4 floors for IPv6', () => {
  const v4 = causes(rankCandidates(1480, { family: 4, limit: 100 }));
  const v6 = causes(rankCandidates(1480, { family: 6, limit: 100 }));
  assert.ok(!v4.some((c) => c.includes('6in4')));
  assert.ok(v4.some((c) => c.startsWith('IPIP')));
  assert.ok(!v6.some((c) => c.startsWith('IPIP')));
  assert.ok(v6.some((c) => c.includes('6in4')));
  assert.ok(!causes(rankCandidates(576, { family: 6 })).some((c) => c.includes('IPv4 minimum')));
  assert.ok(!causes(rankCandidates(1280, { family: 4 })).some((c) => c.includes('IPv6 minimum')));
});

test('link framing is not guessed on cloud virtual networks (no PPPoE over GCP 1460)', () => {
  const list = rankCandidates(1452, { family: 4, limit: 100 });
  assert.ok(!list.some((c) => c.underlay === 1460 && c.cause.includes('PPPoE')));
});

test("the host's own interface MTU is used as an underlay", () => {
  // 8951 = 9001 - 50 would rank anyway; pick a local MTU no table has: 4000 - 50.
  assert.ok(!rankCandidates(3950, { family: 4 }).some((c) => c.cause.startsWith('VXLAN over IPv4')));
  const first = top(3950, 4, 4000);
  assert.equal(first.cause, 'VXLAN over IPv4');
  assert.equal(first.underlay, 4000);
  assert.match(first.note, /this host's interface/);
});

test('a number nothing explains says so, with the bytes missing from Ethernet', () => {
  const list = rankCandidates(1234, { family: 4 });
  assert.equal(list.length, 1);
  assert.equal(list[0]!.overhead, 266);
  assert.equal(list[0]!.underlay, 1500);
  assert.equal(list[0]!.confidence, 'low');
  assert.match(explain({ mtu: 1234, family: 4 }).summary, /no common encapsulation/);
});

test('ranged overheads (IPsec, OpenVPN) are never more than low confidence; two-layer stacks never high', () => {
  for (let mtu = 1380; mtu <= 1500; mtu++) {
    for (const c of rankCandidates(mtu, { family: 4, limit: 100 })) {
      if (/IPsec|OpenVPN/.test(c.cause)) assert.equal(c.confidence, 'low', `${mtu} ${c.cause}`);
      // Stacked candidates explain both layers in their note ("...; then ...").
      if (c.note.includes('; then ')) assert.notEqual(c.confidence, 'high', `${mtu} ${c.cause}`);
    }
  }
});

test('invariants for any MTU and family: arithmetic holds, sorted, at most one high and only first', () => {
  const order = { high: 2, medium: 1, low: 0 } as const;
  fc.assert(
    fc.property(fc.integer({ min: 68, max: 65535 }), fc.constantFrom<Family | undefined>(4, 6, undefined), (mtu, family) => {
      const list = rankCandidates(mtu, { family });
      assert.ok(list.length >= 1 && list.length <= 6);
      for (const c of list) {
        assert.equal(c.underlay - c.overhead, mtu);
        assert.ok(c.overhead >= 0);
        assert.ok(c.note.length > 0);
      }
      list.forEach((c, i) => {
        if (c.confidence === 'high') assert.equal(i, 0);
        if (i > 0) assert.ok(order[list[i - 1]!.confidence] >= order[c.confidence]);
      });
      assert.deepEqual(rankCandidates(mtu, { family }), list, 'pure: same input, same answer');
    }),
    { numRuns: 300 },
  );
});
