// The lab's lying router (src/lab/liar.ts): a PTB with a wrong next-hop MTU for forwarded packets
// above a size, from the router's client-side address, while the packet is still delivered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabError } from '../../src/errors.js';
import { planLab } from '../../src/lab/spec.js';
import { labTest } from '../../src/lab/testing.js';
import type { Lab } from '../../src/lab/lab.js';
import { Liar, startLiar } from '../../src/lab/liar.js';
import { ifindex } from '../../src/lab/config.js';
import { createProber } from '../../src/probe/index.js';
import type { Family } from '../../src/wire/facts.js';
import type { ProbeOutcome } from '../../src/probe/prober.js';

const families: Family[] = [4, 6];
const serverOf = (lab: Lab, f: Family): string => (f === 4 ? lab.server.v4 : lab.server.v6);

/** Send probes from the client and collect every outcome for 150 ms (lies may trail deliveries). */
async function probe(lab: Lab, f: Family, probes: Array<{ size: number; ttl?: number }>): Promise<ProbeOutcome[][]> {
  lab.enter('client');
  const prober = createProber('icmp', f);
  lab.leave();
  const got = new Map<number, ProbeOutcome[]>();
  prober.on('outcome', (t, o) => got.set(t, [...(got.get(t) ?? []), o]));
  try {
    const tokens = probes.map((p) => prober.send(serverOf(lab, f), p.size, p.ttl !== undefined ? { ttl: p.ttl } : {}));
    await new Promise((r) => setTimeout(r, 150));
    return tokens.map((t) => got.get(t) ?? []);
  } finally {
    prober.close();
  }
}

const kinds = (os: ProbeOutcome[]): string[] => os.map((o) => (o.kind === 'tooBig' ? `tooBig ${o.nextHopMtu} from ${o.from}` : o.kind)).sort();

labTest('liar process: PTB 1300 for forwarded packets above 1300, which are delivered anyway', { routers: [{}, {}] }, async (lab) => {
  const liar = await startLiar(lab, 1, { mtu: 1300 });
  try {
    for (const f of families) {
      const r1 = lab.routerAddress(1, f, 'in');
      // The liar is a fresh process: the first lie may take a while; ask until one comes.
      for (let i = 0; i < 50 && !liar.lies.some((l) => l.family === f); i++) await probe(lab, f, [{ size: 1400 }]);
      const [small, large, ttl1] = await probe(lab, f, [{ size: 1300 }, { size: 1400 }, { size: 1400, ttl: 1 }]);
      assert.deepEqual(kinds(small!), ['delivered'], `IPv${f} 1300`);
      assert.deepEqual(kinds(large!), ['delivered', `tooBig 1300 from ${r1}`], `IPv${f} 1400`);
      // TTL 1 ends at the liar itself (time-exceeded): not forwarded, so not lied about.
      assert.deepEqual(kinds(ttl1!), ['timeExceeded'], `IPv${f} ttl 1`);
      const lie = liar.lies.find((l) => l.family === f && l.size === 1400);
      assert.deepEqual(lie, { family: f, to: lab.address('client', f), dst: serverOf(lab, f), size: 1400, mtu: 1300 });
    }
  } finally {
    await liar.stop();
  }
});

labTest('liar in this process, lying only above a threshold of its own', { routers: [{}, {}] }, async (lab) => {
  lab.enter('r2');
  let liar: Liar;
  try {
    const own = families.flatMap((f) => [lab.routerAddress(2, f, 'in'), lab.routerAddress(2, f, 'out')]);
    liar = Liar.open({ mtu: 1280, above: 1450, ifindex: ifindex(1, 'right'), own });
  } finally {
    lab.leave();
  }
  try {
    for (const f of families) {
      const r2 = lab.routerAddress(2, f, 'in');
      const [below, above] = await probe(lab, f, [{ size: 1450 }, { size: 1500 }]);
      assert.deepEqual(kinds(below!), ['delivered'], `IPv${f} 1450`);
      assert.deepEqual(kinds(above!), ['delivered', `tooBig 1280 from ${r2}`], `IPv${f} 1500`);
    }
    assert.equal(liar.lies, 2);
  } finally {
    liar.close();
  }
});

test('RouterSpec.liePtb is validated with the rest of the spec', () => {
  assert.throws(() => planLab({ routers: [{ liePtb: { mtu: 20 } }] }), LabError);
  assert.throws(() => planLab({ routers: [{ liePtb: { mtu: 1300, above: 1.5 } }] }), LabError);
  assert.doesNotThrow(() => planLab({ routers: [{ liePtb: { mtu: 1300, above: 1400 } }] }));
});
