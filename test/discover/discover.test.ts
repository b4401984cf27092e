// discover() against real routers in the lab: exact answers, IPv4 and IPv6, every method that applies.
import assert from 'node:assert/strict';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';
import type { PathSpec } from '../../src/lab/spec.js';
import { discover, type DiscoverOptions, type DiscoverResult } from '../../src/discover/index.js';
import type { MethodName } from '../../src/probe/outcome.js';
import type { Family } from '../../src/wire/facts.js';

const families: Family[] = [4, 6];
const serverOf = (lab: Lab, f: Family): string => (f === 4 ? lab.server.v4 : lab.server.v6);
const methods: MethodName[] = ['udp', 'icmp', 'icmp-dgram', 'tcp'];

async function inClient<T>(lab: Lab, fn: () => Promise<T>): Promise<T> {
  lab.enter('client');
  try {
    return await fn();
  } finally {
    lab.leave();
  }
}

async function expectExact(lab: Lab, f: Family, opts: DiscoverOptions, why: string): Promise<DiscoverResult> {
  const r = await inClient(lab, () => discover(serverOf(lab, f), { family: f, ...opts }));
  const truth = lab.expectedPmtu(f);
  const label = `${why} IPv${f} ${r.method}: ${JSON.stringify({ pmtu: r.pmtu, exact: r.exact, lo: r.lowerBound, hi: r.upperBound, reason: r.reason })}`;
  assert.equal(r.pmtu, truth, label);
  assert.equal(r.exact, true, label);
  assert.ok(r.probes <= 60, `${label}: ${r.probes} probes`);
  assert.equal(r.address, serverOf(lab, f));
  assert.equal(r.family, f);
  return r;
}

const path = (links: PathSpec['links'], routers: PathSpec['routers'] = [{}, {}, {}], extra: Partial<PathSpec> = {}): PathSpec => ({
  routers,
  links,
  ...extra,
});

labTest('clean 1400 bottleneck: exact with every method, the PTB sender named', path([{}, {}, { mtu: 1400 }, {}]), async (lab) => {
  for (const f of families) {
    for (const method of methods) {
      const r = await expectExact(lab, f, { method }, 'clean');
      assert.equal(r.method, method);
      assert.equal(r.direction, method === 'icmp' || method === 'icmp-dgram' ? 'round-trip' : 'forward');
      assert.equal(r.blackHole, false);
      assert.equal(r.kernelPmtu, 1400, 'the kernel learned the PMTU from the same PTBs');
      const accepted = r.ptbs.filter((p) => p.accepted);
      assert.ok(accepted.length >= 1, 'a PTB was seen');
      assert.ok(accepted.every((p) => p.from === lab.bottleneckRouter(f) && p.nextHopMtu === 1400));
      assert.equal(r.localMtu, 1500);
    }
  }
});

labTest('router filters frag-needed / PTB: black hole, still exact', path([{}, {}, { mtu: 1400 }, {}], [{}, { dropPtb: true }, {}]), async (lab) => {
  for (const f of families) {
    for (const method of ['udp', 'icmp'] as const) {
      const r = await expectExact(lab, f, { method }, 'black hole');
      assert.equal(r.blackHole, true);
      assert.equal(r.kernelPmtu, 1500, 'the kernel never heard: applications will fall into the hole');
      assert.equal(r.ptbs.length, 0);
    }
  }
});

labTest('L2 MTU mismatch (1500 -> 1400 on one link): silent drop, exact (veth passes MTU+4)', path([{}, { leftMtu: 1500, rightMtu: 1400 }, {}], [{}, {}]), async (lab) => {
  for (const f of families) {
    const r = await expectExact(lab, f, { method: 'icmp' }, 'L2 mismatch');
    assert.equal(r.pmtu, 1404);
    assert.equal(r.blackHole, true);
  }
});

labTest('successive reductions 1500, 1492, 1480, 1450', path([{}, { mtu: 1492 }, { mtu: 1480 }, { mtu: 1450 }]), async (lab) => {
  for (const f of families) {
    for (const method of ['udp', 'icmp'] as const) {
      const r = await expectExact(lab, f, { method }, 'reductions');
      assert.equal(r.pmtu, 1450);
    }
  }
});

labTest('jumbo path 9000 with an 8000 bottleneck', path([{ mtu: 9000 }, { mtu: 9000 }, { mtu: 8000 }, { mtu: 9000 }]), async (lab) => {
  for (const f of families) {
    const r = await expectExact(lab, f, { method: 'udp' }, 'jumbo');
    assert.equal(r.localMtu, 9000);
    assert.equal(r.pmtu, 8000);
  }
});

