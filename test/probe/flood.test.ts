// A flood of forged ICMP errors (aiming at 50,000 per second, quoting echo requests with random ids, sent
// from a router's namespace) while the raw icmp method searches: every such error lands on the raw
// socket's error queue (IP_RECVERR), and would land on its data queue too but for the socket's BPF
// program, which drops errors quoting other echo ids in the kernel. The socket must keep reading both (a poller that only
// drains the error queue while an error is pending never reads an echo reply again) and the
// answer must stay exact. IPv4 and IPv6.
import assert from 'node:assert/strict';
import { discover } from '../../src/discover/index.js';
import { labTest } from '../../src/lab/testing.js';
import { ProbeSocket } from '../../src/sock/socket.js';
import { clientOf, families, PATH_MTU, serverOf } from './helpers.js';
import { startFlood, type FloodStats } from './flood.js';

const PPS = 50_000;
const path = { routers: [{}, {}, {}], links: [{}, {}, { mtu: PATH_MTU }, {}] };

labTest('a flood of 50k forged ICMP errors per second does not starve the raw socket: icmp stays exact', path, async (lab, t) => {
  for (const family of families) {
    const flood = await startFlood((argv, opts) => lab.spawn('r1', argv, opts), family, lab.routerAddress(2, family, 'in'), clientOf(lab, family), PPS, 20);
    let stats: FloodStats;
    let r: Awaited<ReturnType<typeof discover>>;
    lab.enter('client');
    // A witness: a raw ICMP socket without a filter, never read during the run (no CPU taken from
    // the search), whose queue shows that the flood reached the client.
    const witness = ProbeSocket.open('icmp-raw', family);
    witness.receiveBuffer(1 << 20);
    let witnessed = 0;
    try {
      r = await discover(serverOf(lab, family), { method: 'icmp', family, signal: AbortSignal.timeout(15_000) });
    } finally {
      lab.leave();
      stats = await flood.stop();
      witness.on('message', () => witnessed++);
      while (witness.drain() > 0);
      witness.close();
    }
    const ignored = Object.values(r.ignored).reduce((a, b) => a + b, 0);
    const label = `IPv${family}: ${JSON.stringify({ pmtu: r.pmtu, exact: r.exact, reason: r.reason, probes: r.probes, ms: r.elapsedMs, ignored, witnessed, flood: stats })}`;
    t.diagnostic(label);
    // The flooders aim at 50k pps; what they reach depends on the machine's load (each send runs the
    // receiver's softirq), so the rate is reported, and only a flood well past harmless is required.
    assert.ok(stats.pps >= 20_000, `${label}: the flood was a flood`);
    assert.ok(stats.seconds * 1000 > r.elapsedMs, `${label}: the flood lasted the whole search`);
    assert.ok(witnessed > 100, `${label}: the forged errors reached the client`);
    // A random id is ours once in 65,536: nearly all were dropped before they cost the prober a read.
    assert.ok(ignored * 10 < witnessed, `${label}: the kernel's filter kept the flood from the prober`);
    assert.equal(r.pmtu, PATH_MTU, label);
    assert.equal(r.exact, true, label);
  }
}, { timeout: 90_000 });