labTest('first link smaller than the interface (L2 mismatch at the first hop)', path([{ leftMtu: 1500, rightMtu: 1300 }, {}], [{}]), async (lab) => {
  for (const f of families) {
    const r = await expectExact(lab, f, { method: 'icmp' }, 'first hop');
    assert.equal(r.pmtu, 1304);
  }
});

labTest('interface MTU is the limit: answered from the local stack', path([{ mtu: 1300 }, {}], [{}]), async (lab) => {
  for (const f of families) {
    const r = await expectExact(lab, f, { method: 'udp' }, 'local');
    assert.equal(r.localMtu, 1300);
    assert.equal(r.pmtu, 1300);
  }
});

labTest('destination answers only echo: auto falls back from udp... and only UDP: from icmp', path([{}, { mtu: 1400 }, {}], [{}, {}], { server: { dropUdp: true } }), async (lab) => {
  for (const f of families) {
    const r = await expectExact(lab, f, { method: 'auto' }, 'only echo');
    assert.equal(r.method, 'icmp');
    const udp = await inClient(lab, () => discover(serverOf(lab, f), { method: 'udp', timeoutMs: 300 }));
    assert.equal(udp.pmtu, null, 'udp cannot prove arrival when the host drops UDP');
  }
});

labTest('destination answers only UDP: auto falls back from icmp to udp', path([{}, { mtu: 1400 }, {}], [{}, {}], { server: { dropEcho: true } }), async (lab) => {
  for (const f of families) {
    const r = await expectExact(lab, f, { method: 'auto', timeoutMs: 500 }, 'only udp');
    assert.equal(r.method, 'udp');
    assert.deepEqual(r.methodsTried.map((m) => m.method), ['icmp', 'udp']);
  }
});

labTest('loopback is a valid target: its answer is the loopback MTU', path([{}], []), async (lab) => {
  await inClient(lab, async () => {
    const v4 = await discover('127.0.0.1', { method: 'udp' });
    assert.equal(v4.pmtu, 65535, 'the largest IPv4 packet');
    assert.equal(v4.exact, true);
    const v6 = await discover('::1', { method: 'udp' });
    assert.equal(v6.pmtu, 65536);
    assert.equal(v6.exact, true);
  });
});

labTest('unreachable host: no answer, bounds still given', path([{}, {}], [{}]), async (lab) => {
  for (const f of families) {
    const nowhere = f === 4 ? '198.18.200.1' : '2001:db8:200::1';
    const r = await inClient(lab, () => discover(nowhere, { method: 'udp', timeoutMs: 300 }));
    assert.equal(r.pmtu, null);
    assert.equal(r.exact, false);
    assert.ok(r.upperBound >= r.lowerBound);
    assert.ok(r.reason && r.reason.length > 0, 'a reason is given');
  }
});

labTest('abort: the signal stops the run and what is known comes back', path([{}, { mtu: 1400 }, {}], [{}, { dropPtb: true }], { server: { dropUdp: true } }), async (lab) => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const r = await inClient(lab, () => discover(lab.server.v4, { method: 'udp', signal: ac.signal }));
  assert.equal(r.aborted, true);
  assert.equal(r.pmtu, null);
});

labTest('back-to-back udp runs: the target rate-limits its port unreachables, answers stay exact', path([{}, {}, { mtu: 1400 }, {}], [{}, { dropPtb: true }, {}]), async (lab) => {
  // Linux answers about 6 port unreachables, then 1/s: a second run right after the first finds the
  // bucket empty. The search must notice, pace itself, and never mistake silence for a size limit.
  for (let run = 0; run < 3; run++) {
    const r = await expectExact(lab, 4, { method: 'udp' }, `run ${run + 1}`);
    assert.equal(r.blackHole, true);
  }
}, { timeout: 60_000 });

labTest('a link-local target with its zone (fe80::…%eth0): every method, exact', path([{ mtu: 1400 }, {}], [{}]), async (lab) => {
  const out = (await lab.exec('r1', ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])).stdout;
  const ll = /inet6 (fe80::[0-9a-f:]+)\//.exec(out)?.[1];
  assert.ok(ll, `r1 has a link-local address: ${out}`);
  for (const method of methods) {
    const r: DiscoverResult = await inClient(lab, () => discover(`${ll}%eth0`, { method }));
    assert.equal(r.pmtu, 1400, method);
    assert.equal(r.exact, true, method);
    assert.equal(r.address, `${ll}%eth0`);
  }
});
